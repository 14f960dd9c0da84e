package sigtest

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"time"

	protocommon "github.com/sigstore/protobuf-specs/gen/pb-go/common/v1"
	"github.com/sigstore/sigstore-go/pkg/root"
	"github.com/sigstore/sigstore-go/pkg/sign"
	"github.com/sigstore/sigstore/pkg/signature"
)

// Key kinds accepted by [GenerateKey].
const (
	KeyECDSAP256 = "ecdsa-p256"
	KeyECDSAP384 = "ecdsa-p384"
	KeyECDSAP521 = "ecdsa-p521"
	KeyEd25519   = "ed25519"
	KeyRSA2048   = "rsa-2048"
)

// KeyKinds returns the kinds [GenerateKey] accepts, in a fixed order.
func KeyKinds() []string {
	return []string{KeyECDSAP256, KeyECDSAP384, KeyECDSAP521, KeyEd25519, KeyRSA2048}
}

// GenerateKey returns a new private key of the given kind (see [KeyKinds]).
func GenerateKey(kind string) (crypto.Signer, error) {
	switch kind {
	case KeyECDSAP256:
		return ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case KeyECDSAP384:
		return ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	case KeyECDSAP521:
		return ecdsa.GenerateKey(elliptic.P521(), rand.Reader)
	case KeyEd25519:
		_, priv, err := ed25519.GenerateKey(rand.Reader)
		return priv, err
	case KeyRSA2048:
		return rsa.GenerateKey(rand.Reader, 2048)
	}
	return nil, fmt.Errorf("sigtest: unknown key kind %q", kind)
}

// PublicKeyPEM encodes pub as a PEM "PUBLIC KEY" (PKIX) block.
func PublicKeyPEM(pub crypto.PublicKey) ([]byte, error) {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return nil, fmt.Errorf("sigtest: encoding public key: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}), nil
}

// KeyHint returns the hex SHA-256 of pub's PKIX DER encoding, the public key
// hint that key-signed bundles from this package carry.
func KeyHint(pub crypto.PublicKey) (string, error) {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return "", fmt.Errorf("sigtest: encoding public key: %w", err)
	}
	sum := sha256.Sum256(der)
	return hex.EncodeToString(sum[:]), nil
}

// TrustedKeyMaterial returns sigstore-go trusted material that trusts pub,
// without time limits, under its [KeyHint], with sigstore's default
// algorithm for the key (the one the signing functions here use). Verify
// key-signed bundles against it with verify.WithNoObserverTimestamps and the
// verify.WithKey policy.
func TrustedKeyMaterial(pub crypto.PublicKey) (root.TrustedMaterial, error) {
	hint, err := KeyHint(pub)
	if err != nil {
		return nil, err
	}
	v, err := signature.LoadDefaultVerifier(pub)
	if err != nil {
		return nil, fmt.Errorf("sigtest: loading verifier: %w", err)
	}
	return root.NewTrustedPublicKeyMaterialFromMapping(map[string]*root.ExpiringKey{
		hint: root.NewExpiringKey(v, time.Time{}, time.Time{}),
	}), nil
}

// SignBlobWithKey signs artifact with signer and returns a v0.3 bundle (JSON)
// with a message signature, a public key hint ([KeyHint]) as verification
// material, and neither a log entry nor a timestamp. The digest and the
// signature algorithm follow sigstore's algorithm registry defaults for the
// key: SHA-256 (P-256, RSA PKCS#1 v1.5), SHA-384 (P-384), SHA-512 (P-521);
// Ed25519 signs the artifact itself, and its bundle records its SHA-256.
func SignBlobWithKey(signer crypto.Signer, artifact []byte) ([]byte, error) {
	return signWithKey(signer, &sign.PlainData{Data: artifact})
}

// SignStatementWithKey signs an in-toto statement with signer and returns a
// v0.3 bundle (JSON) with a DSSE envelope, like [SignBlobWithKey].
func SignStatementWithKey(signer crypto.Signer, statement []byte) ([]byte, error) {
	return signWithKey(signer, &sign.DSSEData{Data: statement, PayloadType: InTotoPayloadType})
}

// signWithKey has sigstore-go's signer bundle content with no certificate,
// timestamp or transparency log.
func signWithKey(signer crypto.Signer, content sign.Content) ([]byte, error) {
	kp, err := newKeypair(signer)
	if err != nil {
		return nil, err
	}
	pb, err := sign.Bundle(content, kp, sign.BundleOptions{})
	if err != nil {
		return nil, fmt.Errorf("sigtest: signing: %w", err)
	}
	return marshalBundle(pb)
}

// keypair adapts a crypto.Signer to sigstore-go's sign.Keypair.
type keypair struct {
	signer crypto.Signer
	alg    signature.AlgorithmDetails
	hint   string
}

var _ sign.Keypair = (*keypair)(nil)

// newKeypair picks the registry's default algorithm for signer's key.
func newKeypair(signer crypto.Signer) (*keypair, error) {
	alg, err := signature.GetDefaultAlgorithmDetails(signer.Public())
	if err != nil {
		return nil, fmt.Errorf("sigtest: key algorithm: %w", err)
	}
	hint, err := KeyHint(signer.Public())
	if err != nil {
		return nil, err
	}
	return &keypair{signer: signer, alg: alg, hint: hint}, nil
}

// digestHash is the hash of the message digest recorded in a bundle: the
// signing hash, or SHA-256 for keys that sign the message itself (Ed25519).
func (k *keypair) digestHash() crypto.Hash {
	if h := k.alg.GetHashType(); h != crypto.Hash(0) {
		return h
	}
	return crypto.SHA256
}

// GetHashAlgorithm returns the algorithm of the recorded message digest.
func (k *keypair) GetHashAlgorithm() protocommon.HashAlgorithm {
	switch k.digestHash() {
	case crypto.SHA384:
		return protocommon.HashAlgorithm_SHA2_384
	case crypto.SHA512:
		return protocommon.HashAlgorithm_SHA2_512
	}
	return protocommon.HashAlgorithm_SHA2_256
}

// GetSigningAlgorithm returns the registry's signing algorithm for the key.
func (k *keypair) GetSigningAlgorithm() protocommon.PublicKeyDetails {
	return k.alg.GetSignatureAlgorithm()
}

// GetHint returns the key hint ([KeyHint]).
func (k *keypair) GetHint() []byte { return []byte(k.hint) }

// GetKeyAlgorithm returns the key family, as Fulcio names it.
func (k *keypair) GetKeyAlgorithm() string {
	switch k.alg.GetKeyType() {
	case signature.ECDSA:
		return "ECDSA"
	case signature.RSA:
		return "RSA"
	case signature.ED25519:
		return "ED25519"
	}
	return ""
}

// GetPublicKey returns the public key.
func (k *keypair) GetPublicKey() crypto.PublicKey { return k.signer.Public() }

// GetPublicKeyPem returns the public key as PEM.
func (k *keypair) GetPublicKeyPem() (string, error) {
	b, err := PublicKeyPEM(k.signer.Public())
	return string(b), err
}

// SignData signs data and returns the signature and the digest of data.
// Keys with a prehash algorithm sign the digest; Ed25519 signs data itself.
func (k *keypair) SignData(_ context.Context, data []byte) ([]byte, []byte, error) {
	h := k.digestHash().New()
	h.Write(data)
	digest := h.Sum(nil)
	hf := k.alg.GetHashType()
	toSign := digest
	if hf == crypto.Hash(0) {
		toSign = data
	}
	sig, err := k.signer.Sign(rand.Reader, toSign, hf)
	if err != nil {
		return nil, nil, err
	}
	return sig, digest, nil
}
