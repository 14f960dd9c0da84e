// Package cosignbundle reads the signature formats cosign wrote before the
// Sigstore bundle, so that the many existing signatures in those forms can be
// verified like any other bundle:
//
//   - the legacy bundle of cosign sign-blob --bundle (and attest-blob), a
//     JSON object with base64Signature, cert (a base64 PEM certificate or
//     public key, or empty) and rekorBundle (the Rekor v1 entry: its signed
//     entry timestamp, SET, and the payload the SET signs);
//   - the detached pair of cosign sign-blob --output-signature and
//     --output-certificate: a base64 signature and a PEM certificate (or the
//     base64 of one, as cosign writes it), with or without the rekorBundle of
//     a legacy bundle.
//
// Parse and Detached only read. Legacy.Bundle turns what was read into a
// sigstore-go bundle (v0.1: a message signature or DSSE envelope, the leaf
// certificate or a public key hint, and the Rekor entry with its SET as
// inclusion promise and its logged body), so that every check happens in
// sigstore-go's verifier, as for a bundle that was never legacy: the SET
// signature, that the logged body names this signature, certificate or key
// and digest, the certificate chain and the signer identity. Nothing is
// verified in this package.
//
// Typical use, with package verify:
//
//	if cosignbundle.IsLegacy(data) {
//		l, err := cosignbundle.Parse(data)
//		...
//		b, err := l.Bundle(nil) // the artifact digest, if the entry lacks one
//		...
//		res, err := v.Verify(ctx, b, verify.FileArtifact("app.tar.gz"))
//	}
package cosignbundle

import (
	"bytes"
	"crypto"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"strings"

	protobundle "github.com/sigstore/protobuf-specs/gen/pb-go/bundle/v1"
	protocommon "github.com/sigstore/protobuf-specs/gen/pb-go/common/v1"
	protodsse "github.com/sigstore/protobuf-specs/gen/pb-go/dsse"
	protorekor "github.com/sigstore/protobuf-specs/gen/pb-go/rekor/v1"
	"github.com/sigstore/sigstore-go/pkg/bundle"
)

// Format names cosign's legacy bundle in messages.
const Format = "cosign legacy bundle"

// ErrMalformed is wrapped by every error that says the input is not a
// usable cosign signature: bad JSON, bad base64, a certificate or log entry
// that does not parse.
var ErrMalformed = errors.New("malformed cosign signature")

// ErrNeedDigest is returned by Legacy.Bundle when no log entry records the
// digest that was signed and none was given.
var ErrNeedDigest = errors.New("the artifact digest is needed: no hashedrekord log entry records it")

// malformedError is an ErrMalformed that says only what is wrong.
type malformedError struct{ msg string }

func (e *malformedError) Error() string        { return e.msg }
func (e *malformedError) Is(target error) bool { return target == ErrMalformed }

func malformed(format string, args ...any) error {
	return &malformedError{fmt.Sprintf(format, args...)}
}

// Legacy is a cosign signature in one of its pre-bundle forms. Exactly one of
// Signature and Envelope is set; at most one of Certificate and PublicKey.
// The fields can be combined by the caller, for example a detached pair
// with the Entry of a legacy bundle, as cosign verify-blob does with
// --signature, --certificate and --bundle.
type Legacy struct {
	// Signature is the raw signature of a blob (cosign sign-blob).
	Signature []byte
	// Envelope is the DSSE envelope of an attestation (cosign attest-blob).
	Envelope *protodsse.Envelope
	// Certificate is the signing certificate, nil for a key-signed signature.
	Certificate *x509.Certificate
	// PublicKey is the public key that cosign wrote in the cert field of a
	// key-signed bundle. It is never trusted: verification takes the key
	// from its policy and sigstore-go compares it with the logged one.
	PublicKey crypto.PublicKey
	// Entry is the Rekor v1 entry of the rekorBundle, nil without one.
	Entry *protorekor.TransparencyLogEntry
}

// legacyJSON is the layout cosign writes (its LocalSignedPayload). Field
// names match case-insensitively, as they do for cosign, which reads the
// file with encoding/json too.
type legacyJSON struct {
	Base64Signature *string          `json:"base64Signature"`
	Cert            string           `json:"cert"`
	RekorBundle     *rekorBundleJSON `json:"rekorBundle"`
}

type rekorBundleJSON struct {
	SignedEntryTimestamp []byte           `json:"SignedEntryTimestamp"`
	Payload              rekorPayloadJSON `json:"Payload"`
}

type rekorPayloadJSON struct {
	Body           json.RawMessage `json:"body"`
	IntegratedTime int64           `json:"integratedTime"`
	LogIndex       int64           `json:"logIndex"`
	LogID          string          `json:"logID"`
}

// IsLegacy reports whether data looks like a cosign legacy bundle: a JSON
// object with a base64Signature member and no mediaType (which every
// Sigstore bundle has). It does not check the content; Parse does.
func IsLegacy(data []byte) bool {
	var top map[string]json.RawMessage
	if json.Unmarshal(data, &top) != nil {
		return false
	}
	legacy := false
	for k := range top {
		switch {
		case strings.EqualFold(k, "mediaType"):
			return false
		case strings.EqualFold(k, "base64Signature"):
			legacy = true
		}
	}
	return legacy
}

// Parse reads a cosign legacy bundle. Errors wrap ErrMalformed.
func Parse(data []byte) (*Legacy, error) {
	var lj legacyJSON
	if err := json.Unmarshal(data, &lj); err != nil {
		return nil, malformed("%s: %v", Format, err)
	}
	if lj.Base64Signature == nil {
		return nil, malformed("%s: no base64Signature", Format)
	}
	l := &Legacy{}
	if err := l.setSignature([]byte(*lj.Base64Signature), true); err != nil {
		return nil, fmt.Errorf("%s: base64Signature: %w", Format, err)
	}
	if strings.TrimSpace(lj.Cert) != "" {
		if err := l.setVerifier([]byte(lj.Cert)); err != nil {
			return nil, fmt.Errorf("%s: cert: %w", Format, err)
		}
	}
	if lj.RekorBundle != nil {
		e, err := lj.RekorBundle.entry()
		if err != nil {
			return nil, fmt.Errorf("%s: rekorBundle: %w", Format, err)
		}
		l.Entry = e
	}
	return l, nil
}

// Detached reads cosign's detached signature and certificate files: sig as
// cosign sign-blob --output-signature writes it (base64; raw signature bytes
// are accepted too, as cosign does), cert as --output-certificate writes it
// (PEM, or the base64 of PEM), or nil for a key-signed signature. The result
// has no log entry; take one from a legacy bundle's Entry if there is one.
// Errors wrap ErrMalformed.
func Detached(sig, cert []byte) (*Legacy, error) {
	l := &Legacy{}
	if err := l.setSignature(sig, false); err != nil {
		return nil, fmt.Errorf("signature: %w", err)
	}
	if len(bytes.TrimSpace(cert)) > 0 {
		if err := l.setVerifier(cert); err != nil {
			return nil, fmt.Errorf("certificate: %w", err)
		}
		if l.Certificate == nil {
			return nil, malformed("certificate: a public key, not a certificate: verify key-signed signatures with the key as policy")
		}
	}
	return l, nil
}

// setSignature decodes a base64 signature. strict (in JSON) requires
// base64; a detached file may hold the raw bytes. A decoded signature that is
// a JSON DSSE envelope (cosign attest-blob) becomes the Envelope.
func (l *Legacy) setSignature(data []byte, strict bool) error {
	text := bytes.TrimSpace(data)
	if len(text) == 0 {
		return malformed("empty signature")
	}
	raw, err := base64.StdEncoding.DecodeString(string(text))
	if err != nil {
		if strict {
			return malformed("not base64: %v", err)
		}
		raw = data // binary: white space bytes are part of it
	}
	if env, ok := envelope(raw); ok {
		l.Envelope = env
		return nil
	}
	if len(raw) == 0 {
		return malformed("empty signature")
	}
	l.Signature = raw
	return nil
}

// envelope parses raw as a DSSE envelope with one or more signatures.
func envelope(raw []byte) (*protodsse.Envelope, bool) {
	if len(raw) == 0 || raw[0] != '{' {
		return nil, false
	}
	var e struct {
		PayloadType string `json:"payloadType"`
		Payload     []byte `json:"payload"`
		Signatures  []struct {
			KeyID string `json:"keyid"`
			Sig   []byte `json:"sig"`
		} `json:"signatures"`
	}
	if json.Unmarshal(raw, &e) != nil || e.PayloadType == "" || len(e.Signatures) == 0 {
		return nil, false
	}
	env := &protodsse.Envelope{PayloadType: e.PayloadType, Payload: e.Payload}
	for _, s := range e.Signatures {
		env.Signatures = append(env.Signatures, &protodsse.Signature{Keyid: s.KeyID, Sig: s.Sig})
	}
	return env, true
}

// setVerifier reads a PEM certificate or public key, or the base64 of one
// (cosign writes base64 and reads both).
func (l *Legacy) setVerifier(data []byte) error {
	data = bytes.TrimSpace(data)
	if !bytes.HasPrefix(data, []byte("-----BEGIN")) {
		dec, err := base64.StdEncoding.DecodeString(string(data))
		if err != nil {
			return malformed("neither PEM nor base64 of PEM: %v", err)
		}
		data = dec
	}
	block, _ := pem.Decode(data)
	if block == nil {
		return malformed("no PEM block")
	}
	switch block.Type {
	case "CERTIFICATE":
		c, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return malformed("certificate: %v", err)
		}
		l.Certificate = c
	case "PUBLIC KEY":
		k, err := x509.ParsePKIXPublicKey(block.Bytes)
		if err != nil {
			return malformed("public key: %v", err)
		}
		l.PublicKey = k
	default:
		return malformed("PEM block %q is neither a CERTIFICATE nor a PUBLIC KEY", block.Type)
	}
	return nil
}

// entry turns the rekorBundle into a transparency log entry: the logged body
// as canonicalized body, its kind and version read from it, and the SET as
// inclusion promise. Its consistency is sigstore-go's to check.
func (rb *rekorBundleJSON) entry() (*protorekor.TransparencyLogEntry, error) {
	p := rb.Payload
	if len(rb.SignedEntryTimestamp) == 0 {
		return nil, malformed("no SignedEntryTimestamp")
	}
	var b64 string
	if err := json.Unmarshal(p.Body, &b64); err != nil || b64 == "" {
		return nil, malformed("Payload.body is not a base64 string")
	}
	body, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		return nil, malformed("Payload.body is not base64: %v", err)
	}
	var kv struct {
		Kind       string `json:"kind"`
		APIVersion string `json:"apiVersion"`
	}
	if err := json.Unmarshal(body, &kv); err != nil {
		return nil, malformed("Payload.body is not a Rekor entry: %v", err)
	}
	if kv.Kind == "" || kv.APIVersion == "" {
		return nil, malformed("Payload.body has no kind or apiVersion")
	}
	logID, err := hex.DecodeString(p.LogID)
	if err != nil || len(logID) == 0 {
		return nil, malformed("Payload.logID %q is not a hex log ID", p.LogID)
	}
	if p.LogIndex < 0 {
		return nil, malformed("Payload.logIndex %d is negative", p.LogIndex)
	}
	if p.IntegratedTime <= 0 {
		return nil, malformed("Payload.integratedTime %d is not a time", p.IntegratedTime)
	}
	return &protorekor.TransparencyLogEntry{
		LogIndex:          p.LogIndex,
		LogId:             &protocommon.LogId{KeyId: logID},
		KindVersion:       &protorekor.KindVersion{Kind: kv.Kind, Version: kv.APIVersion},
		IntegratedTime:    p.IntegratedTime,
		InclusionPromise:  &protorekor.InclusionPromise{SignedEntryTimestamp: rb.SignedEntryTimestamp},
		CanonicalizedBody: body,
	}, nil
}

// Digest is an artifact digest: algorithm "sha256", "sha384" or "sha512",
// and the raw hash.
type Digest struct {
	Algorithm string
	Value     []byte
}

var hashAlgorithms = map[string]protocommon.HashAlgorithm{
	"sha256": protocommon.HashAlgorithm_SHA2_256,
	"sha384": protocommon.HashAlgorithm_SHA2_384,
	"sha512": protocommon.HashAlgorithm_SHA2_512,
}

// LoggedDigest returns the artifact digest that the log entry records, if
// it is a hashedrekord entry. It only reads the body: sigstore-go's verifier
// parses the entry itself and refuses a bundle whose digest differs from it.
func (l *Legacy) LoggedDigest() (*Digest, bool) {
	if l.Entry == nil {
		return nil, false
	}
	var body struct {
		Kind string `json:"kind"`
		Spec struct {
			Data struct {
				Hash struct {
					Algorithm string `json:"algorithm"`
					Value     string `json:"value"`
				} `json:"hash"`
			} `json:"data"`
		} `json:"spec"`
	}
	if json.Unmarshal(l.Entry.GetCanonicalizedBody(), &body) != nil || body.Kind != "hashedrekord" {
		return nil, false
	}
	h := body.Spec.Data.Hash
	if _, known := hashAlgorithms[h.Algorithm]; !known {
		return nil, false
	}
	d, err := hex.DecodeString(h.Value)
	if err != nil || len(d) == 0 {
		return nil, false
	}
	return &Digest{Algorithm: h.Algorithm, Value: d}, true
}

// NeedsDigest reports whether Bundle needs the artifact digest: l is a
// message signature and no hashedrekord entry records what was signed.
func (l *Legacy) NeedsDigest() bool {
	if l.Envelope != nil {
		return false
	}
	_, ok := l.LoggedDigest()
	return !ok
}

// Bundle returns l as a sigstore-go bundle (v0.1). A message signature
// needs the digest of what was signed: the one its hashedrekord entry
// records, or else artifact, which the caller computes (with the hash the
// signer used, sha256 for cosign). Without either it returns ErrNeedDigest.
// When the entry records a digest, artifact is not used: the verifier then
// compares the artifact against the logged digest.
//
// The bundle is validated by sigstore-go; an invalid one (such as an entry
// of a kind sigstore-go does not know) is an error wrapping ErrMalformed.
func (l *Legacy) Bundle(artifact *Digest) (*bundle.Bundle, error) {
	mediaType, err := bundle.MediaTypeString("0.1")
	if err != nil {
		return nil, err
	}
	vm := &protobundle.VerificationMaterial{}
	switch {
	case l.Certificate != nil:
		vm.Content = &protobundle.VerificationMaterial_X509CertificateChain{
			X509CertificateChain: &protocommon.X509CertificateChain{
				Certificates: []*protocommon.X509Certificate{{RawBytes: l.Certificate.Raw}},
			},
		}
	default:
		vm.Content = &protobundle.VerificationMaterial_PublicKey{PublicKey: &protocommon.PublicKeyIdentifier{Hint: keyHint(l.PublicKey)}}
	}
	if l.Entry != nil {
		vm.TlogEntries = []*protorekor.TransparencyLogEntry{l.Entry}
	}
	pb := &protobundle.Bundle{MediaType: mediaType, VerificationMaterial: vm}
	switch {
	case l.Envelope != nil:
		pb.Content = &protobundle.Bundle_DsseEnvelope{DsseEnvelope: l.Envelope}
	case len(l.Signature) > 0:
		d, ok := l.LoggedDigest()
		if !ok {
			d = artifact
		}
		if d == nil {
			return nil, ErrNeedDigest
		}
		alg, known := hashAlgorithms[d.Algorithm]
		if !known {
			return nil, fmt.Errorf("unsupported digest algorithm %q: want sha256, sha384 or sha512", d.Algorithm)
		}
		pb.Content = &protobundle.Bundle_MessageSignature{MessageSignature: &protocommon.MessageSignature{
			MessageDigest: &protocommon.HashOutput{Algorithm: alg, Digest: d.Value},
			Signature:     l.Signature,
		}}
	default:
		return nil, malformed("no signature")
	}
	b, err := bundle.NewBundle(pb)
	if err != nil {
		return nil, malformed("the converted bundle is invalid: %v", err)
	}
	return b, nil
}

// keyHint names a public key in the bundle: the hex SHA-256 of its PKIX
// encoding, or nothing. Verification never looks a key up by it: the
// policy's key is the one trusted.
func keyHint(pub crypto.PublicKey) string {
	if pub == nil {
		return ""
	}
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return ""
	}
	sum := sha256.Sum256(der)
	return hex.EncodeToString(sum[:])
}
