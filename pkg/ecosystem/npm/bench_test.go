package npm_test

import (
	"context"
	"testing"
	"time"

	"github.com/sigstore/sigstore-go/pkg/root"

	"github.com/hallmark-dev/hallmark/internal/npmtest"
	"github.com/hallmark-dev/hallmark/pkg/ecosystem/github"
	"github.com/hallmark-dev/hallmark/pkg/ecosystem/npm"
	"github.com/hallmark-dev/hallmark/pkg/verify"
)

// BenchmarkVerify is one package's document parsed and verified in
// process (publish attestation and provenance), over a Verifier built once.
func BenchmarkVerify(b *testing.B) {
	k := newKit(b)
	digest := npmtest.SHA512(tarball)
	s, err := npmtest.FakeDocument(k.inst, k.reg, pkgName, pkgVersion, digest, &k.workflow, time.Now())
	if err != nil {
		b.Fatal(err)
	}
	id, _ := github.RepoIdentity("acme/left-pad")
	v, err := npm.New([]root.TrustedMaterial{k.tm}, k.keys, npm.Policy{Identity: id})
	if err != nil {
		b.Fatal(err)
	}
	p, _ := npm.ParsePackage(pkgName, pkgVersion)
	d := verify.Digest{Algorithm: "sha512", Value: digest}
	b.ReportAllocs()
	for b.Loop() {
		doc, err := npm.ParseDocument(s.Document)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := v.Verify(context.Background(), p, d, doc); err != nil {
			b.Fatal(err)
		}
	}
}
