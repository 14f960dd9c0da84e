package pypi

import (
	"context"
	"crypto"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strings"

	protobundle "github.com/sigstore/protobuf-specs/gen/pb-go/bundle/v1"
	protocommon "github.com/sigstore/protobuf-specs/gen/pb-go/common/v1"
	protodsse "github.com/sigstore/protobuf-specs/gen/pb-go/dsse"
	protorekor "github.com/sigstore/protobuf-specs/gen/pb-go/rekor/v1"
	"github.com/sigstore/sigstore-go/pkg/bundle"
	"github.com/sigstore/sigstore-go/pkg/root"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/hallmark-dev/hallmark/pkg/verify"
)

// bundleMediaType is the Sigstore bundle version an attestation becomes:
// v0.3 (a bare certificate, as PEP 740 has).
const bundleMediaType = "application/vnd.dev.sigstore.bundle.v0.3+json"

// Bundle turns the attestation into the Sigstore bundle it stands for: a
// v0.3 bundle with the certificate, every transparency log entry (Rekor's
// TransparencyLogEntry in protobuf JSON), the RFC 3161 timestamps if any,
// and the DSSE envelope rebuilt with the in-toto payload type. An
// attestation that does not convert is rejected (verify.CauseMalformed).
func (a *Attestation) Bundle() (*bundle.Bundle, error) {
	bad := func(err error, format string, args ...any) (*bundle.Bundle, error) {
		return nil, &verify.RejectedError{Cause: verify.CauseMalformed, Reason: "malformed PEP 740 attestation: " + fmt.Sprintf(format, args...), Err: err}
	}
	vm := &protobundle.VerificationMaterial{
		Content: &protobundle.VerificationMaterial_Certificate{Certificate: &protocommon.X509Certificate{RawBytes: a.VerificationMaterial.Certificate}},
	}
	for i, raw := range a.VerificationMaterial.TransparencyEntries {
		var e protorekor.TransparencyLogEntry
		if err := (protojson.UnmarshalOptions{DiscardUnknown: true}).Unmarshal(raw, &e); err != nil {
			return bad(err, "transparency entry %d is not a Rekor TransparencyLogEntry: %s", i+1, strings.TrimPrefix(err.Error(), "proto: "))
		}
		vm.TlogEntries = append(vm.TlogEntries, &e)
	}
	if len(a.VerificationMaterial.Timestamps) > 0 {
		tvd := &protobundle.TimestampVerificationData{}
		for _, ts := range a.VerificationMaterial.Timestamps {
			tvd.Rfc3161Timestamps = append(tvd.Rfc3161Timestamps, &protocommon.RFC3161SignedTimestamp{SignedTimestamp: ts})
		}
		vm.TimestampVerificationData = tvd
	}
	pb := &protobundle.Bundle{
		MediaType:            bundleMediaType,
		VerificationMaterial: vm,
		Content: &protobundle.Bundle_DsseEnvelope{DsseEnvelope: &protodsse.Envelope{
			Payload:     a.Envelope.Statement,
			PayloadType: verify.InTotoPayloadType,
			Signatures:  []*protodsse.Signature{{Sig: a.Envelope.Signature}},
		}},
	}
	b, err := bundle.NewBundle(pb)
	if err != nil {
		return bad(err, "%v", err)
	}
	return b, nil
}

// FromBundle is the attestation object of a Sigstore bundle holding a DSSE
// in-toto statement signed with a certificate (what PyPI makes of the
// bundle an uploader sends): the inverse of Attestation.Bundle.
func FromBundle(b *bundle.Bundle) (*Attestation, error) {
	vc, err := b.VerificationContent()
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	cert := vc.Certificate()
	env := b.GetDsseEnvelope()
	if cert == nil || env == nil || len(env.GetSignatures()) != 1 || env.GetPayloadType() != verify.InTotoPayloadType {
		return nil, malformed("a PEP 740 attestation is a certificate-signed DSSE in-toto statement with one signature")
	}
	a := &Attestation{Version: 1, Envelope: Envelope{Statement: env.GetPayload(), Signature: env.GetSignatures()[0].GetSig()}}
	a.VerificationMaterial.Certificate = cert.Raw
	for _, e := range b.GetVerificationMaterial().GetTlogEntries() {
		raw, err := protojson.Marshal(e)
		if err != nil {
			return nil, fmt.Errorf("%w: %v", ErrMalformed, err)
		}
		a.VerificationMaterial.TransparencyEntries = append(a.VerificationMaterial.TransparencyEntries, raw)
	}
	for _, ts := range b.GetVerificationMaterial().GetTimestampVerificationData().GetRfc3161Timestamps() {
		a.VerificationMaterial.Timestamps = append(a.VerificationMaterial.Timestamps, ts.GetSignedTimestamp())
	}
	return a, a.check()
}

// Dist is a distribution to verify: its file name and SHA-256.
type Dist struct {
	Filename Filename `json:"filename"`
	// SHA256 is the lower-case hex digest of the file.
	SHA256 string `json:"sha256"`
}

// NewDist is the distribution called fileName (a base name) with the hex
// SHA-256 digest.
func NewDist(fileName, sha256Hex string) (Dist, error) {
	f, err := ParseFilename(fileName)
	if err != nil {
		return Dist{}, err
	}
	raw, err := hex.DecodeString(sha256Hex)
	if err != nil || len(raw) != sha256.Size {
		return Dist{}, fmt.Errorf("%w %q: want 64 hex characters", verify.ErrBadDigest, sha256Hex)
	}
	return Dist{Filename: f, SHA256: strings.ToLower(sha256Hex)}, nil
}

// ReadDist hashes r, the content of the distribution called fileName.
func ReadDist(ctx context.Context, fileName string, r io.Reader) (Dist, error) {
	f, err := ParseFilename(fileName)
	if err != nil {
		return Dist{}, err
	}
	sum, err := verify.HashReader(ctx, r, crypto.SHA256)
	if err != nil {
		return Dist{}, fmt.Errorf("reading %s: %w", fileName, err)
	}
	return Dist{Filename: f, SHA256: hex.EncodeToString(sum)}, nil
}

// Policy is what Verify needs besides the document and the distribution.
type Policy struct {
	// Publisher is who must have signed: required.
	Publisher Publisher
	// Base carries the thresholds and the Insecure escapes of
	// verify.Policy; its Identity, Key and statement rules are set by
	// Verify.
	Base verify.Policy
}

// Result is a verified distribution: one verify.Result per attestation,
// all verified.
type Result struct {
	Dist      Dist             `json:"dist"`
	Publisher Publisher        `json:"publisher"`
	Results   []*verify.Result `json:"attestations"`
}

// Verify verifies every attestation of doc for dist under the policy,
// against the trust roots (verify.NewWithRoots): each must verify, name
// the distribution in its only subject, carry its sha256, have a predicate
// type PyPI accepts and be signed by the publisher; the publisher a
// provenance object names, unsigned, must be shown by the certificate as
// well. A document without attestations is rejected.
//
// It returns the Result and nil, or the results known so far and the
// first failure: a *verify.RejectedError when refused (its Err a
// *PublisherMismatchError for a signer that is not the publisher, a
// *SubjectError for a statement that does not name the distribution),
// any other error when verification could not be completed.
func Verify(ctx context.Context, v *Verifier, doc *Document, dist Dist) (*Result, error) {
	res := &Result{Dist: dist, Publisher: v.publisher}
	if doc.Count() == 0 {
		return res, &verify.RejectedError{Cause: verify.CauseMalformed, Reason: "the provenance object holds no attestation"}
	}
	art, err := verify.ParseDigest("sha256:" + dist.SHA256)
	if err != nil {
		return res, err
	}
	art.Name = dist.Filename.Raw
	n := 0
	for _, ab := range doc.Bundles {
		for i := range ab.Attestations {
			n++
			r, err := v.verifyOne(ctx, &ab.Attestations[i], ab.Publisher, art, dist)
			if r != nil {
				r.Bundle = fmt.Sprintf("attestation %d", n)
				res.Results = append(res.Results, r)
			}
			if err != nil {
				return res, err
			}
		}
	}
	return res, nil
}

// Verifier verifies PEP 740 attestations for one publisher; built once,
// safe for concurrent use.
type Verifier struct {
	publisher Publisher
	v         *verify.Verifier
}

// NewVerifier builds the verifier of p over the trust roots (usually the
// public-good root alone: PyPI's attestations are made there).
func NewVerifier(roots []root.TrustedMaterial, p Policy) (*Verifier, error) {
	id, err := p.Publisher.Identity()
	if err != nil {
		return nil, fmt.Errorf("%w: %v", verify.ErrPolicy, err)
	}
	pol := p.Base
	pol.Identity, pol.Key = id, nil
	pol.PredicateType, pol.AttestationPredicateType, pol.Statement = "", "", nil
	v, err := verify.NewWithRoots(roots, pol)
	if err != nil {
		return nil, err
	}
	return &Verifier{publisher: p.Publisher, v: v}, nil
}

// ErrSubject is wrapped by every *SubjectError.
var ErrSubject = errors.New("the statement does not name the distribution")

// SubjectError is a verified statement whose subjects are not the one
// distribution: too many or too few, another file name, another digest.
type SubjectError struct {
	Reason string
}

func (e *SubjectError) Error() string { return e.Reason }

// Unwrap lets errors.Is(err, ErrSubject) hold.
func (e *SubjectError) Unwrap() error { return ErrSubject }

func (v *Verifier) verifyOne(ctx context.Context, a *Attestation, claimed *Publisher, art verify.Artifact, dist Dist) (*verify.Result, error) {
	b, err := a.Bundle()
	if err != nil {
		return &verify.Result{Artifact: art.Name, Error: verify.FailureOf(err)}, err
	}
	r, err := v.v.Verify(ctx, b, art)
	if err != nil {
		return r, err
	}
	fail := func(err error) (*verify.Result, error) {
		r.Verified, r.Error = false, verify.FailureOf(err)
		return r, err
	}
	if err := checkStatement(r.Statement, dist); err != nil {
		return fail(err)
	}
	if err := v.publisher.Match(r.Signer); err != nil {
		var pm *PublisherMismatchError
		errors.As(err, &pm)
		return fail(&verify.RejectedError{Cause: verify.CauseIdentity, Reason: "the signer is not the publisher " + v.publisher.String(),
			Comparisons: pm.Comparisons, Err: err})
	}
	if claimed != nil && claimed.Kind != "" {
		claim := *claimed
		if claim.Kind == v.publisher.Kind && claim.Issuer == "" {
			// The claim names no issuer (its kind implies one): the
			// policy's, which may be a tenant's, is the one checked.
			claim.Issuer = v.publisher.Issuer
		}
		if err := claim.Match(r.Signer); err != nil {
			var pm *PublisherMismatchError
			errors.As(err, &pm)
			pm.Claimed = true
			return fail(&verify.RejectedError{Cause: verify.CauseIdentity,
				Reason:      "the certificate does not show the publisher the provenance object names (" + claimed.String() + ", unsigned)",
				Comparisons: pm.Comparisons, Err: err})
		}
	}
	return r, nil
}

// inTotoStatementV1 is the only statement type PEP 740 attestations carry
// (sigstore-python's model of the statement accepts no other).
const inTotoStatementV1 = "https://in-toto.io/Statement/v1"

// checkStatement applies PyPI's statement rules: one subject, named as the
// distribution (parsed and normalised), with its sha256; a predicate type
// PyPI accepts.
func checkStatement(st *verify.Statement, dist Dist) error {
	if st == nil {
		return &verify.RejectedError{Cause: verify.CauseNotAttestation, Reason: "the attestation holds no in-toto statement"}
	}
	if st.Type != inTotoStatementV1 {
		return &verify.RejectedError{Cause: verify.CauseStatement, Reason: "the attestation's statement is not an in-toto v1 statement",
			Comparisons: []verify.Comparison{{Field: "statement type", Expected: fmt.Sprintf("%q", inTotoStatementV1), Actual: st.Type}}}
	}
	subj := func(reason string, cs ...verify.Comparison) error {
		return &verify.RejectedError{Cause: verify.CauseStatement, Reason: ErrSubject.Error(),
			Comparisons: cs, Err: &SubjectError{Reason: reason}}
	}
	if len(st.Subjects) != 1 {
		return subj(fmt.Sprintf("it has %d subjects, and a PyPI attestation has exactly one", len(st.Subjects)))
	}
	s := st.Subjects[0]
	if s.Name == "" {
		return subj("its subject has no name")
	}
	name, err := ParseFilename(s.Name)
	if err != nil {
		return subj(fmt.Sprintf("its subject: %v", err))
	}
	if !name.Equal(dist.Filename) {
		return subj("the subject is another distribution", verify.Comparison{Field: "subject name", Expected: fmt.Sprintf("%q (or the same name normalised)", dist.Filename.Raw), Actual: s.Name})
	}
	if got := strings.ToLower(s.Digest["sha256"]); got != dist.SHA256 {
		return &verify.RejectedError{Cause: verify.CauseArtifact, Reason: "the distribution is not the one attested",
			Comparisons: []verify.Comparison{{Field: "subject sha256", Expected: fmt.Sprintf("%q", dist.SHA256), Actual: got}},
			Err:         &SubjectError{Reason: "another sha256"}}
	}
	switch st.PredicateType {
	case PublishPredicateType, SLSAProvenancePredicateType:
		return nil
	}
	return &verify.RejectedError{Cause: verify.CausePredicateType, Reason: "the attestation's predicate type is not one PyPI accepts",
		Comparisons: []verify.Comparison{{Field: "predicate type", Expected: fmt.Sprintf("%q or %q", PublishPredicateType, SLSAProvenancePredicateType), Actual: st.PredicateType}}}
}

// Signer is the signer a document's first attestation shows, unverified:
// for the hint of a verify without a publisher.
func (d *Document) Signer() *verify.Signer {
	for _, ab := range d.Bundles {
		for i := range ab.Attestations {
			if b, err := ab.Attestations[i].Bundle(); err == nil {
				return verify.BundleSigner(b)
			}
		}
	}
	return nil
}
