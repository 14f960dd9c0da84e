package sigtest

import (
	"context"
	"crypto"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"time"

	protobundle "github.com/sigstore/protobuf-specs/gen/pb-go/bundle/v1"
	protocommon "github.com/sigstore/protobuf-specs/gen/pb-go/common/v1"
	protorekor "github.com/sigstore/protobuf-specs/gen/pb-go/rekor/v1"
	"github.com/sigstore/rekor/pkg/generated/models"
	hashedrekordv001 "github.com/sigstore/rekor/pkg/types/hashedrekord/v0.0.1"
	"github.com/sigstore/sigstore-go/pkg/bundle"
)

// cosignLegacy is the layout of cosign's legacy --bundle file, written here
// from cosign's documented output (cosign sign-blob --bundle without
// --new-bundle-format).
type cosignLegacy struct {
	Base64Signature string             `json:"base64Signature"`
	Cert            string             `json:"cert,omitempty"`
	RekorBundle     *cosignRekorBundle `json:"rekorBundle,omitempty"`
}

type cosignRekorBundle struct {
	SignedEntryTimestamp []byte             `json:"SignedEntryTimestamp"`
	Payload              cosignRekorPayload `json:"Payload"`
}

type cosignRekorPayload struct {
	Body           string `json:"body"`
	IntegratedTime int64  `json:"integratedTime"`
	LogIndex       int64  `json:"logIndex"`
	LogID          string `json:"logID"`
}

// cosignParts are the pieces of a bundle that cosign's older formats keep.
type cosignParts struct {
	sig     []byte // raw signature, or the JSON DSSE envelope
	certPEM []byte // nil when key-signed
	rekor   *cosignRekorBundle
}

// cosignPartsOf reads a bundle made by this package.
func cosignPartsOf(bundleJSON []byte) (*cosignParts, error) {
	var b bundle.Bundle
	if err := b.UnmarshalJSON(bundleJSON); err != nil {
		return nil, fmt.Errorf("sigtest: %w", err)
	}
	p := &cosignParts{}
	switch {
	case b.GetMessageSignature() != nil:
		p.sig = b.GetMessageSignature().GetSignature()
	case b.GetDsseEnvelope() != nil:
		env := b.GetDsseEnvelope()
		type sig struct {
			KeyID string `json:"keyid"`
			Sig   []byte `json:"sig"`
		}
		out := struct {
			PayloadType string `json:"payloadType"`
			Payload     []byte `json:"payload"`
			Signatures  []sig  `json:"signatures"`
		}{PayloadType: env.GetPayloadType(), Payload: env.GetPayload()}
		for _, s := range env.GetSignatures() {
			out.Signatures = append(out.Signatures, sig{KeyID: s.GetKeyid(), Sig: s.GetSig()})
		}
		var err error
		if p.sig, err = json.Marshal(out); err != nil {
			return nil, fmt.Errorf("sigtest: %w", err)
		}
	default:
		return nil, errors.New("sigtest: bundle has no signature")
	}
	vm := b.GetVerificationMaterial()
	var der []byte
	if c := vm.GetCertificate(); c != nil {
		der = c.GetRawBytes()
	} else if chain := vm.GetX509CertificateChain().GetCertificates(); len(chain) > 0 {
		der = chain[0].GetRawBytes()
	}
	if der != nil {
		p.certPEM = pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	}
	if entries := vm.GetTlogEntries(); len(entries) > 0 {
		e := entries[0]
		if e.GetInclusionPromise() == nil {
			return nil, errors.New("sigtest: the log entry has no SET (Rekor v2?): cosign's legacy bundle needs one")
		}
		p.rekor = &cosignRekorBundle{
			SignedEntryTimestamp: e.GetInclusionPromise().GetSignedEntryTimestamp(),
			Payload: cosignRekorPayload{
				Body:           base64.StdEncoding.EncodeToString(e.GetCanonicalizedBody()),
				IntegratedTime: e.GetIntegratedTime(),
				LogIndex:       e.GetLogIndex(),
				LogID:          hex.EncodeToString(e.GetLogId().GetKeyId()),
			},
		}
	}
	return p, nil
}

func (p *cosignParts) legacyJSON() ([]byte, error) {
	l := cosignLegacy{Base64Signature: base64.StdEncoding.EncodeToString(p.sig), RekorBundle: p.rekor}
	if p.certPEM != nil {
		l.Cert = base64.StdEncoding.EncodeToString(p.certPEM)
	}
	return json.Marshal(l)
}

// CosignLegacyBundle rewrites bundleJSON, a bundle from this package, as
// the legacy bundle cosign sign-blob (or attest-blob) --bundle writes:
// base64Signature (the signature, or the JSON DSSE envelope), cert (the
// base64 of the PEM leaf certificate; absent when key-signed) and
// rekorBundle (the first log entry's SET and the payload it signs; absent
// without a log entry). Timestamps and inclusion proofs are dropped: the
// legacy bundle has no room for them. Rekor v2 entries have no SET and are
// refused.
func CosignLegacyBundle(bundleJSON []byte) ([]byte, error) {
	p, err := cosignPartsOf(bundleJSON)
	if err != nil {
		return nil, err
	}
	return p.legacyJSON()
}

// CosignDetached returns, for bundleJSON, the files cosign sign-blob
// --output-signature and --output-certificate write: the base64 signature
// and the base64 of the PEM certificate (nil when key-signed).
func CosignDetached(bundleJSON []byte) (sig, cert []byte, err error) {
	p, err := cosignPartsOf(bundleJSON)
	if err != nil {
		return nil, nil, err
	}
	sig = []byte(base64.StdEncoding.EncodeToString(p.sig))
	if p.certPEM != nil {
		cert = []byte(base64.StdEncoding.EncodeToString(p.certPEM))
	}
	return sig, cert, nil
}

// cosignTampered is CosignLegacyBundle with one byte of the signature
// flipped after signing.
func cosignTampered(bundleJSON []byte) ([]byte, error) {
	p, err := cosignPartsOf(bundleJSON)
	if err != nil {
		return nil, err
	}
	p.sig[len(p.sig)/2] ^= 0x01
	return p.legacyJSON()
}

// SignBlobWithKeyLogged signs artifact with signer like [SignBlobWithKey],
// and logs the signature in the instance's Rekor log as a hashedrekord
// entry naming the PEM public key, with an inclusion promise and proof: what
// cosign sign-blob --key does with its default log upload. It returns a
// v0.3 bundle (JSON) with a public key hint. ECDSA P-256 keys only (their
// digest is SHA-256, which the entry records).
func (i *Instance) SignBlobWithKeyLogged(signer crypto.Signer, artifact []byte) ([]byte, error) {
	kp, err := newKeypair(signer)
	if err != nil {
		return nil, err
	}
	if kp.GetHashAlgorithm() != protocommon.HashAlgorithm_SHA2_256 || kp.alg.GetHashType() == crypto.Hash(0) {
		return nil, fmt.Errorf("%w: SignBlobWithKeyLogged needs a key that signs a SHA-256 digest", errUnsupported)
	}
	sig, digest, err := kp.SignData(context.Background(), artifact)
	if err != nil {
		return nil, fmt.Errorf("sigtest: signing: %w", err)
	}
	pubPEM, err := PublicKeyPEM(signer.Public())
	if err != nil {
		return nil, err
	}
	alg := models.HashedrekordV001SchemaDataHashAlgorithmSha256
	value := hex.EncodeToString(digest)
	e := &hashedrekordv001.V001Entry{HashedRekordObj: models.HashedrekordV001Schema{
		Data: &models.HashedrekordV001SchemaData{
			Hash: &models.HashedrekordV001SchemaDataHash{Algorithm: &alg, Value: &value},
		},
		Signature: &models.HashedrekordV001SchemaSignature{
			Content:   sig,
			PublicKey: &models.HashedrekordV001SchemaSignaturePublicKey{Content: pubPEM},
		},
	}}
	body, err := e.Canonicalize(context.Background())
	if err != nil {
		return nil, fmt.Errorf("sigtest: hashedrekord entry: %w", err)
	}
	entry, err := i.rekorV1Entry(body, time.Now())
	if err != nil {
		return nil, err
	}
	mediaType, err := bundle.MediaTypeString(BundleV03)
	if err != nil {
		return nil, fmt.Errorf("sigtest: %w", err)
	}
	return marshalBundle(&protobundle.Bundle{
		MediaType: mediaType,
		VerificationMaterial: &protobundle.VerificationMaterial{
			Content:     &protobundle.VerificationMaterial_PublicKey{PublicKey: &protocommon.PublicKeyIdentifier{Hint: kp.hint}},
			TlogEntries: []*protorekor.TransparencyLogEntry{entry},
		},
		Content: &protobundle.Bundle_MessageSignature{MessageSignature: &protocommon.MessageSignature{
			MessageDigest: &protocommon.HashOutput{Algorithm: protocommon.HashAlgorithm_SHA2_256, Digest: digest},
			Signature:     sig,
		}},
	})
}
