package lock_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/sigstore/sigstore-go/pkg/root"

	"github.com/hallmark-dev/hallmark/pkg/ecosystem/npm"
	"github.com/hallmark-dev/hallmark/pkg/lock"
	"github.com/hallmark-dev/hallmark/pkg/verify"
)

// The lock pins real npm provenance as verified by pkg/ecosystem/npm: the
// 2026 document's certificate with GitHub's claims, and the 2023 one's
// with only the legacy GitHub extensions (its SAN read as the workflow).
func TestObserveRealNPM(t *testing.T) {
	dir := filepath.Join("..", "..", "..", "shared", "fixtures", "ecosystems")
	if _, err := os.Stat(filepath.Join(dir, "npm", "README.md")); err != nil {
		t.Skipf("../shared is not here (%v): real npm provenance is not pinned", err)
	}
	prod, err := root.NewTrustedRootFromPath(filepath.Join(dir, "..", "..", "conformance", "data", "_production", "trusted_root.json"))
	if err != nil {
		t.Fatal(err)
	}
	keysJSON, err := os.ReadFile(filepath.Join(dir, "npm", "keys", "npm-registry-keys.json"))
	if err != nil {
		t.Fatal(err)
	}
	keys, err := npm.ParseKeys(keysJSON)
	if err != nil {
		t.Fatal(err)
	}
	v, err := npm.New([]root.TrustedMaterial{prod}, keys, npm.Policy{AnySigner: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		doc, digest string
		want        lock.Entry
	}{
		{"playwright-cli-0.1.1.attestations.json", "", lock.Entry{Ecosystem: "npm", Name: "@playwright/cli", Signer: "github", Issuer: verify.GitHubIssuer,
			Repository: "https://github.com/microsoft/playwright-cli", Workflow: ".github/workflows/publish.yml", Ref: "refs/tags/*"}},
		{"laurentsimon-provenance-npm-test-1.0.0.attestations.json",
			"sha512:29d19f26233f4441328412b34fd73ed104ecfef62f14097890cccf7455b521b65c5acff851849faa85c85395aa22d401436f01f3afb61b19c780e906c88c7f20",
			lock.Entry{Ecosystem: "npm", Name: "@laurentsimon/provenance-npm-test", Signer: "github", Issuer: verify.GitHubIssuer,
				Repository: "https://github.com/laurentsimon/provenance-npm-test", Workflow: ".github/workflows/release.yml", Ref: "refs/heads/main"}},
	} {
		data, err := os.ReadFile(filepath.Join(dir, "npm", c.doc))
		if err != nil {
			t.Fatal(err)
		}
		doc, err := npm.ParseDocument(data)
		if err != nil {
			t.Fatal(err)
		}
		p, err := doc.Package()
		if err != nil {
			t.Fatal(err)
		}
		var d verify.Digest
		if c.digest != "" {
			d, err = npm.ParseIntegrity(c.digest)
		} else {
			f, ferr := os.Open(filepath.Join(dir, "npm", "playwright-cli-0.1.1.tgz"))
			if ferr != nil {
				t.Fatal(ferr)
			}
			d, err = npm.HashTarball(context.Background(), f)
			f.Close()
		}
		if err != nil {
			t.Fatal(err)
		}
		res, err := v.Verify(context.Background(), p, d, doc)
		if err != nil {
			t.Fatalf("%s: %v", c.doc, err)
		}
		l, err := lock.Open(filepath.Join(t.TempDir(), "hallmark.lock"), lock.Options{})
		if err != nil {
			t.Fatal(err)
		}
		ch, err := l.CheckResult("npm", p.Name, res.Provenance)
		if err != nil || ch.Kind != lock.Pinned {
			t.Fatalf("%s: %+v, %v", c.doc, ch, err)
		}
		got, _ := l.Entry("npm", p.Name)
		if got != c.want {
			t.Errorf("%s: pinned\n%#v\nwant\n%#v", c.doc, got, c.want)
		}
	}
}
