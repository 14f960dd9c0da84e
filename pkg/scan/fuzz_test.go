package scan

import (
	"os"
	"path/filepath"
	"testing"
)

func seedFiles(f *testing.F, pattern string, min int) {
	f.Helper()
	files, _ := filepath.Glob(pattern)
	if len(files) < min {
		f.Fatalf("seeds %s: found %d files, want at least %d", pattern, len(files), min)
	}
	for _, p := range files {
		data, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
}

// FuzzParseVulnerability parses OSV records and evaluates every affected
// entry against versions of several ecosystems: never a panic.
func FuzzParseVulnerability(f *testing.F) {
	seedFiles(f, "testdata/osv/*.json", 4)
	versions := []string{"0", "1.0", "1.0.0-beta.1", "2.2.0", "1:1.0-1~rc1", "1.0.post1+local", "v0.0.0-20200101000000-abcdef123456", "", "x!y"}
	ecos := []string{"npm", "PyPI", "Maven", "Debian:11", "Go", "RubyGems", "NuGet", "Packagist", "Alpine", "CRAN", "Hackage", "Pub", "Nope"}
	f.Fuzz(func(t *testing.T, data []byte) {
		v, err := ParseVulnerability(data)
		if err != nil {
			return
		}
		for i := range v.Affected {
			a := &v.Affected[i]
			eco, _ := a.PackageIdentity()
			for _, e := range append([]string{eco}, ecos...) {
				for _, ver := range versions {
					_, _ = AffectsVersion(a, e, ver, "abc")
				}
			}
			_ = severityOf(v, a)
		}
		_, _ = Scan(t.Context(), newMemSource([]*Vulnerability{v}), []Package{{Ecosystem: "npm", Name: "a", Version: "1.0.0"}}, Options{AllowIncomplete: true})
	})
}

func FuzzParseIgnoreFile(f *testing.F) {
	seedFiles(f, "testdata/*.toml", 1)
	f.Add([]byte("[[IgnoredVulns]]\nid = \"X\"\nignoreUntil = \"2026-01-01\"\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := ParseIgnoreFile("f", data)
		if err == nil {
			fs := []Finding{{IDs: []string{"X"}}}
			applySuppressions(fs, Options{Ignore: c}, testNow)
		}
	})
}

func FuzzParseVEX(f *testing.F) {
	seedFiles(f, "testdata/*.openvex.json", 1)
	f.Fuzz(func(t *testing.T, data []byte) {
		d, err := ParseVEX("f", data)
		if err == nil {
			fs := []Finding{{IDs: []string{"HM-2026-0002"}, Package: Package{PURL: "pkg:pypi/hallmark-test-web@1"}}}
			applySuppressions(fs, Options{VEX: []*VEXDocument{d}}, testNow)
		}
	})
}

func FuzzParsePURL(f *testing.F) {
	for _, s := range []string{"pkg:npm/%40babel/core@7.0.0", "pkg:maven/g/a@1?type=jar#x", "pkg:deb/debian/openssl@1.1?distro=debian-11"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if p, ok := ParsePURL(s); ok {
			eco, name, _ := p.EcosystemName()
			_ = packagePURL(Package{Ecosystem: eco, Name: name, Version: p.Version})
		}
	})
}
