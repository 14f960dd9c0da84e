package keys

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/secure-systems-lab/go-securesystemslib/encrypted"

	"github.com/hallmark-dev/hallmark/internal/atomicfile"
)

// PEM block types of private keys. The encrypted ones are cosign's format:
// the body is the JSON that go-securesystemslib's encrypted.Encrypt makes
// (scrypt key derivation, NaCl secretbox) of the PKCS#8 DER key.
const (
	PEMEncryptedSigstore = "ENCRYPTED SIGSTORE PRIVATE KEY"
	PEMEncryptedCosign   = "ENCRYPTED COSIGN PRIVATE KEY"
	PEMPrivateKey        = "PRIVATE KEY"
	PEMECPrivateKey      = "EC PRIVATE KEY"
	PEMRSAPrivateKey     = "RSA PRIVATE KEY"
	PEMPublicKey         = "PUBLIC KEY"
)

// Errors of private key handling, for errors.Is.
var (
	// ErrWrongPassword: the password does not decrypt the key.
	ErrWrongPassword = errors.New("wrong password: the key could not be decrypted")
	// ErrPasswordRequired: the key is encrypted and no password was given.
	ErrPasswordRequired = errors.New("the private key is encrypted and needs a password")
	// ErrNoPrivateKey: the input holds no private key PEM block.
	ErrNoPrivateKey = errors.New("no private key PEM block found")
	// ErrUnsupportedKey: a key type or size hallmark does not sign with.
	ErrUnsupportedKey = errors.New("unsupported private key")
	// ErrEncryptedPKCS8: an OpenSSL-style encrypted PKCS#8 key ("ENCRYPTED
	// PRIVATE KEY"), which hallmark does not decrypt.
	ErrEncryptedPKCS8 = errors.New("the key is an encrypted PKCS#8 key (ENCRYPTED PRIVATE KEY), which hallmark does not decrypt")
	// ErrExists: a key file would be overwritten.
	ErrExists = errors.New("file exists")
)

// IsEncrypted reports whether data is an encrypted (cosign format) private
// key, so that a caller asks for a password only when one is needed.
func IsEncrypted(data []byte) bool {
	block, _ := pem.Decode(data)
	return block != nil && (block.Type == PEMEncryptedSigstore || block.Type == PEMEncryptedCosign)
}

// ParsePrivateKeyPEM parses a private key: PKCS#8 ("PRIVATE KEY"), SEC 1
// ("EC PRIVATE KEY"), PKCS#1 ("RSA PRIVATE KEY"), or the cosign encrypted
// format ("ENCRYPTED SIGSTORE PRIVATE KEY", or the older "ENCRYPTED COSIGN
// PRIVATE KEY"), which password decrypts. password is ignored for
// unencrypted keys. Only the key types ParsePublicKeyPEM accepts are
// returned.
func ParsePrivateKeyPEM(data, password []byte) (crypto.Signer, error) {
	block, _ := pem.Decode(data)
	if block == nil {
		return nil, ErrNoPrivateKey
	}
	var (
		key any
		err error
	)
	switch block.Type {
	case PEMEncryptedSigstore, PEMEncryptedCosign:
		if password == nil {
			return nil, ErrPasswordRequired
		}
		der, derr := encrypted.Decrypt(block.Bytes, password)
		if derr != nil {
			if strings.Contains(derr.Error(), "decryption failed") {
				return nil, ErrWrongPassword
			}
			return nil, fmt.Errorf("%w: malformed %s: %w", ErrUnsupportedKey, block.Type, derr)
		}
		key, err = x509.ParsePKCS8PrivateKey(der)
	case PEMPrivateKey:
		key, err = x509.ParsePKCS8PrivateKey(block.Bytes)
	case PEMECPrivateKey:
		key, err = x509.ParseECPrivateKey(block.Bytes)
	case PEMRSAPrivateKey:
		key, err = x509.ParsePKCS1PrivateKey(block.Bytes)
	case "ENCRYPTED PRIVATE KEY":
		return nil, ErrEncryptedPKCS8
	case PEMPublicKey, "RSA PUBLIC KEY", "CERTIFICATE":
		return nil, fmt.Errorf("%w: this is a %s, not a private key", ErrNoPrivateKey, strings.ToLower(block.Type))
	default:
		return nil, fmt.Errorf("%w: PEM block %q", ErrUnsupportedKey, block.Type)
	}
	if err != nil {
		return nil, fmt.Errorf("%w: parsing %s: %w", ErrUnsupportedKey, block.Type, err)
	}
	signer, ok := key.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("%w: type %T", ErrUnsupportedKey, key)
	}
	if err := checkSupported(signer.Public()); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrUnsupportedKey, err)
	}
	return signer, nil
}

// KeyType names a key type that GenerateKey makes.
type KeyType string

// The key types of generate-key-pair.
const (
	ECDSAP256 KeyType = "ecdsa-p256"
	ECDSAP384 KeyType = "ecdsa-p384"
	Ed25519   KeyType = "ed25519"
	RSA3072   KeyType = "rsa-3072"
)

// KeyTypes lists the key types GenerateKey accepts, the default first.
func KeyTypes() []KeyType { return []KeyType{ECDSAP256, ECDSAP384, Ed25519, RSA3072} }

// GenerateKey makes a new private key of type t.
func GenerateKey(t KeyType) (crypto.Signer, error) {
	switch t {
	case ECDSAP256, "":
		return ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case ECDSAP384:
		return ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	case Ed25519:
		_, k, err := ed25519.GenerateKey(rand.Reader)
		return k, err
	case RSA3072:
		return rsa.GenerateKey(rand.Reader, 3072)
	}
	return nil, fmt.Errorf("%w: key type %q (want one of %s)", ErrUnsupportedKey, t, strings.Join(keyTypeNames(), ", "))
}

func keyTypeNames() []string {
	var out []string
	for _, t := range KeyTypes() {
		out = append(out, string(t))
	}
	return out
}

// EncryptPrivateKeyPEM encodes key as an "ENCRYPTED SIGSTORE PRIVATE KEY"
// PEM block that cosign reads: PKCS#8, encrypted with password.
func EncryptPrivateKeyPEM(key crypto.Signer, password []byte) ([]byte, error) {
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, err
	}
	body, err := encrypted.Encrypt(der, password)
	if err != nil {
		return nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: PEMEncryptedSigstore, Bytes: body}), nil
}

// PublicKeyPEM encodes pub as a "PUBLIC KEY" (PKIX) PEM block.
func PublicKeyPEM(pub crypto.PublicKey) ([]byte, error) {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: PEMPublicKey, Bytes: der}), nil
}

// KeyPairFiles are the files WriteKeyPair writes.
type KeyPairFiles struct {
	PrivateKey string `json:"privateKey"`
	PublicKey  string `json:"publicKey"`
}

// PairFiles names the files of a key pair with prefix: PREFIX.key and
// PREFIX.pub.
func PairFiles(prefix string) KeyPairFiles {
	return KeyPairFiles{PrivateKey: prefix + ".key", PublicKey: prefix + ".pub"}
}

// WriteKeyPair writes key encrypted with password to files.PrivateKey (mode
// 0600) and its public key to files.PublicKey (0644), each atomically. It
// refuses to replace an existing file unless force is set: the check is
// done for both files before either is written.
func WriteKeyPair(key crypto.Signer, password []byte, files KeyPairFiles, force bool) error {
	if !force {
		for _, p := range []string{files.PrivateKey, files.PublicKey} {
			if _, err := os.Lstat(p); err == nil {
				return fmt.Errorf("%w: %s", ErrExists, p)
			} else if !errors.Is(err, os.ErrNotExist) {
				return err
			}
		}
	}
	priv, err := EncryptPrivateKeyPEM(key, password)
	if err != nil {
		return err
	}
	pub, err := PublicKeyPEM(key.Public())
	if err != nil {
		return err
	}
	for _, dir := range []string{filepath.Dir(files.PrivateKey), filepath.Dir(files.PublicKey)} {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return err
		}
	}
	if err := atomicfile.Write(files.PrivateKey, priv, 0o600); err != nil {
		return err
	}
	return atomicfile.Write(files.PublicKey, pub, 0o644)
}

// SamePublicKey reports whether a and b are the same public key.
func SamePublicKey(a, b crypto.PublicKey) bool {
	da, err1 := x509.MarshalPKIXPublicKey(a)
	db, err2 := x509.MarshalPKIXPublicKey(b)
	return err1 == nil && err2 == nil && bytes.Equal(da, db)
}
