// Package homebrew holds the rules Homebrew applies to bottle attestations
// (Homebrew/brew's attestation.rb), as data and a verify.Policy on top of
// pkg/verify: which signer is accepted for a tap, which subject a bottle
// must be, and the backfill of bottles built before attestations existed.
//
// The flow is: fetch the bundles for the bottle's digest (any source), verify
// them with [Preset.Policy] (and the backfill ones with
// [BackfillPolicy]), then hand the results to [Check], which picks the
// attestation that names the bottle. Check never re-verifies.
package homebrew

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/hallmark-dev/hallmark/pkg/ecosystem/github"
	"github.com/hallmark-dev/hallmark/pkg/verify"
)

const (
	// CoreRepo is the repository whose workflows build homebrew-core
	// bottles.
	CoreRepo = "Homebrew/homebrew-core"
	// BackfillRepo is the repository whose workflow attested the bottles
	// built before homebrew-core attested its own.
	BackfillRepo = "trailofbits/homebrew-brew-verify"
	// PredicateType is the predicate type of bottle attestations: SLSA
	// provenance v1.
	PredicateType = "https://slsa.dev/provenance/v1"
)

// BackfillCutoff is the latest verified time a backfill attestation may
// have: brew refuses a backfill attestation timestamped after 2024-03-14
// (00:00 UTC, brew's BACKFILL_CUTOFF).
var BackfillCutoff = time.Date(2024, time.March, 14, 0, 0, 0, 0, time.UTC)

// Preset is the bottle policy of one tap.
type Preset struct {
	// Name is "homebrew-core" or "homebrew".
	Name string `json:"name"`
	// Repo is the tap's repository, OWNER/NAME: a workflow of it must have
	// signed (any workflow, as brew accepts).
	Repo string `json:"repo"`
	// Backfill accepts, for bottles with no attestation of their own, the
	// backfill attestations of BackfillRepo made before BackfillCutoff.
	// Only homebrew-core bottles were backfilled.
	Backfill bool `json:"backfill"`
}

// Core returns the homebrew-core preset.
func Core() Preset { return Preset{Name: "homebrew-core", Repo: CoreRepo, Backfill: true} }

// Tap returns the preset of a third-party tap's repository OWNER/NAME. An
// error wraps verify.ErrPolicy.
func Tap(repo string) (Preset, error) {
	if _, err := github.RepoIdentity(repo); err != nil {
		return Preset{}, fmt.Errorf("%w: %v", verify.ErrPolicy, err)
	}
	p := Preset{Name: "homebrew", Repo: repo}
	p.Backfill = strings.EqualFold(repo, CoreRepo)
	return p, nil
}

// Lookup returns the preset called name: "homebrew-core" (repo must be
// empty or Homebrew/homebrew-core) or "homebrew" (repo required).
func Lookup(name, repo string) (Preset, error) {
	switch name {
	case "homebrew-core":
		if repo != "" && !strings.EqualFold(repo, CoreRepo) {
			return Preset{}, fmt.Errorf("%w: preset homebrew-core is for %s, not %q: use preset homebrew for a tap", verify.ErrPolicy, CoreRepo, repo)
		}
		return Core(), nil
	case "homebrew":
		if repo == "" {
			return Preset{}, fmt.Errorf("%w: preset homebrew needs the tap's repository OWNER/NAME", verify.ErrPolicy)
		}
		return Tap(repo)
	}
	return Preset{}, fmt.Errorf("%w: unknown preset %q", verify.ErrPolicy, name)
}

// Identity is the signer the preset accepts: a GitHub Actions workflow of
// the tap's repository, for a build of that repository.
func (p Preset) Identity() *verify.Identity {
	id, err := github.RepoIdentity(p.Repo)
	if err != nil {
		// Presets are built by Core, Tap and Lookup, which check Repo; a
		// hand-made bad one gets an identity nothing matches.
		return &verify.Identity{SAN: "invalid repository " + p.Repo, Issuer: verify.GitHubIssuer}
	}
	return id
}

// Policy is the verify.Policy of the tap's own attestations: the public
// good defaults (one log entry, one timestamp), Identity and SLSA
// provenance v1.
func (p Preset) Policy() verify.Policy {
	return verify.Policy{Identity: p.Identity(), PredicateType: PredicateType}
}

// BackfillPolicy is the verify.Policy of backfill attestations: a
// workflow of BackfillRepo.
func BackfillPolicy() verify.Policy {
	id, _ := github.RepoIdentity(BackfillRepo)
	return verify.Policy{Identity: id, PredicateType: PredicateType}
}

// Bottle is a bottle file, named NAME--VERSION.TAG.bottle[.REBUILD].tar.gz.
type Bottle struct {
	// FileName is the bottle's file name (the attestation subject).
	FileName string `json:"fileName"`
	// Name is the formula.
	Name    string `json:"formula"`
	Version string `json:"version"`
	// Tag is the platform, e.g. arm64_sonoma, or "all".
	Tag     string `json:"tag"`
	Rebuild int    `json:"rebuild,omitempty"`
	// URL is where the bottle was downloaded from; only the backfill
	// subject needs it.
	URL string `json:"url,omitempty"`
}

// ErrBottleName is wrapped by the error of a file name that is not a
// bottle's.
var ErrBottleName = errors.New("not a bottle file name")

// ParseBottle reads a bottle file name.
func ParseBottle(fileName string) (Bottle, error) {
	bad := func(why string) (Bottle, error) {
		return Bottle{}, fmt.Errorf("%w: %q %s (want NAME--VERSION.TAG.bottle[.REBUILD].tar.gz)", ErrBottleName, fileName, why)
	}
	if strings.ContainsAny(fileName, "/\\") {
		return bad("is a path, not a file name")
	}
	base, ok := strings.CutSuffix(fileName, ".tar.gz")
	if !ok {
		return bad("does not end in .tar.gz")
	}
	i := strings.LastIndex(base, ".bottle")
	if i < 0 {
		return bad("has no .bottle")
	}
	b := Bottle{FileName: fileName}
	if rest := base[i+len(".bottle"):]; rest != "" {
		n, err := strconv.Atoi(strings.TrimPrefix(rest, "."))
		if !strings.HasPrefix(rest, ".") || err != nil || n < 0 {
			return bad("has a rebuild that is not a number")
		}
		b.Rebuild = n
	}
	nameVersionTag := base[:i]
	dot := strings.LastIndex(nameVersionTag, ".")
	if dot < 0 {
		return bad("has no platform tag")
	}
	b.Tag = nameVersionTag[dot+1:]
	if !validTag(b.Tag) {
		return bad("has no platform tag (such as arm64_sonoma or all)")
	}
	b.Name, b.Version, ok = strings.Cut(nameVersionTag[:dot], "--")
	if !ok || b.Name == "" || b.Version == "" || b.Tag == "" {
		return bad("has no NAME--VERSION")
	}
	return b, nil
}

// All reports whether the bottle is an :all bottle (one bottle for every
// platform, made by brew bottle --merge).
func (b Bottle) All() bool { return b.Tag == "all" }

// BackfillSubject is the subject name of the bottle's backfill attestation:
// the hex SHA-256 of the bottle URL, "--", the file name. Empty without URL.
func (b Bottle) BackfillSubject() string {
	if b.URL == "" {
		return ""
	}
	return sha256Hex(b.URL) + "--" + b.FileName
}

// validTag reports whether tag looks like a bottle tag: lower-case letters,
// digits and underscores, with at least one letter (so that the last part
// of a version is not taken for a tag).
func validTag(tag string) bool {
	letter := false
	for _, c := range tag {
		switch {
		case c >= 'a' && c <= 'z':
			letter = true
		case c >= '0' && c <= '9' || c == '_':
		default:
			return false
		}
	}
	return letter
}
