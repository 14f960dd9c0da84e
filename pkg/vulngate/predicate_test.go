package vulngate

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/encoding/protojson"

	"github.com/hallmark-dev/hallmark/pkg/attest"
	"github.com/hallmark-dev/hallmark/pkg/scan"
)

func sampleResult() *scan.Result {
	t0 := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	return &scan.Result{
		Scanner: scan.Scanner{Name: "hallmark", Version: "v1.2.3"},
		Databases: []scan.Database{
			{Ecosystem: "npm", Source: "local database db (imported from osv at 2026-11-30T00:00:00Z)", Snapshot: t0.Add(-48 * time.Hour), Records: 3},
			{Ecosystem: "PyPI", Source: "local database db (imported from osv at 2026-11-30T00:00:00Z)", Snapshot: t0.Add(-24 * time.Hour), Records: 2},
		},
		StartedAt: t0, FinishedAt: t0.Add(time.Second),
		Findings: []scan.Finding{
			{ID: "GHSA-hm01-test-0001", IDs: []string{"GHSA-hm01-test-0001", "OSV-2099-0002"}, Aliases: []string{"CVE-2099-0001"},
				Severity: scan.SeverityScore{Type: "CVSS_V3", Score: 7.4, Level: scan.LevelHigh},
				Package:  scan.Package{Ecosystem: "npm", Name: "lodash", Version: "4.17.15", PURL: "pkg:npm/lodash@4.17.15", Location: scan.Location{Path: "app/package-lock.json"}}},
			{ID: "GHSA-hm01-test-0003", IDs: []string{"GHSA-hm01-test-0003"}, Severity: scan.SeverityScore{Type: "database", Level: scan.LevelMedium},
				Package:    scan.Package{Ecosystem: "npm", Name: "minimist", Version: "1.2.0"},
				Suppressed: &scan.Suppression{Kind: "vex", ID: "GHSA-hm01-test-0003", Status: "not_affected"}},
			{ID: "OSV-2099-0009", IDs: []string{"OSV-2099-0009"}, Severity: scan.SeverityScore{Level: scan.LevelUnknown},
				Package: scan.Package{Ecosystem: "npm", Name: "left-pad", Version: "1.0.0"}},
		},
	}
}

// TestPredicateRoundTrip: the predicate hallmark writes is a valid vulns
// v0.2 predicate (the in-toto Go type and attest's check read it), and
// decodes back to every finding with its ids, level and package.
func TestPredicateRoundTrip(t *testing.T) {
	res := sampleResult()
	started := res.StartedAt.Add(-time.Minute)
	p, err := Predicate(res, started)
	if err != nil {
		t.Fatal(err)
	}
	data, err := protojson.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	if _, uri, err := attest.ReadPredicate("vuln", data); err != nil || uri != PredicateType {
		t.Fatalf("attest.ReadPredicate: %v (%s)", err, uri)
	}
	s := string(data)
	for _, want := range []string{`"uri":"pkg:golang/github.com/hallmark-dev/hallmark@v1.2.3"`, `"version":"v1.2.3"`,
		`"lastUpdate":"2026-11-29T10:00:00Z"`, `"scanStartedOn":"2026-12-01T09:59:00Z"`, `"scanFinishedOn":"2026-12-01T10:00:01Z"`,
		`{"method":"CVSS_V3","score":"7.4"}`, `{"method":"level","score":"high"}`, `"ecosystem":"PyPI"`, `"snapshot":"2026-11-30T10:00:00Z"`} {
		if !strings.Contains(strings.ReplaceAll(s, " ", ""), want) {
			t.Errorf("predicate lacks %s:\n%s", want, s)
		}
	}
	r, err := DecodePredicate(data)
	if err != nil {
		t.Fatal(err)
	}
	if r.ScannerVersion != "v1.2.3" || !r.StartedOn.Equal(started) || !r.FinishedOn.Equal(res.FinishedAt) || len(r.Databases) != 2 || len(r.Incomplete) != 0 {
		t.Errorf("report %+v", r)
	}
	if len(r.Findings) != 3 {
		t.Fatalf("findings %+v", r.Findings)
	}
	f := r.Findings[0]
	if f.ID != "GHSA-hm01-test-0001" || f.Level != scan.LevelHigh || strings.Join(f.Aliases, ",") != "CVE-2099-0001,OSV-2099-0002" ||
		f.Package.PURL != "pkg:npm/lodash@4.17.15" || f.Package.Path != "app/package-lock.json" {
		t.Errorf("finding 0 %+v", f)
	}
	if r.Findings[1].Level != scan.LevelMedium || r.Findings[2].Level != scan.LevelUnknown {
		t.Errorf("levels %v %v", r.Findings[1].Level, r.Findings[2].Level)
	}
}

func TestPredicateRecordsIncompleteScan(t *testing.T) {
	res := sampleResult()
	res.Failures = []scan.FileFailure{{Path: "bad/package-lock.json", Reason: "not JSON"}}
	res.Databases = append(res.Databases, scan.Database{Ecosystem: "Go", Missing: true})
	p, err := Predicate(res, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	data, _ := protojson.Marshal(p)
	r, err := DecodePredicate(data)
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Incomplete) != 2 || !strings.Contains(r.Incomplete[0], "bad/package-lock.json") || !strings.Contains(r.Incomplete[1], `"Go"`) {
		t.Errorf("incomplete %q", r.Incomplete)
	}
}

// TestDecodeOtherScanners: severities as other scanners write them.
func TestDecodeOtherScanners(t *testing.T) {
	data := []byte(`{"scanner":{"uri":"pkg:github/aquasecurity/trivy@244fd47","version":"0.19.2",
	  "db":{"lastUpdate":"2021-08-06T17:45:50.52Z"},
	  "result":[
	    {"id":"CVE-1","severity":[{"method":"nvd","score":"MEDIUM"},{"method":"cvss_score","score":"9.8"}]},
	    {"id":"CVE-2","severity":[{"method":"nvd","score":"Moderate"}]},
	    {"id":"CVE-3","severity":[{"method":"x","score":"NaN"},{"method":"y","score":"11"},{"method":"z","score":"severe"}]},
	    {"id":"CVE-4"}]},
	  "metadata":{"scanStartedOn":"2021-08-06T17:45:50.52Z","scanFinishedOn":"2021-08-06T17:50:50.52Z"}}`)
	r, err := DecodePredicate(data)
	if err != nil {
		t.Fatal(err)
	}
	want := []scan.Level{scan.LevelCritical, scan.LevelMedium, scan.LevelUnknown, scan.LevelUnknown}
	for i, f := range r.Findings {
		if f.Level != want[i] {
			t.Errorf("%s: level %q, want %q", f.ID, f.Level, want[i])
		}
	}
}

func TestDecodePredicateErrors(t *testing.T) {
	for name, data := range map[string]string{
		"not json":       `{`,
		"no scanner uri": `{"scanner":{"result":[]}}`,
		"result no id":   `{"scanner":{"uri":"x","result":[{"severity":[]}]}}`,
		"wrong type":     `{"scanner":{"uri":"x","result":{}}}`,
		"array":          `[]`,
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := DecodePredicate([]byte(data)); !errors.Is(err, ErrPredicate) {
				t.Errorf("err %v, want ErrPredicate", err)
			}
		})
	}
	if _, err := DecodePredicate([]byte(`{"scanner":{"uri":"x"},"databases":"nope"}`)); err != nil {
		t.Errorf("a foreign databases field: %v", err)
	} else if r, _ := DecodePredicate([]byte(`{"scanner":{"uri":"x"},"databases":"nope"}`)); len(r.Incomplete) != 1 {
		t.Errorf("a databases field that does not parse must make the scan incomplete: %+v", r)
	}
}

// FuzzDecodePredicate: any predicate is decoded or refused with
// ErrPredicate, never a panic; what decodes has ids and known levels.
func FuzzDecodePredicate(f *testing.F) {
	res := sampleResult()
	p, err := Predicate(res, time.Time{})
	if err != nil {
		f.Fatal(err)
	}
	seed, _ := protojson.Marshal(p)
	f.Add(seed)
	seeds, _ := filepath.Glob(filepath.Join("testdata", "*.json"))
	if len(seeds) == 0 {
		f.Fatal("no seed predicates in testdata/")
	}
	for _, s := range seeds {
		data, err := os.ReadFile(s)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := DecodePredicate(data)
		if err != nil {
			if !errors.Is(err, ErrPredicate) {
				t.Fatalf("error %v does not wrap ErrPredicate", err)
			}
			return
		}
		for _, x := range r.Findings {
			if x.ID == "" {
				t.Fatal("a finding without id")
			}
			switch x.Level {
			case scan.LevelUnknown, scan.LevelLow, scan.LevelMedium, scan.LevelHigh, scan.LevelCritical:
			default:
				t.Fatalf("level %q", x.Level)
			}
		}
	})
}

// TestPredicateDatabaseURI: scanner.db.uri is the osv.dev API URL when all
// the data came from it, and absent for a local database or a mix.
func TestPredicateDatabaseURI(t *testing.T) {
	api := "osv.dev API https://api.osv.dev"
	for _, tt := range []struct {
		name string
		dbs  []scan.Database
		want string
	}{
		{"online", []scan.Database{{Ecosystem: "npm", Source: api}, {Ecosystem: "PyPI", Source: api}}, `"uri":"https://api.osv.dev"`},
		{"online after a missing one", []scan.Database{{Ecosystem: "Go", Missing: true}, {Ecosystem: "npm", Source: api}}, `"uri":"https://api.osv.dev"`},
		{"local", []scan.Database{{Ecosystem: "npm", Source: "local database db"}}, ""},
		{"mixed", []scan.Database{{Ecosystem: "npm", Source: api}, {Ecosystem: "PyPI", Source: "local database db"}}, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			res := sampleResult()
			res.Databases = tt.dbs
			p, err := Predicate(res, time.Time{})
			if err != nil {
				t.Fatal(err)
			}
			db, _ := protojson.Marshal(p.GetFields()["scanner"].GetStructValue().GetFields()["db"])
			got := strings.ReplaceAll(string(db), " ", "")
			if tt.want == "" && strings.Contains(got, `"uri"`) || tt.want != "" && !strings.Contains(got, tt.want) {
				t.Errorf("scanner.db %s, want %q", got, tt.want)
			}
		})
	}
}
