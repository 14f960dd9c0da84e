package keys_test

import (
	"crypto/rsa"
	"crypto/x509"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"github.com/hallmark-dev/hallmark/internal/keys"
)

// sharedKeyFixtures are real public keys made by other tools; they seed the
// fuzzer when the shared fixture directory is present and are skipped
// silently otherwise.
var sharedKeyFixtures = []string{
	filepath.Join("..", "..", "..", "shared", "fixtures", "cosign-interop", "cosign.pub"),
	filepath.Join("..", "..", "..", "shared", "fixtures", "cosign-interop", "rekor-public-good.pub"),
}

// fuzzSeeds returns PEM inputs covering every branch of ParsePublicKeyPEM:
// each supported key type in each encoding, the rejected ones, and the
// shared fixtures that exist.
func fuzzSeeds(tb testing.TB) [][]byte {
	tb.Helper()
	ks := keysFor(tb)
	var seeds [][]byte
	for _, k := range append(append([]testKey{}, ks.supported...), ks.rsa1024, ks.ecP224) {
		der := pkixDER(tb, k.pub())
		seeds = append(seeds, pemBlock("PUBLIC KEY", der), pemBlock("PUBLIC KEY", der[:len(der)-1]))
		if rk, ok := k.pub().(*rsa.PublicKey); ok {
			seeds = append(seeds, pemBlock("RSA PUBLIC KEY", x509.MarshalPKCS1PublicKey(rk)))
		}
	}
	seeds = append(seeds,
		pemBlock("PUBLIC KEY", pkixDER(tb, ks.x25519)),
		pemBlock("CERTIFICATE", ks.certP256),
		pemBlock("CERTIFICATE", ks.certRSA1024),
		pemBlock("PRIVATE KEY", mustPKCS8(tb, ks.supported[0].priv)),
		[]byte("-----BEGIN PUBLIC KEY-----\n-----END PUBLIC KEY-----\n"),
		[]byte("not a key"),
	)
	for _, path := range sharedKeyFixtures {
		b, err := os.ReadFile(path)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			tb.Fatalf("reading seed %s: %v", path, err)
		}
		// A key made by cosign must be one hallmark accepts.
		if _, err := keys.ParsePublicKeyPEM(b); err != nil {
			tb.Fatalf("seed %s does not parse: %v", path, err)
		}
		seeds = append(seeds, b)
	}
	return seeds
}

func FuzzParsePublicKeyPEM(f *testing.F) {
	seeds := fuzzSeeds(f)
	// Every supported type in PKIX, truncated and (for RSA) PKCS#1 form, at
	// least: an empty or shrunken corpus would fuzz nothing useful.
	if want := 2*len(keysFor(f).supported) + 1; len(seeds) < want {
		f.Fatalf("found %d seeds, want at least %d", len(seeds), want)
	}
	for _, s := range seeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		pub, err := keys.ParsePublicKeyPEM(data)
		if err != nil {
			if pub != nil {
				t.Fatalf("returned a key (%T) along with error %v", pub, err)
			}
			return
		}
		if pub == nil {
			t.Fatal("returned neither a key nor an error")
		}
		fp, err := keys.Fingerprint(pub)
		if err != nil {
			t.Fatalf("Fingerprint of an accepted %s key: %v", keys.Describe(pub), err)
		}
		if _, err := keys.Verifier(pub); err != nil {
			t.Fatalf("Verifier for an accepted %s key: %v", keys.Describe(pub), err)
		}
		// An accepted key re-encoded as PKIX parses back to the same key.
		again, err := keys.ParsePublicKeyPEM(pemBlock("PUBLIC KEY", pkixDER(t, pub)))
		if err != nil {
			t.Fatalf("re-encoded %s key does not parse: %v", keys.Describe(pub), err)
		}
		if fp2, err := keys.Fingerprint(again); err != nil || fp2 != fp {
			t.Fatalf("re-encoded key fingerprint = %q, %v; want %q", fp2, err, fp)
		}
	})
}
