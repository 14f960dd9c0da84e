package scan_test

import (
	"context"
	"fmt"

	"github.com/hallmark-dev/hallmark/pkg/scan"
)

// oneRecord is a Source holding a single OSV record.
type oneRecord struct{ v *scan.Vulnerability }

func (s oneRecord) Query(ctx context.Context, qs []scan.Query) ([][]*scan.Vulnerability, error) {
	out := make([][]*scan.Vulnerability, len(qs))
	for i := range out {
		out[i] = []*scan.Vulnerability{s.v}
	}
	return out, nil
}

func (s oneRecord) Databases(ctx context.Context, ecos []string) ([]scan.Database, error) {
	var out []scan.Database
	for _, e := range ecos {
		out = append(out, scan.Database{Ecosystem: e, Source: "example"})
	}
	return out, nil
}

func ExampleScan() {
	v, _ := scan.ParseVulnerability([]byte(`{
		"id": "EXAMPLE-1", "modified": "2026-01-01T00:00:00Z", "aliases": ["CVE-2026-1"],
		"severity": [{"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N"}],
		"affected": [{"package": {"ecosystem": "PyPI", "name": "Example_Pkg"},
			"ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "2.0"}]}]}]}`))
	pkgs := []scan.Package{
		{Ecosystem: "PyPI", Name: "example-pkg", Version: "1.9"},
		{Ecosystem: "PyPI", Name: "example.pkg", Requirement: ">=1.0"},
	}
	res, err := scan.Scan(context.Background(), oneRecord{v}, pkgs, scan.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, f := range res.Findings {
		fmt.Println(f.Package.Name, f.Package.Version, f.ID, f.Aliases, f.Severity.Score, f.Severity.Level, f.FixedVersions)
	}
	fmt.Println("unpinned:", res.Unpinned[0].Name, res.Unpinned[0].Requirement)
	fmt.Println("failing at high:", len(scan.FailOn(res.Findings, scan.LevelHigh)))
	// Output:
	// example-pkg 1.9 EXAMPLE-1 [CVE-2026-1] 7.5 high [2.0]
	// unpinned: example.pkg >=1.0
	// failing at high: 1
}
