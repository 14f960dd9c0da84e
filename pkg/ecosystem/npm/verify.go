package npm

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/sigstore/sigstore-go/pkg/bundle"
	"github.com/sigstore/sigstore-go/pkg/root"

	"github.com/hallmark-dev/hallmark/pkg/verify"
)

// The causes of rejections this package adds to pkg/verify's.
const (
	// CauseSubject: a statement names another package, or not the
	// tarball's sha512, in some subject.
	CauseSubject verify.Cause = "npm-subject"
	// CauseRegistryKey: the publish attestation names no registry key of
	// usage npm:attestations, or the key was not valid when it was logged.
	CauseRegistryKey verify.Cause = "npm-registry-key"
	// CausePredicate: a statement's predicate type is not the one its
	// document entry declares, or the publish predicate names another
	// package.
	CausePredicate verify.Cause = "npm-predicate"
	// CauseNoProvenance: the package has no provenance, and the policy
	// requires one.
	CauseNoProvenance verify.Cause = "npm-no-provenance"
	// CauseRegistrySignature: the packument's registry signature does not
	// verify with the registry's npm:signatures key.
	CauseRegistrySignature verify.Cause = "npm-registry-signature"
)

// Policy says what a package's attestations must prove.
type Policy struct {
	// Identity is the signer the provenance must have, e.g.
	// pkg/ecosystem/github's RepoIdentity("OWNER/NAME"). With it, a package without
	// provenance is refused.
	Identity *verify.Identity
	// AnySigner accepts the provenance of any Fulcio identity: for a caller
	// that pins the signer itself from Result.Provenance.Signer (a lock
	// file, trust on first use) or only reports it. Identity must be nil.
	AnySigner bool
	// RequireProvenance refuses packages without provenance (implied by
	// Identity).
	RequireProvenance bool
}

// Verifier verifies packages against one set of trust roots, registry keys
// and a Policy. It is built once and is safe for concurrent use.
type Verifier struct {
	policy     Policy
	keys       Keys
	provenance *verify.Verifier
	publish    map[string]*verify.Verifier // by key id, npm:attestations keys
}

// anySigner is the identity of Policy.AnySigner: any SAN, any issuer.
var anySigner = verify.Identity{SANRegexp: ".+", IssuerRegexp: ".+"}

// New builds a Verifier. trusted are the roots of the provenance's
// certificates and of both bundles' transparency log entries (the
// public-good root); keys are the registry's. A policy that is unusable is
// an error wrapping verify.ErrPolicy.
func New(trusted []root.TrustedMaterial, keys Keys, p Policy) (*Verifier, error) {
	switch {
	case p.Identity != nil && p.AnySigner:
		return nil, fmt.Errorf("%w: an identity and AnySigner are mutually exclusive", verify.ErrPolicy)
	case p.Identity == nil && !p.AnySigner:
		return nil, fmt.Errorf("%w: the provenance needs an identity (or AnySigner, with the caller pinning the signer)", verify.ErrPolicy)
	case len(trusted) == 0:
		return nil, fmt.Errorf("%w: a trust root is needed for the transparency log entries and the provenance's certificate", verify.ErrPolicy)
	}
	id := p.Identity
	if p.AnySigner {
		a := anySigner
		id = &a
	}
	prov, err := verify.NewWithRoots(trusted, verify.Policy{Identity: id})
	if err != nil {
		return nil, err
	}
	v := &Verifier{policy: p, keys: keys, provenance: prov, publish: map[string]*verify.Verifier{}}
	for _, k := range keys {
		if k.Usage != UsageAttestations {
			continue
		}
		pv, err := verify.NewWithRoots(trusted, verify.Policy{Key: k.PublicKey, PredicateType: PublishPredicateType})
		if err != nil {
			return nil, err
		}
		v.publish[k.ID] = pv
	}
	return v, nil
}

// Status is the outcome of one package in words a machine reads.
type Status string

// The statuses.
const (
	StatusVerified     Status = "verified"      // publish attestation and provenance verified
	StatusNoProvenance Status = "no-provenance" // the publish attestation verified; no provenance (accepted unless required)
	StatusNoDocument   Status = "no-attestations"
	StatusRejected     Status = "rejected"
	StatusError        Status = "error"
)

// Result is what verifying one package established. It doubles as the JSON
// schema of hallmark's npm output, and carries what a lock file pins: the
// ecosystem, the package name, and the provenance's verify.Result with its
// signer and GitHub claims.
type Result struct {
	Ecosystem string `json:"ecosystem"`
	Package
	PURL      string        `json:"purl"`
	Digest    verify.Digest `json:"digest"`
	Integrity string        `json:"integrity"`
	// Verified is true for StatusVerified only. A package without
	// provenance (StatusNoProvenance, StatusNoDocument) is not verified,
	// but it is no failure either unless the policy requires provenance:
	// Verify then returns no error.
	Verified bool   `json:"verified"`
	Status   Status `json:"status"`
	// Document is where the attestations document came from.
	Document string `json:"document,omitempty"`
	// Publish is the registry's publish attestation and PublishKey the key
	// that verified it.
	Publish    *verify.Result `json:"publish,omitempty"`
	PublishKey *Key           `json:"publishKey,omitempty"`
	// Provenance is the SLSA provenance, with the signer.
	Provenance *verify.Result `json:"provenance,omitempty"`
	// RegistrySignature is the packument's signature, when checked.
	RegistrySignature *RegistrySignature `json:"registrySignature,omitempty"`
	Error             *verify.Failure    `json:"error,omitempty"`
}

// Signer is the provenance's signer, nil without provenance.
func (r *Result) Signer() *verify.Signer {
	if r.Provenance == nil {
		return nil
	}
	return r.Provenance.Signer
}

// Repository is the source repository the provenance's certificate names
// (GitHub Actions), or "".
func (r *Result) Repository() string {
	if s := r.Signer(); s != nil && s.GitHub != nil {
		return s.GitHub.SourceRepository
	}
	return ""
}

// Verify checks doc for package p whose tarball has sha512 digest: the
// publish attestation with the registry key its hint names, valid at its
// log time; the provenance under the policy; and that every subject of both
// is p's purl with digest. It returns the Result in every case; the error
// is a *verify.RejectedError when the package was refused, any other error
// when verification could not be completed. A nil doc is a package without
// attestations. One Document must not be verified by two goroutines at
// once.
func (v *Verifier) Verify(ctx context.Context, p Package, digest verify.Digest, doc *Document) (*Result, error) {
	res := &Result{Ecosystem: Ecosystem, Package: p, PURL: p.PURL(), Digest: digest, Integrity: Integrity(digest)}
	err := v.verify(ctx, p, digest, doc, res)
	switch {
	case err != nil:
		res.Verified = false
		res.Status = StatusError
		if verify.IsRejected(err) {
			res.Status = StatusRejected
		}
		res.Error = verify.FailureOf(err)
	case res.Status == "":
		res.Status, res.Verified = StatusVerified, true
	}
	return res, err
}

func (v *Verifier) verify(ctx context.Context, p Package, digest verify.Digest, doc *Document, res *Result) error {
	if err := p.Validate(); err != nil {
		return err
	}
	if digest.Algorithm != "sha512" || len(digest.Value) != 128 {
		return fmt.Errorf("%w: package %s: want its sha512, not %q", ErrIntegrity, p, digest)
	}
	art, err := verify.ParseDigest(digest.String())
	if err != nil {
		return err
	}
	required := v.policy.Identity != nil || v.policy.RequireProvenance
	if doc == nil {
		res.Status = StatusNoDocument
		if required {
			return noProvenance(p, "it has no attestations document")
		}
		return nil
	}
	if err := v.verifyPublish(ctx, p, art, doc.Publish, res); err != nil {
		return err
	}
	if doc.Provenance == nil {
		res.Status = StatusNoProvenance
		if required {
			return noProvenance(p, "its attestations document has only the publish attestation")
		}
		return nil
	}
	pres, err := v.provenance.Verify(ctx, doc.Provenance, art)
	res.Provenance = pres
	if err != nil {
		return prefixed("provenance", err)
	}
	if got := statementType(pres); got != doc.ProvenanceType {
		return &verify.RejectedError{Cause: CausePredicate, Reason: "provenance: the statement's predicate type is not the one the document declares",
			Comparisons: []verify.Comparison{{Field: "predicate type", Expected: fmt.Sprintf("%q", doc.ProvenanceType), Actual: got}}}
	}
	return checkSubjects("provenance", p, digest, pres)
}

// verifyPublish verifies the publish attestation with the key its hint
// names, valid at every verified time of it.
func (v *Verifier) verifyPublish(ctx context.Context, p Package, art verify.Artifact, b *bundle.Bundle, res *Result) error {
	hint := b.GetVerificationMaterial().GetPublicKey().GetHint()
	if hint == "" {
		return &verify.RejectedError{Cause: verify.CauseSignerKind,
			Reason: "publish attestation: it is not signed with a registry key (no public key hint)"}
	}
	key, ok := v.keys.Lookup(hint, UsageAttestations)
	pv := v.publish[hint]
	if !ok || pv == nil {
		return &verify.RejectedError{Cause: CauseRegistryKey,
			Reason:      fmt.Sprintf("publish attestation: the registry key %q it names is not one of the registry's %s keys", hint, UsageAttestations),
			Comparisons: []verify.Comparison{{Field: "registry key", Expected: "one of " + quoteAll(v.keys.IDs(UsageAttestations)), Actual: hint}},
			Hint:        "the keys come from Sigstore's TUF repository (" + KeysTarget + "): run 'hallmark trust update', or pass the registry's keys with --npm-keys FILE"}
	}
	res.PublishKey = key
	pres, err := pv.Verify(ctx, b, art)
	res.Publish = pres
	if err != nil {
		return prefixed("publish attestation", err)
	}
	var times int
	for _, ts := range pres.Timestamps {
		times++
		if !key.ValidAt(ts.Time) {
			return &verify.RejectedError{Cause: CauseRegistryKey,
				Reason: fmt.Sprintf("publish attestation: the registry key %q was not valid when the attestation was logged", key.ID),
				Comparisons: []verify.Comparison{{Field: "log time", Expected: "within the key's validity, " + key.Window(),
					Actual: ts.Time.UTC().Format(time.RFC3339)}}}
		}
	}
	if times == 0 {
		return &verify.RejectedError{Cause: verify.CauseTimestamp,
			Reason: "publish attestation: no verified time to check the registry key's validity at"}
	}
	if err := checkSubjects("publish attestation", p, res.Digest, pres); err != nil {
		return err
	}
	return checkPublishPredicate(p, pres)
}

// checkSubjects requires every subject of the verified statement to be p's
// purl with the tarball's sha512: a statement that also vouches for another
// package (or another tarball) is not the package's.
func checkSubjects(what string, p Package, digest verify.Digest, r *verify.Result) error {
	if r.Statement == nil || len(r.Statement.Subjects) == 0 {
		return &verify.RejectedError{Cause: CauseSubject, Reason: what + ": the statement has no subject"}
	}
	want := p.PURL()
	for i, s := range r.Statement.Subjects {
		got := s.Digest["sha512"]
		if s.Name == want && strings.EqualFold(got, digest.Value) {
			continue
		}
		return &verify.RejectedError{Cause: CauseSubject,
			Reason: fmt.Sprintf("%s: subject %d of %d is not the package %s with the tarball's sha512", what, i+1, len(r.Statement.Subjects), p),
			Comparisons: []verify.Comparison{
				{Field: "subject name", Expected: fmt.Sprintf("%q", want), Actual: s.Name, Match: s.Name == want},
				{Field: "subject sha512", Expected: fmt.Sprintf("%q", digest.Value), Actual: got, Match: strings.EqualFold(got, digest.Value)},
			}}
	}
	return nil
}

// checkPublishPredicate requires the publish predicate's name and version
// to be the package's.
func checkPublishPredicate(p Package, r *verify.Result) error {
	var pred struct {
		Name    string `json:"name"`
		Version string `json:"version"`
	}
	if r.Statement == nil || json.Unmarshal(r.Statement.Predicate, &pred) != nil {
		return &verify.RejectedError{Cause: CausePredicate, Reason: "publish attestation: the predicate does not parse"}
	}
	if pred.Name != p.Name || pred.Version != p.Version {
		return &verify.RejectedError{Cause: CausePredicate, Reason: "publish attestation: the predicate names another package",
			Comparisons: []verify.Comparison{
				{Field: "predicate name", Expected: fmt.Sprintf("%q", p.Name), Actual: pred.Name, Match: pred.Name == p.Name},
				{Field: "predicate version", Expected: fmt.Sprintf("%q", p.Version), Actual: pred.Version, Match: pred.Version == p.Version},
			}}
	}
	return nil
}

func statementType(r *verify.Result) string {
	if r == nil || r.Statement == nil {
		return ""
	}
	return r.Statement.PredicateType
}

func noProvenance(p Package, why string) error {
	return &verify.RejectedError{Cause: CauseNoProvenance,
		Reason: fmt.Sprintf("package %s has no provenance: %s", p, why),
		Hint:   "a package published without --provenance cannot be pinned to a repository"}
}

// prefixed says which bundle a rejection is about, keeping it a
// *verify.RejectedError (and any other error as it is).
func prefixed(what string, err error) error {
	var rej *verify.RejectedError
	if !errors.As(err, &rej) {
		return fmt.Errorf("%s: %w", what, err)
	}
	out := *rej
	out.Reason = what + ": " + rej.Reason
	return &out
}

func quoteAll(ss []string) string {
	if len(ss) == 0 {
		return "(none)"
	}
	q := make([]string, len(ss))
	for i, s := range ss {
		q[i] = fmt.Sprintf("%q", s)
	}
	return strings.Join(q, ", ")
}
