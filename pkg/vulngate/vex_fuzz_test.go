package vulngate

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hallmark-dev/hallmark/pkg/scan"
)

// FuzzCovers: whatever VEX document a user passes (read by scan.ParseVEX,
// as verify --vex reads it), Covers never panics, and a finding it covers
// is covered by a not_affected or fixed statement that names one of the
// finding's ids.
func FuzzCovers(f *testing.F) {
	seeds, _ := filepath.Glob(filepath.Join("testdata", "*.openvex.json"))
	if len(seeds) == 0 {
		f.Fatal("no seed VEX documents in testdata/")
	}
	for _, s := range seeds {
		data, err := os.ReadFile(s)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	fs := []Finding{
		finding("GHSA-0001", scan.LevelHigh, "pkg:npm/lodash@4.17.15", "CVE-2099-0001"),
		finding("GHSA-0002", scan.LevelMedium, "pkg:npm/minimist@1.2.0"),
		finding("GHSA-0003", scan.LevelLow, ""),
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		doc, err := scan.ParseVEX("fuzz.json", data)
		if err != nil {
			return
		}
		for _, x := range fs {
			ref, ok := Covers([]*scan.VEXDocument{doc}, artifact, x)
			if !ok {
				continue
			}
			if ref.Status != "not_affected" && ref.Status != "fixed" {
				t.Fatalf("covered by status %q", ref.Status)
			}
			if !strings.Contains(strings.Join(x.IDs(), " "), ref.ID) || ref.ID == "" {
				t.Fatalf("covered by id %q, not one of %v", ref.ID, x.IDs())
			}
			if ref.Statement < 0 || ref.Statement >= len(doc.Statements) {
				t.Fatalf("statement %d of %d", ref.Statement, len(doc.Statements))
			}
		}
	})
}
