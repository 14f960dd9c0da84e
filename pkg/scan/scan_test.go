package scan

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

// memSource is an in-memory Source over records read from testdata.
type memSource struct {
	byKey map[string][]*Vulnerability
	ecos  map[string]bool
}

func loadRecords(t testing.TB) []*Vulnerability {
	t.Helper()
	files, err := filepath.Glob("testdata/osv/*.json")
	if err != nil || len(files) == 0 {
		t.Fatalf("no test records: %v", err)
	}
	var out []*Vulnerability
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		v, err := ParseVulnerability(data)
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		out = append(out, v)
	}
	return out
}

func newMemSource(vs []*Vulnerability) *memSource {
	m := &memSource{byKey: map[string][]*Vulnerability{}, ecos: map[string]bool{}}
	for _, v := range vs {
		seen := map[string]bool{}
		for i := range v.Affected {
			eco, name := v.Affected[i].PackageIdentity()
			k := BaseEcosystem(eco) + "\x00" + NormalizeName(eco, name)
			m.ecos[BaseEcosystem(eco)] = true
			if !seen[k] {
				seen[k] = true
				m.byKey[k] = append(m.byKey[k], v)
			}
		}
	}
	return m
}

func (m *memSource) Query(ctx context.Context, qs []Query) ([][]*Vulnerability, error) {
	out := make([][]*Vulnerability, len(qs))
	for i, q := range qs {
		out[i] = m.byKey[BaseEcosystem(q.Ecosystem)+"\x00"+q.Name]
	}
	return out, nil
}

func (m *memSource) Databases(ctx context.Context, ecos []string) ([]Database, error) {
	var out []Database
	for _, e := range ecos {
		out = append(out, Database{Ecosystem: e, Source: "memory", Snapshot: time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC), Missing: !m.ecos[e]})
	}
	return out, nil
}

var testNow = time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)

func testPackages() []Package {
	loc := Location{Path: "lock", Line: 7}
	return []Package{
		{Ecosystem: "npm", Name: "@Hallmark-Test/Pad", Version: "1.1.0", Location: loc},
		{Ecosystem: "npm", Name: "@hallmark-test/pad", Version: "1.0.0", DepGroups: []string{"dev"}, Location: loc},
		{PURL: "pkg:pypi/hallmark-test-web@2.2.0", Location: Location{Path: "sbom.cdx.json"}},
		{Ecosystem: "PyPI", Name: "hallmark_test_web", Version: "3.0.5", Location: loc},
		{Ecosystem: "PyPI", Name: "hallmark-test-web", Version: "3.0.6", Location: loc},
		{Ecosystem: "Maven", Name: "dev.hallmark.test:core", Version: "1.9", Location: loc},
		{Ecosystem: "Go", Name: "example.com/hallmark/test", Version: "v1.3.9", Location: loc},
		{Ecosystem: "Unknownix", Name: "thing", Version: "1", Location: loc},
		{Ecosystem: "PyPI", Name: "certifi", Requirement: ">=2018.1.18", Location: loc},
	}
}

func testOptions(t *testing.T) Options {
	ign, err := os.ReadFile("testdata/osv-scanner.toml")
	if err != nil {
		t.Fatal(err)
	}
	ic, err := ParseIgnoreFile("osv-scanner.toml", ign)
	if err != nil {
		t.Fatal(err)
	}
	vx, err := os.ReadFile("testdata/vex.openvex.json")
	if err != nil {
		t.Fatal(err)
	}
	vd, err := ParseVEX("vex.openvex.json", vx)
	if err != nil {
		t.Fatal(err)
	}
	return Options{Scanner: Scanner{Name: "hallmark", Version: "test"}, Ignore: ic, VEX: []*VEXDocument{vd}, Now: func() time.Time { return testNow }}
}

func TestScan(t *testing.T) {
	src := newMemSource(loadRecords(t))
	res, err := Scan(context.Background(), src, testPackages(), testOptions(t))
	if err != nil {
		t.Fatal(err)
	}
	type row struct {
		name, version, id string
		ids               []string
		level             Level
		suppressed        string
	}
	var got []row
	for _, f := range res.Findings {
		s := ""
		if f.Suppressed != nil {
			s = f.Suppressed.Kind
		}
		got = append(got, row{f.Package.Name, f.Package.Version, f.ID, f.IDs, f.Severity.Level, s})
	}
	want := []row{
		// aliases (CVE-2026-0001) grouped; the CVSS score beats MODERATE
		{"@Hallmark-Test/Pad", "1.1.0", "GHSA-hm00-0000-0001", []string{"GHSA-hm00-0000-0001", "HM-2026-0001"}, LevelCritical, ""},
		// 1.0.0: also in the withdrawn HM-2026-0003's versions list, which is ignored
		{"@hallmark-test/pad", "1.0.0", "GHSA-hm00-0000-0001", []string{"GHSA-hm00-0000-0001", "HM-2026-0001"}, LevelCritical, ""},
		// PURL only; a GIT range listed first does not hide the ECOSYSTEM range; VEX not_affected
		{"", "", "HM-2026-0002", []string{"HM-2026-0002"}, LevelMedium, "vex"},
		// last_affected 3.0.5 is affected
		{"hallmark_test_web", "3.0.5", "HM-2026-0002", []string{"HM-2026-0002"}, LevelMedium, "vex"},
		{"dev.hallmark.test:core", "1.9", "HM-2026-0004", []string{"HM-2026-0004"}, LevelLow, "ignore"},
		{"example.com/hallmark/test", "v1.3.9", "HM-2026-0004", []string{"HM-2026-0004"}, LevelLow, "ignore"},
	}
	if len(got) != len(want) {
		t.Fatalf("got %d findings %+v, want %d", len(got), got, len(want))
	}
	for i := range want {
		g, w := got[i], want[i]
		if g.name != w.name || g.version != w.version || g.id != w.id || !slices.Equal(g.ids, w.ids) || g.level != w.level || g.suppressed != w.suppressed {
			t.Errorf("finding %d = %+v, want %+v", i, g, w)
		}
	}
	if f := res.Findings[2]; f.Package.PURL != "pkg:pypi/hallmark-test-web@2.2.0" {
		t.Errorf("PURL finding has package %+v", f.Package)
	}
	if f := res.Findings[0]; !slices.Equal(f.FixedVersions, []string{"1.2.3"}) || !slices.Equal(f.Aliases, []string{"CVE-2026-0001"}) || f.Package.PURL != "pkg:npm/%40hallmark-test/pad@1.1.0" {
		t.Errorf("finding 0: fixed %v aliases %v purl %q", f.FixedVersions, f.Aliases, f.Package.PURL)
	}
	if len(res.Unpinned) != 1 || res.Unpinned[0].Name != "certifi" {
		t.Errorf("unpinned = %+v", res.Unpinned)
	}
	// The unsupported ecosystem is a warning naming the package.
	if len(res.Warnings) != 1 || res.Warnings[0].Package == nil || res.Warnings[0].Package.Name != "thing" || res.Warnings[0].ID != "HM-2026-0004" {
		t.Errorf("warnings = %+v", res.Warnings)
	}
	if n := len(FailOn(res.Findings, LevelUnknown)); n != 2 {
		t.Errorf("FailOn(any) = %d findings, want 2", n)
	}
	checkGolden(t, "testdata/result.golden.json", res)
}

func checkGolden(t *testing.T, path string, v any) {
	t.Helper()
	got, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	got = append(got, '\n')
	if os.Getenv("UPDATE_GOLDEN") != "" {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with UPDATE_GOLDEN=1 to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs (UPDATE_GOLDEN=1 regenerates it):\n%s", path, got)
	}
}

func TestScanMissingEcosystem(t *testing.T) {
	src := newMemSource(loadRecords(t))
	pkgs := []Package{{Ecosystem: "crates.io", Name: "serde", Version: "1.0.0"}, {Ecosystem: "npm", Name: "@hallmark-test/pad", Version: "1.1.0"}}
	_, err := Scan(context.Background(), src, pkgs, Options{})
	var me *MissingEcosystemError
	if !errors.As(err, &me) || !slices.Equal(me.Ecosystems, []string{"crates.io"}) {
		t.Fatalf("err = %v, want a MissingEcosystemError naming crates.io", err)
	}
	res, err := Scan(context.Background(), src, pkgs, Options{AllowIncomplete: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Findings) != 1 || len(res.Warnings) != 1 {
		t.Errorf("findings %d warnings %+v", len(res.Findings), res.Warnings)
	}
	if _, err := Scan(context.Background(), nil, pkgs, Options{}); !errors.Is(err, ErrNoSource) {
		t.Errorf("nil source: %v", err)
	}
}

func TestFailOn(t *testing.T) {
	fs := []Finding{
		{ID: "low", Severity: SeverityScore{Level: LevelLow}},
		{ID: "medium", Severity: SeverityScore{Level: LevelMedium}},
		{ID: "high", Severity: SeverityScore{Level: LevelHigh}},
		{ID: "critical", Severity: SeverityScore{Level: LevelCritical}},
		{ID: "unknown", Severity: SeverityScore{Level: LevelUnknown}},
		{ID: "suppressed", Severity: SeverityScore{Level: LevelCritical}, Suppressed: &Suppression{Kind: "ignore"}},
	}
	tests := []struct {
		min  Level
		want []string
	}{
		{LevelUnknown, []string{"low", "medium", "high", "critical", "unknown"}},
		{LevelLow, []string{"low", "medium", "high", "critical", "unknown"}},
		{LevelMedium, []string{"medium", "high", "critical", "unknown"}},
		{LevelHigh, []string{"high", "critical", "unknown"}},
		{LevelCritical, []string{"critical", "unknown"}},
	}
	for _, tc := range tests {
		var got []string
		for _, f := range FailOn(fs, tc.min) {
			got = append(got, f.ID)
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("FailOn(%s) = %v, want %v", tc.min, got, tc.want)
		}
	}
	for in, want := range map[string]Level{"LOW": LevelLow, "moderate": LevelMedium, "High": LevelHigh, "critical": LevelCritical} {
		if l, ok := ParseLevel(in); !ok || l != want {
			t.Errorf("ParseLevel(%q) = %v %v", in, l, ok)
		}
	}
	if _, ok := ParseLevel("severe"); ok {
		t.Error("ParseLevel(severe) ok")
	}
}

func TestSeverity(t *testing.T) {
	tests := []struct {
		vector string
		score  float64
		ok     bool
	}{
		{"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", 9.8, true},
		{"CVSS:3.0/AV:N/AC:L/PR:N/UI:R/S:U/C:L/I:L/A:N", 5.4, true},
		{"CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N", 9.3, true},
		{"AV:N/AC:L/Au:N/C:P/I:P/A:P", 7.5, true},
		{"CVSS:3.1/AV:X", 0, false},
		{"", 0, false},
	}
	for _, tc := range tests {
		s, ok := ScoreCVSS(tc.vector)
		if ok != tc.ok || ok && s != tc.score {
			t.Errorf("ScoreCVSS(%q) = %v %v, want %v %v", tc.vector, s, ok, tc.score, tc.ok)
		}
	}
}

func TestParseIgnoreFile(t *testing.T) {
	tests := []struct {
		name, in string
		n        int
		err      error
	}{
		{"empty", "", 0, nil},
		{"date and datetime", "[[IgnoredVulns]]\nid = \"A\"\nignoreUntil = 2026-01-02\n[[IgnoredVulns]]\nid = \"B\"\nignoreUntil = 2026-01-02T03:04:05Z\nreason = \"r\"\n", 2, nil},
		{"string date", "[[IgnoredVulns]]\nid = \"A\"\nignoreUntil = \"2026-01-02\"\n", 1, nil},
		{"no id", "[[IgnoredVulns]]\nreason = \"r\"\n", 0, ErrInvalidIgnoreFile},
		{"bad date", "[[IgnoredVulns]]\nid = \"A\"\nignoreUntil = \"soon\"\n", 0, ErrInvalidIgnoreFile},
		{"not toml", "[[IgnoredVulns\n", 0, ErrInvalidIgnoreFile},
	}
	for _, tc := range tests {
		c, err := ParseIgnoreFile("f.toml", []byte(tc.in))
		if !errors.Is(err, tc.err) || err == nil && tc.err != nil {
			t.Errorf("%s: err %v, want %v", tc.name, err, tc.err)
			continue
		}
		if err == nil && len(c.IgnoredVulns) != tc.n {
			t.Errorf("%s: %d entries, want %d", tc.name, len(c.IgnoredVulns), tc.n)
		}
	}
}

func TestParseVEX(t *testing.T) {
	tests := []struct {
		name, in string
		err      error
	}{
		{"v0.0.1 string vulnerability", `{"statements":[{"vulnerability":"CVE-1","products":["pkg:npm/a"],"status":"fixed"}]}`, nil},
		{"string vulnerability", `{"statements":[{"vulnerability":"CVE-1","products":[{"@id":"pkg:npm/a"}],"status":"fixed"}]}`, nil},
		{"bad status", `{"statements":[{"vulnerability":{"name":"CVE-1"},"status":"fine"}]}`, ErrInvalidVEX},
		{"no vulnerability", `{"statements":[{"status":"fixed"}]}`, ErrInvalidVEX},
		{"no statements", `{}`, ErrInvalidVEX},
		{"not json", `{`, ErrInvalidVEX},
	}
	for _, tc := range tests {
		_, err := ParseVEX("v.json", []byte(tc.in))
		if !errors.Is(err, tc.err) || err == nil && tc.err != nil {
			t.Errorf("%s: err %v, want %v", tc.name, err, tc.err)
		}
	}
	// A fixed statement on a versionless PURL suppresses every version; a
	// versioned one only that version; affected never suppresses.
	d, err := ParseVEX("v.json", []byte(`{"statements":[
		{"vulnerability":{"name":"CVE-9"},"products":[{"@id":"pkg:golang/example.com/m@v1.0.0"}],"status":"fixed"},
		{"vulnerability":{"name":"X-1"},"products":[{"@id":"pkg:npm/app","subcomponents":[{"@id":"pkg:npm/lib"}]}],"status":"not_affected"},
		{"vulnerability":{"name":"X-2"},"products":[{"@id":"pkg:npm/lib"}],"status":"affected"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	fs := []Finding{
		{IDs: []string{"GO-1"}, Aliases: []string{"CVE-9"}, Package: Package{PURL: "pkg:golang/example.com/m@v1.0.0"}},
		{IDs: []string{"GO-1"}, Aliases: []string{"CVE-9"}, Package: Package{PURL: "pkg:golang/example.com/m@v1.0.1"}},
		{IDs: []string{"X-1"}, Package: Package{PURL: "pkg:npm/lib@2.0.0"}},
		{IDs: []string{"X-2"}, Package: Package{PURL: "pkg:npm/lib@2.0.0"}},
	}
	applySuppressions(fs, Options{VEX: []*VEXDocument{d}}, testNow)
	for i, want := range []bool{true, false, true, false} {
		if (fs[i].Suppressed != nil) != want {
			t.Errorf("finding %d suppressed = %+v, want %v", i, fs[i].Suppressed, want)
		}
	}
}

func TestScanWarnsOncePerCause(t *testing.T) {
	recs := loadRecords(t)
	// Three records for the same PyPI package with the same unparseable
	// fixed version: one warning naming the package, no panic.
	var vs []*Vulnerability
	for _, id := range []string{"X-1", "X-2", "X-3"} {
		v := *recs[0]
		v.ID = id
		v.Aliases = nil
		v.Affected = []Affected{{Package: AffectedPackage{Ecosystem: "PyPI", Name: "p"}, Ranges: []Range{{Type: RangeEcosystem, Events: []Event{{Introduced: "0"}, {Fixed: "2.0-weird+"}}}}}}
		vs = append(vs, &v)
	}
	res, err := Scan(context.Background(), newMemSource(vs), []Package{{Ecosystem: "PyPI", Name: "p", Version: "1.0"}}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Warnings) != 1 || res.Warnings[0].Package.Name != "p" {
		t.Errorf("warnings %+v, want one naming p", res.Warnings)
	}
}

// A version that is not a version is listed as unparseable, naming the
// package, and never matched: not into every record whose range starts
// at 0 ("not a version!!" has no numbers, so semantic sorts it below
// every fixed version).
func TestScanUnparseableVersion(t *testing.T) {
	recs := loadRecords(t)
	var vs []*Vulnerability
	for _, id := range []string{"GHSA-aaaa-aaaa-aaaa", "GHSA-bbbb-bbbb-bbbb", "GHSA-cccc-cccc-cccc"} {
		v := *recs[0]
		v.ID = id
		v.Aliases = nil
		v.Affected = []Affected{{Package: AffectedPackage{Ecosystem: "npm", Name: "lodash"}, Ranges: []Range{{Type: RangeSemver, Events: []Event{{Introduced: "0"}, {Fixed: "4.17.21"}}}}}}
		vs = append(vs, &v)
	}
	tests := []struct {
		eco, version string
		unparseable  bool
	}{
		{"npm", "not a version!!", true},
		{"npm", "", false}, // no version: a warning, as before
		{"npm", "4.17.20", false},
	}
	for _, tc := range tests {
		t.Run(tc.version, func(t *testing.T) {
			pkg := Package{Ecosystem: tc.eco, Name: "lodash", Version: tc.version, Location: Location{Path: "package-lock.json"}}
			res, err := Scan(context.Background(), newMemSource(vs), []Package{pkg}, Options{})
			if err != nil {
				t.Fatal(err)
			}
			if !tc.unparseable {
				if len(res.Unparseable) != 0 {
					t.Errorf("unparseable %+v, want none", res.Unparseable)
				}
				return
			}
			if len(res.Findings) != 0 {
				t.Errorf("%d findings for an unparseable version, want 0", len(res.Findings))
			}
			if len(res.Unparseable) != 1 || res.Unparseable[0].Package.Name != "lodash" || res.Unparseable[0].Package.Version != tc.version {
				t.Fatalf("unparseable %+v, want lodash %q", res.Unparseable, tc.version)
			}
			want := `invalid version "not a version!!" in npm: not a SemVer-like version`
			if got := res.Unparseable[0].Reason; got != want {
				t.Errorf("reason %q, want %q", got, want)
			}
			if res.Packages != 1 {
				t.Errorf("Packages = %d, want 1", res.Packages)
			}
		})
	}
}
