package osvdb_test

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hallmark-dev/hallmark/internal/osvdb"
	"github.com/hallmark-dev/hallmark/pkg/scan"
)

// TestDamagedDatabase damages a database file the ways disks and copies
// do: every read path says ErrDamaged (no crash), Check finds it, and an
// import replaces the file.
func TestDamagedDatabase(t *testing.T) {
	src := t.TempDir()
	makeZip(t, filepath.Join(src, "osv-scalibr", "npm", "all.zip"), map[string]string{
		"A-1.json": rec("A-1", "npm", "a", "1.0.0", "2026-01-01T00:00:00Z"),
		"A-2.json": rec("A-2", "npm", "b", "1.0.0", "2026-01-01T00:00:00Z"),
	})
	goodDir := t.TempDir()
	if _, err := osvdb.Import(t.Context(), goodDir, src); err != nil {
		t.Fatal(err)
	}
	if n, err := osvdb.Check(t.Context(), goodDir); err != nil || n != 2 {
		t.Fatalf("Check(good) = %d, %v", n, err)
	}
	good, err := os.ReadFile(filepath.Join(goodDir, osvdb.FileName))
	if err != nil {
		t.Fatal(err)
	}
	overwrite := func(off int) func([]byte) []byte {
		return func(b []byte) []byte {
			b = bytes.Clone(b)
			copy(b[off:], bytes.Repeat([]byte{0xff}, 32))
			return b
		}
	}
	tests := []struct {
		name   string
		damage func([]byte) []byte
		want   string // in the error
	}{
		{"empty", func([]byte) []byte { return nil }, "the file is empty"},
		{"truncated", func(b []byte) []byte { return b[:8192] }, "it was truncated"},
		{"one page", func(b []byte) []byte { return b[:4096] }, "it was truncated"},
		{"both meta pages", func(b []byte) []byte { return overwrite(4096 + 16)(overwrite(16)(b)) }, "no valid bbolt header"},
		{"root page", func(b []byte) []byte { return overwrite(int(rootPage(t, b))*4096 + 24)(b) }, "reading it failed"},
	}
	// A damaged meta page 0 is what bbolt recovers from (it uses page 1),
	// but not sound.
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, osvdb.FileName), overwrite(0)(good), 0o644)
	if _, err := osvdb.Check(t.Context(), dir); !errors.Is(err, osvdb.ErrDamaged) || !strings.Contains(err.Error(), "page 0 says it is page 18446744073709551615") {
		t.Errorf("Check(meta page 0 damaged) = %v", err)
	}
	pkgs := []scan.Package{{Ecosystem: "npm", Name: "a", Version: "0.1.0"}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			if err := os.WriteFile(filepath.Join(dir, osvdb.FileName), tc.damage(good), 0o644); err != nil {
				t.Fatal(err)
			}
			check := func(what string, err error) {
				t.Helper()
				if !errors.Is(err, osvdb.ErrDamaged) || !strings.Contains(err.Error(), tc.want) {
					t.Errorf("%s: %v, want ErrDamaged with %q", what, err, tc.want)
				}
			}
			db, err := osvdb.Open(dir)
			if err == nil {
				_, err = scan.Scan(t.Context(), db, pkgs, scan.Options{})
				db.Close()
			}
			check("open and scan", err)
			_, err = osvdb.Check(t.Context(), dir)
			check("Check", err)
			res, err := osvdb.Import(t.Context(), dir, src)
			if err != nil {
				t.Fatalf("import over the damaged file: %v", err)
			}
			if len(res.Warnings) != 1 || !strings.Contains(res.Warnings[0], "replacing it") {
				t.Errorf("warnings %q, want one saying the file is replaced", res.Warnings)
			}
			if n, err := osvdb.Check(t.Context(), dir); err != nil || n != 2 {
				t.Errorf("after import: Check = %d, %v", n, err)
			}
		})
	}
}

// TestDamagedRecord: a record whose bytes changed is found by Check and
// by the scan that reads it.
func TestDamagedRecord(t *testing.T) {
	src := t.TempDir()
	long := strings.Repeat("x", 3000)
	r := strings.Replace(rec("A-1", "npm", "a", "1.0.0", "2026-01-01T00:00:00Z"), `"id"`, `"details":"`+long+`","id"`, 1)
	makeZip(t, filepath.Join(src, "osv-scalibr", "npm", "all.zip"), map[string]string{"A-1.json": r})
	dir := t.TempDir()
	if _, err := osvdb.Import(t.Context(), dir, src); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, osvdb.FileName)
	b, _ := os.ReadFile(p)
	offs := findBlobs(b)
	if len(offs) == 0 {
		t.Fatal("record not found in the file")
	}
	for _, i := range offs {
		copy(b[i:], bytes.Repeat([]byte{0x55}, 32))
	}
	os.WriteFile(p, b, 0o644)
	if _, err := osvdb.Check(t.Context(), dir); !errors.Is(err, osvdb.ErrDamaged) || !strings.Contains(err.Error(), `record npm/"A-1"`) {
		t.Errorf("Check = %v, want the damaged record named", err)
	}
	db, err := osvdb.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Query(t.Context(), []scan.Query{{Ecosystem: "npm", Name: "a"}}); !errors.Is(err, osvdb.ErrDamaged) {
		t.Errorf("Query = %v, want ErrDamaged", err)
	}
}

// findBlobs returns the offsets of the stored values of record A-1 (in a
// bbolt leaf page a value follows its key; pages of older transactions
// may hold copies).
func findBlobs(b []byte) []int {
	var out []int
	for off := 0; ; {
		i := bytes.Index(b[off:], []byte("A-1"))
		if i < 0 {
			return out
		}
		i += off
		if i >= 2 && string(b[i-2:i]) != "a\x00" { // not the index key a NUL A-1
			out = append(out, i+3)
		}
		off = i + 1
	}
}

// rootPage is the root bucket's page in the current meta (the layout
// checkFile reads).
func rootPage(t testing.TB, b []byte) uint64 {
	t.Helper()
	le := func(o int) uint64 {
		var v uint64
		for i := 7; i >= 0; i-- {
			v = v<<8 | uint64(b[o+i])
		}
		return v
	}
	// meta: 16-byte page header, then magic, version, page size, flags,
	// root (8), sequence (8), freelist, pgid, txid.
	r0, tx0 := le(16+16), le(16+48)
	ps := int(le(16+8) & 0xffffffff)
	r1, tx1 := le(ps+16+16), le(ps+16+48)
	if tx1 > tx0 {
		return r1
	}
	return r0
}

// FuzzDamagedDatabase overwrites bytes of a small database and reads it
// every way hallmark does: an error, never a crash or a hang.
func FuzzDamagedDatabase(f *testing.F) {
	src := f.TempDir()
	makeZip(f, filepath.Join(src, "osv-scalibr", "npm", "all.zip"), map[string]string{
		"A-1.json": rec("A-1", "npm", "a", "1.0.0", "2026-01-01T00:00:00Z"),
		"A-2.json": rec("A-2", "npm", "b", "1.0.0", "2026-01-01T00:00:00Z"),
	})
	goodDir := f.TempDir()
	if _, err := osvdb.Import(f.Context(), goodDir, src); err != nil {
		f.Fatal(err)
	}
	good, err := os.ReadFile(filepath.Join(goodDir, osvdb.FileName))
	if err != nil {
		f.Fatal(err)
	}
	// Only the pages in use matter: the rest of the file is preallocated.
	used := int(rootPage(f, good)+4) * 4096
	seeds := []struct {
		off  uint32
		data []byte
	}{{24, bytes.Repeat([]byte{0xff}, 32)}, {4096 + 16, []byte{1}}, {uint32(rootPage(f, good))*4096 + 24, bytes.Repeat([]byte{0xff}, 32)}, {8192, make([]byte, 64)}}
	for _, s := range seeds {
		f.Add(s.off, s.data, uint32(0))
	}
	f.Add(uint32(0), []byte{}, uint32(8192)) // truncated
	f.Fuzz(func(t *testing.T, off uint32, data []byte, truncate uint32) {
		b := bytes.Clone(good[:used])
		if o := int(off) % used; len(data) > 0 {
			copy(b[o:], data)
		}
		if truncate > 0 {
			b = b[:int(truncate)%used]
		}
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, osvdb.FileName), b, 0o644); err != nil {
			t.Fatal(err)
		}
		if db, err := osvdb.Open(dir); err == nil {
			_, _ = db.Status(t.Context())
			_, _ = db.Query(t.Context(), []scan.Query{{Ecosystem: "npm", Name: "a"}, {Ecosystem: "npm", Name: "b"}})
			_, _ = db.Get(t.Context(), "npm", "A-2")
			db.Close()
		}
		_, _ = osvdb.Check(t.Context(), dir)
	})
}
