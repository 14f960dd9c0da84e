package scan

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"sync"

	"github.com/google/osv-scalibr/semantic"
)

// Matching errors, reported as warnings naming the package.
var (
	// ErrUnsupportedEcosystem: no version order is known for the ecosystem.
	ErrUnsupportedEcosystem = errors.New("unsupported ecosystem")
	// ErrInvalidVersion: a version (the package's or a record's) does not
	// parse in the ecosystem's version scheme.
	ErrInvalidVersion = errors.New("invalid version")
)

// pep440 is the version pattern of PEP 440 (Appendix B), anchored.
var pep440 = lazyRegexp(`(?i)^\s*v?(?:(?:[0-9]+)!)?(?:[0-9]+(?:\.[0-9]+)*)(?:[-_.]?(?:a|b|c|rc|alpha|beta|pre|preview)[-_.]?(?:[0-9]+)?)?(?:(?:-(?:[0-9]+))|(?:[-_.]?(?:post|rev|r)[-_.]?(?:[0-9]+)?))?(?:[-_.]?(?:dev)[-_.]?(?:[0-9]+)?)?(?:\+(?:[a-z0-9]+(?:[-_.][a-z0-9]+)*))?\s*$`)

// semverLike is the shape of versions in the ecosystems whose order
// semantic takes from SemVer (npm, crates.io, Go, Hex, Pub, NuGet, ...):
// numeric components, then optional prerelease and build identifiers. More
// or fewer than three components are accepted (Go toolchains "1.21", NuGet
// "1.0.0.0"), as semantic orders them.
var semverLike = lazyRegexp(`^v?[0-9]+(?:\.[0-9]+)*(?:-[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?(?:\+[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?$`)

// rubyGemsVersion is Gem::Version's pattern (without the empty version).
var rubyGemsVersion = lazyRegexp(`^\s*[0-9]+(?:\.[0-9a-zA-Z]+)*(?:-[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?\s*$`)

// versionPattern is the syntax a version must have in an ecosystem whose
// semantic parser accepts any string and never reports a failed parse, and
// the scheme's name for messages. Ecosystems whose parser reports failures
// itself (Alpine, Debian, Ubuntu, CRAN, Hackage, PyPI by pep440) and those
// whose versions are free-form by design (Maven, Packagist "dev-main",
// ConanCenter, the RPM family) have none.
func versionPattern(base string) (func() *regexp.Regexp, string) {
	switch base {
	case "npm", "crates.io", "Go", "Hex", "Pub", "NuGet", "SwiftURL", "Julia", "Bitnami", "GHC", "Bioconductor":
		return semverLike, "SemVer-like"
	case "RubyGems":
		return rubyGemsVersion, "RubyGems"
	}
	return nil, ""
}

// parseVersion parses v in the order of the range type: SEMVER ranges use
// SemVer 2.0 whatever the ecosystem; ECOSYSTEM ranges the ecosystem's own.
// It never panics (semantic.MustParse is never used).
func parseVersion(rangeType, eco, v string) (semantic.Version, error) {
	base := BaseEcosystem(eco)
	if base == "Go" {
		v = goVersion(v)
	}
	if rangeType == RangeSemver {
		if !semverLike().MatchString(v) {
			return nil, fmt.Errorf("%w %q: not a SemVer version", ErrInvalidVersion, v)
		}
		return semantic.ParseSemverVersion(strings.TrimPrefix(v, "v")), nil
	}
	if base == "PyPI" && !pep440().MatchString(v) {
		// semantic accepts any string as a "legacy" version that sorts
		// before every other: that would be a silent (mis)match.
		return nil, fmt.Errorf("%w %q in PyPI: not a PEP 440 version", ErrInvalidVersion, v)
	}
	if re, scheme := versionPattern(base); re != nil && !re().MatchString(v) {
		// semantic parses any string in these ecosystems: "not a
		// version!!" would be a version with no numbers, below every
		// fixed version, so affected by every range from "0".
		return nil, fmt.Errorf("%w %q in %s: not a %s version", ErrInvalidVersion, v, base, scheme)
	}
	sv, err := semantic.Parse(v, base)
	if err != nil {
		if errors.Is(err, semantic.ErrUnsupportedEcosystem) {
			return nil, fmt.Errorf("%w %q", ErrUnsupportedEcosystem, base)
		}
		return nil, fmt.Errorf("%w %q in %s: %v", ErrInvalidVersion, v, base, err)
	}
	return sv, nil
}

// compare compares the parsed version pv with the version string w; an
// error when w does not parse.
func compare(pv semantic.Version, w string, rangeType, eco string) (int, error) {
	if rangeType == RangeSemver || BaseEcosystem(eco) == "Go" {
		w = strings.TrimPrefix(w, "v")
	}
	if rangeType != RangeSemver && BaseEcosystem(eco) == "PyPI" && !pep440().MatchString(w) {
		return 0, fmt.Errorf("%w %q in a %s range: not a PEP 440 version", ErrInvalidVersion, w, rangeType)
	}
	c, err := pv.CompareStr(w)
	if err != nil {
		return 0, fmt.Errorf("%w %q in a %s range: %v", ErrInvalidVersion, w, rangeType, err)
	}
	return c, nil
}

// versionCache parses the package version once per range type.
type versionCache struct {
	eco, version string
	parsed       map[string]semantic.Version
	errs         map[string]error
}

func (c *versionCache) get(rangeType string) (semantic.Version, error) {
	if v, ok := c.parsed[rangeType]; ok {
		return v, nil
	}
	if err, ok := c.errs[rangeType]; ok {
		return nil, err
	}
	v, err := parseVersion(rangeType, c.eco, c.version)
	if c.parsed == nil {
		c.parsed, c.errs = map[string]semantic.Version{}, map[string]error{}
	}
	if err != nil {
		c.errs[rangeType] = err
		return nil, err
	}
	c.parsed[rangeType] = v
	return v, nil
}

// AffectsVersion reports whether the affected entry covers version (and,
// for GIT ranges, commit) of a package in ecosystem eco. The package name
// is not checked here. Every range is evaluated, in order, and any one
// matching is enough: a GIT range never hides an ECOSYSTEM range. Errors
// (unsupported ecosystem, unparseable version) are returned alongside the
// verdict of the ranges that could be evaluated.
func AffectsVersion(a *Affected, eco, version, commit string) (bool, error) {
	vc := &versionCache{eco: eco, version: version}
	return affects(a, vc, commit)
}

func affects(a *Affected, vc *versionCache, commit string) (bool, error) {
	if vc.version != "" && slices.Contains(a.Versions, vc.version) {
		return true, nil
	}
	var errs []error
	for i := range a.Ranges {
		r := &a.Ranges[i]
		ok, err := rangeAffects(r, vc, commit)
		if err != nil {
			errs = append(errs, err)
		}
		if ok {
			return true, errors.Join(dedupErrs(errs)...)
		}
	}
	// The versions list may spell versions differently ("v1.0" vs "1.0"):
	// compare semantically when the ecosystem has an order.
	if vc.version != "" && len(a.Versions) > 0 {
		pv, err := vc.get(RangeEcosystem)
		if err == nil {
			for _, w := range a.Versions {
				if c, err := compare(pv, w, RangeEcosystem, vc.eco); err == nil && c == 0 {
					return true, nil
				}
			}
		} else if len(a.Ranges) == 0 {
			errs = append(errs, err)
		}
	}
	return false, errors.Join(dedupErrs(errs)...)
}

func dedupErrs(errs []error) []error {
	var out []error
	seen := map[string]bool{}
	for _, e := range errs {
		if !seen[e.Error()] {
			seen[e.Error()] = true
			out = append(out, e)
		}
	}
	return out
}

// rangeAffects evaluates one range as the OSV schema specifies: events are
// sorted by version; introduced opens, fixed closes at its version,
// last_affected closes after its version; limit events bound the range
// from above.
func rangeAffects(r *Range, vc *versionCache, commit string) (bool, error) {
	switch r.Type {
	case RangeGit:
		// Without the repository's history only an exact commit can be
		// decided: the commit is affected when it introduced the
		// vulnerability or is the last affected one. (osv.dev expands GIT
		// ranges into the versions list, which is checked separately.)
		if commit == "" {
			return false, nil
		}
		for _, e := range r.Events {
			if e.Introduced == commit || e.LastAffected == commit {
				return true, nil
			}
		}
		return false, nil
	case RangeSemver, RangeEcosystem:
	default:
		return false, nil
	}
	if vc.version == "" {
		return false, nil
	}
	pv, err := vc.get(r.Type)
	if err != nil {
		return false, err
	}
	type ev struct {
		kind byte // 'i', 'f', 'l'
		v    string
		zero bool
		c    int // compare(package version, event version)
	}
	events := make([]ev, 0, len(r.Events))
	var limits []int
	var errs []error
	for _, e := range r.Events {
		switch {
		case e.Introduced != "":
			if e.Introduced == "0" {
				events = append(events, ev{kind: 'i', v: "0", zero: true, c: 1})
				continue
			}
			c, err := compare(pv, e.Introduced, r.Type, vc.eco)
			if err != nil {
				errs = append(errs, err)
				continue
			}
			events = append(events, ev{kind: 'i', v: e.Introduced, c: c})
		case e.Fixed != "":
			c, err := compare(pv, e.Fixed, r.Type, vc.eco)
			if err != nil {
				errs = append(errs, err)
				continue
			}
			events = append(events, ev{kind: 'f', v: e.Fixed, c: c})
		case e.LastAffected != "":
			c, err := compare(pv, e.LastAffected, r.Type, vc.eco)
			if err != nil {
				errs = append(errs, err)
				continue
			}
			events = append(events, ev{kind: 'l', v: e.LastAffected, c: c})
		case e.Limit != "":
			if e.Limit == "*" {
				continue
			}
			c, err := compare(pv, e.Limit, r.Type, vc.eco)
			if err != nil {
				errs = append(errs, err)
				continue
			}
			limits = append(limits, c)
		}
	}
	if len(limits) > 0 && !slices.ContainsFunc(limits, func(c int) bool { return c < 0 }) {
		return false, errors.Join(errs...)
	}
	// Sort events by version. Comparing two event versions needs them
	// parsed; events are few, so parse on demand.
	var sortErr error
	slices.SortStableFunc(events, func(a, b ev) int {
		switch {
		case a.zero && b.zero:
			return 0
		case a.zero:
			return -1
		case b.zero:
			return 1
		}
		av, err := parseVersion(r.Type, vc.eco, a.v)
		if err != nil {
			sortErr = err
			return 0
		}
		c, err := compare(av, b.v, r.Type, vc.eco)
		if err != nil {
			sortErr = err
			return 0
		}
		return c
	})
	if sortErr != nil {
		errs = append(errs, sortErr)
	}
	affected := false
	for _, e := range events {
		switch e.kind {
		case 'i':
			if e.c >= 0 {
				affected = true
			}
		case 'f':
			if e.c >= 0 {
				affected = false
			}
		case 'l':
			if e.c > 0 {
				affected = false
			}
		}
	}
	return affected, errors.Join(errs...)
}

// lazyRegexp compiles on first use, keeping package initialisation light.
func lazyRegexp(expr string) func() *regexp.Regexp {
	return sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(expr) })
}

// goVersion strips the "v" of module versions and the "go" of toolchain
// (stdlib) versions: v1.2.3 -> 1.2.3, go1.21.0 -> 1.21.0.
func goVersion(v string) string {
	v = strings.TrimPrefix(v, "v")
	if rest, ok := strings.CutPrefix(v, "go"); ok && rest != "" && rest[0] >= '0' && rest[0] <= '9' {
		return rest
	}
	return v
}
