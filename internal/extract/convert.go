package extract

import (
	"slices"
	"strings"

	"github.com/google/osv-scalibr/extractor"
	"github.com/google/osv-scalibr/extractor/filesystem/language/python/requirements"
	"github.com/google/osv-scalibr/purl"

	"github.com/hallmark-dev/hallmark/pkg/scan"
)

// AnyVersion is the Requirement of a package listed without any version
// constraint (a bare name in requirements.txt, a Maven dependency whose
// version is managed outside the files read).
const AnyVersion = "*"

// ecosystemNames maps osv-scalibr's ecosystem spellings to OSV's where they
// differ. osv-scalibr already uses OSV names for every extractor hallmark
// drives; this table guards against spellings of older or SBOM-derived
// inputs.
var ecosystemNames = map[string]string{
	"pypi":      "PyPI",
	"golang":    "Go",
	"go":        "Go",
	"cargo":     "crates.io",
	"crates":    "crates.io",
	"gem":       "RubyGems",
	"rubygems":  "RubyGems",
	"composer":  "Packagist",
	"packagist": "Packagist",
	"nuget":     "NuGet",
	"maven":     "Maven",
	"pub":       "Pub",
	"hex":       "Hex",
	"cran":      "CRAN",
	"swift":     "SwiftURL",
	"conan":     "ConanCenter",
	"npm":       "npm",
}

// osvEcosystem returns the OSV ecosystem of a package.
func osvEcosystem(p *extractor.Package, pl plugin) string {
	eco := p.Ecosystem().String()
	if eco == "GIT" && pl.ecosystem != "" {
		// A lockfile entry sourced from git (npm "github:..." deps): it is
		// still a package of the lockfile's ecosystem, with a commit.
		return pl.ecosystem
	}
	if eco == "" {
		return pl.ecosystem
	}
	if m, ok := ecosystemNames[strings.ToLower(eco)]; ok {
		return m
	}
	return eco
}

// convert turns an osv-scalibr package into a scan.Package; ok is false when
// the package cannot be matched: it has no ecosystem (an SBOM component
// without a package URL) or is a Go module replaced by a local directory.
func convert(p *extractor.Package, pl plugin, locate func(string) string) (scan.Package, bool) {
	eco := osvEcosystem(p, pl)
	if eco == "" {
		return scan.Package{}, false
	}
	sp := scan.Package{Ecosystem: eco, Name: p.Name, Version: p.Version}
	if pl.ecosystem == "" {
		// SBOM components: the package URL names the package.
		sbomIdentity(&sp, p)
	}
	if eco == "Go" {
		if strings.HasPrefix(sp.Name, ".") || strings.HasPrefix(sp.Name, "/") {
			// A replace directive pointing at a local directory: no
			// module of the ecosystem, nothing to match.
			return scan.Package{}, false
		}
		sp.Version = strings.TrimPrefix(sp.Version, "v") // OSV Go versions have no "v"
	}
	if p.SourceCode != nil {
		sp.Commit = p.SourceCode.Commit
	}
	if g, ok := p.Metadata.(interface{ DepGroups() []string }); ok {
		if groups := g.DepGroups(); len(groups) > 0 {
			sp.DepGroups = slices.Clone(groups)
		}
	}
	if d := p.Location.Descriptor; d != nil && d.File != nil {
		sp.Location = scan.Location{Path: locate(d.File.Path), Line: d.File.LineNumber}
	} else {
		sp.Location = scan.Location{Path: locate("")}
	}
	if m, ok := p.Metadata.(*requirements.Metadata); ok {
		pythonRequirement(&sp, m)
	}
	if strings.Contains(sp.Version, "${") {
		// An unresolved Maven property: not a version.
		sp.Requirement, sp.Version = sp.Version, ""
	}
	if sp.Version == "" && sp.Requirement == "" {
		sp.Requirement = AnyVersion
	}
	sp.PURL = packageURL(p, sp.Version)
	return sp, true
}

// pythonRequirement keeps only exact pins (== and ===, without wildcards) as
// versions; any other specifier is a requirement, never matched as its floor
// (osv-scanner#3025).
func pythonRequirement(sp *scan.Package, m *requirements.Metadata) {
	pinned := (m.VersionComparator == "==" || m.VersionComparator == "===") &&
		!strings.Contains(sp.Version, "*") && !strings.Contains(m.Requirement, ",")
	if pinned {
		return
	}
	sp.Version = ""
	sp.Requirement = requirementSpec(m.Requirement)
}

// requirementSpec strips the name, extras and environment marker from a
// requirement line: "idna[x] <2.8,>=2.5 ; python_version>'3'" -> "<2.8,>=2.5".
func requirementSpec(req string) string {
	req, _, _ = strings.Cut(req, ";")
	req = strings.TrimSpace(req)
	i := strings.IndexAny(req, "<>=!~ [@")
	if i < 0 {
		return AnyVersion
	}
	rest := req[i:]
	if strings.HasPrefix(rest, "[") {
		if j := strings.Index(rest, "]"); j >= 0 {
			rest = rest[j+1:]
		}
	}
	rest = strings.TrimSpace(rest)
	if rest == "" {
		return AnyVersion
	}
	return rest
}

// devGroups are the dependency-group names that mean "development only".
var devGroups = []string{"dev", "test"}

// DevOnly reports whether every dependency group of the package is a
// development group (npm, Composer, Python and Pub "dev"; Maven "test"
// scope). A package without groups is a production dependency.
func DevOnly(p scan.Package) bool {
	if len(p.DepGroups) == 0 {
		return false
	}
	for _, g := range p.DepGroups {
		if !slices.Contains(devGroups, g) {
			return false
		}
	}
	return true
}

// packageURL derives the package URL, with the version only when it is a pin
// and without osv-scalibr's private "source" qualifier.
func packageURL(p *extractor.Package, version string) string {
	u := p.PURL()
	if u == nil {
		return ""
	}
	u.Version = version
	var qs purl.Qualifiers
	for _, q := range u.Qualifiers {
		if q.Key != "source" {
			qs = append(qs, q)
		}
	}
	u.Qualifiers = qs
	return u.String()
}

// sbomIdentity takes an SBOM component's name and version from its package
// URL, spelt as OSV spells names: Maven group:artifact, Go and Packagist
// namespace/name, npm @scope/name.
func sbomIdentity(sp *scan.Package, p *extractor.Package) {
	u := p.PURL()
	if u == nil || u.Name == "" {
		return
	}
	name := u.Name
	if u.Namespace != "" {
		switch u.Type {
		case purl.TypeMaven:
			name = u.Namespace + ":" + u.Name
		default:
			name = u.Namespace + "/" + u.Name
		}
	}
	sp.Name = name
	if u.Version != "" {
		sp.Version = u.Version
	}
}
