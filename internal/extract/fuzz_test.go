package extract

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/osv-scalibr/extractor/filesystem"
	"github.com/google/osv-scalibr/inventory"
	scalibrplugin "github.com/google/osv-scalibr/plugin"
)

// failOnPanic fails the fuzz target when an extractor panicked: production
// code recovers the panic into ErrMalformed, but a parser panic is a bug
// the fuzzer must report.
func failOnPanic(t *testing.T, err error) {
	t.Helper()
	var pe *PanicError
	if errors.As(err, &pe) {
		t.Fatalf("extractor panicked: %v", pe.Value)
	}
}

// fuzzExtract runs the extractor that claims file on data and checks the
// package's contract: no panic, an error is a *FileError classified as
// ErrMalformed, and every package found is well formed.
func fuzzExtract(f *testing.F, file string, seeds ...string) {
	n := 0
	for _, s := range seeds {
		matches, err := filepath.Glob(filepath.Join("testdata", s))
		if err != nil {
			f.Fatal(err)
		}
		for _, m := range matches {
			f.Add(mustReadBytes(f, m))
			n++
		}
	}
	if n == 0 {
		f.Fatalf("no seeds found for %s", file)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		res, err := extractMemory(context.Background(), file, file, data, Options{}, nil)
		if err != nil {
			failOnPanic(t, err)
			var fe *FileError
			if !errors.As(err, &fe) || !errors.Is(err, ErrMalformed) {
				t.Fatalf("error %v (%T) is not a malformed-file error", err, err)
			}
			return
		}
		for _, p := range res.Packages {
			if p.Ecosystem == "" || p.Location.Path != file {
				t.Fatalf("ill-formed package %+v", p)
			}
			if (p.Version == "") == (p.Requirement == "") {
				t.Fatalf("package %+v must have exactly one of Version and Requirement", p)
			}
		}
	})
}

func FuzzPackageLock(f *testing.F) {
	fuzzExtract(f, "package-lock.json", "npm-*/package-lock.json", "malformed/package-lock.json")
}

func FuzzRequirements(f *testing.F) {
	fuzzExtract(f, "requirements.txt", "requirements/requirements.txt")
}

func FuzzGoMod(f *testing.F) {
	fuzzExtract(f, "go.mod", "gomod/go.mod", "malformed/go.mod")
}

func FuzzCycloneDXJSON(f *testing.F) {
	fuzzExtract(f, "bom.cdx.json", "sbom/*.cdx.json", "malformed/bom.cdx.json")
}

func FuzzSPDXJSON(f *testing.F) {
	fuzzExtract(f, "sbom.spdx.json", "sbom/*.spdx.json")
}

func FuzzPomXML(f *testing.F) {
	fuzzExtract(f, "pom.xml", "maven/pom.xml", "maven/child/pom.xml")
}

func FuzzYarnLock(f *testing.F) {
	fuzzExtract(f, "yarn.lock", "yarn-*/yarn.lock")
}

func FuzzPnpmLock(f *testing.F) {
	fuzzExtract(f, "pnpm-lock.yaml", "pnpm/pnpm-lock.yaml")
}

// FuzzSBOMFormat checks that format detection and in-memory extraction
// never panic, whatever the hint.
func FuzzSBOMFormat(f *testing.F) {
	for _, s := range []string{"sbom/bom.cdx.json", "sbom/bom.cdx.xml", "sbom/tiny.spdx.json"} {
		f.Add(mustReadBytes(f, filepath.Join("testdata", s)), "")
	}
	f.Add([]byte("SPDXVersion: SPDX-2.3\n"), "text/spdx")
	f.Fuzz(func(t *testing.T, data []byte, hint string) {
		_, err := ExtractSBOM(context.Background(), "x", data, hint, Options{})
		failOnPanic(t, err)
		if err != nil && !errors.Is(err, ErrMalformed) && !errors.Is(err, ErrUnknownFormat) {
			t.Fatalf("unclassified error %v", err)
		}
	})
}

// treeSeeds are small project trees, as txtar archives: a file named
// "NAME@link" is a symbolic link NAME whose target is the file's first line
// (an absolute target is taken below the fuzz directory, beside the
// project, where the secrets are).
func treeSeeds(f testing.TB) []string {
	lock := string(mustReadBytes(f, "testdata/npm-v1/package-lock.json"))
	parent := string(mustReadBytes(f, "testdata/maven/pom.xml"))
	child := string(mustReadBytes(f, "testdata/maven/child/pom.xml"))
	gomod := string(mustReadBytes(f, "testdata/gomod/go.mod"))
	return []string{
		"-- requirements.txt --\n-r base.txt\n-r ../outside/requirements.txt\n-r /outside/requirements.txt\n-r linked.txt\nflask==2.0.1\n" +
			"-- base.txt --\nsix==1.16.0\n-r requirements.txt\n" +
			"-- linked.txt@link --\n../outside/requirements.txt\n",
		"-- package-lock.json --\n" + lock + "-- app/package-lock.json --\n" + lock +
			"-- app/sub/go.mod --\n" + gomod + "-- node_modules/x/package-lock.json --\n" + lock +
			"-- .gitignore --\nbuild/\n!keep.txt\n-- build/package-lock.json --\n" + lock,
		"-- pom.xml --\n" + parent + "-- child/pom.xml --\n" + child +
			"-- other/pom.xml --\n<project><parent><groupId>g</groupId><artifactId>a</artifactId><version>1</version><relativePath>../../outside/pom.xml</relativePath></parent></project>\n",
		"-- a/requirements.txt@link --\n../b/requirements.txt\n-- b/requirements.txt --\ndjango==3.2.0\n" +
			"-- loop@link --\n.\n-- up/requirements.txt@link --\n/outside/requirements.txt\n" +
			"-- gone/package-lock.json@link --\nnowhere.json\n",
	}
}

// FuzzDirectoryTree walks small real project trees (includes, nested
// lockfiles, .gitignore, symbolic links) beside a directory of secrets:
// no extractor panics, nothing outside the project is ever read, and every
// file reported is inside it.
func FuzzDirectoryTree(f *testing.F) {
	for _, s := range treeSeeds(f) {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) { extractTree(t, data) })
}

type archiveFile struct {
	name string
	data []byte
}

// parseArchive reads a txtar-like archive: a line "-- NAME --" starts a
// file. (A parser of our own: go-internal's txtar panics on some inputs.)
func parseArchive(data []byte) []archiveFile {
	var files []archiveFile
	for line := range strings.SplitAfterSeq(string(data), "\n") {
		marker := strings.TrimRight(line, "\r\n")
		if name, ok := strings.CutPrefix(marker, "-- "); ok && len(name) > 3 && strings.HasSuffix(name, " --") {
			files = append(files, archiveFile{name: strings.TrimSpace(strings.TrimSuffix(name, " --"))})
			continue
		}
		if len(files) > 0 {
			f := &files[len(files)-1]
			f.data = append(f.data, line...)
		}
	}
	return files
}

// treeTempDir makes the directory FuzzDirectoryTree lays a tree out in: a memory
// filesystem when there is one ($HALLMARK_FUZZ_TMPDIR, else /dev/shm), since
// creating files on an overlay or network disk costs milliseconds each and
// would hold the target well under 100 executions per second.
func treeTempDir(t *testing.T) string {
	var dirs []string
	if d := os.Getenv("HALLMARK_FUZZ_TMPDIR"); d != "" {
		dirs = append(dirs, d)
	}
	for _, d := range append(dirs, "/dev/shm", os.TempDir()) {
		if top, err := os.MkdirTemp(d, "hallmark-fuzz-"); err == nil {
			t.Cleanup(func() { os.RemoveAll(top) })
			return top
		}
	}
	t.Fatal("cannot create a temporary directory")
	return ""
}

// extractTree lays the archive out as a project beside a directory of
// secrets, extracts it and checks the result; it returns the result and the
// project directory.
func extractTree(t *testing.T, data []byte) (*Result, string) {
	t.Helper()
	files := parseArchive(data)
	if len(files) > 24 {
		t.Skip()
	}
	top := treeTempDir(t)
	for name, content := range map[string]string{
		"outside/requirements.txt": leaked + "==1.0\n",
		"outside/pom.xml": `<project><groupId>g</groupId><artifactId>a</artifactId><version>1</version><packaging>pom</packaging>` +
			`<dependencyManagement><dependencies><dependency><groupId>g</groupId><artifactId>` + leaked +
			`</artifactId><version>1</version></dependency></dependencies></dependencyManagement></project>`,
		"outside/package-lock.json": `{"lockfileVersion": 3, "packages": {"node_modules/` + leaked + `": {"version": "1.0.0"}}}`,
	} {
		write(t, top, name, content)
	}
	proj := filepath.Join(top, "proj")
	if err := os.Mkdir(proj, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, file := range files {
		name, isLink := strings.CutSuffix(file.name, "@link")
		if !filepath.IsLocal(name) || len(name) > 200 || strings.HasPrefix(filepath.Clean(name), "..") {
			continue
		}
		p := filepath.Join(proj, name)
		if os.MkdirAll(filepath.Dir(p), 0o755) != nil {
			continue
		}
		if isLink {
			target, _, _ := strings.Cut(string(file.data), "\n")
			if filepath.IsAbs(target) {
				target = filepath.Join(top, target)
			}
			_ = os.Symlink(target, p)
			continue
		}
		_ = os.WriteFile(p, file.data, 0o644)
	}
	res, err := Extract(context.Background(), []string{proj}, Options{MaxFileSize: 1 << 20})
	if err != nil {
		t.Fatalf("Extract of a directory: %v", err)
	}
	b, err := json.Marshal(res)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(b), leaked) {
		t.Fatalf("a file outside the project was read: %s", b)
	}
	prefix := filepath.ToSlash(proj) + "/"
	for _, fr := range res.Files {
		if !strings.HasPrefix(fr.Path, prefix) {
			t.Fatalf("file %q outside %s", fr.Path, prefix)
		}
	}
	for _, ff := range res.Failures {
		if strings.Contains(ff.Reason, "extractor panicked") {
			t.Fatalf("%s: %s", ff.Path, ff.Reason)
		}
		if !strings.HasPrefix(ff.Path+"/", prefix) || ff.Reason == "" {
			t.Fatalf("ill-formed failure %+v", ff)
		}
	}
	for _, p := range res.Packages {
		if p.Ecosystem == "" || !strings.HasPrefix(p.Location.Path, prefix) {
			t.Fatalf("ill-formed package %+v", p)
		}
		if (p.Version == "") == (p.Requirement == "") {
			t.Fatalf("package %+v must have exactly one of Version and Requirement", p)
		}
	}
	return res, proj
}

// The tree seeds reach what FuzzDirectoryTree guards: refused includes and
// links, nested lockfiles, a local pom parent.
func TestTreeSeeds(t *testing.T) {
	seeds := treeSeeds(t)
	res, _ := extractTree(t, []byte(seeds[0]))
	if _, ok := find(res.Packages, "PyPI", "six", "1.16.0"); !ok || !hasWarning(res, "outside the project") {
		t.Errorf("seed 0: packages %v, warnings %q", res.Packages, res.Warnings)
	}
	res, _ = extractTree(t, []byte(seeds[1]))
	if len(res.Files) != 3 {
		t.Errorf("seed 1: files %+v, want the top and app lockfiles and app/sub/go.mod", res.Files)
	}
	res, _ = extractTree(t, []byte(seeds[2]))
	if _, ok := find(res.Packages, "Maven", "com.fasterxml.jackson.core:jackson-databind", "2.12.1"); !ok || !hasWarning(res, "other/pom.xml", "outside the project") {
		t.Errorf("seed 2: packages %v, warnings %q", res.Packages, res.Warnings)
	}
	res, proj := extractTree(t, []byte(seeds[3]))
	up := filepath.ToSlash(filepath.Join(proj, "up", "requirements.txt"))
	gone := filepath.ToSlash(filepath.Join(proj, "gone", "package-lock.json"))
	var failed []string
	for _, ff := range res.Failures {
		failed = append(failed, ff.Path)
	}
	if len(res.Files) != 2 || !slices.Contains(failed, up) || !slices.Contains(failed, gone) {
		t.Errorf("seed 3: files %+v, failures %+v", res.Files, res.Failures)
	}
}

type panicky struct{}

func (panicky) Name() string                              { return "test/panicky" }
func (panicky) Version() int                              { return 0 }
func (panicky) Requirements() *scalibrplugin.Capabilities { return &scalibrplugin.Capabilities{} }
func (panicky) FileRequired(api filesystem.FileAPI) bool {
	return strings.HasSuffix(api.Path(), ".panic")
}
func (panicky) Extract(context.Context, *filesystem.ScanInput) (inventory.Inventory, error) {
	panic("boom")
}

// A panicking extractor is a failure of the file in a walk, an ErrMalformed
// *PanicError in memory, and fails a fuzz target (failOnPanic).
func TestExtractorPanic(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "x.panic", "data")
	p, err := openProject(context.Background(), dir, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	defer p.close()
	x := &run{ctx: context.Background(), exs: []loaded{{plugin: plugin{name: "test/panicky"}, ex: panicky{}}}, max: 1 << 20, res: &Result{}}
	in := &input{base: dir, prefix: "", p: p}
	info, err := os.Stat(filepath.Join(dir, "x.panic"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := x.extractFile(in, "x.panic", info); err != nil {
		t.Fatal(err)
	}
	want := FileFailure{Path: "x.panic", Extractor: "test/panicky", Reason: "malformed panicky file: extractor panicked: boom"}
	if len(x.res.Failures) != 1 || x.res.Failures[0] != want {
		t.Errorf("Failures = %+v, want %+v", x.res.Failures, want)
	}
	_, err = safeExtract(context.Background(), panicky{}, &filesystem.ScanInput{})
	var pe *PanicError
	if !errors.As(err, &pe) || pe.Value != "boom" {
		t.Errorf("safeExtract: %v, want a *PanicError", err)
	}
}
