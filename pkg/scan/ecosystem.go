package scan

import (
	"net/url"
	"strings"
	"sync"
)

// canonicalEcosystems maps lower-cased OSV ecosystem names to their
// canonical spelling.
var canonicalEcosystems = sync.OnceValue(func() map[string]string {
	m := map[string]string{}
	for _, e := range []string{
		"AlmaLinux", "Alpaquita", "Alpine", "Android", "BellSoft Hardened Containers", "Bioconductor",
		"Bitnami", "Chainguard", "ConanCenter", "CRAN", "crates.io", "Debian", "GHC", "GitHub Actions",
		"Go", "Hackage", "Hex", "Julia", "Linux", "Mageia", "Maven", "MinimOS", "npm", "NuGet",
		"openEuler", "openSUSE", "OSS-Fuzz", "Packagist", "Photon OS", "Pub", "PyPI", "Red Hat",
		"Rocky Linux", "RubyGems", "SUSE", "SwiftURL", "Ubuntu", "Wolfi", "VSCode",
	} {
		m[strings.ToLower(e)] = e
	}
	m["golang"] = "Go"
	m["pypi"] = "PyPI"
	m["cargo"] = "crates.io"
	return m
})

// NormalizeEcosystem returns the canonical spelling of an OSV ecosystem
// name, keeping a ":suffix" (such as "Debian:11") when present. Unknown
// ecosystems are returned trimmed but otherwise unchanged.
func NormalizeEcosystem(eco string) string {
	eco = strings.TrimSpace(eco)
	base, suffix, has := strings.Cut(eco, ":")
	if c, ok := canonicalEcosystems()[strings.ToLower(base)]; ok {
		base = c
	}
	if has {
		return base + ":" + suffix
	}
	return base
}

// BaseEcosystem returns the ecosystem without its ":suffix" ("Debian:11"
// -> "Debian"), canonically spelled: the key the database is indexed by.
func BaseEcosystem(eco string) string {
	base, _, _ := strings.Cut(NormalizeEcosystem(eco), ":")
	return base
}

// NormalizeName normalizes a package name for comparison within an
// ecosystem: PEP 503 for PyPI; lower case for npm, NuGet, Packagist, Pub,
// Hex and crates.io ("-" and "_" are the same crate); Maven "group:artifact"
// without spaces; Go module paths unchanged except a trailing slash.
func NormalizeName(eco, name string) string {
	name = strings.TrimSpace(name)
	switch BaseEcosystem(eco) {
	case "PyPI":
		return pep503(name)
	case "npm", "NuGet", "Packagist", "Pub", "Hex":
		return strings.ToLower(name)
	case "crates.io":
		return strings.ReplaceAll(strings.ToLower(name), "_", "-")
	case "Maven":
		return strings.ReplaceAll(name, " ", "")
	case "Go":
		return strings.TrimSuffix(name, "/")
	}
	return name
}

// pep503 lower-cases a Python distribution name and collapses runs of
// "-", "_" and "." into one "-".
func pep503(name string) string {
	var b strings.Builder
	b.Grow(len(name))
	sep := false
	for i := 0; i < len(name); i++ {
		c := name[i]
		if c == '-' || c == '_' || c == '.' {
			sep = true
			continue
		}
		if sep && b.Len() > 0 {
			b.WriteByte('-')
		}
		sep = false
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		b.WriteByte(c)
	}
	return b.String()
}

// PURL is a parsed package URL (https://github.com/package-url/purl-spec).
type PURL struct {
	Type       string
	Namespace  string
	Name       string
	Version    string
	Qualifiers map[string]string
}

// ParsePURL parses a package URL. It returns ok=false when s is not one.
func ParsePURL(s string) (p PURL, ok bool) {
	rest, found := strings.CutPrefix(strings.TrimSpace(s), "pkg:")
	if !found {
		return p, false
	}
	rest = strings.TrimLeft(rest, "/")
	if i := strings.IndexByte(rest, '#'); i >= 0 {
		rest = rest[:i]
	}
	if i := strings.IndexByte(rest, '?'); i >= 0 {
		q, _ := url.ParseQuery(rest[i+1:])
		p.Qualifiers = map[string]string{}
		for k, v := range q {
			if len(v) > 0 {
				p.Qualifiers[strings.ToLower(k)] = v[0]
			}
		}
		rest = rest[:i]
	}
	if i := strings.LastIndexByte(rest, '@'); i >= 0 && i > strings.LastIndexByte(rest, '/') {
		p.Version, _ = url.PathUnescape(rest[i+1:])
		rest = rest[:i]
	}
	typ, path, found := strings.Cut(rest, "/")
	if !found || typ == "" || path == "" {
		return PURL{}, false
	}
	p.Type = strings.ToLower(typ)
	segs := strings.Split(strings.Trim(path, "/"), "/")
	for i, sg := range segs {
		segs[i], _ = url.PathUnescape(sg)
	}
	p.Name = segs[len(segs)-1]
	p.Namespace = strings.Join(segs[:len(segs)-1], "/")
	if p.Name == "" {
		return PURL{}, false
	}
	return p, true
}

// purlEcosystems maps PURL types to OSV ecosystems.
var purlEcosystems = map[string]string{
	"npm": "npm", "pypi": "PyPI", "maven": "Maven", "golang": "Go", "cargo": "crates.io",
	"gem": "RubyGems", "composer": "Packagist", "nuget": "NuGet", "pub": "Pub", "hex": "Hex",
	"cran": "CRAN", "hackage": "Hackage", "swift": "SwiftURL", "conan": "ConanCenter",
	"bitnami": "Bitnami", "github": "GitHub Actions",
}

// EcosystemName derives the OSV ecosystem and package name from a PURL;
// ok is false when the PURL type has no OSV ecosystem.
func (p PURL) EcosystemName() (eco, name string, ok bool) {
	switch p.Type {
	case "deb":
		switch strings.ToLower(p.Namespace) {
		case "debian":
			eco = "Debian"
		case "ubuntu":
			eco = "Ubuntu"
		default:
			return "", "", false
		}
		return eco, p.Name, true
	case "apk":
		switch strings.ToLower(p.Namespace) {
		case "alpine":
			return "Alpine", p.Name, true
		case "wolfi":
			return "Wolfi", p.Name, true
		case "chainguard":
			return "Chainguard", p.Name, true
		}
		return "", "", false
	}
	eco, ok = purlEcosystems[p.Type]
	if !ok {
		return "", "", false
	}
	name = p.Name
	if p.Namespace != "" {
		switch eco {
		case "Maven":
			name = p.Namespace + ":" + p.Name
		default:
			name = p.Namespace + "/" + p.Name
		}
	}
	return eco, name, true
}

// packagePURL returns the package's PURL, deriving one from its ecosystem,
// name and version when it has none ("" when the ecosystem has no PURL
// type).
func packagePURL(p Package) string {
	if p.PURL != "" {
		return p.PURL
	}
	eco := BaseEcosystem(p.Ecosystem)
	var typ string
	for t, e := range purlEcosystems {
		if e == eco {
			typ = t
			break
		}
	}
	if typ == "" || p.Name == "" {
		return ""
	}
	name := p.Name
	switch eco {
	case "Maven":
		name = strings.Replace(name, ":", "/", 1)
	case "npm":
		// The PURL spec lower-cases npm names.
		name = strings.Replace(strings.ToLower(name), "@", "%40", 1)
	case "PyPI":
		name = pep503(name)
	}
	s := "pkg:" + typ + "/" + name
	if p.Version != "" {
		s += "@" + url.PathEscape(p.Version)
	}
	return s
}

// identify returns the package's ecosystem (canonical, with suffix), its
// normalized and raw names and the version, taking them from the PURL when
// the package has one and lacks them.
func identify(p Package) (eco, name, raw, version string) {
	eco, raw, version = p.Ecosystem, p.Name, p.Version
	if p.PURL != "" {
		if pu, ok := ParsePURL(p.PURL); ok {
			if e, n, ok := pu.EcosystemName(); ok {
				if eco == "" {
					eco = e
				}
				if raw == "" {
					raw = n
				}
			}
			if version == "" {
				version = pu.Version
			}
		}
	}
	eco = NormalizeEcosystem(eco)
	raw = strings.TrimSpace(raw)
	return eco, NormalizeName(eco, raw), raw, version
}
