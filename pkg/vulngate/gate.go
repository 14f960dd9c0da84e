package vulngate

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/hallmark-dev/hallmark/pkg/scan"
	"github.com/hallmark-dev/hallmark/pkg/verify"
)

// SchemaVersion is the version of the Decision JSON schema.
const SchemaVersion = "1"

// The reasons a gate refuses an artifact, each wrapped by Decision.Err.
var (
	// ErrNoAttestation: no verified scan attestation was given.
	ErrNoAttestation = errors.New("no verified scan attestation")
	// ErrNoTimestamp: no verified scan attestation carries a verified
	// timestamp (RFC 3161 or a log's integrated time), so its age is
	// unknown.
	ErrNoTimestamp = errors.New("no verified scan attestation has a verified timestamp")
	// ErrTooOld: the newest one is not younger than the maximum age.
	ErrTooOld = errors.New("the newest scan attestation is too old")
	// ErrFuture: the newest one's verified time is ahead of the clock by
	// more than MaxClockSkew: the clock (or --max-age-at) is wrong.
	ErrFuture = errors.New("the newest scan attestation's verified time is in the future")
	// ErrIncomplete: the scan says it did not check everything.
	ErrIncomplete = errors.New("the newest scan attestation records an incomplete scan")
	// ErrFindings: findings at or above the threshold that no VEX
	// statement covers.
	ErrFindings = errors.New("findings at or above the threshold that no VEX statement covers")
)

// MaxClockSkew is how far ahead of the clock a verified time may be.
const MaxClockSkew = 5 * time.Minute

// Policy is what the gate requires.
type Policy struct {
	// MaxAge is the age the newest attestation must be younger than; 0
	// sets no limit.
	MaxAge time.Duration
	// FailOn is the lowest level that counts; LevelUnknown (or "") counts
	// every finding. A finding of unknown level counts whatever FailOn is.
	FailOn scan.Level
	// VEX are the OpenVEX documents whose statements may cover findings.
	VEX []*scan.VEXDocument
}

// Artifact is what the attestations are about: its name (for messages)
// and its digests by algorithm (sha256, sha384, sha512: lower-case hex),
// which VEX products must carry.
type Artifact struct {
	Name    string
	Digests map[string]string
}

// Attestation is one verified scan attestation of the artifact.
type Attestation struct {
	// Bundle names where it came from.
	Bundle string
	// Timestamps are the times verification established
	// (verify.Result.Timestamps); the predicate's own times never count.
	Timestamps []verify.Timestamp
	Report     *Report
}

// signedBy is the attestation's time for the gate: its earliest verified
// timestamp (the signature existed by then, so its age is at least now
// minus that time).
func (a Attestation) signedBy() (verify.Timestamp, bool) {
	var best verify.Timestamp
	ok := false
	for _, t := range a.Timestamps {
		if t.Time.IsZero() {
			continue
		}
		if !ok || t.Time.Before(best.Time) {
			best, ok = t, true
		}
	}
	return best, ok
}

// Decision is the gate's outcome for one artifact; it is also the JSON
// (vulnGate) that verify --output json prints.
type Decision struct {
	Artifact string `json:"artifact"`
	Passed   bool   `json:"passed"`
	// Bundle is the attestation used: the newest by verified time.
	Bundle string `json:"bundle,omitempty"`
	// Timestamp is the verified time it was measured by.
	Timestamp *verify.Timestamp `json:"timestamp,omitempty"`
	// Now is the time the age was measured at.
	Now    time.Time `json:"now"`
	Age    Duration  `json:"age,omitempty"`
	MaxAge Duration  `json:"maxAge,omitempty"`
	// FailOn is the threshold ("unknown": every finding).
	FailOn scan.Level `json:"failOn"`
	// Findings is how many findings the attestation lists.
	Findings int `json:"findings"`
	// Offending are the findings that count and no VEX statement covers.
	Offending []Finding `json:"offending,omitempty"`
	// Covered are the findings that would count but a VEX statement covers.
	Covered []Covered `json:"covered,omitempty"`
	// Reasons say why the gate refused (empty when it passed).
	Reasons []Reason `json:"reasons,omitempty"`
	// Report is the scan the decision was made on.
	Report *Report `json:"scan,omitempty"`

	errs []error
}

// Reason is one cause of a refusal.
type Reason struct {
	Cause   string `json:"cause"`
	Message string `json:"message"`
}

// Covered is a finding covered by a VEX statement.
type Covered struct {
	Finding Finding `json:"finding"`
	VEX     VEXRef  `json:"vex"`
}

// VEXRef names the statement that covers a finding.
type VEXRef struct {
	// Source is the VEX file, Statement the statement's index (from 0).
	Source    string `json:"source"`
	Statement int    `json:"statement"`
	// ID is the vulnerability id the statement names.
	ID            string `json:"id"`
	Status        string `json:"status"`
	Justification string `json:"justification,omitempty"`
}

// Duration is a time.Duration that encodes as its string ("1h0m0s").
type Duration time.Duration

// MarshalText encodes the duration as time.Duration's String does.
func (d Duration) MarshalText() ([]byte, error) { return []byte(time.Duration(d).String()), nil }

// Err is nil when the gate passed, else the reasons joined; each wraps
// one of the Err* values above.
func (d *Decision) Err() error { return errors.Join(d.errs...) }

func (d *Decision) refuse(sentinel error, cause, format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	d.Reasons = append(d.Reasons, Reason{Cause: cause, Message: msg})
	d.errs = append(d.errs, fmt.Errorf("%w: %s", sentinel, msg))
	d.Passed = false
}

// Evaluate decides whether the artifact passes: among atts (each already
// verified for the artifact), the newest by verified timestamp must be
// younger than p.MaxAge at now, record a complete scan, and have no
// finding at or above p.FailOn that a VEX statement does not cover (see
// Covers). Every reason that applies is reported, not only the first.
func Evaluate(p Policy, now time.Time, art Artifact, atts []Attestation) *Decision {
	failOn := p.FailOn
	if failOn == "" {
		failOn = scan.LevelUnknown
	}
	d := &Decision{Artifact: art.Name, Passed: true, Now: now.UTC(), MaxAge: Duration(p.MaxAge), FailOn: failOn}
	if len(atts) == 0 {
		d.refuse(ErrNoAttestation, "no-attestation", "no verified scan attestation for %s", art.Name)
		return d
	}
	var newest *Attestation
	var newestTS verify.Timestamp
	for i := range atts {
		a := &atts[i]
		if a.Report == nil {
			continue
		}
		ts, ok := a.signedBy()
		if !ok {
			continue
		}
		if newest == nil || ts.Time.After(newestTS.Time) {
			newest, newestTS = a, ts
		}
	}
	if newest == nil {
		msg := "the verified scan attestation has no verified timestamp"
		if len(atts) > 1 {
			msg = fmt.Sprintf("none of the %d verified scan attestations has a verified timestamp", len(atts))
		}
		d.refuse(ErrNoTimestamp, "no-timestamp", "%s (RFC 3161 or transparency log), so its age is unknown", msg)
		return d
	}
	ts := newestTS
	d.Bundle, d.Timestamp, d.Report = newest.Bundle, &ts, newest.Report
	age := now.Sub(ts.Time)
	d.Age = Duration(age)
	switch {
	case age < -MaxClockSkew:
		d.refuse(ErrFuture, "future-timestamp", "its verified time %s is %s ahead of the clock (%s)",
			ts.Time.UTC().Format(time.RFC3339), (-age).Round(time.Second), now.UTC().Format(time.RFC3339))
	case p.MaxAge > 0 && age >= p.MaxAge:
		d.refuse(ErrTooOld, "too-old", "it is %s old, and must be younger than %s (timestamp %s, %s)",
			age.Round(time.Second), p.MaxAge, ts.Time.UTC().Format(time.RFC3339), ts.Kind)
	}
	if len(newest.Report.Incomplete) > 0 {
		d.refuse(ErrIncomplete, "incomplete", "the scan did not check everything: %s", strings.Join(newest.Report.Incomplete, "; "))
	}
	d.Findings = len(newest.Report.Findings)
	vex := indexVEX(p.VEX)
	for _, f := range newest.Report.Findings {
		if !counts(f.Level, failOn) {
			continue
		}
		if ref, ok := vex.covers(art, f); ok {
			d.Covered = append(d.Covered, Covered{Finding: f, VEX: ref})
			continue
		}
		d.Offending = append(d.Offending, f)
	}
	if n := len(d.Offending); n > 0 {
		what := "at or above " + string(failOn)
		if failOn == scan.LevelUnknown {
			what = "of any severity"
		}
		d.refuse(ErrFindings, "findings", "%d %s %s that no VEX statement covers", n, plural(n, "finding", "findings"), what)
	}
	return d
}

// counts reports whether a finding of level l counts against min: as
// scan.FailOn decides, an unknown level counts whatever min is.
func counts(l, min scan.Level) bool {
	return min.Rank() == 0 || l.Rank() == 0 || l.Rank() >= min.Rank()
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
