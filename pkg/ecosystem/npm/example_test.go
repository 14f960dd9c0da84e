package npm_test

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/sigstore/sigstore-go/pkg/root"

	"github.com/hallmark-dev/hallmark/pkg/ecosystem/github"
	"github.com/hallmark-dev/hallmark/pkg/ecosystem/npm"
	"github.com/hallmark-dev/hallmark/pkg/verify"
)

// A tarball verified against its attestations document, its provenance
// pinned to the repository whose workflow may publish it.
func Example() {
	ctx := context.Background()
	tr, err := root.NewTrustedRootFromPath("trusted_root.json") // the public-good root
	if err != nil {
		fmt.Println(err)
		return
	}
	keysJSON, _ := os.ReadFile("keys.json") // registry.npmjs.org/keys.json from Sigstore's TUF repository
	keys, err := npm.ParseKeys(keysJSON)
	if err != nil {
		fmt.Println(err)
		return
	}
	id, _ := github.RepoIdentity("microsoft/playwright-cli")
	v, err := npm.New([]root.TrustedMaterial{tr}, keys, npm.Policy{Identity: id})
	if err != nil {
		fmt.Println(err)
		return
	}
	data, _ := os.ReadFile("playwright-cli-0.1.1.attestations.json")
	doc, err := npm.ParseDocument(data)
	if err != nil {
		fmt.Println(err)
		return
	}
	f, err := os.Open("playwright-cli-0.1.1.tgz")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer f.Close()
	digest, err := npm.HashTarball(ctx, f)
	if err != nil {
		fmt.Println(err)
		return
	}
	p, _ := npm.ParsePackage("@playwright/cli", "0.1.1")
	res, err := v.Verify(ctx, p, digest, doc)
	var rej *verify.RejectedError
	switch {
	case errors.As(err, &rej):
		fmt.Println("refused:", rej.Cause, rej.Reason)
	case err != nil:
		fmt.Println("could not verify:", err)
	default:
		fmt.Println(res.Status, res.Repository(), res.Signer().SAN)
	}
}
