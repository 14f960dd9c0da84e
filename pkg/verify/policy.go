package verify

import (
	"crypto"
	"errors"
	"fmt"
	"path"
	"regexp"
	"slices"
	"strings"

	sgverify "github.com/sigstore/sigstore-go/pkg/verify"

	"github.com/hallmark-dev/hallmark/pkg/attest"
)

// GitHubIssuer is the OIDC issuer of GitHub Actions workflow identities.
const GitHubIssuer = "https://token.actions.githubusercontent.com"

// Policy says what a bundle must prove to be accepted. Exactly one of
// Identity (keyless, Fulcio certificates) and Key (a long-lived key) is set.
// The zero thresholds mean "one": at least one transparency log entry and one
// verified timestamp, unless an Insecure field turns the check off.
type Policy struct {
	// Identity is the keyless signer policy.
	Identity *Identity
	// Key is the public key the bundle must be signed with.
	Key crypto.PublicKey

	// MinTlogEntries is the number of verified transparency log entries
	// required (default 1).
	MinTlogEntries int
	// MinTimestamps is the number of verified observer timestamps (RFC 3161
	// or log integrated time) required (default 1 for certificates; for keys
	// timestamps are checked when present and required only when set).
	MinTimestamps int

	// InsecureIgnoreTlog accepts bundles without transparency log entries.
	InsecureIgnoreTlog bool
	// InsecureIgnoreSCT accepts Fulcio certificates without a verified
	// signed certificate timestamp even when the trust root has CT logs.
	InsecureIgnoreSCT bool

	// PredicateType, when set, is the predicate type a DSSE statement must
	// have: a short name of the attest type table ("slsaprovenance1",
	// "spdxjson": every SPDX document version) or an absolute URI, matched
	// exactly. A message-signature bundle is then rejected with
	// CauseNotAttestation.
	PredicateType string
	// AttestationPredicateType is PredicateType for DSSE statements only:
	// a message-signature bundle is verified as if it were unset. It is
	// gh attestation verify's default for --repo and --owner (SLSA
	// provenance v1), which must not turn away plain signatures.
	// PredicateType, when set, wins.
	AttestationPredicateType string
	// BuilderID, when set, is the builder id SLSA provenance must name
	// (runDetails.builder.id; builder.id in v0.2); a statement that is not
	// provenance is rejected.
	BuilderID string
	// InsecureIgnoreProvenance accepts GitHub Actions provenance that the
	// signer's certificate contradicts (another repository, ref, workflow,
	// commit or builder): the check is listed as skipped instead.
	InsecureIgnoreProvenance bool
	// SkipStatementChecks turns off what the rules above and the automatic
	// check of GitHub Actions provenance against its certificate say about
	// the statement; the signature, signer and evidence are still verified.
	// It is for a signer checking the bundle it just made of a statement
	// it was given, not for a consumer.
	SkipStatementChecks bool
	// Statement, when set, constrains the verified in-toto statement (see
	// pkg/ecosystem/github's ReleasePolicy).
	Statement *StatementRule
}

// Identity is a keyless signer policy: the certificate's subject alternative
// name (SAN) and OIDC issuer, and optional GitHub Actions claims that Fulcio
// records in certificate extensions. Empty fields are not checked, but SAN
// and issuer each need an exact value or a pattern.
type Identity struct {
	// SAN is the exact expected subject alternative name.
	SAN string `json:"san,omitempty"`
	// SANRegexp is a pattern for the SAN. It always matches the whole value:
	// it is applied as ^(?:SANRegexp)$.
	SANRegexp string `json:"sanRegexp,omitempty"`
	// Issuer is the exact expected OIDC issuer.
	Issuer string `json:"issuer,omitempty"`
	// IssuerRegexp is a whole-value pattern for the issuer.
	IssuerRegexp string `json:"issuerRegexp,omitempty"`
	// NoIssuer requires a certificate without an OIDC issuer extension, as
	// GitHub's release attestations have (Issuer and IssuerRegexp unset).
	NoIssuer bool `json:"noIssuer,omitempty"`

	// SourceRepositoryURI must equal the certificate's source repository
	// claim, e.g. https://github.com/OWNER/NAME.
	SourceRepositoryURI string `json:"sourceRepositoryURI,omitempty"`
	// SignerWorkflow must equal the certificate's build signer URI without
	// its "@ref" suffix, e.g.
	// https://github.com/OWNER/NAME/.github/workflows/release.yml (see
	// ParseSignerWorkflow). It is an extra constraint and needs
	// SourceRepositoryURI: a reusable workflow's certificate names the
	// reusable workflow, whichever repository called it.
	SignerWorkflow string `json:"signerWorkflow,omitempty"`
	// SourceRef must equal the source repository ref, e.g. refs/tags/v1.2.3.
	SourceRef string `json:"sourceRef,omitempty"`
	// SourceDigest must equal the source repository commit digest.
	SourceDigest string `json:"sourceDigest,omitempty"`
	// Trigger must equal the event that triggered the build, e.g. push.
	Trigger string `json:"trigger,omitempty"`

	// SourceRepositoryOwnerURI must equal the certificate's source
	// repository owner claim, e.g. https://github.com/OWNER (gh's --owner).
	SourceRepositoryOwnerURI string `json:"sourceRepositoryOwnerURI,omitempty"`
	// SignerWorkflowRef is a glob (path.Match syntax: * does not cross a
	// slash) the ref of the build signer URI must match, e.g.
	// refs/tags/v*. It needs SignerWorkflow.
	SignerWorkflowRef string `json:"signerWorkflowRef,omitempty"`
	// SignerRepositoryURI is the repository the signing workflow lives in,
	// e.g. https://github.com/OWNER/NAME: the build signer URI must be a
	// workflow of it. Like SignerWorkflow it needs SourceRepositoryURI or
	// SourceRepositoryOwnerURI.
	SignerRepositoryURI string `json:"signerRepositoryURI,omitempty"`
	// SignerDigest must equal the commit of the signing workflow (build
	// signer digest claim).
	SignerDigest string `json:"signerDigest,omitempty"`
	// RunnerEnvironment must equal the runner environment claim:
	// "github-hosted" refuses self-hosted runners.
	RunnerEnvironment string `json:"runnerEnvironment,omitempty"`
}

// RunnerGitHubHosted is the runner environment claim of GitHub-hosted runners.
const RunnerGitHubHosted = "github-hosted"

// GitHubHost is github.com, the default GitHub host.
const GitHubHost = "github.com"

// Anchor turns a user pattern into one that must match a whole value. The
// pattern must be valid on its own (Policy validation checks this).
func Anchor(pattern string) string { return "^(?:" + pattern + ")$" }

// signerWorkflowURI expands OWNER/NAME/.github/workflows/F.yml (or a full
// https URL) into the build signer URI prefix it stands for. It does not
// check the value: see ParseSignerWorkflow.
func signerWorkflowURI(workflow string) string {
	if strings.HasPrefix(workflow, "https://") {
		return workflow
	}
	return "https://github.com/" + strings.TrimPrefix(workflow, "/")
}

// ParseSignerWorkflow checks a signer workflow, OWNER/NAME/.github/workflows/F.yml
// or https://HOST/OWNER/NAME/.github/workflows/F.yml (F ending in .yml or
// .yaml, no @ref), and returns the build signer URI prefix it stands for. An
// error wraps ErrPolicy.
func ParseSignerWorkflow(workflow string) (string, error) {
	uri := signerWorkflowURI(workflow)
	rest, ok := strings.CutPrefix(uri, "https://")
	parts := strings.Split(rest, "/")
	switch {
	case strings.Contains(workflow, "@"):
		return "", policyErr("signer workflow %q has an @ref: give the workflow path only", workflow)
	case !ok || len(parts) != 6 || slices.Contains(parts, "") || parts[3] != ".github" || parts[4] != "workflows" ||
		!(strings.HasSuffix(parts[5], ".yml") || strings.HasSuffix(parts[5], ".yaml")):
		return "", policyErr("signer workflow %q is not of the form OWNER/NAME/.github/workflows/FILE.yml", workflow)
	}
	return uri, nil
}

// ErrPolicy is wrapped by every error that says a Policy is unusable.
var ErrPolicy = errors.New("invalid policy")

func policyErr(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrPolicy, fmt.Sprintf(format, args...))
}

func (p *Policy) validate() error {
	switch {
	case p.Identity == nil && p.Key == nil:
		return policyErr("an identity or a key is required")
	case p.Identity != nil && p.Key != nil:
		return policyErr("an identity and a key are mutually exclusive")
	case p.MinTlogEntries < 0 || p.MinTimestamps < 0:
		return policyErr("thresholds must not be negative")
	}
	for _, t := range []string{p.PredicateType, p.AttestationPredicateType} {
		if t == "" {
			continue
		}
		if _, ok := attest.PredicateType(t); !ok {
			return policyErr("predicate type %q is neither a known short name nor an absolute URI", t)
		}
	}
	if p.Statement != nil {
		if err := p.Statement.validate(); err != nil {
			return err
		}
	}
	if p.Identity != nil {
		return p.Identity.validate()
	}
	return nil
}

func (id *Identity) validate() error {
	if id.SAN == "" && id.SANRegexp == "" {
		return policyErr("a certificate identity (SAN) or identity pattern is required")
	}
	switch {
	case id.NoIssuer && (id.Issuer != "" || id.IssuerRegexp != ""):
		return policyErr("an identity without an OIDC issuer cannot name one")
	case !id.NoIssuer && id.Issuer == "" && id.IssuerRegexp == "":
		return policyErr("a certificate OIDC issuer or issuer pattern is required")
	}
	if id.SignerWorkflow != "" {
		if _, err := ParseSignerWorkflow(id.SignerWorkflow); err != nil {
			return err
		}
		// Anyone can call a public reusable workflow: its certificate
		// names the reusable workflow whoever the caller is, so only the
		// source repository says whose build it was.
		if id.SourceRepositoryURI == "" && id.SourceRepositoryOwnerURI == "" {
			return policyErr("a signer workflow is an extra constraint: it needs the source repository (or owner) it must have run for")
		}
	}
	if id.SignerWorkflowRef != "" {
		if id.SignerWorkflow == "" {
			return policyErr("a signer workflow ref glob needs the signer workflow")
		}
		if _, err := path.Match(id.SignerWorkflowRef, ""); err != nil {
			return policyErr("bad signer workflow ref glob %q: %v", id.SignerWorkflowRef, err)
		}
	}
	if id.SignerRepositoryURI != "" {
		rest, ok := strings.CutPrefix(id.SignerRepositoryURI, "https://")
		if parts := strings.Split(rest, "/"); !ok || len(parts) != 3 || slices.Contains(parts, "") {
			return policyErr("signer repository %q is not of the form https://HOST/OWNER/NAME", id.SignerRepositoryURI)
		}
		if id.SourceRepositoryURI == "" && id.SourceRepositoryOwnerURI == "" {
			return policyErr("a signer repository is an extra constraint: it needs the source repository (or owner) it must have run for")
		}
	}
	for _, re := range []string{id.SANRegexp, id.IssuerRegexp} {
		if re == "" {
			continue
		}
		// Valid on its own, so that the anchors wrap all of it: "a)|(b" is
		// valid once wrapped, as ^(?:a)|(b)$, which is not anchored.
		if _, err := regexp.Compile(re); err != nil {
			return policyErr("bad pattern %q: %v", re, err)
		}
	}
	return nil
}

// sigstoreIdentity is the part of the identity that sigstore-go checks
// itself: SAN, issuer and the exact-match extensions.
func (id *Identity) sigstoreIdentity() (sgverify.CertificateIdentity, error) {
	san, iss := id.SANRegexp, id.IssuerRegexp
	if san != "" {
		san = Anchor(san)
	}
	if iss != "" {
		iss = Anchor(iss)
	}
	if id.NoIssuer {
		iss = "^$" // the summary of a certificate without the extension
	}
	ci, err := sgverify.NewShortCertificateIdentity(id.Issuer, iss, id.SAN, san)
	if err != nil {
		return ci, policyErr("%v", err)
	}
	ci.SourceRepositoryURI = id.SourceRepositoryURI
	ci.SourceRepositoryRef = id.SourceRef
	ci.SourceRepositoryDigest = id.SourceDigest
	ci.BuildTrigger = id.Trigger
	ci.SourceRepositoryOwnerURI = id.SourceRepositoryOwnerURI
	ci.BuildSignerDigest = id.SignerDigest
	ci.RunnerEnvironment = id.RunnerEnvironment
	return ci, nil
}
