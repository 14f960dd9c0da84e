package keys_test

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/hallmark-dev/hallmark/internal/keys"
)

// cosignKeyDir holds a real cosign-generated encrypted key (password
// perfbench), read in place; tests skip when it is absent.
var cosignKeyDir = filepath.Join("..", "..", "..", "shared", "fixtures", "cosign-interop")

const cosignPassword = "perfbench"

var (
	genOnce sync.Once
	genKeys map[keys.KeyType]crypto.Signer
	genErr  error
)

// genPrivate returns one key of each type, made once per test binary (RSA
// key generation is slow, more so under -race).
func genPrivate(t testing.TB) map[keys.KeyType]crypto.Signer {
	t.Helper()
	genOnce.Do(func() {
		genKeys = map[keys.KeyType]crypto.Signer{}
		for _, kt := range keys.KeyTypes() {
			k, err := keys.GenerateKey(kt)
			if err != nil {
				genErr = err
				return
			}
			genKeys[kt] = k
		}
	})
	if genErr != nil {
		t.Fatal(genErr)
	}
	return genKeys
}

// encodings returns every unencrypted PEM form hallmark reads for key.
func encodings(t testing.TB, key crypto.Signer) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	out["pkcs8"] = pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
	switch k := key.(type) {
	case *ecdsa.PrivateKey:
		sec1, err := x509.MarshalECPrivateKey(k)
		if err != nil {
			t.Fatal(err)
		}
		out["sec1"] = pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: sec1})
	case *rsa.PrivateKey:
		out["pkcs1"] = pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(k)})
	}
	return out
}

func TestParsePrivateKeyPEM(t *testing.T) {
	for kt, key := range genPrivate(t) {
		for enc, data := range encodings(t, key) {
			t.Run(string(kt)+"/"+enc, func(t *testing.T) {
				got, err := keys.ParsePrivateKeyPEM(data, nil)
				if err != nil {
					t.Fatal(err)
				}
				if !keys.SamePublicKey(got.Public(), key.Public()) {
					t.Fatal("parsed a different key")
				}
				if keys.IsEncrypted(data) {
					t.Fatal("IsEncrypted on a plain key")
				}
			})
		}
	}
}

func TestEncryptedRoundTrip(t *testing.T) {
	for kt, key := range genPrivate(t) {
		t.Run(string(kt), func(t *testing.T) {
			t.Parallel()
			data, err := keys.EncryptPrivateKeyPEM(key, []byte("s3cret"))
			if err != nil {
				t.Fatal(err)
			}
			if !keys.IsEncrypted(data) {
				t.Fatal("not recognised as encrypted")
			}
			got, err := keys.ParsePrivateKeyPEM(data, []byte("s3cret"))
			if err != nil {
				t.Fatal(err)
			}
			if !keys.SamePublicKey(got.Public(), key.Public()) {
				t.Fatal("decrypted a different key")
			}
			if kt != keys.ECDSAP256 {
				return // scrypt is slow: the failure paths once are enough
			}
			if _, err := keys.ParsePrivateKeyPEM(data, []byte("wrong")); !errors.Is(err, keys.ErrWrongPassword) {
				t.Fatalf("wrong password: %v, want ErrWrongPassword", err)
			}
			if _, err := keys.ParsePrivateKeyPEM(data, nil); !errors.Is(err, keys.ErrPasswordRequired) {
				t.Fatalf("no password: %v, want ErrPasswordRequired", err)
			}
		})
	}
}

func TestParsePrivateKeyErrors(t *testing.T) {
	ed, _ := keys.GenerateKey(keys.Ed25519)
	pub, _ := keys.PublicKeyPEM(ed.Public())
	small, _ := rsa.GenerateKey(randReader{}, 1024)
	smallDER, _ := x509.MarshalPKCS8PrivateKey(small)
	tests := []struct {
		name string
		data []byte
		want error
	}{
		{"empty", nil, keys.ErrNoPrivateKey},
		{"public key", pub, keys.ErrNoPrivateKey},
		{"unknown block", pem.EncodeToMemory(&pem.Block{Type: "OPENSSH PRIVATE KEY", Bytes: []byte{1}}), keys.ErrUnsupportedKey},
		{"bad der", pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: []byte{1, 2, 3}}), keys.ErrUnsupportedKey},
		{"small rsa", pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: smallDER}), keys.ErrUnsupportedKey},
		{"encrypted pkcs8", pem.EncodeToMemory(&pem.Block{Type: "ENCRYPTED PRIVATE KEY", Bytes: []byte{0x30, 0}}), keys.ErrEncryptedPKCS8},
		{"encrypted garbage", pem.EncodeToMemory(&pem.Block{Type: keys.PEMEncryptedSigstore, Bytes: []byte("{}")}), keys.ErrUnsupportedKey},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := keys.ParsePrivateKeyPEM(tc.data, []byte("pw")); !errors.Is(err, tc.want) {
				t.Fatalf("%v, want %v", err, tc.want)
			}
		})
	}
}

// randReader is crypto/rand for the deprecated small-RSA path.
type randReader struct{}

func (randReader) Read(p []byte) (int, error) { return cryptoRandRead(p) }

func TestCosignKey(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(cosignKeyDir, "cosign.key"))
	if errors.Is(err, os.ErrNotExist) {
		t.Skip("../shared/fixtures/cosign-interop is absent")
	}
	if err != nil {
		t.Fatal(err)
	}
	pubData, err := os.ReadFile(filepath.Join(cosignKeyDir, "cosign.pub"))
	if err != nil {
		t.Fatal(err)
	}
	key, err := keys.ParsePrivateKeyPEM(data, []byte(cosignPassword))
	if err != nil {
		t.Fatal(err)
	}
	pub, err := keys.ParsePublicKeyPEM(pubData)
	if err != nil {
		t.Fatal(err)
	}
	if !keys.SamePublicKey(key.Public(), pub) {
		t.Fatal("cosign.key does not match cosign.pub")
	}
	if _, err := keys.ParsePrivateKeyPEM(data, []byte("not-perfbench")); !errors.Is(err, keys.ErrWrongPassword) {
		t.Fatalf("wrong password: %v", err)
	}
}

func TestWriteKeyPair(t *testing.T) {
	dir := t.TempDir()
	key, _ := keys.GenerateKey(keys.ECDSAP256)
	files := keys.PairFiles(filepath.Join(dir, "k"))
	if err := keys.WriteKeyPair(key, []byte("pw"), files, false); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(files.PrivateKey)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("private key mode %v, want 0600", fi.Mode().Perm())
	}
	if err := keys.WriteKeyPair(key, []byte("pw"), files, false); !errors.Is(err, keys.ErrExists) {
		t.Fatalf("second write: %v, want ErrExists", err)
	}
	other, _ := keys.GenerateKey(keys.ECDSAP256)
	if err := keys.WriteKeyPair(other, []byte("pw2"), files, true); err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(files.PrivateKey)
	got, err := keys.ParsePrivateKeyPEM(data, []byte("pw2"))
	if err != nil || !keys.SamePublicKey(got.Public(), other.Public()) {
		t.Fatalf("forced write: %v", err)
	}
	pubData, _ := os.ReadFile(files.PublicKey)
	pub, err := keys.ParsePublicKeyPEM(pubData)
	if err != nil || !keys.SamePublicKey(pub, other.Public()) {
		t.Fatalf("public key: %v", err)
	}
	ents, _ := os.ReadDir(dir)
	if len(ents) != 2 {
		t.Fatalf("directory holds %d entries, want 2 (no temp files)", len(ents))
	}
}

func TestGenerateKeyTypes(t *testing.T) {
	for kt, key := range genPrivate(t) {
		want := map[keys.KeyType]string{keys.ECDSAP256: "ECDSA P-256", keys.ECDSAP384: "ECDSA P-384", keys.Ed25519: "Ed25519", keys.RSA3072: "RSA-3072"}[kt]
		if got := keys.Describe(key.Public()); got != want {
			t.Errorf("%s: %s, want %s", kt, got, want)
		}
		if _, ok := key.Public().(ed25519.PublicKey); ok != (kt == keys.Ed25519) {
			t.Errorf("%s: type %T", kt, key.Public())
		}
	}
	if _, err := keys.GenerateKey("dsa"); !errors.Is(err, keys.ErrUnsupportedKey) {
		t.Fatalf("dsa: %v", err)
	}
}

// FuzzParsePrivateKey feeds PEM and encrypted keys to ParsePrivateKeyPEM;
// it must return a key or an error, never panic. Seeds: every generated key
// type in every encoding, encrypted ones, and the cosign key when present.
func FuzzParsePrivateKey(f *testing.F) {
	n := 0
	for _, key := range genPrivate(f) {
		for _, data := range encodings(f, key) {
			f.Add(data, []byte(nil))
			n++
		}
	}
	// One encrypted seed: scrypt makes each run of an encrypted input slow.
	k, _ := keys.GenerateKey(keys.ECDSAP256)
	enc, err := keys.EncryptPrivateKeyPEM(k, []byte("pw"))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(enc, []byte("pw"))
	f.Add(enc, []byte("wrong"))
	n += 2
	if n < 9 {
		f.Fatalf("only %d seeds of our own", n)
	}
	// The cosign key lives in ../shared: a seed when present, skipped (and
	// said) when not.
	if data, err := os.ReadFile(filepath.Join(cosignKeyDir, "cosign.key")); err == nil {
		f.Add(data, []byte(cosignPassword))
	} else {
		f.Logf("../shared not found: the cosign key seed is skipped")
	}
	f.Fuzz(func(t *testing.T, data, password []byte) {
		key, err := keys.ParsePrivateKeyPEM(data, password)
		if err != nil {
			if key != nil {
				t.Fatal("a key and an error")
			}
			return
		}
		if _, err := keys.Fingerprint(key.Public()); err != nil {
			t.Fatalf("parsed key has no fingerprint: %v", err)
		}
	})
}

func cryptoRandRead(p []byte) (int, error) { return rand.Read(p) }
