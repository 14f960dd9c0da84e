package pypi

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"sync"
	"unicode"

	"github.com/google/osv-scalibr/semantic"
)

// ErrFilename is wrapped by every *FilenameError.
var ErrFilename = errors.New("not a distribution file name")

// FilenameError is a file name that is neither a wheel's (PEP 427, 491)
// nor a source distribution's (PEP 625, and the .zip sdists PyPI still
// serves).
type FilenameError struct {
	Name   string
	Reason string
}

func (e *FilenameError) Error() string {
	return fmt.Sprintf("%q is %s: %s", e.Name, ErrFilename, e.Reason)
}

// Unwrap lets errors.Is(err, ErrFilename) hold.
func (e *FilenameError) Unwrap() error { return ErrFilename }

// Filename is a parsed distribution file name, normalised the way
// pypi-attestations compares a statement's subject with a distribution
// (through packaging's parse_wheel_filename and parse_sdist_filename): the
// project name canonical (PEP 503: lower case, runs of -, _ and . as one -),
// the version a PEP 440 version, compared by value (1.0 is 1.0.0, 1.0a1 is
// 1.0.alpha1), and a wheel's tags expanded from their compressed sets and
// lower-cased. Two names stand for the same distribution when Equal.
type Filename struct {
	// Raw is the file name as given.
	Raw string `json:"fileName"`
	// Project is the canonical project name.
	Project string `json:"project"`
	// Version is the version as written in the file name.
	Version string `json:"version"`
	// Kind is "wheel" or "sdist".
	Kind string `json:"kind"`
	// Build is a wheel's build tag (number and the rest), if any.
	BuildNumber int    `json:"buildNumber,omitempty"`
	BuildSuffix string `json:"buildSuffix,omitempty"`
	HasBuild    bool   `json:"hasBuild,omitempty"`
	// Tags are a wheel's tags, INTERPRETER-ABI-PLATFORM, sorted, lower
	// case, one per combination of the compressed tag sets.
	Tags []string `json:"tags,omitempty"`
	// Extension is ".whl", ".tar.gz" or ".zip".
	Extension string `json:"extension"`

	version semantic.Version
}

// pep440 is the version scheme of PEP 440, Appendix B (the canonical
// regular expression), case-insensitive, as packaging's Version accepts it.
var pep440 = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`(?i)^\s*v?(?:(?:[0-9]+!)?[0-9]+(?:\.[0-9]+)*` +
		`(?:[-_.]?(?:alpha|a|beta|b|preview|pre|c|rc)[-_.]?[0-9]*)?` +
		`(?:-[0-9]+|[-_.]?(?:post|rev|r)[-_.]?[0-9]*)?` +
		`(?:[-_.]?dev[-_.]?[0-9]*)?)` +
		`(?:\+[a-z0-9]+(?:[-_.][a-z0-9]+)*)?\s*$`)
})

var nameRuns = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`[-_.]+`) })

// CanonicalName is a project name as PEP 503 normalises it.
func CanonicalName(name string) string {
	return strings.ToLower(nameRuns().ReplaceAllString(name, "-"))
}

// ParseFilename reads a wheel or sdist file name (a base name, no
// directory).
func ParseFilename(name string) (Filename, error) {
	bad := func(format string, args ...any) (Filename, error) {
		return Filename{}, &FilenameError{Name: name, Reason: fmt.Sprintf(format, args...)}
	}
	if strings.ContainsAny(name, "/\\") {
		return bad("it is a path, not a file name")
	}
	switch {
	case strings.HasSuffix(name, ".whl"):
		return parseWheel(name)
	case strings.HasSuffix(name, ".tar.gz"), strings.HasSuffix(name, ".zip"):
		return parseSdist(name)
	}
	return bad("it ends in neither .whl (a wheel) nor .tar.gz or .zip (a source distribution)")
}

func parseVersion(fileName, v string) (semantic.Version, error) {
	if !pep440().MatchString(v) {
		return nil, &FilenameError{Name: fileName, Reason: fmt.Sprintf("its version %q is not a PEP 440 version", v)}
	}
	pv, err := semantic.ParsePyPIVersion(v)
	if err != nil {
		return nil, &FilenameError{Name: fileName, Reason: fmt.Sprintf("its version %q: %v", v, err)}
	}
	return pv, nil
}

// parseSdist splits NAME-VERSION.tar.gz (or .zip) at the last dash: a PEP
// 440 version has none.
func parseSdist(name string) (Filename, error) {
	ext := ".tar.gz"
	if strings.HasSuffix(name, ".zip") {
		ext = ".zip"
	}
	stem := strings.TrimSuffix(name, ext)
	i := strings.LastIndex(stem, "-")
	if i < 0 {
		return Filename{}, &FilenameError{Name: name, Reason: "it has no dash between project name and version (want NAME-VERSION" + ext + ")"}
	}
	project, version := stem[:i], stem[i+1:]
	if project == "" {
		return Filename{}, &FilenameError{Name: name, Reason: "its project name is empty"}
	}
	v, err := parseVersion(name, version)
	if err != nil {
		return Filename{}, err
	}
	return Filename{Raw: name, Project: CanonicalName(project), Version: version, Kind: "sdist", Extension: ext, version: v}, nil
}

// parseWheel reads NAME-VERSION[-BUILD]-PYTHON-ABI-PLATFORM.whl.
func parseWheel(name string) (Filename, error) {
	bad := func(format string, args ...any) (Filename, error) {
		return Filename{}, &FilenameError{Name: name, Reason: fmt.Sprintf(format, args...)}
	}
	stem := strings.TrimSuffix(name, ".whl")
	parts := strings.Split(stem, "-")
	if len(parts) != 5 && len(parts) != 6 {
		return bad("a wheel has 5 or 6 dash-separated parts (NAME-VERSION[-BUILD]-PYTHON-ABI-PLATFORM.whl), this one %d", len(parts))
	}
	project := parts[0]
	if project == "" || strings.Contains(project, "__") || !wheelNameChars(project) {
		return bad("its project name %q is not escaped as PEP 427 says (letters, digits, single underscores and dots)", project)
	}
	v, err := parseVersion(name, parts[1])
	if err != nil {
		return Filename{}, err
	}
	f := Filename{Raw: name, Project: CanonicalName(project), Version: parts[1], Kind: "wheel", Extension: ".whl", version: v}
	if len(parts) == 6 {
		build := parts[2]
		digits := len(build) - len(strings.TrimLeft(build, "0123456789"))
		if digits == 0 {
			return bad("its build tag %q does not start with a number", build)
		}
		n := 0
		for _, c := range build[:digits] {
			n = n*10 + int(c-'0')
			if n > 1<<30 {
				return bad("its build number %q is too large", build[:digits])
			}
		}
		f.HasBuild, f.BuildNumber, f.BuildSuffix = true, n, build[digits:]
	}
	tagParts := parts[len(parts)-3:]
	for _, py := range strings.Split(tagParts[0], ".") {
		for _, abi := range strings.Split(tagParts[1], ".") {
			for _, plat := range strings.Split(tagParts[2], ".") {
				f.Tags = append(f.Tags, strings.ToLower(py+"-"+abi+"-"+plat))
			}
		}
	}
	slices.Sort(f.Tags)
	f.Tags = slices.Compact(f.Tags)
	return f, nil
}

// wheelNameChars: word characters (letters, digits, underscore, any
// script) and dots, as packaging's [\w\d._] in Unicode mode.
func wheelNameChars(s string) bool {
	for _, r := range s {
		if r != '.' && r != '_' && !unicode.IsLetter(r) && !unicode.IsDigit(r) {
			return false
		}
	}
	return true
}

// Equal reports whether f and g name the same distribution: same kind,
// canonical project, equal version, and for wheels the same build tag and
// tag set. (pypi-attestations compares packaging's parsed tuples; an sdist
// .tar.gz and .zip of one release are equal there too.)
func (f Filename) Equal(g Filename) bool {
	if f.Kind != g.Kind || f.Project != g.Project || f.version == nil || g.version == nil {
		return false
	}
	if c, err := f.version.Compare(g.version); err != nil || c != 0 {
		return false
	}
	if f.Kind == "wheel" {
		return f.HasBuild == g.HasBuild && f.BuildNumber == g.BuildNumber && f.BuildSuffix == g.BuildSuffix && slices.Equal(f.Tags, g.Tags)
	}
	return true
}
