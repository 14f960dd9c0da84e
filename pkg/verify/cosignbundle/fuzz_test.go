package cosignbundle_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/hallmark-dev/hallmark/internal/sigtest"
	"github.com/hallmark-dev/hallmark/pkg/verify"
	"github.com/hallmark-dev/hallmark/pkg/verify/cosignbundle"
)

// legacySeeds are the legacy bundles of the tests, edited ones included,
// and cosign's own when the shared fixtures are present.
// The shared directory holds one legacy bundle and one Sigstore bundle, and
// real bundles next to it.
func legacySeeds(tb testing.TB) [][]byte {
	w := getWorld(tb)
	seeds := [][]byte{w.legacy, w.otherLegacy, w.attestLegacy, w.keyLegacy, w.keyLogged, flipSignature(tb, w.legacy),
		[]byte(`{"base64Signature":"MEUCIQ==","cert":"","rekorBundle":null}`)}
	if dir := sharedDir(tb); dir != "" {
		paths, _ := filepath.Glob(filepath.Join(dir, "*.json"))
		if len(paths) < 2 {
			tb.Fatalf("%s has %d JSON files, want its legacy and Sigstore bundles", dir, len(paths))
		}
		for _, p := range paths {
			b, err := os.ReadFile(p)
			if err != nil {
				tb.Fatal(err)
			}
			seeds = append(seeds, b)
		}
		// Real public-good bundles, rewritten in the legacy form.
		real, _ := filepath.Glob(filepath.Join(dir, "..", "real-bundles", "b[1235]-*", "bundle.sigstore.json"))
		for _, p := range real {
			b, err := os.ReadFile(p)
			if err != nil {
				tb.Fatal(err)
			}
			legacy, err := sigtest.CosignLegacyBundle(b)
			if err != nil {
				tb.Fatalf("%s: %v", p, err)
			}
			seeds = append(seeds, legacy)
		}
	}
	return seeds
}

// FuzzParse feeds arbitrary bytes to the legacy reader and, when they read,
// converts them and verifies the bundle. Whatever the input: no panic;
// reading fails only with ErrMalformed; verification either accepts with a
// signer or rejects, never fails otherwise (the artifact is a digest).
func FuzzParse(f *testing.F) {
	w := getWorld(f)
	seeds := legacySeeds(f)
	for _, s := range seeds {
		// Every legacy seed reads: the fuzzer starts from real ones.
		if _, err := cosignbundle.Parse(s); err != nil && cosignbundle.IsLegacy(s) {
			f.Fatalf("seed %.60s... does not read: %v", s, err)
		}
		f.Add(s)
	}
	if len(seeds) < 6 {
		f.Fatalf("only %d seeds", len(seeds))
	}
	keylessV, err := verify.New(w.tm, demoPolicy())
	if err != nil {
		f.Fatal(err)
	}
	keyV, err := verify.New(nil, verify.Policy{Key: w.key.Public(), InsecureIgnoreTlog: true})
	if err != nil {
		f.Fatal(err)
	}
	digest := sha256Of(w.artifact)
	f.Fuzz(func(t *testing.T, data []byte) {
		_ = cosignbundle.IsLegacy(data)
		l, err := cosignbundle.Parse(data)
		if err != nil {
			if !errors.Is(err, cosignbundle.ErrMalformed) {
				t.Fatalf("Parse error does not wrap ErrMalformed: %v", err)
			}
			return
		}
		_ = l.NeedsDigest()
		b, err := l.Bundle(digest)
		if err != nil {
			return
		}
		for _, v := range []*verify.Verifier{keylessV, keyV} {
			res, err := v.Verify(context.Background(), b, digestArtifact(t, w.artifact))
			switch {
			case err == nil:
				if !res.Verified || res.Signer == nil {
					t.Fatalf("accepted without a complete result: %+v", res)
				}
			case !verify.IsRejected(err):
				t.Fatalf("Verify error is not a rejection: %v", err)
			}
		}
	})
}

// FuzzDetached feeds arbitrary signature and certificate files to Detached.
func FuzzDetached(f *testing.F) {
	w := getWorld(f)
	pairs := [][2][]byte{{w.sig, w.cert}, {w.keySig, nil}, {w.sig, mustB64Decode(f, w.cert)}, {[]byte("MEUCIQ=="), []byte("garbage")}}
	for _, p := range pairs[:3] {
		if _, err := cosignbundle.Detached(p[0], p[1]); err != nil {
			f.Fatalf("seed pair does not read: %v", err)
		}
	}
	for _, p := range pairs {
		f.Add(p[0], p[1])
	}
	f.Fuzz(func(t *testing.T, sig, cert []byte) {
		l, err := cosignbundle.Detached(sig, cert)
		if err != nil {
			if !errors.Is(err, cosignbundle.ErrMalformed) {
				t.Fatalf("Detached error does not wrap ErrMalformed: %v", err)
			}
			return
		}
		if _, err := l.Bundle(sha256Of(sig)); err != nil && !errors.Is(err, cosignbundle.ErrMalformed) {
			t.Fatalf("Bundle error does not wrap ErrMalformed: %v", err)
		}
	})
}
