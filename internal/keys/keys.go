// Package keys parses the public keys that users hand to hallmark and names
// them by a stable fingerprint.
package keys

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"

	"github.com/sigstore/sigstore/pkg/signature"
)

// ErrNoPEM is returned when the input holds no PEM block.
var ErrNoPEM = errors.New("no PEM block found (expected -----BEGIN PUBLIC KEY-----)")

// ParsePublicKeyPEM parses a PEM "PUBLIC KEY" (PKIX) block, or an
// "RSA PUBLIC KEY" (PKCS#1) block, or the public key of a "CERTIFICATE".
// Only ECDSA P-256/P-384/P-521, Ed25519 and RSA (2048 bits or more) keys are
// accepted.
func ParsePublicKeyPEM(data []byte) (crypto.PublicKey, error) {
	block, _ := pem.Decode(data)
	if block == nil {
		return nil, ErrNoPEM
	}
	var (
		pub any
		err error
	)
	switch block.Type {
	case "PUBLIC KEY":
		pub, err = x509.ParsePKIXPublicKey(block.Bytes)
	case "RSA PUBLIC KEY":
		pub, err = x509.ParsePKCS1PublicKey(block.Bytes)
	case "CERTIFICATE":
		var cert *x509.Certificate
		cert, err = x509.ParseCertificate(block.Bytes)
		if err == nil {
			pub = cert.PublicKey
		}
	default:
		return nil, fmt.Errorf("unsupported PEM block %q (expected PUBLIC KEY)", block.Type)
	}
	if err != nil {
		return nil, fmt.Errorf("parsing %s: %w", block.Type, err)
	}
	if err := checkSupported(pub); err != nil {
		return nil, err
	}
	return pub, nil
}

func checkSupported(pub any) error {
	switch k := pub.(type) {
	case *ecdsa.PublicKey:
		switch k.Curve {
		case elliptic.P256(), elliptic.P384(), elliptic.P521():
			return nil
		}
		return fmt.Errorf("unsupported ECDSA curve %s", k.Curve.Params().Name)
	case ed25519.PublicKey:
		return nil
	case *rsa.PublicKey:
		if k.N.BitLen() < 2048 {
			return fmt.Errorf("RSA key of %d bits is too small (minimum 2048)", k.N.BitLen())
		}
		return nil
	}
	return fmt.Errorf("unsupported public key type %T", pub)
}

// Describe names a key type for people, e.g. "ECDSA P-256" or "Ed25519".
func Describe(pub crypto.PublicKey) string {
	switch k := pub.(type) {
	case *ecdsa.PublicKey:
		return "ECDSA " + k.Curve.Params().Name
	case ed25519.PublicKey:
		return "Ed25519"
	case *rsa.PublicKey:
		return fmt.Sprintf("RSA-%d", k.N.BitLen())
	}
	return fmt.Sprintf("%T", pub)
}

// Fingerprint returns "sha256:" followed by the hex SHA-256 of the key's
// PKIX (SubjectPublicKeyInfo) DER encoding, the form cosign and sigstore use
// as a key hint.
func Fingerprint(pub crypto.PublicKey) (string, error) {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(der)
	return "sha256:" + hex.EncodeToString(sum[:]), nil
}

// Verifier returns a signature verifier for pub with the hash that the
// Sigstore algorithm registry pairs with its key type: SHA-256 for P-256 and
// RSA, SHA-384 for P-384, SHA-512 for P-521, and pure Ed25519.
func Verifier(pub crypto.PublicKey) (signature.Verifier, error) {
	h := crypto.SHA256
	if k, ok := pub.(*ecdsa.PublicKey); ok {
		switch k.Curve {
		case elliptic.P384():
			h = crypto.SHA384
		case elliptic.P521():
			h = crypto.SHA512
		}
	}
	return signature.LoadVerifier(pub, h)
}
