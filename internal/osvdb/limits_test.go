package osvdb_test

import (
	"archive/zip"
	"bytes"
	"compress/flate"
	"context"
	"errors"
	"fmt"
	"hash/crc32"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/hallmark-dev/hallmark/internal/osvdb"
	"github.com/hallmark-dev/hallmark/pkg/scan"
)

// bombZip writes a zip holding one record and an entry of size zero bytes
// (compressed to a few hundred KB): the shape of an archive made to
// exhaust memory.
func bombZip(t *testing.T, path string, size int) {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	w, _ := zw.Create("A-1.json")
	w.Write([]byte(rec("A-1", "npm", "a", "1.0.0", "2026-01-01T00:00:00Z")))
	w, _ = zw.Create("BOMB.json")
	zeros := make([]byte, 1<<20)
	for n := 0; n < size; n += len(zeros) {
		w.Write(zeros[:min(len(zeros), size-n)])
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	os.MkdirAll(filepath.Dir(path), 0o755)
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestImportRefusesZipBomb: an entry over the record limit is refused
// before it is inflated, naming it, with memory bounded by the zip's size.
func TestImportRefusesZipBomb(t *testing.T) {
	src := filepath.Join(t.TempDir(), "all.zip")
	bombZip(t, src, 256<<20) // 256 MiB of zeros, 250 KB compressed
	dbDir := t.TempDir()
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	_, err := osvdb.Import(t.Context(), dbDir, src)
	runtime.ReadMemStats(&after)
	if !errors.Is(err, osvdb.ErrTooLarge) || !strings.Contains(err.Error(), `entry "BOMB.json" is 268435456 bytes uncompressed`) {
		t.Fatalf("err = %v, want ErrTooLarge naming BOMB.json", err)
	}
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 16<<20 {
		t.Errorf("the refused import allocated %d MiB", alloc>>20)
	}
	if _, err := os.Stat(filepath.Join(dbDir, osvdb.FileName)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a database was written: %v", err)
	}
}

// lyingZip has an entry whose header says 100 bytes but which inflates
// to 1 MiB.
func lyingZip(t *testing.T, path string) {
	t.Helper()
	var data bytes.Buffer
	fw, _ := flate.NewWriter(&data, flate.BestCompression)
	fw.Write(make([]byte, 1<<20))
	fw.Close()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	w, err := zw.CreateRaw(&zip.FileHeader{Name: "LIE.json", Method: zip.Deflate, CRC32: crc32.ChecksumIEEE(make([]byte, 100)),
		CompressedSize64: uint64(data.Len()), UncompressedSize64: 100})
	if err != nil {
		t.Fatal(err)
	}
	w.Write(data.Bytes())
	zw.Close()
	os.WriteFile(path, buf.Bytes(), 0o644)
}

func TestImportLimits(t *testing.T) {
	dir := t.TempDir()
	threeRecords := filepath.Join(dir, "three.zip")
	files := map[string]string{}
	for i := range 3 {
		id := fmt.Sprintf("A-%d", i)
		files[id+".json"] = rec(id, "npm", "a", "1.0.0", "2026-01-01T00:00:00Z") + strings.Repeat(" ", 1000)
	}
	makeZip(t, threeRecords, files)
	lying := filepath.Join(dir, "lying.zip")
	lyingZip(t, lying)
	loose := filepath.Join(dir, "big.json")
	os.WriteFile(loose, []byte(files["A-1.json"]), 0o644)
	tests := []struct {
		name string
		path string
		lim  osvdb.Limits
		want error
		msg  string
	}{
		{"record", threeRecords, osvdb.Limits{Record: 1000}, osvdb.ErrTooLarge, `entry "A-0.json" is 1` /* ...bytes uncompressed */},
		{"archive", threeRecords, osvdb.Limits{Archive: 2500}, osvdb.ErrTooLarge, `at entry "A-2.json" the entries are over 2500 bytes uncompressed`},
		{"loose file", loose, osvdb.Limits{Record: 1000}, osvdb.ErrTooLarge, "big.json is 1"},
		{"declared size is a lie", lying, osvdb.Limits{}, zip.ErrFormat, `entry "LIE.json" inflates to more than the 100 bytes it declares`},
		{"within the limits", threeRecords, osvdb.Limits{Record: 2000, Archive: 4000}, nil, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := osvdb.ImportWith(t.Context(), t.TempDir(), osvdb.ImportOptions{Limits: tc.lim}, tc.path)
			if tc.want == nil {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if !errors.Is(err, tc.want) || !strings.Contains(err.Error(), tc.msg) {
				t.Errorf("err = %v, want %v with %q", err, tc.want, tc.msg)
			}
		})
	}
}

// TestUpdateDownloadLimit: a download over the limit is refused, whether
// the server announces its size or not, and leaves no file behind.
func TestUpdateDownloadLimit(t *testing.T) {
	body := bytes.Repeat([]byte("x"), 2<<20)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("chunked") == "" && strings.HasPrefix(r.URL.Path, "/sized/") {
			w.Header().Set("Content-Length", fmt.Sprint(len(body)))
		}
		for i := 0; i < len(body); i += 64 << 10 {
			w.Write(body[i : i+64<<10])
			w.(http.Flusher).Flush()
		}
	}))
	defer srv.Close()
	for _, base := range []string{srv.URL + "/sized", srv.URL + "/streamed"} {
		dbDir := t.TempDir()
		_, err := osvdb.Update(t.Context(), dbDir, base, []string{"npm"}, osvdb.UpdateOptions{Limits: osvdb.Limits{Download: 1 << 20}})
		if !errors.Is(err, osvdb.ErrTooLarge) || !strings.Contains(err.Error(), "1048576 bytes") {
			t.Errorf("%s: err = %v, want ErrTooLarge naming the limit", base, err)
		}
		if ents, _ := os.ReadDir(dbDir); len(ents) != 0 {
			t.Errorf("%s: files left: %v", base, ents)
		}
	}
}

// TestImportCanceled: canceling stops an import between batches and leaves
// the old database as it was, with no temporary file.
func TestImportCanceled(t *testing.T) {
	dir := t.TempDir()
	dbDir := filepath.Join(dir, "db")
	makeZip(t, filepath.Join(dir, "old", "all.zip"), map[string]string{"A-1.json": rec("A-1", "npm", "a", "1.0.0", "2026-01-01T00:00:00Z")})
	if _, err := osvdb.Import(t.Context(), dbDir, filepath.Join(dir, "old", "all.zip")); err != nil {
		t.Fatal(err)
	}
	before, _ := os.ReadFile(filepath.Join(dbDir, osvdb.FileName))
	files := map[string]string{}
	for i := range 3 * 4096 {
		id := fmt.Sprintf("B-%05d", i)
		files[id+".json"] = rec(id, "npm", fmt.Sprint("p", i), "1.0.0", "2026-01-01T00:00:00Z")
	}
	big := filepath.Join(dir, "big", "all.zip")
	makeZip(t, big, files)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	osvdb.SetBatchHook(func(n int) {
		if n == 1 {
			cancel() // after the first batch is written
		}
	})
	defer osvdb.SetBatchHook(nil)
	_, err := osvdb.Import(ctx, dbDir, big)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	after, _ := os.ReadFile(filepath.Join(dbDir, osvdb.FileName))
	if !bytes.Equal(before, after) {
		t.Error("a canceled import changed the database")
	}
	if ents, _ := filepath.Glob(filepath.Join(dbDir, ".*")); len(ents) != 0 {
		t.Errorf("temporary files left: %v", ents)
	}
}

// TestImportLastVersionWins: an id read twice (two exports, or an export
// and a loose file) is stored once, as last read, and indexed under the
// names of that version only.
func TestImportLastVersionWins(t *testing.T) {
	dir := t.TempDir()
	first := filepath.Join(dir, "first", "all.zip")
	second := filepath.Join(dir, "second", "all.zip")
	makeZip(t, first, map[string]string{
		"A-1.json": rec("A-1", "npm", "old-name", "1.0.0", "2026-01-01T00:00:00Z"),
		"A-2.json": rec("A-2", "npm", "other", "1.0.0", "2026-01-01T00:00:00Z"),
	})
	makeZip(t, second, map[string]string{"A-1.json": rec("A-1", "npm", "new-name", "2.0.0", "2026-02-01T00:00:00Z")})
	dbDir := t.TempDir()
	res, err := osvdb.Import(t.Context(), dbDir, first, second)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Ecosystems) != 1 || res.Ecosystems[0].Records != 2 {
		t.Fatalf("ecosystems %+v, want npm with 2 records", res.Ecosystems)
	}
	db, err := osvdb.Open(dbDir)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	got, err := db.Query(t.Context(), []scan.Query{{Ecosystem: "npm", Name: "old-name"}, {Ecosystem: "npm", Name: "new-name"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(got[0]) != 0 || len(got[1]) != 1 || got[1][0].Modified.Month() != 2 {
		t.Errorf("old-name: %d records, new-name: %v; want none, and A-1 as the second export has it", len(got[0]), got[1])
	}
	if n, err := osvdb.Check(t.Context(), dbDir); err != nil || n != 2 {
		t.Errorf("Check = %d, %v", n, err)
	}
}
