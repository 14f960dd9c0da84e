package keys_test

import (
	"bytes"
	"crypto"
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sigstore/sigstore/pkg/signature"

	"github.com/hallmark-dev/hallmark/internal/keys"
)

// testKey is a key pair generated for the tests, with the hash the Sigstore
// algorithm registry pairs with it (0 for pure Ed25519).
type testKey struct {
	name     string
	describe string // want keys.Describe
	priv     crypto.Signer
	hash     crypto.Hash
}

func (k testKey) pub() crypto.PublicKey { return k.priv.Public() }

// keySet holds every key the tests use; RSA generation is slow, so it is
// made once per test binary.
type keySet struct {
	supported        []testKey // accepted by ParsePublicKeyPEM
	rsa1024, ecP224  testKey   // parse, but rejected as unsupported
	x25519           *ecdh.PublicKey
	certP256         []byte // DER of a self-signed certificate for supported[0]
	certRSA1024      []byte // DER of a self-signed certificate for rsa1024
	supportedByLabel map[string]testKey
}

var generated = sync.OnceValues(func() (*keySet, error) {
	ks := &keySet{supportedByLabel: map[string]testKey{}}
	ecdsaKey := func(c elliptic.Curve) (crypto.Signer, error) { return ecdsa.GenerateKey(c, rand.Reader) }
	rsaKey := func(bits int) (crypto.Signer, error) { return rsa.GenerateKey(rand.Reader, bits) }
	add := func(dst *testKey, name, describe string, h crypto.Hash, gen func() (crypto.Signer, error)) error {
		priv, err := gen()
		if err != nil {
			return fmt.Errorf("generating %s: %w", name, err)
		}
		*dst = testKey{name: name, describe: describe, priv: priv, hash: h}
		return nil
	}
	for _, spec := range []struct {
		name, describe string
		hash           crypto.Hash
		gen            func() (crypto.Signer, error)
	}{
		{"ECDSA P-256", "ECDSA P-256", crypto.SHA256, func() (crypto.Signer, error) { return ecdsaKey(elliptic.P256()) }},
		{"ECDSA P-384", "ECDSA P-384", crypto.SHA384, func() (crypto.Signer, error) { return ecdsaKey(elliptic.P384()) }},
		{"ECDSA P-521", "ECDSA P-521", crypto.SHA512, func() (crypto.Signer, error) { return ecdsaKey(elliptic.P521()) }},
		{"Ed25519", "Ed25519", 0, func() (crypto.Signer, error) {
			_, priv, err := ed25519.GenerateKey(rand.Reader)
			return priv, err
		}},
		{"RSA-2048", "RSA-2048", crypto.SHA256, func() (crypto.Signer, error) { return rsaKey(2048) }},
	} {
		var k testKey
		if err := add(&k, spec.name, spec.describe, spec.hash, spec.gen); err != nil {
			return nil, err
		}
		ks.supported = append(ks.supported, k)
		ks.supportedByLabel[k.name] = k
	}
	if err := add(&ks.rsa1024, "RSA-1024", "RSA-1024", crypto.SHA256, func() (crypto.Signer, error) { return rsaKey(1024) }); err != nil {
		return nil, err
	}
	if err := add(&ks.ecP224, "ECDSA P-224", "ECDSA P-224", crypto.SHA256, func() (crypto.Signer, error) { return ecdsaKey(elliptic.P224()) }); err != nil {
		return nil, err
	}
	xk, err := ecdh.X25519().GenerateKey(rand.Reader)
	if err != nil {
		return nil, err
	}
	ks.x25519 = xk.PublicKey()
	if ks.certP256, err = selfSigned(ks.supported[0].priv); err != nil {
		return nil, err
	}
	if ks.certRSA1024, err = selfSigned(ks.rsa1024.priv); err != nil {
		return nil, err
	}
	return ks, nil
})

func keysFor(tb testing.TB) *keySet {
	tb.Helper()
	ks, err := generated()
	if err != nil {
		tb.Fatal(err)
	}
	return ks
}

func selfSigned(priv crypto.Signer) ([]byte, error) {
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "hallmark keys test"},
		NotBefore:    time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC),
		NotAfter:     time.Date(2035, 1, 1, 0, 0, 0, 0, time.UTC),
	}
	return x509.CreateCertificate(rand.Reader, tmpl, tmpl, priv.Public(), priv)
}

func pkixDER(tb testing.TB, pub crypto.PublicKey) []byte {
	tb.Helper()
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		tb.Fatalf("MarshalPKIXPublicKey(%T): %v", pub, err)
	}
	return der
}

func pemBlock(typ string, der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der})
}

func TestParsePublicKeyPEM(t *testing.T) {
	ks := keysFor(t)
	p256 := ks.supportedByLabel["ECDSA P-256"]
	rsa2048 := ks.supportedByLabel["RSA-2048"]

	type tc struct {
		name    string
		in      []byte
		wantPub crypto.PublicKey // on success, the key that must come back
		// On failure: errIs, else errAs, else the message must contain errMsg.
		errIs  error
		errAs  any
		errMsg string
	}
	tests := []tc{}
	for _, k := range ks.supported {
		tests = append(tests, tc{name: "PUBLIC KEY " + k.name, in: pemBlock("PUBLIC KEY", pkixDER(t, k.pub())), wantPub: k.pub()})
	}
	var asn1Syntax asn1.SyntaxError
	tests = append(tests, []tc{
		{
			name:    "RSA PUBLIC KEY (PKCS#1) RSA-2048",
			in:      pemBlock("RSA PUBLIC KEY", x509.MarshalPKCS1PublicKey(rsa2048.pub().(*rsa.PublicKey))),
			wantPub: rsa2048.pub(),
		},
		{name: "CERTIFICATE ECDSA P-256", in: pemBlock("CERTIFICATE", ks.certP256), wantPub: p256.pub()},
		{
			name: "leading text and a second block are ignored",
			in: append(append([]byte("# key for release signing\n"), pemBlock("PUBLIC KEY", pkixDER(t, p256.pub()))...),
				pemBlock("PUBLIC KEY", pkixDER(t, rsa2048.pub()))...),
			wantPub: p256.pub(),
		},
		{name: "RSA-1024 PUBLIC KEY", in: pemBlock("PUBLIC KEY", pkixDER(t, ks.rsa1024.pub())), errMsg: "RSA key of 1024 bits is too small"},
		{
			name:   "RSA-1024 RSA PUBLIC KEY",
			in:     pemBlock("RSA PUBLIC KEY", x509.MarshalPKCS1PublicKey(ks.rsa1024.pub().(*rsa.PublicKey))),
			errMsg: "RSA key of 1024 bits is too small",
		},
		{name: "RSA-1024 CERTIFICATE", in: pemBlock("CERTIFICATE", ks.certRSA1024), errMsg: "RSA key of 1024 bits is too small"},
		{name: "ECDSA P-224", in: pemBlock("PUBLIC KEY", pkixDER(t, ks.ecP224.pub())), errMsg: "unsupported ECDSA curve P-224"},
		{name: "X25519", in: pemBlock("PUBLIC KEY", pkixDER(t, ks.x25519)), errMsg: "unsupported public key type *ecdh.PublicKey"},
		{name: "empty", in: nil, errIs: keys.ErrNoPEM},
		{name: "garbage", in: []byte("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIO not a PEM"), errIs: keys.ErrNoPEM},
		{name: "raw DER", in: pkixDER(t, p256.pub()), errIs: keys.ErrNoPEM},
		{name: "unterminated PEM", in: bytes.TrimSuffix(pemBlock("PUBLIC KEY", pkixDER(t, p256.pub())), []byte("-----END PUBLIC KEY-----\n")), errIs: keys.ErrNoPEM},
		{name: "PRIVATE KEY", in: pemBlock("PRIVATE KEY", mustPKCS8(t, p256.priv)), errMsg: `unsupported PEM block "PRIVATE KEY"`},
		{name: "EC PRIVATE KEY", in: pemBlock("EC PRIVATE KEY", []byte{0x30, 0x00}), errMsg: `unsupported PEM block "EC PRIVATE KEY"`},
		{name: "truncated PKIX DER", in: pemBlock("PUBLIC KEY", pkixDER(t, p256.pub())[:40]), errAs: &asn1Syntax},
		{name: "truncated Ed25519 DER", in: pemBlock("PUBLIC KEY", pkixDER(t, ks.supportedByLabel["Ed25519"].pub())[:20]), errAs: &asn1Syntax},
		{
			name:  "truncated PKCS#1 DER",
			in:    pemBlock("RSA PUBLIC KEY", x509.MarshalPKCS1PublicKey(rsa2048.pub().(*rsa.PublicKey))[:100]),
			errAs: &asn1Syntax,
		},
		{name: "truncated CERTIFICATE DER", in: pemBlock("CERTIFICATE", ks.certP256[:len(ks.certP256)/2]), errMsg: "parsing CERTIFICATE: x509:"},
		{name: "PUBLIC KEY holding a certificate", in: pemBlock("PUBLIC KEY", ks.certP256), errMsg: "parsing PUBLIC KEY"},
	}...)

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pub, err := keys.ParsePublicKeyPEM(tt.in)
			if tt.wantPub != nil {
				if err != nil {
					t.Fatalf("ParsePublicKeyPEM: %v", err)
				}
				eq, ok := pub.(interface{ Equal(crypto.PublicKey) bool })
				if !ok || !eq.Equal(tt.wantPub) {
					t.Fatalf("ParsePublicKeyPEM returned %T, not the key encoded", pub)
				}
				return
			}
			if err == nil {
				t.Fatalf("ParsePublicKeyPEM succeeded (%T), want an error", pub)
			}
			if pub != nil {
				t.Errorf("ParsePublicKeyPEM returned a key (%T) with its error", pub)
			}
			if tt.errIs != keys.ErrNoPEM && errors.Is(err, keys.ErrNoPEM) {
				t.Errorf("err = %v, must not be ErrNoPEM: a PEM block was present", err)
			}
			switch {
			case tt.errIs != nil:
				if !errors.Is(err, tt.errIs) {
					t.Errorf("err = %v, want errors.Is %v", err, tt.errIs)
				}
			case tt.errAs != nil:
				if !errors.As(err, tt.errAs) {
					t.Errorf("err = %v (%T), want errors.As %T", err, err, tt.errAs)
				}
			default:
				if !strings.Contains(err.Error(), tt.errMsg) {
					t.Errorf("err = %q, want it to contain %q", err, tt.errMsg)
				}
			}
		})
	}
}

func mustPKCS8(tb testing.TB, priv crypto.Signer) []byte {
	tb.Helper()
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		tb.Fatal(err)
	}
	return der
}

func TestFingerprint(t *testing.T) {
	ks := keysFor(t)
	seen := map[string]string{}
	for _, k := range ks.supported {
		t.Run(k.name, func(t *testing.T) {
			der := pkixDER(t, k.pub())
			sum := sha256.Sum256(der)
			want := "sha256:" + hex.EncodeToString(sum[:])

			got, err := keys.Fingerprint(k.pub())
			if err != nil {
				t.Fatalf("Fingerprint: %v", err)
			}
			if got != want {
				t.Errorf("Fingerprint = %s, want sha256 of the PKIX DER %s", got, want)
			}
			// Stable: the same key parsed afresh, in any accepted
			// encoding, has the same fingerprint.
			encodings := [][]byte{pemBlock("PUBLIC KEY", der)}
			if rk, ok := k.pub().(*rsa.PublicKey); ok {
				encodings = append(encodings, pemBlock("RSA PUBLIC KEY", x509.MarshalPKCS1PublicKey(rk)))
			}
			if k.name == "ECDSA P-256" {
				encodings = append(encodings, pemBlock("CERTIFICATE", ks.certP256))
			}
			for _, enc := range encodings {
				pub, err := keys.ParsePublicKeyPEM(enc)
				if err != nil {
					t.Fatalf("ParsePublicKeyPEM: %v", err)
				}
				again, err := keys.Fingerprint(pub)
				if err != nil {
					t.Fatalf("Fingerprint of the parsed key: %v", err)
				}
				if again != want {
					t.Errorf("Fingerprint after parsing %s = %s, want %s", strings.SplitN(string(enc), "\n", 2)[0], again, want)
				}
			}
			if other, dup := seen[got]; dup {
				t.Errorf("%s has the fingerprint of %s", k.name, other)
			}
			seen[got] = k.name
		})
	}

	t.Run("unsupported type", func(t *testing.T) {
		fp, err := keys.Fingerprint(struct{}{})
		if err == nil {
			t.Errorf("Fingerprint(struct{}{}) = %q, want an error", fp)
		}
	})
}

func TestDescribe(t *testing.T) {
	ks := keysFor(t)
	tests := []struct {
		pub  crypto.PublicKey
		want string
	}{
		{ks.supportedByLabel["ECDSA P-256"].pub(), "ECDSA P-256"},
		{ks.supportedByLabel["ECDSA P-384"].pub(), "ECDSA P-384"},
		{ks.supportedByLabel["ECDSA P-521"].pub(), "ECDSA P-521"},
		{ks.supportedByLabel["Ed25519"].pub(), "Ed25519"},
		{ks.supportedByLabel["RSA-2048"].pub(), "RSA-2048"},
		{ks.rsa1024.pub(), "RSA-1024"},
		{ks.ecP224.pub(), "ECDSA P-224"},
		{ks.x25519, "*ecdh.PublicKey"},
	}
	for _, tt := range tests {
		if got := keys.Describe(tt.pub); got != tt.want {
			t.Errorf("Describe(%T) = %q, want %q", tt.pub, got, tt.want)
		}
	}
}

func TestVerifier(t *testing.T) {
	ks := keysFor(t)
	msg := []byte("hallmark signs this")
	for _, k := range ks.supported {
		t.Run(k.name, func(t *testing.T) {
			// Round-trip the key through PEM, as a user hands it over.
			pub, err := keys.ParsePublicKeyPEM(pemBlock("PUBLIC KEY", pkixDER(t, k.pub())))
			if err != nil {
				t.Fatalf("ParsePublicKeyPEM: %v", err)
			}
			v, err := keys.Verifier(pub)
			if err != nil {
				t.Fatalf("Verifier: %v", err)
			}
			signer, err := signature.LoadSigner(k.priv, k.hash)
			if err != nil {
				t.Fatalf("LoadSigner(%s, %v): %v", k.name, k.hash, err)
			}
			sig, err := signer.SignMessage(bytes.NewReader(msg))
			if err != nil {
				t.Fatalf("SignMessage: %v", err)
			}
			if err := v.VerifySignature(bytes.NewReader(sig), bytes.NewReader(msg)); err != nil {
				t.Errorf("signature made with %v does not verify: %v", k.hash, err)
			}
			if err := v.VerifySignature(bytes.NewReader(sig), bytes.NewReader(append([]byte("x"), msg...))); err == nil {
				t.Error("signature verifies over a different message")
			}
			if len(sig) > 0 {
				bad := bytes.Clone(sig)
				bad[len(bad)/2] ^= 0x01
				if err := v.VerifySignature(bytes.NewReader(bad), bytes.NewReader(msg)); err == nil {
					t.Error("a corrupted signature verifies")
				}
			}

			// The hash is the registry's: a signature over the message
			// digested with another hash must not verify.
			if k.hash == 0 {
				return
			}
			other := crypto.SHA256
			if k.hash == crypto.SHA256 {
				other = crypto.SHA384
			}
			wrong, err := signature.LoadSigner(k.priv, other)
			if err != nil {
				t.Fatalf("LoadSigner(%s, %v): %v", k.name, other, err)
			}
			sig, err = wrong.SignMessage(bytes.NewReader(msg))
			if err != nil {
				t.Fatalf("SignMessage: %v", err)
			}
			if err := v.VerifySignature(bytes.NewReader(sig), bytes.NewReader(msg)); err == nil {
				t.Errorf("a %s signature made with %v verifies, want only %v", k.name, other, k.hash)
			}
		})
	}
}
