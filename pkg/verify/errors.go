package verify

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
	"sync"
)

// RejectedError means the bundle was checked and refused: a bad or
// unparseable bundle, a signature that does not verify, an artifact that does
// not match, or a signer that does not satisfy the policy. Any other error
// from this package means verification could not be completed.
type RejectedError struct {
	// Cause classifies the rejection so callers can react (and hint).
	Cause Cause
	// Reason is one line in words a user understands.
	Reason string
	// Comparisons lists expected against actual values when a policy or
	// digest comparison failed: every field that was asked for, matching or
	// not, so the whole picture is visible.
	Comparisons []Comparison
	// Hint suggests a likely fix, if one is known.
	Hint string
	// Err is the underlying error, if any (often from sigstore-go).
	Err error
	// ownWords: Reason says all there is to say, and Err's text (often a
	// library's) is left out of the messages.
	ownWords bool
}

// Comparison is one field of a policy check: what was expected, what the
// bundle holds, and whether they match.
type Comparison struct {
	Field    string `json:"field"`
	Expected string `json:"expected"`
	Actual   string `json:"actual"`
	Match    bool   `json:"match"`
}

// Cause names the kind of a rejection.
type Cause string

// The causes of a rejection.
const (
	CauseMalformed   Cause = "malformed-bundle"     // the bundle does not parse or is invalid
	CauseArtifact    Cause = "artifact-mismatch"    // the artifact is not what was signed
	CauseSignature   Cause = "bad-signature"        // the signature does not verify
	CauseIdentity    Cause = "identity-mismatch"    // the signer is not the one the policy asks for
	CauseSignerKind  Cause = "signer-kind"          // key-signed bundle for a keyless policy or vice versa
	CauseTlog        Cause = "tlog"                 // a transparency log entry does not verify, or too few do
	CauseUnknownLog  Cause = "unknown-log"          // no log entry comes from a log in the trust root
	CauseTimestamp   Cause = "timestamp"            // too few verified timestamps
	CauseRekorV2TSA  Cause = "rekor-v2-without-tsa" // a Rekor v2 entry but the root has no TSA
	CauseCertificate Cause = "certificate"          // the certificate does not chain to a CA of the trust root
	CauseCertTime    Cause = "certificate-time"     // the certificate was not valid at the verified signing time
	CauseSCT         Cause = "sct"                  // the certificate transparency proof fails
	CauseStatement   Cause = "statement-mismatch"   // the statement does not match Policy.Statement
	// CauseTlogTimeIgnored: the only time evidence is a log entry's
	// integrated time, which is not verified when the log is ignored.
	CauseTlogTimeIgnored Cause = "tlog-time-ignored"
	// CausePredicateType: the statement's predicate type is not the one
	// the policy asks for.
	CausePredicateType Cause = "predicate-type"
	// CauseNotAttestation: the policy has a statement rule (a predicate
	// type), but the bundle holds a message signature.
	CauseNotAttestation Cause = "not-an-attestation"
	// CauseProvenance: the provenance does not agree with the certificate,
	// or names another builder than the policy's.
	CauseProvenance Cause = "provenance-mismatch"
)

func (e *RejectedError) Error() string {
	var b strings.Builder
	b.WriteString(e.Message())
	for _, c := range e.Comparisons {
		if !c.Match {
			fmt.Fprintf(&b, "; %s: expected %s, got %q", c.Field, c.Expected, c.Actual)
		}
	}
	return b.String()
}

// Message is the rejection in one line without the comparisons: Reason,
// and the underlying error's text when that adds something.
func (e *RejectedError) Message() string {
	if e.Err == nil || e.ownWords || len(e.Comparisons) > 0 {
		return e.Reason
	}
	detail := cleanLibraryText(e.Err.Error())
	if detail == "" {
		return e.Reason
	}
	return e.Reason + ": " + detail
}

// debris is what fmt writes for a bad verb or a nil %w operand, as in
// sigstore-go's "...; error: %!w(<nil>)".
var debris = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`(?:;\s*error:\s*)?%!\w?\([^)]*\)`) })

// cleanLibraryText drops Go formatting debris from a library's error text.
func cleanLibraryText(s string) string {
	return strings.TrimRight(strings.TrimSpace(debris().ReplaceAllString(s, "")), ";:")
}

func (e *RejectedError) Unwrap() error { return e.Err }

// IsRejected reports whether err is, or wraps, a *RejectedError.
func IsRejected(err error) bool {
	var r *RejectedError
	return errors.As(err, &r)
}

func reject(cause Cause, err error, format string, args ...any) *RejectedError {
	return &RejectedError{Cause: cause, Reason: fmt.Sprintf(format, args...), Err: err}
}

// FailureOf turns an error into the Failure of a Result.
func FailureOf(err error) *Failure {
	var r *RejectedError
	if errors.As(err, &r) {
		f := &Failure{Kind: "rejected", Cause: r.Cause, Message: r.Message(), Comparisons: r.Comparisons, Hint: r.Hint}
		var be *BundleError
		if errors.As(err, &be) {
			f.Message = be.Path + ": " + f.Message
		}
		return f
	}
	return &Failure{Kind: "error", Message: cleanLibraryText(err.Error())}
}
