package verify

import (
	"encoding/json"
	"time"
)

// SchemaVersion is the version of the JSON document that Report encodes.
// It changes only when a field changes meaning or disappears.
const SchemaVersion = "1"

// Report is the JSON document `hallmark verify --output json` prints: one
// Result per artifact, in the order given.
type Report struct {
	SchemaVersion string    `json:"schemaVersion"`
	Results       []*Result `json:"results"`
}

// Result is what verifying one artifact against one bundle established.
// When Verified is false, Error says why and the other fields hold what was
// known before the rejection.
type Result struct {
	Artifact    string      `json:"artifact"`
	Bundle      string      `json:"bundle,omitempty"`
	Verified    bool        `json:"verified"`
	Digest      *Digest     `json:"digest,omitempty"`
	MediaType   string      `json:"mediaType,omitempty"`
	Signer      *Signer     `json:"signer,omitempty"`
	Timestamps  []Timestamp `json:"timestamps,omitempty"`
	TlogEntries []TlogEntry `json:"tlogEntries,omitempty"`
	Statement   *Statement  `json:"statement,omitempty"`
	// SkippedChecks lists the checks that were not possible or were
	// turned off, with why: absent when every check was made.
	SkippedChecks []SkippedCheck `json:"skippedChecks,omitempty"`
	Error         *Failure       `json:"error,omitempty"`
	// Refused lists the other bundles that cover the artifact and were
	// tried and refused, when several were searched (verify --bundle-dir).
	Refused []Refusal `json:"refused,omitempty"`
}

// Refusal is a bundle tried for an artifact and refused, and why.
type Refusal struct {
	Bundle string   `json:"bundle"`
	Error  *Failure `json:"error"`
}

// SkippedCheck is a check that was not made, and why.
type SkippedCheck struct {
	Check  Check  `json:"check"`
	Reason string `json:"reason"`
}

// Check names a check that can be skipped.
type Check string

// The checks that a trust root or a policy can turn off.
const (
	// CheckSCT is the certificate's signed certificate timestamp: off when
	// the trust root has no CT logs, or by Policy.InsecureIgnoreSCT.
	CheckSCT Check = "sct"
	// CheckTlog is the transparency log entry: off by
	// Policy.InsecureIgnoreTlog.
	CheckTlog Check = "tlog"
	// CheckTimestampAuthority is the bundle's RFC 3161 timestamps: not
	// verified when the trust root has no timestamp authority (the log's
	// integrated time then met the threshold).
	CheckTimestampAuthority Check = "timestamp-authority"
)

// Digest is an artifact digest: algorithm (sha256, sha384, sha512) and
// lower-case hex value.
type Digest struct {
	Algorithm string `json:"algorithm"`
	Value     string `json:"value"`
}

// String renders the digest as "sha256:<hex>".
func (d Digest) String() string { return d.Algorithm + ":" + d.Value }

// Signer describes who signed: a Fulcio certificate identity or a key.
type Signer struct {
	// Kind is "certificate" or "key".
	Kind   string `json:"kind"`
	SAN    string `json:"san,omitempty"`
	Issuer string `json:"issuer,omitempty"`
	// GitHub holds the GitHub Actions claims of the certificate, if any.
	GitHub *GitHubClaims `json:"github,omitempty"`
	// CertificateIssuer is the distinguished name of the issuing CA.
	CertificateIssuer string `json:"certificateIssuer,omitempty"`
	// KeyFingerprint is sha256:<hex> of the signing key's PKIX encoding.
	KeyFingerprint string `json:"keyFingerprint,omitempty"`
	KeyType        string `json:"keyType,omitempty"`
}

// GitHubClaims are the CI claims Fulcio records for a GitHub Actions token.
type GitHubClaims struct {
	SourceRepository  string `json:"sourceRepository,omitempty"`
	SourceRef         string `json:"sourceRef,omitempty"`
	SourceDigest      string `json:"sourceDigest,omitempty"`
	Trigger           string `json:"trigger,omitempty"`
	SignerWorkflow    string `json:"signerWorkflow,omitempty"`
	ConfigWorkflow    string `json:"configWorkflow,omitempty"`
	RunInvocation     string `json:"runInvocation,omitempty"`
	RunnerEnvironment string `json:"runnerEnvironment,omitempty"`
	SourceOwner       string `json:"sourceOwner,omitempty"`
	SignerDigest      string `json:"signerDigest,omitempty"`
	// LegacyExtensions is set when the certificate predates Fulcio's CI
	// extensions (October 2023) and the claims were read from its legacy
	// GitHub extensions (1.3.6.1.4.1.57264.1.2 to .6) and its SAN.
	LegacyExtensions bool `json:"legacyExtensions,omitempty"`
}

// Timestamp is a verified time: "tlog" (a log's integrated time) or "tsa"
// (an RFC 3161 timestamp authority).
type Timestamp struct {
	Kind string    `json:"kind"`
	URI  string    `json:"uri,omitempty"`
	Time time.Time `json:"time"`
}

// TlogEntry is a transparency log entry carried by the bundle.
type TlogEntry struct {
	LogID string `json:"logId"`
	Index int64  `json:"index"`
	// IntegratedTime is absent for Rekor v2 entries, which have none.
	IntegratedTime *time.Time `json:"integratedTime,omitempty"`
	Kind           string     `json:"kind,omitempty"`
	Version        string     `json:"version,omitempty"`
	RekorVersion   int        `json:"rekorVersion"`
}

// Statement summarises a verified in-toto statement (DSSE bundles).
type Statement struct {
	PayloadType   string    `json:"payloadType"`
	Type          string    `json:"type,omitempty"`
	PredicateType string    `json:"predicateType,omitempty"`
	Subjects      []Subject `json:"subjects,omitempty"`
	// Provenance summarises SLSA provenance (v1, v0.2): builder and source.
	Provenance *Provenance `json:"provenance,omitempty"`
	// Link summarises an in-toto link: the recorded build step.
	Link *Link `json:"link,omitempty"`
	// Predicate is the raw predicate of a verified statement, for callers
	// that read it (an SBOM to scan); it is not part of the JSON report.
	Predicate json.RawMessage `json:"-"`
}

// Subject is one in-toto subject: a name and its digests by algorithm.
type Subject struct {
	Name   string            `json:"name,omitempty"`
	Digest map[string]string `json:"digest"`
}

// Failure explains a rejection or an error.
type Failure struct {
	// Kind is "rejected" (checked and refused) or "error" (could not
	// complete).
	Kind string `json:"kind"`
	// Cause classifies a rejection (empty for errors).
	Cause       Cause        `json:"cause,omitempty"`
	Message     string       `json:"message"`
	Comparisons []Comparison `json:"comparisons,omitempty"`
	Hint        string       `json:"hint,omitempty"`
}
