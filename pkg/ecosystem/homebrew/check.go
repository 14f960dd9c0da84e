package homebrew

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/hallmark-dev/hallmark/pkg/verify"
)

// Reason is the machine-readable cause of a bottle verdict, stable in JSON
// so that brew can act on each.
type Reason string

// The reasons. Check returns the first three; the others classify failures
// to get the attestations (see [ErrAuth], [ErrRateLimit], [ErrNetwork]).
const (
	ReasonVerified           Reason = "verified"
	ReasonNoAttestation      Reason = "no-attestation"
	ReasonInvalidAttestation Reason = "invalid-attestation"
	ReasonAuth               Reason = "auth"
	ReasonRateLimit          Reason = "rate-limited"
	ReasonNetwork            Reason = "network"
)

// The errors, one per reason. A source of attestations wraps ErrAuth,
// ErrRateLimit or ErrNetwork so that ReasonOf tells them apart.
var (
	// ErrNoAttestation: no attestation at all for the bottle's digest.
	ErrNoAttestation = errors.New("no attestation")
	// ErrInvalidAttestation: attestations exist, but none verified and
	// names the bottle (refused, another subject, backfill too new).
	ErrInvalidAttestation = errors.New("invalid attestation")
	ErrAuth               = errors.New("authentication failed")
	ErrRateLimit          = errors.New("rate limited")
	ErrNetwork            = errors.New("network error")
)

// ReasonOf classifies err (nil is ReasonVerified). An unknown error is
// ReasonInvalidAttestation, never a success.
func ReasonOf(err error) Reason {
	switch {
	case err == nil:
		return ReasonVerified
	case errors.Is(err, ErrNoAttestation):
		return ReasonNoAttestation
	case errors.Is(err, ErrAuth):
		return ReasonAuth
	case errors.Is(err, ErrRateLimit):
		return ReasonRateLimit
	case errors.Is(err, ErrNetwork):
		return ReasonNetwork
	}
	return ReasonInvalidAttestation
}

// Evidence is what verifying the bundles found for the bottle's digest
// gave: the results that verified under the policy and the number refused.
type Evidence struct {
	Verified []*verify.Result
	// Refused is how many bundles did not verify; Reasons says why, one
	// line each, for the message.
	Refused int
	Reasons []string
}

func (e Evidence) empty() bool { return len(e.Verified) == 0 && e.Refused == 0 }

// Verdict is the accepted attestation of a bottle: what brew shows.
type Verdict struct {
	Bottle Bottle `json:"bottle"`
	// Subject is the subject name that matched.
	Subject string `json:"subject"`
	// Backfill is true when the backfill attestation was used.
	Backfill bool `json:"backfill"`
	// Repository is the source repository of the build.
	Repository string `json:"repository,omitempty"`
	// Workflow is the workflow that signed (SAN).
	Workflow string `json:"workflow,omitempty"`
	// Run is the workflow run that built the bottle.
	Run string `json:"run,omitempty"`
	// Time is the latest verified time of the attestation.
	Time time.Time `json:"time"`
	// Result is the verification result of the attestation used.
	Result *verify.Result `json:"-"`
}

// Check picks the attestation that vouches for the bottle, as brew does,
// from attestations already verified for the bottle's digest: own (the
// tap's policy) and, when the preset allows it and own has none, backfill
// (BackfillPolicy, accepted only when not after cutoff; pass
// BackfillCutoff). Every subject of every verified SLSA v1 attestation is
// considered; the subject must carry the bottle's SHA-256 and be named as
// the bottle, or for an :all bottle be a bottle file name of the same
// NAME--VERSION. (brew matches names only, and :all bottles by the prefix
// NAME--VERSION; requiring the digest on that same subject and a whole
// version is stricter.)
//
// The error wraps ErrNoAttestation when there was nothing at all, else
// ErrInvalidAttestation.
func Check(p Preset, b Bottle, digest verify.Digest, own, backfill Evidence, cutoff time.Time) (*Verdict, error) {
	if digest.Algorithm != "sha256" || digest.Value == "" {
		return nil, fmt.Errorf("%w: bottle %q: a bottle is identified by its sha256, not %q", ErrInvalidAttestation, b.FileName, digest)
	}
	if r, subj := find(own.Verified, digest.Value, func(name string) bool { return b.matches(name) }); r != nil {
		return verdict(b, subj, false, r), nil
	}
	var why []string
	if len(own.Verified) > 0 {
		why = append(why, fmt.Sprintf("%d attestation(s) of %s verified, but none has a subject %s with digest sha256:%s",
			len(own.Verified), p.Repo, b.wanted(), digest.Value))
	}
	why = append(why, own.Reasons...)
	if p.Backfill {
		want := b.BackfillSubject()
		if want != "" {
			r, subj := find(backfill.Verified, digest.Value, func(name string) bool { return name == want })
			if r != nil {
				v := verdict(b, subj, true, r)
				if v.Time.IsZero() {
					why = append(why, "the backfill attestation has no verified time")
				} else if v.Time.After(cutoff) {
					why = append(why, fmt.Sprintf("the backfill attestation was made %s, after the backfill cutoff %s",
						v.Time.UTC().Format(time.RFC3339), cutoff.UTC().Format(time.RFC3339)))
				} else {
					return v, nil
				}
			} else if len(backfill.Verified) > 0 {
				why = append(why, fmt.Sprintf("%d backfill attestation(s) verified, but none has the subject %q", len(backfill.Verified), want))
			}
		} else if !backfill.empty() {
			why = append(why, "backfill attestations exist, but the bottle URL that names their subject was not given")
		}
		why = append(why, backfill.Reasons...)
	}
	if own.empty() && (!p.Backfill || backfill.empty()) {
		return nil, fmt.Errorf("%w for bottle %q (sha256:%s)", ErrNoAttestation, b.FileName, digest.Value)
	}
	return nil, fmt.Errorf("%w for bottle %q: %s", ErrInvalidAttestation, b.FileName, strings.Join(why, "; "))
}

// matches reports whether a subject name stands for the bottle.
func (b Bottle) matches(name string) bool {
	if b.All() {
		// brew takes any subject starting with NAME--VERSION; a version
		// holds dots (1.7 is a prefix of 1.7.1), so the subject must parse
		// as a bottle of that very formula and version.
		s, err := ParseBottle(name)
		return err == nil && s.Name == b.Name && s.Version == b.Version
	}
	return name == b.FileName
}

func (b Bottle) wanted() string {
	if b.All() {
		return fmt.Sprintf("naming a bottle of %s %s (%q)", b.Name, b.Version, b.Name+"--"+b.Version+".TAG.bottle.tar.gz")
	}
	return fmt.Sprintf("%q", b.FileName)
}

// find returns the first verified SLSA v1 result with a subject that
// matches by name and carries digest, and that subject's name.
func find(results []*verify.Result, digest string, match func(string) bool) (*verify.Result, string) {
	for _, r := range results {
		if r == nil || !r.Verified || r.Statement == nil || r.Statement.PredicateType != PredicateType {
			continue
		}
		for _, s := range r.Statement.Subjects {
			if match(s.Name) && strings.EqualFold(s.Digest["sha256"], digest) {
				return r, s.Name
			}
		}
	}
	return nil, ""
}

func verdict(b Bottle, subject string, backfill bool, r *verify.Result) *Verdict {
	v := &Verdict{Bottle: b, Subject: subject, Backfill: backfill, Result: r}
	if s := r.Signer; s != nil {
		v.Workflow = s.SAN
		if gh := s.GitHub; gh != nil {
			v.Repository, v.Run = gh.SourceRepository, gh.RunInvocation
		}
	}
	for _, t := range r.Timestamps {
		if t.Time.After(v.Time) {
			v.Time = t.Time
		}
	}
	return v
}

func sha256Hex(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}
