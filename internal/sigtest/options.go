package sigtest

import (
	"errors"
	"fmt"
	"strings"
)

// Identities, issuers and claims used by the fixtures. Tests refer to these
// instead of repeating the strings.
const (
	// GitHubIssuer is the OIDC issuer of GitHub Actions.
	GitHubIssuer = "https://token.actions.githubusercontent.com"
	// DemoRepository is the source repository of the demo artifact.
	DemoRepository = "https://github.com/hallmark-dev/demo"
	// DemoRef is the git ref the demo artifact was built from.
	DemoRef = "refs/tags/v1.0.0"
	// DemoDigest is the git commit the demo artifact was built from.
	DemoDigest = "4f2b8c9d0e1a7b3c5d6e8f901a2b3c4d5e6f7a8b"
	// DemoIdentity is the certificate identity (URI SAN) of the demo
	// release workflow.
	DemoIdentity = DemoRepository + "/.github/workflows/release.yml@" + DemoRef
	// DemoRunInvocationURI is the workflow run that signed the demo artifact.
	DemoRunInvocationURI = DemoRepository + "/actions/runs/1234567890/attempts/1"

	// ReusableIdentity is the certificate identity of a reusable workflow in
	// another repository, called by the demo release workflow.
	ReusableIdentity = "https://github.com/hallmark-dev/shared-workflows/.github/workflows/build.yml@refs/heads/main"
	// ReusableDigest is the commit of the reusable workflow's repository.
	ReusableDigest = "9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d3e2f1a0b"

	// EmailIdentity is an e-mail certificate identity.
	EmailIdentity = "alice@example.com"
	// EmailIssuer is the OIDC issuer that vouches for [EmailIdentity].
	EmailIssuer = "https://accounts.example.com"

	// SLSAProvenanceV1 is the predicate type of the demo attestations.
	SLSAProvenanceV1 = "https://slsa.dev/provenance/v1"
	// InTotoPayloadType is the DSSE payload type of in-toto statements.
	InTotoPayloadType = "application/vnd.in-toto+json"
)

// Bundle versions accepted in [Options.BundleVersion].
const (
	BundleV01 = "v0.1"
	BundleV02 = "v0.2"
	BundleV03 = "v0.3"
)

// Options controls what a keyless bundle looks like. The zero value gives a
// v0.3 bundle for [DemoIdentity] issued by [GitHubIssuer], without GitHub
// claims, with an RFC 3161 timestamp and a Rekor v1 entry carrying both an
// inclusion promise (SET) and an inclusion proof.
type Options struct {
	// Identity is the certificate's subject alternative name. A value with
	// a URI scheme ("https://...") becomes a URI SAN, anything else an
	// e-mail SAN. Default: DemoIdentity.
	Identity string
	// Issuer is the OIDC issuer written to the certificate (extension
	// 1.3.6.1.4.1.57264.1.8, and the legacy 1.3.6.1.4.1.57264.1.1).
	// Default: GitHubIssuer.
	Issuer string
	// BundleVersion is "v0.1", "v0.2" or "v0.3" (default). v0.3 carries
	// the leaf as "certificate", older versions as a one-element
	// "x509CertificateChain".
	BundleVersion string
	// GitHub, when set, adds Fulcio's GitHub Actions extensions to the
	// leaf certificate. Not supported with RekorV2.
	GitHub *GitHubClaims

	// RekorV2 logs the signature as a Rekor v2 hashedrekord v0.0.2 entry
	// (inclusion proof with checkpoint, no SET) instead of Rekor v1. It is
	// supported by Attest only, and the certificate then comes from the
	// VirtualSigstore's own Fulcio CA, which puts Identity in an e-mail SAN
	// whatever its form and writes only the legacy issuer extension; so
	// GitHub claims are not available. Rekor v2 needs bundle v0.2 or later.
	RekorV2 bool
	// NoTimestamp leaves out the RFC 3161 timestamp. With RekorV2 the bundle
	// then has no verifiable time at all and must be rejected.
	NoTimestamp bool
	// NoTlog leaves out the transparency log entry.
	NoTlog bool
	// ExpiredCert backdates the leaf certificate so that it expired before
	// the signature was logged, and leaves out the RFC 3161 timestamp: the
	// Rekor integrated time is the only time evidence and lies outside the
	// certificate's validity, so verification must reject the bundle. Not
	// supported with RekorV2 or NoTlog.
	ExpiredCert bool
}

// GitHubClaims are the GitHub Actions claims that Fulcio copies from the OIDC
// token into certificate extensions under 1.3.6.1.4.1.57264.1. Empty fields
// are left out of the certificate.
type GitHubClaims struct {
	BuildSignerURI         string // .9, the workflow that signed (job_workflow_ref)
	BuildSignerDigest      string // .10, the commit of that workflow (job_workflow_sha)
	RunnerEnvironment      string // .11, "github-hosted" or "self-hosted"
	SourceRepositoryURI    string // .12
	SourceRepositoryDigest string // .13, the commit built (sha)
	SourceRepositoryRef    string // .14, the git ref built (ref)
	BuildConfigURI         string // .18, the top-level workflow (workflow_ref)
	BuildTrigger           string // .20, the triggering event (event_name)
	RunInvocationURI       string // .21, the workflow run
	SourceRepositoryOwner  string // .16, the owner URI, e.g. https://github.com/OWNER

	// The legacy GitHub extensions, the only ones in certificates Fulcio
	// issued before October 2023; their values are raw strings, not DER.
	LegacyTrigger    string // .2, the triggering event
	LegacySHA        string // .3, the commit built
	LegacyWorkflow   string // .4, the workflow's name
	LegacyRepository string // .5, OWNER/NAME
	LegacyRef        string // .6, the git ref built
}

// DemoClaims returns the claims GitHub Actions gives the demo release
// workflow ([DemoIdentity]) on a push of tag [DemoRef].
func DemoClaims() *GitHubClaims {
	return &GitHubClaims{
		BuildSignerURI:         DemoIdentity,
		BuildSignerDigest:      DemoDigest,
		RunnerEnvironment:      "github-hosted",
		SourceRepositoryURI:    DemoRepository,
		SourceRepositoryDigest: DemoDigest,
		SourceRepositoryRef:    DemoRef,
		BuildConfigURI:         DemoIdentity,
		BuildTrigger:           "push",
		RunInvocationURI:       DemoRunInvocationURI,
	}
}

// ReusableClaims returns the claims of the reusable workflow
// [ReusableIdentity] when the demo release workflow calls it: the signer is
// the reusable workflow, while the source repository and the build config
// are the demo's.
func ReusableClaims() *GitHubClaims {
	c := DemoClaims()
	c.BuildSignerURI = ReusableIdentity
	c.BuildSignerDigest = ReusableDigest
	return c
}

// errUnsupported reports an option combination this package cannot build.
var errUnsupported = errors.New("sigtest: unsupported option combination")

// withDefaults returns o with the default identity and issuer filled in.
func (o Options) withDefaults() Options {
	if o.Identity == "" {
		o.Identity = DemoIdentity
	}
	if o.Issuer == "" {
		o.Issuer = GitHubIssuer
	}
	return o
}

// resolve returns o with defaults filled in and the bundle version
// normalized, or an error if the options contradict each other. dsse tells
// whether the bundle holds an envelope.
func (o Options) resolve(dsse bool) (Options, error) {
	o = o.withDefaults()
	v, err := normalizeVersion(o.BundleVersion)
	if err != nil {
		return o, err
	}
	o.BundleVersion = v
	return o, o.check(dsse)
}

// check rejects option combinations that cannot be built.
func (o Options) check(dsse bool) error {
	switch {
	case o.RekorV2 && !dsse:
		return fmt.Errorf("%w: RekorV2 is only available for DSSE attestations (the VirtualSigstore has no Rekor v2 entries for message signatures)", errUnsupported)
	case o.RekorV2 && o.GitHub != nil:
		return fmt.Errorf("%w: RekorV2 certificates come from the VirtualSigstore and cannot carry GitHub claims", errUnsupported)
	case o.RekorV2 && o.NoTlog:
		return fmt.Errorf("%w: RekorV2 and NoTlog", errUnsupported)
	case o.RekorV2 && o.ExpiredCert:
		return fmt.Errorf("%w: RekorV2 and ExpiredCert", errUnsupported)
	case o.RekorV2 && o.BundleVersion == BundleV01:
		return fmt.Errorf("%w: bundle v0.1 requires an inclusion promise, which Rekor v2 entries lack", errUnsupported)
	case o.ExpiredCert && o.NoTlog:
		return fmt.Errorf("%w: ExpiredCert needs the tlog entry as its time evidence", errUnsupported)
	}
	return nil
}

// normalizeVersion maps "", "0.3", "v0.3" and friends to "v0.N".
func normalizeVersion(v string) (string, error) {
	if v == "" {
		return BundleV03, nil
	}
	v = "v" + strings.TrimPrefix(v, "v")
	switch v {
	case BundleV01, BundleV02, BundleV03:
		return v, nil
	}
	return "", fmt.Errorf("sigtest: unsupported bundle version %q", v)
}
