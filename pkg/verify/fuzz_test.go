package verify_test

import (
	"context"
	"errors"
	"go/build"
	"os"
	"path/filepath"
	"runtime/debug"
	"testing"

	"github.com/hallmark-dev/hallmark/internal/sigtest"
	"github.com/hallmark-dev/hallmark/pkg/verify"
)

// FuzzVerifyBundle feeds arbitrary bytes to the bundle parser and, when they
// parse, to the verifier. Whatever the input: no panic, and the outcome is
// either a verified result with a signer, or a rejection, never an error of
// another kind (the artifact is a digest, so there is no IO to fail).
func FuzzVerifyBundle(f *testing.F) {
	// A small world of its own: fuzzing instruments crypto code, which makes
	// the RSA key generation of the full fixture set far too slow.
	inst, err := sigtest.New()
	if err != nil {
		f.Fatal(err)
	}
	tm, err := inst.TrustedRoot()
	if err != nil {
		f.Fatal(err)
	}
	artifact := []byte(sigtest.DemoArtifact)
	signer, err := sigtest.GenerateKey("ecdsa-p256")
	if err != nil {
		f.Fatal(err)
	}
	stmt, err := sigtest.Statement("a", artifact, sigtest.SLSAProvenanceV1, nil)
	if err != nil {
		f.Fatal(err)
	}
	var own [][]byte
	for _, mk := range []func() ([]byte, error){
		func() ([]byte, error) { return inst.SignBlob(artifact, sigtest.Options{GitHub: sigtest.DemoClaims()}) },
		func() ([]byte, error) {
			return inst.SignBlob(artifact, sigtest.Options{BundleVersion: sigtest.BundleV01})
		},
		func() ([]byte, error) { return inst.Attest(stmt, sigtest.Options{}) },
		func() ([]byte, error) { return inst.Attest(stmt, sigtest.Options{RekorV2: true}) },
		func() ([]byte, error) { return sigtest.SignBlobWithKey(signer, artifact) },
	} {
		b, err := mk()
		if err != nil {
			f.Fatal(err)
		}
		own = append(own, b)
	}
	seeds := 0
	for _, b := range own {
		f.Add(b)
		seeds++
	}
	for _, p := range sigstoreGoTestBundles() {
		data, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
		seeds++
	}
	if shared := sharedDir(f); shared != "" {
		for _, pattern := range []string{"conformance/data/cases/*/bundle.sigstore.json", "fixtures/real-bundles/*/bundle.sigstore.json"} {
			paths, _ := filepath.Glob(filepath.Join(shared, pattern))
			for _, p := range paths {
				data, err := os.ReadFile(p)
				if err != nil {
					f.Fatal(err)
				}
				f.Add(data)
				seeds++
			}
		}
	}
	if seeds < len(own) {
		f.Fatalf("only %d seeds", seeds)
	}
	keylessV, err := verify.New(tm, demoPolicy())
	if err != nil {
		f.Fatal(err)
	}
	keyV, err := verify.New(nil, verify.Policy{Key: signer.Public(), InsecureIgnoreTlog: true})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		b, err := verify.ParseBundle(data)
		if err != nil {
			if !verify.IsRejected(err) {
				t.Fatalf("ParseBundle error is not a rejection: %v", err)
			}
			return
		}
		for _, v := range []*verify.Verifier{keylessV, keyV} {
			a, err := verify.ParseDigest(digestOf(artifact))
			if err != nil {
				t.Fatal(err)
			}
			res, err := v.Verify(context.Background(), b, a)
			var rej *verify.RejectedError
			switch {
			case err == nil:
				if !res.Verified || res.Signer == nil || res.Error != nil {
					t.Fatalf("accepted without a complete result: %+v", res)
				}
			case errors.As(err, &rej):
				if res.Verified || res.Error == nil || res.Error.Kind != "rejected" {
					t.Fatalf("rejected but result says %+v", res)
				}
			default:
				t.Fatalf("Verify error is not a rejection: %v", err)
			}
		}
	})
}

// sigstoreGoTestBundles lists the real bundles sigstore-go ships as test
// data (pkg/testing/data/bundles), found in the module cache; none when the
// cache is elsewhere.
func sigstoreGoTestBundles() []string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return nil
	}
	modcache := os.Getenv("GOMODCACHE")
	if modcache == "" {
		modcache = filepath.Join(build.Default.GOPATH, "pkg", "mod")
	}
	for _, d := range bi.Deps {
		if d.Path == "github.com/sigstore/sigstore-go" {
			paths, _ := filepath.Glob(filepath.Join(modcache, "github.com", "sigstore", "sigstore-go@"+d.Version, "pkg", "testing", "data", "bundles", "*.json"))
			return paths
		}
	}
	return nil
}
