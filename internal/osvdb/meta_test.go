package osvdb_test

import (
	"path/filepath"
	"strings"
	"testing"

	bolt "go.etcd.io/bbolt"

	"github.com/hallmark-dev/hallmark/internal/osvdb"
)

// A database without its meta bucket (a damaged root page reads so) is
// damaged, not an old format: an import over it says it replaces it.
func TestImportOverMissingMetaSaysDamaged(t *testing.T) {
	src := t.TempDir()
	makeZip(t, filepath.Join(src, "osv-scalibr", "npm", "all.zip"), map[string]string{
		"A-1.json": rec("A-1", "npm", "a", "1.0.0", "2026-01-01T00:00:00Z"),
	})
	dir := t.TempDir()
	if _, err := osvdb.Import(t.Context(), dir, src); err != nil {
		t.Fatal(err)
	}
	db, err := bolt.Open(filepath.Join(dir, osvdb.FileName), 0o644, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Update(func(tx *bolt.Tx) error { return tx.DeleteBucket([]byte("meta")) }); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	res, err := osvdb.Import(t.Context(), dir, src)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Warnings) != 1 || !strings.Contains(res.Warnings[0], "no meta bucket") || !strings.Contains(res.Warnings[0], "replacing it") {
		t.Errorf("warnings %q, want one saying the damaged file (no meta bucket) is replaced", res.Warnings)
	}
}
