package osvdb_test

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/md5"
	"encoding/base64"
	"errors"
	"fmt"
	"hash/crc32"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hallmark-dev/hallmark/internal/osvdb"
	"github.com/hallmark-dev/hallmark/pkg/scan"
)

// rec is a small OSV record affecting eco/name before fixed.
func rec(id, eco, name, fixed, modified string) string {
	return fmt.Sprintf(`{"id":%q,"modified":%q,"affected":[{"package":{"ecosystem":%q,"name":%q},"ranges":[{"type":"ECOSYSTEM","events":[{"introduced":"0"},{"fixed":%q}]}]}]}`,
		id, modified, eco, name, fixed)
}

func makeZip(t testing.TB, path string, files map[string]string) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, name := range sortedNames(files) {
		w, err := zw.Create(name)
		if err != nil {
			t.Fatal(err)
		}
		w.Write([]byte(files[name]))
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	if path != "" {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return buf.Bytes()
}

func sortedNames(m map[string]string) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}

func ecoRecords(st *osvdb.Status) map[string]int {
	m := map[string]int{}
	for _, e := range st.Ecosystems {
		m[e.Ecosystem] = e.Records
	}
	return m
}

func TestImportLayouts(t *testing.T) {
	npm := map[string]string{
		"A-1.json": rec("A-1", "npm", "@Scope/Pkg", "1.0.0", "2026-01-01T00:00:00Z"),
		"A-2.json": rec("A-2", "npm", "other", "1.0.0", "2026-02-01T00:00:00Z"),
	}
	pypi := map[string]string{"P-1.json": rec("P-1", "PyPI", "Foo_Bar", "2.0", "2025-01-01T00:00:00Z")}
	tests := []struct {
		name  string
		setup func(t *testing.T, dir string) string
		want  map[string]int
	}{
		{"osv-scalibr layout", func(t *testing.T, dir string) string {
			makeZip(t, filepath.Join(dir, "osv-scalibr", "npm", "all.zip"), npm)
			makeZip(t, filepath.Join(dir, "osv-scalibr", "PyPI", "all.zip"), pypi)
			return dir
		}, map[string]int{"npm": 2, "PyPI": 1}},
		{"osv-scanner layout", func(t *testing.T, dir string) string {
			makeZip(t, filepath.Join(dir, "osv-scanner", "npm", "all.zip"), npm)
			return dir
		}, map[string]int{"npm": 2}},
		{"bare all.zip", func(t *testing.T, dir string) string {
			p := filepath.Join(dir, "all.zip")
			makeZip(t, p, pypi)
			return p
		}, map[string]int{"PyPI": 1}},
		{"directory of JSON and YAML", func(t *testing.T, dir string) string {
			os.MkdirAll(filepath.Join(dir, "vulns", "foo"), 0o755)
			os.WriteFile(filepath.Join(dir, "vulns", "A-1.json"), []byte(npm["A-1.json"]), 0o644)
			os.WriteFile(filepath.Join(dir, "vulns", "foo", "PYSEC-1.yaml"), []byte(
				"id: PYSEC-1\nmodified: 2024-01-01T00:00:00Z\naffected:\n- package:\n    ecosystem: PyPI\n    name: foo.bar\n  ranges:\n  - type: ECOSYSTEM\n    events:\n    - introduced: \"0\"\n    - fixed: \"2.0\"\n"), 0o644)
			os.WriteFile(filepath.Join(dir, "vulns", "README.json"), []byte(`{"title":"not a record"}`), 0o644)
			return filepath.Join(dir, "vulns")
		}, map[string]int{"npm": 1, "PyPI": 1}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			src := t.TempDir()
			dbDir := t.TempDir()
			res, err := osvdb.Import(t.Context(), dbDir, tc.setup(t, src))
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Ecosystems) != len(tc.want) {
				t.Errorf("import result %+v", res)
			}
			db, err := osvdb.Open(dbDir)
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			st, err := db.Status(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			if got := ecoRecords(st); !mapsEqual(got, tc.want) {
				t.Errorf("status %v, want %v", got, tc.want)
			}
			// Names are found normalized.
			pkgs := []scan.Package{
				{Ecosystem: "PyPI", Name: "FOO-bar", Version: "1.0"},
				{Ecosystem: "npm", Name: "@scope/pkg", Version: "0.9.0"},
			}
			r, err := scan.Scan(t.Context(), db, pkgs, scan.Options{AllowIncomplete: true})
			if err != nil {
				t.Fatal(err)
			}
			want := 0
			for eco := range tc.want {
				if eco == "PyPI" || eco == "npm" {
					want++
				}
			}
			if len(r.Findings) != want {
				t.Errorf("%d findings %+v, want %d", len(r.Findings), r.Findings, want)
			}
		})
	}
}

func mapsEqual(a, b map[string]int) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

func TestImportKeepsOtherEcosystemsAndIsAtomic(t *testing.T) {
	dbDir := t.TempDir()
	src := t.TempDir()
	makeZip(t, filepath.Join(src, "a", "osv-scalibr", "npm", "all.zip"), map[string]string{"A-1.json": rec("A-1", "npm", "a", "1.0.0", "2026-01-01T00:00:00Z")})
	makeZip(t, filepath.Join(src, "b", "osv-scalibr", "PyPI", "all.zip"), map[string]string{"P-1.json": rec("P-1", "PyPI", "p", "1.0", "2026-03-01T00:00:00Z")})
	if _, err := osvdb.Import(t.Context(), dbDir, filepath.Join(src, "a")); err != nil {
		t.Fatal(err)
	}
	if _, err := osvdb.Import(t.Context(), dbDir, filepath.Join(src, "b")); err != nil {
		t.Fatal(err)
	}
	st, err := osvdb.ReadStatus(t.Context(), dbDir)
	if err != nil {
		t.Fatal(err)
	}
	if got := ecoRecords(st); !mapsEqual(got, map[string]int{"npm": 1, "PyPI": 1}) {
		t.Fatalf("status %v", got)
	}
	for _, e := range st.Ecosystems {
		if e.Ecosystem == "PyPI" && !e.Snapshot.Equal(time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)) {
			t.Errorf("PyPI snapshot %v", e.Snapshot)
		}
	}
	before, _ := os.ReadFile(filepath.Join(dbDir, osvdb.FileName))

	// A corrupt zip (bad CRC) fails the import and leaves the database as it was.
	good := makeZip(t, "", map[string]string{"A-2.json": rec("A-2", "npm", "a", "2.0.0", "2026-04-01T00:00:00Z")})
	bad := bytes.Clone(good)
	i := bytes.Index(bad, []byte(`"A-2"`))
	bad[i+1] = 'B' // stored (deflated) data changes, CRC no longer matches
	if bytes.Equal(bad, good) {
		t.Fatal("corruption did nothing")
	}
	badPath := filepath.Join(src, "bad", "all.zip")
	os.MkdirAll(filepath.Dir(badPath), 0o755)
	os.WriteFile(badPath, bad, 0o644)
	_, err = osvdb.Import(t.Context(), dbDir, badPath)
	if err == nil {
		t.Fatal("corrupt zip imported")
	}
	after, _ := os.ReadFile(filepath.Join(dbDir, osvdb.FileName))
	if !bytes.Equal(before, after) {
		t.Error("a failed import changed the database")
	}
	if ents, _ := filepath.Glob(filepath.Join(dbDir, ".*")); len(ents) != 0 {
		t.Errorf("temporary files left: %v", ents)
	}
	// A path without records is an error too.
	empty := t.TempDir()
	if _, err := osvdb.Import(t.Context(), dbDir, empty); !errors.Is(err, osvdb.ErrNoRecords) {
		t.Errorf("empty import: %v", err)
	}
}

func TestOpenErrors(t *testing.T) {
	if _, err := osvdb.Open(t.TempDir()); !errors.Is(err, osvdb.ErrNoDatabase) {
		t.Errorf("Open(empty dir) = %v, want ErrNoDatabase", err)
	}
	t.Setenv("HALLMARK_CACHE_DIR", "/x/cache")
	if d, _ := osvdb.DefaultDir(); d != "/x/cache/osv" {
		t.Errorf("DefaultDir = %q", d)
	}
}

func TestMissingEcosystem(t *testing.T) {
	dbDir := t.TempDir()
	src := t.TempDir()
	makeZip(t, filepath.Join(src, "osv-scalibr", "npm", "all.zip"), map[string]string{"A-1.json": rec("A-1", "npm", "a", "1.0.0", "2026-01-01T00:00:00Z")})
	if _, err := osvdb.Import(t.Context(), dbDir, src); err != nil {
		t.Fatal(err)
	}
	db, err := osvdb.Open(dbDir)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	_, err = scan.Scan(t.Context(), db, []scan.Package{{Ecosystem: "Go", Name: "m", Version: "1.0.0"}}, scan.Options{})
	var me *scan.MissingEcosystemError
	if !errors.As(err, &me) || me.Ecosystems[0] != "Go" || !strings.Contains(err.Error(), `"Go"`) {
		t.Errorf("err = %v", err)
	}
}

// exportServer serves <eco>/all.zip like osv.dev's bucket, with x-goog-hash.
func exportServer(t *testing.T, zips map[string][]byte, tamper bool) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		eco, ok := strings.CutSuffix(strings.TrimPrefix(r.URL.Path, "/"), "/all.zip")
		z, found := zips[eco]
		if !ok || !found {
			http.NotFound(w, r)
			return
		}
		m := md5.Sum(z)
		c := crc32.Checksum(z, crc32.MakeTable(crc32.Castagnoli))
		cb := []byte{byte(c >> 24), byte(c >> 16), byte(c >> 8), byte(c)}
		w.Header().Set("x-goog-hash", "crc32c="+base64.StdEncoding.EncodeToString(cb)+",md5="+base64.StdEncoding.EncodeToString(m[:]))
		w.Header().Set("Last-Modified", "Tue, 24 Nov 2026 10:00:00 GMT")
		if tamper {
			z = bytes.Clone(z)
			z[len(z)/2] ^= 1
		}
		w.Write(z)
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestUpdate(t *testing.T) {
	zips := map[string][]byte{
		"npm":       makeZip(t, "", map[string]string{"A-1.json": rec("A-1", "npm", "a", "1.0.0", "2026-01-01T00:00:00Z")}),
		"crates.io": makeZip(t, "", map[string]string{"R-1.json": rec("R-1", "crates.io", "serde_json", "1.0.0", "2026-01-01T00:00:00Z")}),
	}
	srv := exportServer(t, zips, false)
	dbDir := t.TempDir()
	var calls int
	var last osvdb.Progress
	res, err := osvdb.Update(t.Context(), dbDir, srv.URL, []string{"npm", "crates.io"}, osvdb.UpdateOptions{Progress: func(p osvdb.Progress) { calls++; last = p }})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Ecosystems) != 2 || calls == 0 || last.Done != last.Total {
		t.Errorf("result %+v, progress calls %d last %+v", res, calls, last)
	}
	db, err := osvdb.Open(dbDir)
	if err != nil {
		t.Fatal(err)
	}
	dbs, err := db.Databases(t.Context(), []string{"crates.io"})
	db.Close()
	if err != nil || !dbs[0].Snapshot.Equal(time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC)) || !strings.Contains(dbs[0].Source, srv.URL) {
		t.Errorf("databases %+v %v", dbs, err)
	}
	before, _ := os.ReadFile(filepath.Join(dbDir, osvdb.FileName))

	// A tampered download fails the hash check; the database is unchanged.
	bad := exportServer(t, zips, true)
	_, err = osvdb.Update(t.Context(), dbDir, bad.URL, []string{"npm"}, osvdb.UpdateOptions{})
	if !errors.Is(err, osvdb.ErrIntegrity) {
		t.Errorf("tampered update: %v, want ErrIntegrity", err)
	}
	// An unknown ecosystem is a 404 naming it.
	_, err = osvdb.Update(t.Context(), dbDir, srv.URL, []string{"Nope"}, osvdb.UpdateOptions{})
	if err == nil || !strings.Contains(err.Error(), `"Nope"`) {
		t.Errorf("unknown ecosystem: %v", err)
	}
	after, _ := os.ReadFile(filepath.Join(dbDir, osvdb.FileName))
	if !bytes.Equal(before, after) {
		t.Error("a failed update changed the database")
	}
	if ents, _ := filepath.Glob(filepath.Join(dbDir, ".*")); len(ents) != 0 {
		t.Errorf("temporary files left: %v", ents)
	}
}

func TestUpdateCanceled(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	srv := exportServer(t, map[string][]byte{}, false)
	if _, err := osvdb.Update(ctx, t.TempDir(), srv.URL, []string{"npm"}, osvdb.UpdateOptions{}); !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v", err)
	}
}
