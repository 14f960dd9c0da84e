package osvdb_test

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hallmark-dev/hallmark/internal/osvdb"
	"github.com/hallmark-dev/hallmark/pkg/scan"
)

// TestImportKeepsRecordsWithBadTimes: a timestamp that is not RFC 3339
// (PYSEC-2024-55, the malware package cipherbcrypt, has modified
// "1-01-01T00:00:00Z") is read leniently or left out, with a warning; the
// record is kept and found by a scan.
func TestImportKeepsRecordsWithBadTimes(t *testing.T) {
	malware := `{"id":"PYSEC-2024-55","modified":"1-01-01T00:00:00Z","details":"Malicious package.",
		"affected":[{"package":{"ecosystem":"PyPI","name":"cipherbcrypt"},"ranges":[{"type":"ECOSYSTEM","events":[{"introduced":"0"}]}]}]}`
	dateOnly := `{"id":"P-2","modified":"2024-03-05","published":"2024-01-02 10:11","affected":[{"package":{"ecosystem":"PyPI","name":"two"},"versions":["1.0"]}]}`
	garbage := `{"id":"P-3","modified":"2024-03-05T00:00:00Z","withdrawn":"soon","affected":[{"package":{"ecosystem":"PyPI","name":"three"},"versions":["1.0"]}]}`
	src := t.TempDir()
	makeZip(t, filepath.Join(src, "osv-scalibr", "PyPI", "all.zip"), map[string]string{
		"PYSEC-2024-55.json": malware, "P-2.json": dateOnly, "P-3.json": garbage,
		"P-4.json": rec("P-4", "PyPI", "four", "2.0", "2026-01-01T00:00:00Z"),
	})
	dbDir := t.TempDir()
	res, err := osvdb.Import(t.Context(), dbDir, src)
	if err != nil {
		t.Fatal(err)
	}
	if res.Skipped != 0 || res.Repaired != 4 || len(res.Ecosystems) != 1 || res.Ecosystems[0].Records != 4 {
		t.Fatalf("skipped %d, repaired %d, ecosystems %+v (warnings %q), want 4 records kept, 4 times repaired",
			res.Skipped, res.Repaired, res.Ecosystems, res.Warnings)
	}
	for _, want := range []string{
		`record PYSEC-2024-55: modified "1-01-01T00:00:00Z" is not an RFC 3339 time: read as 0001-01-01T00:00:00Z`,
		`record P-2: published "2024-01-02 10:11" is not an RFC 3339 time: read as 2024-01-02T10:11:00Z`,
		`record P-3: withdrawn "soon" is not a time: left out, the record is kept`,
	} {
		if !strings.Contains(strings.Join(res.Warnings, "\n"), want) {
			t.Errorf("no warning %q in %q", want, res.Warnings)
		}
	}
	if got := res.Ecosystems[0].Snapshot; !got.Equal(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("snapshot %v, want the newest modified time", got)
	}
	db, err := osvdb.Open(dbDir)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	r, err := scan.Scan(t.Context(), db, []scan.Package{
		{Ecosystem: "PyPI", Name: "cipherbcrypt", Version: "1.0"},
		{Ecosystem: "PyPI", Name: "three", Version: "1.0"},
	}, scan.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, f := range r.Findings {
		ids = append(ids, f.ID)
	}
	if strings.Join(ids, ",") != "PYSEC-2024-55,P-3" {
		t.Errorf("findings %v, want the malware advisory and P-3 (its unreadable withdrawn date left out)", ids)
	}
	v, err := db.Get(t.Context(), "PyPI", "P-2")
	if err != nil || v == nil || v.Published == nil || !v.Published.Equal(time.Date(2024, 1, 2, 10, 11, 0, 0, time.UTC)) {
		t.Errorf("Get(P-2) = %+v, %v", v, err)
	}
}
