package verify

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	protobundle "github.com/sigstore/protobuf-specs/gen/pb-go/bundle/v1"
	protocommon "github.com/sigstore/protobuf-specs/gen/pb-go/common/v1"
	protorekor "github.com/sigstore/protobuf-specs/gen/pb-go/rekor/v1"
	"github.com/sigstore/sigstore-go/pkg/bundle"
	"github.com/sigstore/sigstore-go/pkg/fulcio/certificate"
	"github.com/sigstore/sigstore-go/pkg/root"
	sgverify "github.com/sigstore/sigstore-go/pkg/verify"
	"google.golang.org/protobuf/proto"

	"github.com/hallmark-dev/hallmark/internal/keys"
)

// InTotoPayloadType is the DSSE payload type of in-toto statements.
const InTotoPayloadType = "application/vnd.in-toto+json"

// Verifier checks bundles against one trust root and one policy. It is built
// once and is safe for concurrent use: verifying many bundles shares the
// parsed trust material.
type Verifier struct {
	tm       root.TrustedMaterial
	policy   Policy
	identity sgverify.CertificateIdentities

	keyless     *sgverify.Verifier // certificate-signed bundles
	keylessFast *sgverify.Verifier // the same over anchored Fulcio CAs (see anchoredCA), or nil
	withTlog    *sgverify.Verifier // key-signed bundles, log required
	keySigned   *sgverify.Verifier // key-signed bundles with TSA timestamps, log ignored
	keyNoTime   *sgverify.Verifier // key-signed bundles without timestamps, log ignored
	keySigner   *Signer
	keyEd25519  bool
	requireTSAs bool
	// minTlog and minTS are the thresholds in force.
	minTlog, minTS int
	// skipped are the checks the policy or the trust root turn off.
	skipped []SkippedCheck
	// instances are the per-root verifiers of NewWithRoots; when set, the
	// fields above are unused.
	instances []*Verifier
}

// New builds a Verifier. trusted may be nil only for a key policy that
// ignores the transparency log (then timestamps cannot be checked and bundles
// that carry some are rejected).
func New(trusted root.TrustedMaterial, p Policy) (*Verifier, error) {
	if err := p.validate(); err != nil {
		return nil, err
	}
	if trusted == nil && !(p.Key != nil && p.InsecureIgnoreTlog) {
		return nil, policyErr("a trust root is needed to verify transparency log entries and certificates")
	}
	minTlog, minTS := max(p.MinTlogEntries, 1), max(p.MinTimestamps, 1)
	v := &Verifier{tm: trusted, policy: p, minTlog: minTlog, minTS: minTS}
	v.skipped = skippedChecks(trusted, p)
	if p.InsecureIgnoreTlog {
		v.minTlog = 0
	}
	if p.Key != nil && p.InsecureIgnoreTlog {
		v.minTS = p.MinTimestamps
	}
	var tlogOpts []sgverify.VerifierOption
	if !p.InsecureIgnoreTlog {
		tlogOpts = append(tlogOpts, sgverify.WithTransparencyLog(minTlog))
	}
	var err error
	if p.Identity != nil {
		ci, err := p.Identity.sigstoreIdentity()
		if err != nil {
			return nil, err
		}
		v.identity = sgverify.CertificateIdentities{ci}
		opts := append(tlogOpts, sgverify.WithObserverTimestamps(minTS))
		if len(trusted.CTLogs()) > 0 && !p.InsecureIgnoreSCT {
			opts = append(opts, sgverify.WithSignedCertificateTimestamps(1))
		}
		if timestampsOnly(trusted) {
			// GitHub's instance: its certificates are proven by RFC 3161
			// timestamps of its own authorities, with no log to check.
			v.minTlog = 0
			opts = []sgverify.VerifierOption{sgverify.WithSignedTimestamps(minTS)}
		}
		if v.keyless, err = sgverify.NewVerifier(trusted, opts...); err != nil {
			return nil, err
		}
		if fast := withAnchoredCAs(trusted); fast != nil {
			v.keylessFast, err = sgverify.NewVerifier(fast, opts...)
		}
		return v, err
	}

	// Key policy: the key becomes trusted material next to the root.
	verifier, err := keys.Verifier(p.Key)
	if err != nil {
		return nil, policyErr("unusable key: %v", err)
	}
	keyMaterial := root.NewTrustedPublicKeyMaterial(func(string) (root.TimeConstrainedVerifier, error) {
		return root.NewExpiringKey(verifier, time.Time{}, time.Time{}), nil
	})
	var tm root.TrustedMaterial = keyMaterial
	if trusted != nil {
		tm = root.TrustedMaterialCollection{keyMaterial, trusted}
	}
	v.tm = tm
	fp, err := keys.Fingerprint(p.Key)
	if err != nil {
		return nil, policyErr("unusable key: %v", err)
	}
	v.keySigner = &Signer{Kind: "key", KeyFingerprint: fp, KeyType: keys.Describe(p.Key)}
	_, v.keyEd25519 = p.Key.(ed25519.PublicKey)
	if !p.InsecureIgnoreTlog {
		v.withTlog, err = sgverify.NewVerifier(tm, append(tlogOpts, sgverify.WithObserverTimestamps(minTS))...)
		return v, err
	}
	v.requireTSAs = p.MinTimestamps > 0
	if trusted != nil {
		if v.keySigned, err = sgverify.NewVerifier(tm, sgverify.WithSignedTimestamps(minTS)); err != nil {
			return nil, err
		}
	}
	v.keyNoTime, err = sgverify.NewVerifier(tm, sgverify.WithNoObserverTimestamps())
	return v, err
}

// ParseBundle parses a Sigstore bundle (v0.1 to v0.3, JSON). A bundle that
// does not parse or is invalid is a *RejectedError with CauseMalformed.
func ParseBundle(data []byte) (*bundle.Bundle, error) {
	var b bundle.Bundle
	if err := b.UnmarshalJSON(data); err != nil {
		return nil, malformedBundle(data, err)
	}
	return &b, nil
}

// protoPosition is the "(line L:C)" position in a protojson error.
var protoPosition = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`\s*\(line (\d+):(\d+)\)`) })

// malformedBundle explains why data is no bundle in words of its own, not in
// protojson's ("proto: syntax error (line 1:1): unexpected token").
func malformedBundle(data []byte, err error) *RejectedError {
	var r *RejectedError
	if !json.Valid(data) {
		var v any
		jerr := json.Unmarshal(data, &v)
		var syn *json.SyntaxError
		switch {
		case len(bytes.TrimSpace(data)) == 0:
			r = reject(CauseMalformed, err, "malformed bundle: the file is empty")
		case errors.As(jerr, &syn):
			r = reject(CauseMalformed, err, "malformed bundle: not valid JSON (%s, at byte %d)", syn.Error(), syn.Offset)
		default:
			r = reject(CauseMalformed, err, "malformed bundle: not valid JSON (%v)", jerr)
		}
	} else {
		msg := strings.TrimSpace(strings.TrimPrefix(err.Error(), "proto:"))
		if m := protoPosition().FindStringSubmatch(msg); m != nil {
			msg = strings.TrimLeft(strings.Replace(msg, m[0], "", 1), ": ") + fmt.Sprintf(" (line %s, column %s)", m[1], m[2])
		}
		r = reject(CauseMalformed, err, "malformed bundle: not a Sigstore bundle: %s", cleanLibraryText(msg))
	}
	r.ownWords = true
	return r
}

// Verify checks bundle b for artifact a. It returns the Result in every
// case; the error is a *RejectedError when the bundle was refused and any
// other error when verification could not be completed (the artifact could
// not be read, ctx was cancelled). A Verifier may verify many bundles
// concurrently, but one *bundle.Bundle must not be verified by two
// goroutines at once: sigstore-go records what it parsed in it.
func (v *Verifier) Verify(ctx context.Context, b *bundle.Bundle, a Artifact) (*Result, error) {
	if len(v.instances) > 0 {
		return v.verifyInstances(ctx, b, a)
	}
	res := &Result{Artifact: a.Name, MediaType: b.GetMediaType()}
	res.SkippedChecks = append(res.SkippedChecks, v.skipped...)
	err := v.verify(ctx, b, &a, res)
	if err != nil {
		res.Verified = false
		res.Error = FailureOf(err)
		return res, err
	}
	res.Verified = true
	return res, nil
}

func (v *Verifier) verify(ctx context.Context, b *bundle.Bundle, a *Artifact, res *Result) error {
	vc, err := b.VerificationContent()
	if err != nil {
		return reject(CauseMalformed, err, "malformed bundle")
	}
	sc, err := b.SignatureContent()
	if err != nil {
		return reject(CauseMalformed, err, "malformed bundle")
	}
	res.TlogEntries = tlogEntries(b)
	b, dups := distinctEvidence(b)
	leaf := vc.Certificate()
	if err := v.checkSignerKind(leaf); err != nil {
		return err
	}

	artifactPolicy, done, err := v.artifactPolicy(ctx, sc, leaf, a, res)
	if err != nil {
		return err
	}
	defer done()

	sgv, policyOpt, err := v.pick(b)
	if err != nil {
		return err
	}
	out, err := sgv.Verify(b, sgverify.NewPolicy(artifactPolicy, policyOpt))
	if err != nil && sgv == v.keylessFast && !a.streamed {
		// The anchored path may only accept: whatever it refuses (such as
		// a chain through intermediates that only the bundle carries) is
		// decided by sigstore-go's own path.
		out, err = v.keyless.Verify(b, sgverify.NewPolicy(artifactPolicy, policyOpt))
	}
	if err != nil {
		if ctx.Err() != nil {
			// A streamed artifact stopped with ctx: not a rejection.
			return ctx.Err()
		}
		return v.explain(err, b, sc, res, dups)
	}
	legacy := out.Signature != nil && legacyGitHubClaims(out.Signature.Certificate) // see legacy.go
	v.fill(res, out)
	markLegacy(res.Signer, legacy)
	v.noteUnverifiedTimestamps(b, res)
	var cert *certificate.Summary
	if out.Signature != nil {
		cert = out.Signature.Certificate
	}
	if v.policy.Identity != nil {
		if err := v.checkIdentity(cert); err != nil {
			return err
		}
	}
	if err := v.checkStatement(res.Statement, cert, res); err != nil {
		return err
	}
	if r := v.policy.Statement; r != nil && !v.policy.SkipStatementChecks {
		var payload []byte
		if env := sc.EnvelopeContent(); env != nil {
			payload, _ = base64.StdEncoding.DecodeString(env.RawEnvelope().Payload) // decoded in summarize
		}
		return r.check(res.Statement, payload)
	}
	return nil
}

// checkSignerKind rejects a key-signed bundle under a keyless policy and a
// certificate-signed one under a key policy, saying which it is.
func (v *Verifier) checkSignerKind(leaf *x509.Certificate) error {
	switch {
	case v.policy.Identity != nil && leaf == nil:
		return &RejectedError{Cause: CauseSignerKind,
			Reason: "the bundle is signed with a key, not a Fulcio certificate, so it has no identity to check"}
	case v.policy.Key != nil && leaf != nil:
		r := &RejectedError{Cause: CauseSignerKind,
			Reason: "the bundle is signed with a Fulcio certificate, not a key"}
		if s, err := certificate.SummarizeCertificate(leaf); err == nil {
			r.Reason += fmt.Sprintf(" (identity %q, issuer %q)", s.SubjectAlternativeName, s.Issuer)
		}
		return r
	}
	return nil
}

// artifactPolicy hashes the artifact once, with the algorithm the bundle
// uses, and returns the sigstore-go artifact policy. Ed25519 message
// signatures sign the whole artifact, so the artifact is streamed to
// sigstore-go instead; done closes it once verification is over.
func (v *Verifier) artifactPolicy(ctx context.Context, sc sgverify.SignatureContent, leaf *x509.Certificate, a *Artifact, res *Result) (policy sgverify.ArtifactPolicyOption, done func(), err error) {
	done = func() {}
	if env := sc.EnvelopeContent(); env != nil {
		st, err := summarize(env.RawEnvelope().PayloadType, env.RawEnvelope().Payload)
		if err != nil {
			return nil, done, err
		}
		res.Statement = st
		if a.statementOnly {
			return sgverify.WithoutArtifactUnsafe(), done, nil
		}
		alg := subjectAlgorithm(st.Subjects)
		if alg == "" {
			return nil, done, reject(CauseMalformed, nil, "the in-toto statement has no subject with a sha256, sha384 or sha512 digest")
		}
		d, err := a.digestOf(ctx, alg)
		if err != nil {
			return nil, done, err
		}
		res.Digest = d
		raw, _ := hex.DecodeString(d.Value)
		return sgverify.WithArtifactDigests([]sgverify.ArtifactDigest{{Algorithm: alg, Digest: raw}}), done, nil
	}
	msg := sc.MessageSignatureContent()
	if msg == nil {
		return nil, done, reject(CauseMalformed, nil, "the bundle has neither a message signature nor a DSSE envelope")
	}
	if a.statementOnly {
		return nil, done, reject(CauseArtifact, nil, "the bundle holds a message signature, not an attestation: it can only be verified against its artifact")
	}
	if v.policy.PredicateType != "" && !v.policy.SkipStatementChecks {
		return nil, done, ownWords(reject(CauseNotAttestation, nil,
			"the bundle holds a message signature, not an in-toto attestation, so it has no predicate type to check"))
	}
	alg := digestAlgorithmName(msg.DigestAlgorithm())
	if v.signsWholeMessage(leaf) && a.digest == nil {
		r, closeFn, err := a.open(ctx)
		if err != nil {
			return nil, done, err
		}
		res.Digest = &Digest{Algorithm: alg, Value: hex.EncodeToString(msg.Digest())}
		a.streamed = true
		return sgverify.WithArtifact(r), closeFn, nil
	}
	d, err := a.digestOf(ctx, alg)
	if err != nil {
		return nil, done, err
	}
	res.Digest = d
	raw, _ := hex.DecodeString(d.Value)
	return sgverify.WithArtifactDigest(alg, raw), done, nil
}

func (v *Verifier) signsWholeMessage(leaf *x509.Certificate) bool {
	if leaf != nil {
		_, ok := leaf.PublicKey.(ed25519.PublicKey)
		return ok
	}
	return v.keyEd25519
}

// pick chooses the configured sigstore-go verifier and identity option for b.
func (v *Verifier) pick(b *bundle.Bundle) (*sgverify.Verifier, sgverify.PolicyOption, error) {
	switch {
	case v.keylessFast != nil:
		return v.keylessFast, sgverify.WithoutIdentitiesUnsafe(), nil // identity checked in checkIdentity
	case v.keyless != nil:
		return v.keyless, sgverify.WithoutIdentitiesUnsafe(), nil
	case v.withTlog != nil:
		return v.withTlog, sgverify.WithKey(), nil
	}
	hasTS := len(b.GetVerificationMaterial().GetTimestampVerificationData().GetRfc3161Timestamps()) > 0
	if !hasTS && !v.requireTSAs {
		return v.keyNoTime, sgverify.WithKey(), nil
	}
	if v.keySigned == nil {
		return nil, nil, reject(CauseTimestamp, nil, "the bundle carries RFC 3161 timestamps but no trust root was given to verify them")
	}
	return v.keySigned, sgverify.WithKey(), nil
}

// fill records what sigstore-go verified.
func (v *Verifier) fill(res *Result, out *sgverify.VerificationResult) {
	if out.Signature != nil && out.Signature.Certificate != nil {
		res.Signer = signerOf(out.Signature.Certificate)
	} else if v.keySigner != nil {
		s := *v.keySigner
		res.Signer = &s
	}
	for _, ts := range out.VerifiedTimestamps {
		kind := "tsa"
		if ts.Type == "Tlog" {
			kind = "tlog"
		}
		res.Timestamps = append(res.Timestamps, Timestamp{Kind: kind, URI: ts.URI, Time: ts.Timestamp.UTC()})
	}
}

func signerOf(s *certificate.Summary) *Signer {
	signer := &Signer{Kind: "certificate", SAN: s.SubjectAlternativeName, Issuer: s.Issuer, CertificateIssuer: s.CertificateIssuer}
	if s.SourceRepositoryURI != "" || s.BuildSignerURI != "" {
		signer.GitHub = &GitHubClaims{
			SourceRepository:  s.SourceRepositoryURI,
			SourceRef:         s.SourceRepositoryRef,
			SourceDigest:      s.SourceRepositoryDigest,
			Trigger:           s.BuildTrigger,
			SignerWorkflow:    s.BuildSignerURI,
			ConfigWorkflow:    s.BuildConfigURI,
			RunInvocation:     s.RunInvocationURI,
			RunnerEnvironment: s.RunnerEnvironment,
			SourceOwner:       s.SourceRepositoryOwnerURI,
			SignerDigest:      s.BuildSignerDigest,
		}
	}
	return signer
}

func tlogEntries(b *bundle.Bundle) []TlogEntry {
	var out []TlogEntry
	for _, e := range b.GetVerificationMaterial().GetTlogEntries() {
		te := TlogEntry{
			LogID:        hex.EncodeToString(e.GetLogId().GetKeyId()),
			Index:        e.GetLogIndex(),
			Kind:         e.GetKindVersion().GetKind(),
			Version:      e.GetKindVersion().GetVersion(),
			RekorVersion: 1,
		}
		if isRekorV2(e.GetKindVersion()) {
			te.RekorVersion = 2
		} else if it := e.GetIntegratedTime(); it > 0 {
			t := time.Unix(it, 0).UTC()
			te.IntegratedTime = &t
		}
		out = append(out, te)
	}
	return out
}

// isRekorV2 tells Rekor v2 entries from Rekor v1 ones by their kind and
// version: Rekor v2 writes hashedrekord 0.0.2 and dsse 0.0.2, versions that
// Rekor v1 never had.
func isRekorV2(kv *protorekor.KindVersion) bool {
	return kv.GetVersion() == "0.0.2" && (kv.GetKind() == "hashedrekord" || kv.GetKind() == "dsse")
}

// checkIdentity applies the keyless policy to the verified certificate with
// sigstore-go's matcher, then the signer-workflow rule, and on failure
// reports every field that was asked for.
func (v *Verifier) checkIdentity(s *certificate.Summary) error {
	if s == nil {
		return reject(CauseSignerKind, nil, "the bundle has no certificate identity")
	}
	_, err := v.identity.Verify(*s)
	if err == nil && signerMatches(v.policy.Identity, s.BuildSignerURI) {
		return nil
	}
	return &RejectedError{
		Cause:       CauseIdentity,
		Reason:      "the signer does not match the identity policy",
		Comparisons: compareIdentity(v.policy.Identity, s),
		Err:         err,
	}
}

// signerMatches applies the signer workflow, its ref glob and the signer
// repository to the build signer URI (WORKFLOW@REF).
func signerMatches(id *Identity, signerURI string) bool {
	if id.SignerWorkflow != "" && !signerWorkflowMatches(id.SignerWorkflow, signerURI) {
		return false
	}
	if id.SignerWorkflowRef != "" {
		at := strings.LastIndex(signerURI, "@")
		if ok, err := path.Match(id.SignerWorkflowRef, signerURI[at+1:]); at < 0 || err != nil || !ok {
			return false
		}
	}
	if id.SignerRepositoryURI != "" && !strings.HasPrefix(signerURI, id.SignerRepositoryURI+"/.github/workflows/") {
		return false
	}
	return true
}

func signerWorkflowMatches(want, signerURI string) bool {
	at := strings.LastIndex(signerURI, "@")
	if at < 0 {
		return false
	}
	return signerWorkflowURI(want) == signerURI[:at]
}

// compareIdentity lists each requested field with the certificate's value.
func compareIdentity(id *Identity, s *certificate.Summary) []Comparison {
	var out []Comparison
	add := func(field, exact, pattern, actual string) {
		if exact != "" {
			out = append(out, Comparison{Field: field, Expected: fmt.Sprintf("%q", exact), Actual: actual, Match: exact == actual})
		}
		if pattern != "" {
			ok := matchAnchored(pattern, actual)
			out = append(out, Comparison{Field: field, Expected: fmt.Sprintf("to match %q", Anchor(pattern)), Actual: actual, Match: ok})
		}
	}
	add("identity (SAN)", id.SAN, id.SANRegexp, s.SubjectAlternativeName)
	add("issuer", id.Issuer, id.IssuerRegexp, s.Issuer)
	if id.NoIssuer {
		out = append(out, Comparison{Field: "issuer", Expected: "none (no OIDC issuer extension)", Actual: s.Issuer, Match: s.Issuer == ""})
	}
	add("source repository", id.SourceRepositoryURI, "", s.SourceRepositoryURI)
	if id.SignerWorkflow != "" {
		out = append(out, Comparison{Field: "signer workflow", Expected: fmt.Sprintf("%q", signerWorkflowURI(id.SignerWorkflow)),
			Actual: s.BuildSignerURI, Match: signerWorkflowMatches(id.SignerWorkflow, s.BuildSignerURI)})
	}
	if id.SignerWorkflowRef != "" {
		at := strings.LastIndex(s.BuildSignerURI, "@")
		ok, err := path.Match(id.SignerWorkflowRef, s.BuildSignerURI[at+1:])
		out = append(out, Comparison{Field: "signer workflow ref", Expected: fmt.Sprintf("to match the glob %q", id.SignerWorkflowRef),
			Actual: s.BuildSignerURI, Match: at >= 0 && err == nil && ok})
	}
	if id.SignerRepositoryURI != "" {
		out = append(out, Comparison{Field: "signer repository", Expected: fmt.Sprintf("a workflow of %q", id.SignerRepositoryURI),
			Actual: s.BuildSignerURI, Match: strings.HasPrefix(s.BuildSignerURI, id.SignerRepositoryURI+"/.github/workflows/")})
	}
	add("source repository owner", id.SourceRepositoryOwnerURI, "", s.SourceRepositoryOwnerURI)
	add("signer digest", id.SignerDigest, "", s.BuildSignerDigest)
	add("runner environment", id.RunnerEnvironment, "", s.RunnerEnvironment)
	add("source ref", id.SourceRef, "", s.SourceRepositoryRef)
	add("source digest", id.SourceDigest, "", s.SourceRepositoryDigest)
	add("trigger", id.Trigger, "", s.BuildTrigger)
	return out
}

// explain turns a sigstore-go error into a rejection a user can act on.
func (v *Verifier) explain(err error, b *bundle.Bundle, sc sgverify.SignatureContent, res *Result, dups evidenceDuplicates) error {
	msg := err.Error()
	if leaf := leafOf(b); leaf != nil && v.tm != nil && !v.issuedByTrustedCA(leaf) {
		// A foreign certificate first: its log entry or timestamps failing
		// is a consequence (another instance's logs and TSAs).
		return v.certificateRejection(err, b)
	}
	switch {
	case strings.HasPrefix(msg, "failed to verify log inclusion"):
		if len(res.TlogEntries) == 0 {
			return reject(CauseTlog, err, "the bundle has no transparency log entry")
		}
		if strings.Contains(msg, "outside certificate validity") {
			return v.certificateRejection(err, b)
		}
		if strings.Contains(msg, "does not match") {
			return reject(CauseTlog, err, "the bundle's content does not match its transparency log entry: it was changed after it was logged")
		}
		if v.tm == nil || len(v.tm.RekorLogs()) == 0 {
			return ownWords(reject(CauseUnknownLog, err, "the trust root has no transparency logs, so the bundle's log entry cannot be verified"))
		}
		if !v.hasTrustedLog(b) {
			return reject(CauseUnknownLog, err, "no transparency log entry in the bundle comes from a log in the trust root")
		}
		if have, want, ok := threshold(msg, "not enough verified log entries"); ok {
			r := reject(CauseTlog, err, "%d verified transparency log entr%s from distinct logs, fewer than the %d required", have, plural(have, "y", "ies"), want)
			if dups.tlog > 0 {
				r.Reason += " (the bundle carries the same entry more than once: it counts once)"
			}
			return ownWords(r)
		}
		if strings.Contains(msg, "duplicate tlog entries") {
			return ownWords(reject(CauseMalformed, err, "malformed bundle: it carries two different entries for the same index of one log"))
		}
		return reject(CauseTlog, err, "transparency log entry did not verify")
	case strings.HasPrefix(msg, "failed to verify timestamps"):
		if hasRekorV2(b) && v.tm != nil && len(v.tm.TimestampingAuthorities()) == 0 {
			return reject(CauseRekorV2TSA, err, "the bundle's log entry is Rekor v2, which records no time, and the trust root has no timestamp authority")
		}
		return v.timestampRejection(err, b, dups)
	case strings.HasPrefix(msg, "failed to verify leaf certificate"):
		return v.certificateRejection(err, b)
	case strings.HasPrefix(msg, "failed to verify signed certificate timestamp"):
		return reject(CauseSCT, err, "the certificate's signed certificate timestamp (SCT) did not verify")
	case strings.HasPrefix(msg, "failed to verify signature"), strings.HasPrefix(msg, "failed to get signature verifier"):
		if c := compareDigest(sc, res); c != nil {
			return &RejectedError{Cause: CauseArtifact, Reason: "the artifact is not the one that was signed", Comparisons: []Comparison{*c}, Err: err}
		}
		if k := v.keySigner; k != nil {
			r := reject(CauseSignature, err, "the signature does not verify with the %s key given (%s): another key signed the bundle, or it was changed after signing", k.KeyType, k.KeyFingerprint)
			if msg := sc.MessageSignatureContent(); msg != nil && strings.Contains(err.Error(), "unexpected length of digest") {
				r.Reason = fmt.Sprintf("the signature does not verify with the %s key given (%s): the bundle signs a %s digest, which such a key does not sign, so another key signed it",
					k.KeyType, k.KeyFingerprint, digestAlgorithmName(msg.DigestAlgorithm()))
			}
			return ownWords(r)
		}
		return reject(CauseSignature, err, "the signature does not verify")
	case strings.HasPrefix(msg, "failed to build policy"), strings.HasPrefix(msg, "failed to fetch"):
		return reject(CauseMalformed, err, "malformed bundle")
	}
	return reject(CauseSignature, err, "verification failed")
}

// timestampRejection explains too few verified timestamps in words of its
// own: sigstore-go's say "threshold not met ... 0 < 1; error: %!w(<nil>)".
func (v *Verifier) timestampRejection(err error, b *bundle.Bundle, dups evidenceDuplicates) *RejectedError {
	msg := err.Error()
	tsas := len(b.GetVerificationMaterial().GetTimestampVerificationData().GetRfc3161Timestamps())
	logTimes := 0
	for _, e := range b.GetVerificationMaterial().GetTlogEntries() {
		if !isRekorV2(e.GetKindVersion()) && e.GetIntegratedTime() > 0 && e.GetInclusionPromise() != nil {
			logTimes++
		}
	}
	noTSA := v.tm == nil || len(v.tm.TimestampingAuthorities()) == 0
	switch {
	case tsas == 0 && logTimes > 0 && v.policy.InsecureIgnoreTlog:
		return ownWords(reject(CauseTlogTimeIgnored, err,
			"the bundle's only timestamp is the integrated time of its transparency log entry, and the entry is not verified when the transparency log is ignored"))
	case tsas == 0 && logTimes == 0:
		return ownWords(reject(CauseTimestamp, err,
			"the bundle has no timestamp (RFC 3161, or a transparency log entry's integrated time) to prove when it was signed"))
	case tsas > 0 && noTSA:
		return ownWords(reject(CauseTimestamp, err,
			"the trust root has no timestamp authority to verify the bundle's %d RFC 3161 timestamp(s) with", tsas))
	case tsas > 0 && strings.Contains(msg, "unable to verify signed timestamps"):
		r := reject(CauseTimestamp, err, "the bundle's %d RFC 3161 timestamp(s) did not verify against the trust root's timestamp authorities", tsas)
		r.Hint = "a bundle from another Sigstore instance carries timestamps of that instance's authority: verify it with that instance's trust root"
		return ownWords(r)
	}
	have, want, ok := threshold(msg, "threshold not met")
	if !ok {
		return reject(CauseTimestamp, err, "too few verified timestamps for the signature")
	}
	r := reject(CauseTimestamp, err, "%d distinct verified timestamp%s, fewer than the %d required", have, plural(have, "", "s"), want)
	if dups.timestamps > 0 || strings.Contains(msg, "duplicate timestamps") {
		r.Reason += " (a timestamp carried twice, or two from one timestamp authority, count once)"
	}
	return ownWords(r)
}

// thresholdCounts finds sigstore-go's "HAVE < WANT" in a threshold error.
var thresholdCounts = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`: (\d+) < (\d+)`) })

// threshold returns the counts of a sigstore-go threshold error whose text
// contains marker.
func threshold(msg, marker string) (have, want int, ok bool) {
	i := strings.Index(msg, marker)
	if i < 0 {
		return 0, 0, false
	}
	m := thresholdCounts().FindStringSubmatch(msg[i:])
	if m == nil {
		return 0, 0, false
	}
	have, _ = strconv.Atoi(m[1])
	want, _ = strconv.Atoi(m[2])
	return have, want, true
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

func ownWords(r *RejectedError) *RejectedError {
	r.ownWords = true
	return r
}

// certificateRejection explains a certificate that does not verify at the
// verified signing time: issued by a CA of the trust root but not valid at
// that time, or not issued by one at all.
func (v *Verifier) certificateRejection(err error, b *bundle.Bundle) *RejectedError {
	leaf := leafOf(b)
	if leaf == nil {
		return reject(CauseCertificate, err, "the signing certificate does not verify")
	}
	window := fmt.Sprintf("valid %s to %s", leaf.NotBefore.UTC().Format(time.RFC3339), leaf.NotAfter.UTC().Format(time.RFC3339))
	if v.issuedByTrustedCA(leaf) {
		return reject(CauseCertTime, err, "the signing certificate (%s) was not valid at the verified signing time", window)
	}
	return reject(CauseCertificate, err, "the signing certificate (%s, issued by %q) does not chain to a Fulcio CA of the trust root", window, leaf.Issuer.String())
}

// issuedByTrustedCA reports whether leaf's signature comes from a CA
// certificate of the trust root (whatever the time): on the rejection path,
// to tell an expired certificate from a foreign one, and to pick the root
// of a bundle among several (NewWithRoots).
func (v *Verifier) issuedByTrustedCA(leaf *x509.Certificate) bool {
	if v.tm == nil {
		return false
	}
	for _, ca := range v.tm.FulcioCertificateAuthorities() {
		f, ok := ca.(*root.FulcioCertificateAuthority)
		if !ok {
			continue
		}
		for _, c := range append(append([]*x509.Certificate{}, f.Intermediates...), f.Root) {
			// Names chain as in any X.509 path: only a CA whose subject is
			// the leaf's issuer is worth a signature check.
			if c != nil && bytes.Equal(c.RawSubject, leaf.RawIssuer) && leaf.CheckSignatureFrom(c) == nil {
				return true
			}
		}
	}
	return false
}

// compareDigest reports the artifact digest against what the bundle signed,
// or nil when they agree (or cannot be compared).
func compareDigest(sc sgverify.SignatureContent, res *Result) *Comparison {
	if res.Digest == nil {
		return nil
	}
	if msg := sc.MessageSignatureContent(); msg != nil {
		want := hex.EncodeToString(msg.Digest())
		if want == res.Digest.Value {
			return nil
		}
		return &Comparison{Field: "artifact digest", Expected: fmt.Sprintf("%q", res.Digest.Algorithm+":"+want), Actual: res.Digest.String()}
	}
	if res.Statement == nil {
		return nil
	}
	var names []string
	for _, s := range res.Statement.Subjects {
		if s.Digest[res.Digest.Algorithm] == res.Digest.Value {
			return nil
		}
		names = append(names, fmt.Sprintf("%s %s:%s", s.Name, res.Digest.Algorithm, s.Digest[res.Digest.Algorithm]))
	}
	return &Comparison{Field: "artifact digest", Expected: "one of the statement's subjects: " + strings.Join(names, ", "), Actual: res.Digest.String()}
}

func (v *Verifier) hasTrustedLog(b *bundle.Bundle) bool {
	if v.tm == nil {
		return false
	}
	logs := v.tm.RekorLogs()
	for _, e := range b.GetVerificationMaterial().GetTlogEntries() {
		if _, ok := logs[hex.EncodeToString(e.GetLogId().GetKeyId())]; ok {
			return true
		}
	}
	return false
}

func hasRekorV2(b *bundle.Bundle) bool {
	for _, e := range b.GetVerificationMaterial().GetTlogEntries() {
		if isRekorV2(e.GetKindVersion()) {
			return true
		}
	}
	return false
}

func leafOf(b *bundle.Bundle) *x509.Certificate {
	vc, err := b.VerificationContent()
	if err != nil {
		return nil
	}
	return vc.Certificate()
}

// BundleSigner summarises who signed b without verifying anything: for a
// hint that shows the identity found in a bundle. It returns nil for
// key-signed or unreadable bundles.
func BundleSigner(b *bundle.Bundle) *Signer {
	leaf := leafOf(b)
	if leaf == nil {
		return nil
	}
	s, err := certificate.SummarizeCertificate(leaf)
	if err != nil {
		return nil
	}
	legacy := legacyGitHubClaims(&s)
	signer := signerOf(&s)
	markLegacy(signer, legacy)
	return signer
}

// digestAlgorithmName maps protobuf hash names (SHA2_256) to in-toto ones.
func digestAlgorithmName(proto string) string {
	switch proto {
	case "SHA2_384":
		return "sha384"
	case "SHA2_512":
		return "sha512"
	}
	return "sha256"
}

// subjectAlgorithm picks the digest algorithm to hash the artifact with:
// sha256 when any subject has it, else sha512, else sha384.
func subjectAlgorithm(subjects []Subject) string {
	for _, alg := range []string{"sha256", "sha512", "sha384"} {
		for _, s := range subjects {
			if _, ok := s.Digest[alg]; ok {
				return alg
			}
		}
	}
	return ""
}

// summarize reads the statement header (type, predicate type, subjects)
// from a DSSE payload without materialising the predicate.
func summarize(payloadType string, payload string) (*Statement, error) {
	st := &Statement{PayloadType: payloadType}
	if payloadType != InTotoPayloadType {
		return nil, reject(CauseMalformed, nil, "the DSSE payload type is %q, not an in-toto statement (%s), so no artifact can be matched", payloadType, InTotoPayloadType)
	}
	raw, err := base64.StdEncoding.DecodeString(payload)
	if err != nil {
		return nil, reject(CauseMalformed, err, "the DSSE payload is not valid base64")
	}
	var hdr struct {
		Type          string          `json:"_type"`
		PredicateType string          `json:"predicateType"`
		Subject       []Subject       `json:"subject"`
		Predicate     json.RawMessage `json:"predicate"`
	}
	if err := json.Unmarshal(raw, &hdr); err != nil {
		return nil, reject(CauseMalformed, err, "the DSSE payload is not a JSON in-toto statement")
	}
	st.Type, st.PredicateType, st.Subjects, st.Predicate = hdr.Type, hdr.PredicateType, hdr.Subject, hdr.Predicate
	return st, nil
}

func matchAnchored(pattern, s string) bool {
	ok, err := regexp.MatchString(Anchor(pattern), s)
	return err == nil && ok
}

// evidenceDuplicates counts the exact copies distinctEvidence dropped.
type evidenceDuplicates struct{ tlog, timestamps int }

// distinctEvidence returns b without exact copies of a transparency log
// entry or an RFC 3161 timestamp, and how many it dropped: thresholds count
// distinct evidence, so a copy must not count, and sigstore-go refuses a
// bundle that carries one log entry twice outright. b itself is not
// changed; it is returned as is when it has no copies.
func distinctEvidence(b *bundle.Bundle) (*bundle.Bundle, evidenceDuplicates) {
	var d evidenceDuplicates
	vm := b.GetVerificationMaterial()
	entries := vm.GetTlogEntries()
	stamps := vm.GetTimestampVerificationData().GetRfc3161Timestamps()
	for i := range entries {
		if slices.ContainsFunc(entries[:i], func(e *protorekor.TransparencyLogEntry) bool { return proto.Equal(e, entries[i]) }) {
			d.tlog++
		}
	}
	for i := range stamps {
		if slices.ContainsFunc(stamps[:i], func(s *protocommon.RFC3161SignedTimestamp) bool {
			return bytes.Equal(s.GetSignedTimestamp(), stamps[i].GetSignedTimestamp())
		}) {
			d.timestamps++
		}
	}
	if d == (evidenceDuplicates{}) {
		return b, d
	}
	nb := *b
	nb.Bundle = proto.Clone(b.Bundle).(*protobundle.Bundle)
	nvm := nb.GetVerificationMaterial()
	var keptEntries []*protorekor.TransparencyLogEntry
	for _, e := range nvm.GetTlogEntries() {
		if !slices.ContainsFunc(keptEntries, func(k *protorekor.TransparencyLogEntry) bool { return proto.Equal(k, e) }) {
			keptEntries = append(keptEntries, e)
		}
	}
	nvm.TlogEntries = keptEntries
	if tvd := nvm.GetTimestampVerificationData(); tvd != nil {
		var kept []*protocommon.RFC3161SignedTimestamp
		for _, s := range tvd.GetRfc3161Timestamps() {
			if !slices.ContainsFunc(kept, func(k *protocommon.RFC3161SignedTimestamp) bool {
				return bytes.Equal(k.GetSignedTimestamp(), s.GetSignedTimestamp())
			}) {
				kept = append(kept, s)
			}
		}
		tvd.Rfc3161Timestamps = kept
	}
	return &nb, d
}

// skippedChecks lists the checks that the trust root or the policy turn off
// for every bundle.
func skippedChecks(trusted root.TrustedMaterial, p Policy) []SkippedCheck {
	var out []SkippedCheck
	if p.Identity != nil && timestampsOnly(trusted) {
		const why = "the trust root has no %s, as GitHub's Sigstore instance: its certificates are verified with signed timestamps only"
		return []SkippedCheck{
			{Check: CheckTlog, Reason: fmt.Sprintf(why, "transparency logs")},
			{Check: CheckSCT, Reason: fmt.Sprintf(why, "certificate transparency logs")},
		}
	}
	if p.Identity != nil {
		switch {
		case p.InsecureIgnoreSCT:
			out = append(out, SkippedCheck{Check: CheckSCT, Reason: "the policy ignores signed certificate timestamps (insecure-ignore-sct)"})
		case trusted != nil && len(trusted.CTLogs()) == 0:
			out = append(out, SkippedCheck{Check: CheckSCT, Reason: "the trust root has no certificate transparency logs"})
		}
	}
	if p.InsecureIgnoreTlog {
		reason := "the policy ignores the transparency log (insecure-ignore-tlog)"
		if trusted == nil || len(trusted.RekorLogs()) == 0 {
			reason = "the trust root has no transparency logs, and the policy ignores the transparency log (insecure-ignore-tlog)"
		}
		out = append(out, SkippedCheck{Check: CheckTlog, Reason: reason})
	}
	return out
}

// noteUnverifiedTimestamps records, for an accepted bundle, RFC 3161
// timestamps that were not verified because the trust root has no
// timestamp authority (other time evidence met the threshold).
func (v *Verifier) noteUnverifiedTimestamps(b *bundle.Bundle, res *Result) {
	n := len(b.GetVerificationMaterial().GetTimestampVerificationData().GetRfc3161Timestamps())
	if n == 0 || (v.tm != nil && len(v.tm.TimestampingAuthorities()) > 0) {
		return
	}
	res.SkippedChecks = append(res.SkippedChecks, SkippedCheck{Check: CheckTimestampAuthority,
		Reason: fmt.Sprintf("the trust root has no timestamp authority: the bundle's %d RFC 3161 timestamp(s) were not verified", n)})
}
