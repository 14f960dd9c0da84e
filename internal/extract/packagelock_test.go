package extract

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	cpb "github.com/google/osv-scalibr/binary/proto/config_go_proto"
	"github.com/google/osv-scalibr/extractor"
	"github.com/google/osv-scalibr/extractor/filesystem"
	"github.com/google/osv-scalibr/extractor/filesystem/language/javascript/metadata"
	scalibrlock "github.com/google/osv-scalibr/extractor/filesystem/language/javascript/packagelockjson"
	"github.com/google/osv-scalibr/inventory"
)

// The reference for the package-lock reader is osv-scalibr's own extractor
// (whose only fault is its quadratic line finder) followed by the "peer"
// group hallmark adds to it. Where osv-scalibr merges several entries into
// one package it takes the line, version text and repository of whichever
// entry Go's map order visits last; so the reference is run several times,
// and every package it reports must be one the reader could report for that
// package (one of its entries), every package of the reader matched exactly
// once. A package of one entry must thus be identical.

const lockFile = "package-lock.json"

// scalibrPackageLock runs osv-scalibr's packagelockjson extractor on b.
func scalibrPackageLock(tb testing.TB, b []byte) ([]*extractor.Package, error) {
	tb.Helper()
	ex, err := scalibrlock.New(&cpb.PluginConfig{})
	if err != nil {
		tb.Fatal(err)
	}
	// No npm-shrinkwrap.json beside it.
	fsys := memFS{name: "other.txt"}
	var inv inventory.Inventory
	err = recovered(func() (err error) {
		inv, err = ex.Extract(context.Background(), &filesystem.ScanInput{FS: fsys, Path: lockFile, Reader: bytes.NewReader(b)})
		return err
	})
	if err != nil {
		return nil, err
	}
	// The peer group, as hallmark defines it: "peer": true on a v2/v3
	// entry marks the packages of that name and version.
	var lock struct {
		Packages map[string]struct {
			Name    string          `json:"name"`
			Version string          `json:"version"`
			Peer    json.RawMessage `json:"peer"`
		} `json:"packages"`
	}
	if err := json.Unmarshal(b, &lock); err != nil {
		tb.Fatalf("osv-scalibr read what the peer decoding cannot: %v", err)
	}
	peers := map[string]bool{}
	for key, p := range lock.Packages {
		if string(p.Peer) != "true" {
			continue
		}
		name := p.Name
		if name == "" {
			if i := strings.LastIndex(key, "node_modules/"); i >= 0 {
				name = key[i+len("node_modules/"):]
			} else {
				name = key
			}
		}
		peers[name+"@"+p.Version] = true
	}
	for _, p := range inv.Packages {
		m := p.Metadata.(*metadata.JavascriptPackageMetadata)
		if peers[p.Name+"@"+p.Version] && !slices.Contains(m.DepGroupVals, "peer") {
			m.DepGroupVals = append(m.DepGroupVals, "peer")
		}
	}
	return inv.Packages, nil
}

// readerPackageLock runs hallmark's reader on b.
func readerPackageLock(tb testing.TB, b []byte) ([]lockGroup, error) {
	tb.Helper()
	ex, err := newPackageLockExtractor(&cpb.PluginConfig{})
	if err != nil {
		tb.Fatal(err)
	}
	var groups []lockGroup
	err = recovered(func() (err error) {
		groups, err = readPackageLock(context.Background(), ex.(packageLockExtractor).Extractor, b, lockFile)
		return err
	})
	return groups, err
}

// recovered turns a panic of f into an error, as runExtractor does: on some
// input osv-scalibr panics ("version": "npm:x" in a v1 lockfile), and then
// the reader must panic alike.
func recovered(f func() error) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("panicked: %v", r)
		}
	}()
	return f()
}

func describe(p *extractor.Package) string {
	b, err := json.Marshal(p)
	if err != nil {
		return fmt.Sprintf("%+v", *p)
	}
	return string(b)
}

// compareWithScalibr fails unless the reader and osv-scalibr agree on b:
// both refuse it with the same message, or osv-scalibr's packages, over
// runs runs, are each one of the reader's candidates for a distinct package.
func compareWithScalibr(t *testing.T, b []byte, runs int) {
	t.Helper()
	groups, err := readerPackageLock(t, b)
	for run := 0; run < runs; run++ {
		want, wantErr := scalibrPackageLock(t, b)
		if (err == nil) != (wantErr == nil) || (err != nil && err.Error() != wantErr.Error()) {
			t.Fatalf("reader error %v, osv-scalibr error %v", err, wantErr)
		}
		if err != nil {
			return
		}
		if len(want) != len(groups) {
			t.Fatalf("reader: %d packages, osv-scalibr: %d\nreader:\n%s\nosv-scalibr:\n%s", len(groups), len(want), describeGroups(groups), describeAll(want))
		}
		// Candidates by name, version and line, then compared in full.
		type key struct {
			name, version string
			line          int
		}
		index := map[key][]int{}
		for gi, g := range groups {
			for _, p := range g.pkgs {
				k := key{p.Name, p.Version, p.Location.Descriptor.File.LineNumber}
				index[k] = append(index[k], gi)
			}
		}
		// Which packages of the reader each of osv-scalibr's could be; then
		// a perfect matching (Kuhn's augmenting paths): entries merged
		// into different packages can read alike but for their line.
		could := make([][]int, len(want))
		for wi, w := range want {
			for _, gi := range index[key{w.Name, w.Version, w.Location.Descriptor.File.LineNumber}] {
				if slices.Contains(could[wi], gi) {
					continue
				}
				for _, p := range groups[gi].pkgs {
					if reflect.DeepEqual(p, w) {
						could[wi] = append(could[wi], gi)
						break
					}
				}
			}
			if len(could[wi]) == 0 {
				t.Fatalf("osv-scalibr reports %s, which the reader cannot\nreader:\n%s", describe(w), describeGroups(groups))
			}
		}
		owner := make([]int, len(groups))
		for i := range owner {
			owner[i] = -1
		}
		var augment func(wi int, seen []bool) bool
		augment = func(wi int, seen []bool) bool {
			for _, gi := range could[wi] {
				if seen[gi] {
					continue
				}
				seen[gi] = true
				if owner[gi] < 0 || augment(owner[gi], seen) {
					owner[gi] = wi
					return true
				}
			}
			return false
		}
		for wi := range want {
			if !augment(wi, make([]bool, len(groups))) {
				t.Fatalf("osv-scalibr's packages cannot each be a different package of the reader\nosv-scalibr:\n%s\nreader:\n%s", describeAll(want), describeGroups(groups))
			}
		}
	}
	for _, g := range groups {
		if g.pkgs[0].Location.Descriptor.File.Path != lockFile {
			t.Fatalf("package %s not located in %s", describe(g.pkgs[0]), lockFile)
		}
	}
}

func describeAll(pkgs []*extractor.Package) string {
	var s []string
	for _, p := range pkgs {
		s = append(s, "  "+describe(p))
	}
	slices.Sort(s)
	return strings.Join(s, "\n")
}

func describeGroups(groups []lockGroup) string {
	var s []string
	for i, g := range groups {
		s = append(s, fmt.Sprintf("package %d, one of:\n%s", i, describeAll(g.pkgs)))
	}
	return strings.Join(s, "\n")
}

// lockFixtures returns every package-lock fixture: the repository's, the
// shared real lockfiles and osv-scalibr's own test files, each of the last
// two only when present.
func lockFixtures(tb testing.TB) map[string][]byte {
	tb.Helper()
	files := map[string][]byte{}
	scalibr := scalibrTestdata()
	add := func(pattern string) int {
		matches, err := filepath.Glob(pattern)
		if err != nil {
			tb.Fatal(err)
		}
		for _, m := range matches {
			if info, err := os.Stat(m); err != nil || info.IsDir() {
				continue
			}
			name := m
			if rel, err := filepath.Rel(scalibr, m); scalibr != "" && err == nil && !strings.HasPrefix(rel, "..") {
				name = "osv-scalibr/" + filepath.ToSlash(rel)
			}
			files[name] = mustReadBytes(tb, m)
		}
		return len(matches)
	}
	if add("testdata/npm-*/package-lock.json")+add("testdata/packagelock/*.json")+add("testdata/malformed/package-lock.json") < 10 {
		tb.Fatal("package-lock fixtures not found")
	}
	shared := os.Getenv("HALLMARK_OSV_INPUTS")
	if shared == "" {
		shared = filepath.Join("..", "..", "..", "shared", "osv", "inputs")
	}
	if add(filepath.Join(shared, "npm-*", "package-lock.json")) == 0 {
		tb.Logf("shared lockfiles not found in %s: compared without them", shared)
	}
	if scalibr == "" || add(filepath.Join(scalibr, "*"))+add(filepath.Join(scalibr, "*", "*")) == 0 {
		tb.Logf("osv-scalibr's module source not found: compared without its test files")
	}
	return files
}

// scalibrTestdata is osv-scalibr's packagelockjson test directory in the
// module cache, or "".
func scalibrTestdata() string {
	cache := os.Getenv("GOMODCACHE")
	if cache == "" {
		gopath := os.Getenv("GOPATH")
		if gopath == "" {
			home, err := os.UserHomeDir()
			if err != nil {
				return ""
			}
			gopath = filepath.Join(home, "go")
		}
		cache = filepath.Join(filepath.SplitList(gopath)[0], "pkg", "mod")
	}
	dir := filepath.Join(cache, "github.com", "google", "osv-scalibr@v0.5.3", "extractor", "filesystem", "language", "javascript", "packagelockjson", "testdata")
	if _, err := os.Stat(dir); err != nil {
		return ""
	}
	return dir
}

func TestPackageLockMatchesScalibr(t *testing.T) {
	for name, b := range lockFixtures(t) {
		t.Run(name, func(t *testing.T) {
			runs := 4
			if len(b) > 100<<10 { // osv-scalibr is quadratic
				runs = 2
			}
			compareWithScalibr(t, b, runs)
		})
	}
}

// The first entry in the file supplies a merged package's line, version
// text and repository, whatever Go's map order.
func TestPackageLockMergedTakesFirstEntry(t *testing.T) {
	b := mustReadBytes(t, "testdata/packagelock/merged.v3.json")
	for range 5 {
		groups, err := readerPackageLock(t, b)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, g := range groups {
			p := g.pkgs[0]
			got = append(got, fmt.Sprintf("%s@%s:%d %s", p.Name, p.Version, p.Location.Descriptor.File.LineNumber, p.SourceCode.Repo))
		}
		want := []string{
			"dup@1.0.0:6 ",
			"git@git+ssh://git@github.com/first/repo.git#abc1234:13 https://github.com/first/repo",
		}
		if !slices.Equal(got, want) {
			t.Fatalf("got %q, want %q", got, want)
		}
	}
}

func TestPackageLockLines(t *testing.T) {
	tests := []struct {
		name, lock string
		want       map[string]int // name@version -> line
	}{
		{"v3", "{\n\"packages\": {\n\"node_modules/a\": {\"version\": \"1.0.0\"},\n\n\"node_modules/@s/b\": {\n\"version\": \"2.0.0\"}}}",
			map[string]int{"a@1.0.0": 3, "@s/b@2.0.0": 5}},
		{"minified", `{"packages":{"node_modules/a":{"version":"1.0.0"},"node_modules/b":{"version":"2.0.0"}}}`,
			map[string]int{"a@1.0.0": 1, "b@2.0.0": 1}},
		// gjson looks on into the second "packages" when the first lacks the key.
		{"packages twice", "{\"packages\": {\"node_modules/a\": {\"version\": \"1.0.0\"}},\n\"packages\": {\n\"node_modules/b\": {\"version\": \"2.0.0\"}}}",
			map[string]int{"a@1.0.0": 1, "b@2.0.0": 3}},
		// encoding/json accepts "Packages", gjson does not find it.
		{"case", "{\"Packages\": {\n\"node_modules/a\": {\"version\": \"1.0.0\"}}}",
			map[string]int{"a@1.0.0": 0}},
		// An escaped key is found as gjson unescapes it.
		{"escaped", "{\"packages\": {\n\"node_modules\\/a\": {\"version\": \"1.0.0\"}}}",
			map[string]int{"a@1.0.0": 2}},
		{"v1 nested", "{\"dependencies\": {\n\"a\": {\"version\": \"1.0.0\", \"dependencies\": {\n\"b\": {\"version\": \"2.0.0\"}}}}}",
			map[string]int{"a@1.0.0": 2, "b@2.0.0": 3}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			compareWithScalibr(t, []byte(tt.lock), 2)
			groups, err := readerPackageLock(t, []byte(tt.lock))
			if err != nil {
				t.Fatal(err)
			}
			got := map[string]int{}
			for _, g := range groups {
				got[g.pkgs[0].Name+"@"+g.pkgs[0].Version] = g.pkgs[0].Location.Descriptor.File.LineNumber
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("lines %v, want %v", got, tt.want)
			}
		})
	}
}

func TestPackageLockErrorsMatchScalibr(t *testing.T) {
	for _, lock := range []string{
		``, `null`, `[]`, `{"packages": `, `{"packages": []}`, `{"lockfileVersion": "3"}`,
		`{"packages": {"node_modules/a": {"version": 1}}}`,
		`{"packages": {"node_modules/a": {"dependencies": {"b": 1}}}}`,
		`{"packages": {"node_modules/a": {"peerDependenciesMeta": {"b": 1}}}}`,
		`{"dependencies": {"a": {"dependencies": []}}}`,
		`{"dependencies": {"a": {"requires": {"b": true}}}}`,
		`{} {}`,
		`{"dependencies": {"a": {"version": "npm:x"}}}`, // osv-scalibr panics
	} {
		t.Run(lock, func(t *testing.T) {
			_, err := readerPackageLock(t, []byte(lock))
			if err == nil {
				t.Fatal("no error")
			}
			compareWithScalibr(t, []byte(lock), 1)
		})
	}
}

// A non-boolean "peer" is no error (osv-scalibr does not read it) and marks
// nothing.
func TestPackageLockPeer(t *testing.T) {
	lock := `{"packages": {"node_modules/a": {"version": "1.0.0", "peer": true}, "node_modules/b": {"version": "1.0.0", "peer": "yes"}}}`
	compareWithScalibr(t, []byte(lock), 2)
	groups, err := readerPackageLock(t, []byte(lock))
	if err != nil {
		t.Fatal(err)
	}
	got := map[string][]string{}
	for _, g := range groups {
		got[g.pkgs[0].Name] = g.pkgs[0].Metadata.(*metadata.JavascriptPackageMetadata).DepGroupVals
	}
	if want := map[string][]string{"a": {"peer"}, "b": {}}; !reflect.DeepEqual(got, want) {
		t.Errorf("groups %v, want %v", got, want)
	}
}

func TestPackageLockShrinkwrapWins(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "package-lock.json", mustRead(t, "testdata/npm-v3/package-lock.json"))
	write(t, dir, "npm-shrinkwrap.json", mustRead(t, "testdata/npm-v1/package-lock.json"))
	res, err := Extract(context.Background(), []string{dir}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range res.Files {
		if want := map[string]int{"npm-shrinkwrap.json": 4, "package-lock.json": 0}[filepath.Base(f.Path)]; f.Packages != want {
			t.Errorf("%s: %d packages, want %d", f.Path, f.Packages, want)
		}
	}
	if len(res.Files) != 2 {
		t.Errorf("files %+v, want both lockfiles read", res.Files)
	}
}

// A scan reports a package installed at several paths at the same line every
// time: its first entry (osv-scalibr alone picks one by Go's map order).
func TestPackageLockStableLines(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "package-lock.json", mustRead(t, "testdata/packagelock/merged.v3.json"))
	for range 10 {
		res, err := Extract(context.Background(), []string{dir}, Options{})
		if err != nil {
			t.Fatal(err)
		}
		p, ok := find(res.Packages, "npm", "dup", "1.0.0")
		if !ok || p.Location.Line != 6 {
			t.Fatalf("dup@1.0.0 at %+v (found %v), want line 6", p.Location, ok)
		}
	}
}

// A deep v1 tree: every level a package, each found at its own line.
func TestPackageLockDeepTree(t *testing.T) {
	const depth = 300
	var b strings.Builder
	b.WriteString(`{"lockfileVersion": 1, "dependencies": `)
	for i := range depth {
		fmt.Fprintf(&b, "{\n\"p%d\": {\"version\": \"1.0.%d\", \"dependencies\": ", i%7, i)
	}
	b.WriteString("{}")
	b.WriteString(strings.Repeat("}}", depth))
	b.WriteString("}")
	compareWithScalibr(t, []byte(b.String()), 1)
	groups, err := readerPackageLock(t, []byte(b.String()))
	if err != nil {
		t.Fatal(err)
	}
	if len(groups) != depth {
		t.Fatalf("%d packages, want %d", len(groups), depth)
	}
	for i, g := range groups {
		if line := g.pkgs[0].Location.Descriptor.File.LineNumber; line != i+2 {
			t.Fatalf("package %d (%s) at line %d, want %d", i, g.pkgs[0].Version, line, i+2)
		}
	}
}
