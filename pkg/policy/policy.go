package policy

import (
	"crypto"
	"regexp"
)

// Version is the only policy file version this package reads.
const Version = 1

// Trust root names a policy's trust.roots may use besides file paths.
const (
	// RootPublicGood is the Sigstore public-good instance's root, kept
	// fresh through its TUF repository.
	RootPublicGood = "public-good"
	// RootGitHub is GitHub's Sigstore instance's root (private
	// repositories, release attestations), through its TUF repository.
	RootGitHub = "github"
)

// PredicateSignature is the predicateType of an artifacts requirement met
// by a plain message signature over the artifact (a `hallmark sign` or
// `cosign sign-blob` bundle) rather than an in-toto attestation, or by a
// container image signature (cosign's https://sigstore.dev/cosign/sign/v1
// statement about the image's digest).
const PredicateSignature = "signature"

// cosignImageSignature is the predicate type of a container image
// signature as cosign v3 makes it (and hallmark sign oci://): an in-toto
// statement with the image's digest as subject and an empty predicate. It
// is a signature, and meets a PredicateSignature requirement too.
const cosignImageSignature = "https://sigstore.dev/cosign/sign/v1"

// Pos is a place in the policy file: 1-based line and column.
type Pos struct {
	Line   int `json:"line"`
	Column int `json:"column"`
}

// Policy is a parsed, checked policy file. Build it with Parse or Load; it
// is immutable afterwards and safe for concurrent use by Evaluate.
type Policy struct {
	// File is the policy's path as given (for messages), Dir the
	// directory relative paths in it are resolved against.
	File, Dir string
	Version   int
	Trust     Trust
	// Signers in file order; names are unique.
	Signers   []*Signer
	Artifacts []*ArtifactPolicy
	Steps     []*Step

	signers map[string]*Signer
	hasCEL  bool
}

// Trust is the policy's trust section: which roots and how much evidence.
type Trust struct {
	// Roots are RootPublicGood, RootGitHub or trusted_root.json files
	// (absolute, after resolution against the policy's directory). Empty
	// means the verifier's default.
	Roots []string
	// MinTlogEntries and MinTimestamps are the evidence thresholds; 0
	// means the default, one.
	MinTlogEntries int
	MinTimestamps  int
	Pos            Pos
}

// Signer is a named identity: keyless (Issuer or IssuerPattern, SAN or
// SANPattern, optional GitHub claims) or a public key (KeyFile or KeyPEM).
type Signer struct {
	Name string
	// Keyless: exact values or patterns, always matched against the
	// whole value (verify.Anchor).
	Issuer, IssuerPattern string
	SAN, SANPattern       string
	GitHub                *GitHubClaims

	// Key: the PEM file (absolute after resolution) or inline PEM, and
	// the parsed key and its fingerprint (sha256:<hex> of its PKIX DER
	// encoding, as verify.Signer.KeyFingerprint).
	KeyFile, KeyPEM string
	PublicKey       crypto.PublicKey
	KeyFingerprint  string

	Pos Pos

	sanRE, issuerRE *regexp.Regexp
	keyPos          Pos
	invalid         bool // its entry had errors: its key is not read
}

// IsKey reports whether the signer is a public key.
func (s *Signer) IsKey() bool { return s.PublicKey != nil }

// GitHubClaims are the GitHub Actions certificate claims a keyless signer
// must have. Empty fields are not checked.
type GitHubClaims struct {
	// Repository is OWNER/NAME or https://HOST/OWNER/NAME: the source
	// repository claim.
	Repository string
	// Workflow is OWNER/NAME/.github/workflows/F.yml or its https URL:
	// the workflow that signed (build signer URI without its @ref).
	Workflow string
	// Ref is a glob (path.Match: * does not cross /) over the source ref
	// claim, e.g. refs/tags/v*.
	Ref string
	// RunnerEnvironment is "github-hosted" or "self-hosted".
	RunnerEnvironment string

	repositoryURI, workflowURI string
}

// Threshold is "N of [a, b, ...]": attestations of at least N distinct
// signers among the named ones.
type Threshold struct {
	N       int
	Signers []string
	Pos     Pos
}

// ArtifactPolicy says which attestations an artifact whose name matches
// Name must have.
type ArtifactPolicy struct {
	// Name is a glob (doublestar syntax) over the artifact's name as given
	// to the verifier (or one of its Artifact.Aliases); a glob without a
	// slash is also tried against the base name.
	Name         string
	Attestations []*Requirement
	Pos          Pos
}

// Requirement is one predicate type that must be present, signed by a
// threshold of signers, and whose statements satisfy every Rule.
type Requirement struct {
	// PredicateType is a predicate type URI or PredicateSignature.
	PredicateType string
	Signers       Threshold
	Rules         []*Rule
	Pos           Pos
}

// Rule is a named CEL expression that must evaluate to true.
type Rule struct {
	Name string
	CEL  string
	Pos  Pos

	prg *celProgram
}

// Step is one step of a supply-chain layout (in-toto, in the
// attestation-based style of ITE-10 and ITE-11).
type Step struct {
	Name string
	// PredicateType is the step's attestation type: the in-toto link v0.3
	// (default) or a SLSA provenance type.
	PredicateType string
	Signers       Threshold
	// Materials and Products are artifact rules, applied in order.
	Materials, Products []*ArtifactRule
	Rules               []*Rule
	Pos                 Pos
}

// RuleKind is the verb of an artifact rule.
type RuleKind string

// The artifact rule verbs.
const (
	Allow    RuleKind = "ALLOW"
	Disallow RuleKind = "DISALLOW"
	Require  RuleKind = "REQUIRE"
	Match    RuleKind = "MATCH"
)

// ArtifactRule is one material or product rule of a step:
//
//	ALLOW pattern
//	DISALLOW pattern
//	REQUIRE name
//	MATCH pattern [IN prefix] WITH products|materials [IN prefix] FROM step
type ArtifactRule struct {
	Kind    RuleKind
	Pattern string
	// SrcPrefix and DstPrefix are MATCH's IN prefixes; With is
	// "products" or "materials", From the step name.
	SrcPrefix, DstPrefix string
	With, From           string
	// Text is the rule as written.
	Text string
	Pos  Pos

	re *regexp.Regexp // Pattern (not for REQUIRE, whose name is exact)
}
