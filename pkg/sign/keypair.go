package sign

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
	"encoding/base64"
	"fmt"

	protocommon "github.com/sigstore/protobuf-specs/gen/pb-go/common/v1"
	sgsign "github.com/sigstore/sigstore-go/pkg/sign"
	"github.com/sigstore/sigstore/pkg/cryptoutils"
	"github.com/sigstore/sigstore/pkg/signature"
)

// keypair is a sigstore-go sign.Keypair over a crypto.Signer: a user's key
// or the ephemeral key of a keyless run (which lives only in memory).
type keypair struct {
	priv crypto.Signer
	alg  signature.AlgorithmDetails
	hint []byte
}

var _ sgsign.Keypair = (*keypair)(nil)

func newKeypair(priv crypto.Signer) (*keypair, error) {
	details, err := signature.GetDefaultPublicKeyDetails(priv.Public())
	if err != nil {
		return nil, fmt.Errorf("unsupported key: %w", err)
	}
	alg, err := signature.GetAlgorithmDetails(details)
	if err != nil {
		return nil, fmt.Errorf("unsupported key: %w", err)
	}
	der, err := x509.MarshalPKIXPublicKey(priv.Public())
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(der)
	return &keypair{priv: priv, alg: alg, hint: []byte(base64.StdEncoding.EncodeToString(sum[:]))}, nil
}

// newEphemeralKeypair makes the ECDSA P-256 key of one keyless run.
func newEphemeralKeypair() (*keypair, error) {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	return newKeypair(k)
}

// pure reports whether the key signs whole messages (Ed25519) rather than
// digests.
func (k *keypair) pure() bool { return k.alg.GetHashType() == crypto.Hash(0) }

// messageHash is the hash of message signatures: the key's hash, or
// SHA-256 recorded next to a pure Ed25519 signature.
func (k *keypair) messageHash() (crypto.Hash, protocommon.HashAlgorithm) {
	if k.pure() {
		return crypto.SHA256, protocommon.HashAlgorithm_SHA2_256
	}
	return k.alg.GetHashType(), k.alg.GetProtoHashType()
}

func (k *keypair) GetHashAlgorithm() protocommon.HashAlgorithm {
	_, p := k.messageHash()
	return p
}
func (k *keypair) GetSigningAlgorithm() protocommon.PublicKeyDetails {
	return k.alg.GetSignatureAlgorithm()
}
func (k *keypair) GetHint() []byte                { return k.hint }
func (k *keypair) GetPublicKey() crypto.PublicKey { return k.priv.Public() }
func (k *keypair) GetKeyAlgorithm() string {
	switch k.priv.Public().(type) {
	case *ecdsa.PublicKey:
		return "ECDSA"
	case *rsa.PublicKey:
		return "RSA"
	case ed25519.PublicKey:
		return "ED25519"
	}
	return ""
}
func (k *keypair) GetPublicKeyPem() (string, error) {
	b, err := cryptoutils.MarshalPublicKeyToPEM(k.priv.Public())
	return string(b), err
}

// SignData hashes data with the key's hash and signs the digest (or signs
// data itself with pure Ed25519), as sigstore-go's ephemeral keypair does.
func (k *keypair) SignData(_ context.Context, data []byte) ([]byte, []byte, error) {
	hf := k.alg.GetHashType()
	toSign := data
	if hf != crypto.Hash(0) {
		h := hf.New()
		h.Write(data)
		toSign = h.Sum(nil)
	}
	sig, err := k.priv.Sign(rand.Reader, toSign, hf)
	return sig, toSign, err
}

// prehashed is the keypair of one message signature whose artifact was
// hashed as a stream: sigstore-go hands it the content (the digest, or for
// pure Ed25519 the mapped file) and it signs that without hashing again,
// returning the digest for the bundle.
type prehashed struct {
	*keypair
	digest []byte
}

func (p prehashed) SignData(_ context.Context, data []byte) ([]byte, []byte, error) {
	hf := p.alg.GetHashType()
	sig, err := p.priv.Sign(rand.Reader, data, hf)
	return sig, p.digest, err
}
