package extract

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/hallmark-dev/hallmark/pkg/scan"
)

// pkg is the part of a scan.Package a table row checks.
type pkg struct {
	eco, name, version, req string
	groups                  []string
	line                    int // 0: not checked
}

func find(pkgs []scan.Package, eco, name, version string) (scan.Package, bool) {
	for _, p := range pkgs {
		if p.Ecosystem == eco && p.Name == name && p.Version == version {
			return p, true
		}
	}
	return scan.Package{}, false
}

func checkPkg(t *testing.T, pkgs []scan.Package, want pkg) {
	t.Helper()
	got, ok := find(pkgs, want.eco, want.name, want.version)
	if !ok {
		t.Errorf("package %s %s@%s not found in %v", want.eco, want.name, want.version, pkgs)
		return
	}
	if got.Requirement != want.req {
		t.Errorf("%s: Requirement = %q, want %q", want.name, got.Requirement, want.req)
	}
	if !slices.Equal(got.DepGroups, want.groups) {
		t.Errorf("%s: DepGroups = %q, want %q", want.name, got.DepGroups, want.groups)
	}
	if want.line != 0 && got.Location.Line != want.line {
		t.Errorf("%s: line = %d, want %d", want.name, got.Location.Line, want.line)
	}
	if got.PURL == "" {
		t.Errorf("%s: no PURL", want.name)
	}
}

func TestFormats(t *testing.T) {
	tests := []struct {
		file      string
		extractor string
		count     int
		want      []pkg
	}{
		{"npm-v1/package-lock.json", "javascript/packagelockjson", 4, []pkg{
			{eco: "npm", name: "left-pad", version: "1.3.0", line: 7},
			{eco: "npm", name: "mocha", version: "5.2.0", groups: []string{"dev"}},
			{eco: "npm", name: "fsevents", version: "1.2.4", groups: []string{"optional"}},
		}},
		{"npm-v3/package-lock.json", "javascript/packagelockjson", 6, []pkg{
			{eco: "npm", name: "express", version: "4.17.1", line: 15},
			{eco: "npm", name: "@babel/core", version: "7.0.0"},
			{eco: "npm", name: "qs", version: "6.7.0"},
			{eco: "npm", name: "jest", version: "29.0.0", groups: []string{"dev"}},
			{eco: "npm", name: "fsevents", version: "2.3.2", groups: []string{"optional"}},
			{eco: "npm", name: "react", version: "18.2.0", groups: []string{"peer"}},
		}},
		{"pnpm/pnpm-lock.yaml", "javascript/pnpmlock", 2, []pkg{{eco: "npm", name: "ms", version: "2.1.3"}}},
		{"yarn-v1/yarn.lock", "javascript/yarnlock", 2, []pkg{
			{eco: "npm", name: "@types/node", version: "18.11.9", line: 5},
			{eco: "npm", name: "ms", version: "2.1.2"},
		}},
		{"yarn-berry/yarn.lock", "javascript/yarnlock", 1, []pkg{{eco: "npm", name: "ms", version: "2.1.3"}}},
		{"bun/bun.lock", "javascript/bunlock", 1, []pkg{{eco: "npm", name: "ms", version: "2.1.3"}}},
		// The local replace (../local) is dropped; toolchain wins over go.
		{"gomod/go.mod", "go/gomod", 3, []pkg{
			{eco: "Go", name: "github.com/gorilla/mux", version: "1.8.0", line: 8},
			{eco: "Go", name: "golang.org/x/text", version: "0.14.0"},
			{eco: "Go", name: "stdlib", version: "1.22.5", line: 5},
		}},
		{"cargo/Cargo.lock", "rust/cargolock", 2, []pkg{{eco: "crates.io", name: "smallvec", version: "1.6.0", line: 6}}},
		{"poetry/poetry.lock", "python/poetrylock", 2, []pkg{
			{eco: "PyPI", name: "numpy", version: "1.23.3"},
			{eco: "PyPI", name: "colorama", version: "0.4.6", groups: []string{"optional"}},
		}},
		{"uv/uv.lock", "python/uvlock", 1, []pkg{{eco: "PyPI", name: "emoji", version: "2.14.0"}}},
		{"pdm/pdm.lock", "python/pdmlock", 2, []pkg{
			{eco: "PyPI", name: "toml", version: "0.10.2"},
			{eco: "PyPI", name: "pytest", version: "7.4.0", groups: []string{"dev"}},
		}},
		{"pipenv/Pipfile.lock", "python/pipfilelock", 2, []pkg{
			{eco: "PyPI", name: "markupsafe", version: "2.1.1"},
			{eco: "PyPI", name: "pytest", version: "7.2.0", groups: []string{"dev"}},
		}},
		{"pylock/pylock.toml", "python/pylock", 1, []pkg{{eco: "PyPI", name: "attrs", version: "25.1.0"}}},
		{"requirements/requirements.txt", "python/requirements", 9, []pkg{
			{eco: "PyPI", name: "flask", version: "2.0.1", line: 2},
			{eco: "PyPI", name: "Django", version: "3.2.0"},
			{eco: "PyPI", name: "requests", version: "2.25.1"},
			{eco: "PyPI", name: "certifi", req: ">=2021.5.30"},
			{eco: "PyPI", name: "idna", req: "<3,>=2.5"},
			{eco: "PyPI", name: "urllib3", req: "~=1.26"},
			{eco: "PyPI", name: "chardet", req: "!=4.0.0"},
			{eco: "PyPI", name: "six", req: AnyVersion},
			{eco: "PyPI", name: "pyyaml", req: "==5.*"},
		}},
		{"gemfile/Gemfile.lock", "ruby/gemfilelock", 3, []pkg{{eco: "RubyGems", name: "rack", version: "2.2.3", line: 4}}},
		{"composer/composer.lock", "php/composerlock", 2, []pkg{
			{eco: "Packagist", name: "guzzlehttp/guzzle", version: "7.4.0"},
			{eco: "Packagist", name: "phpunit/phpunit", version: "9.5.10", groups: []string{"dev"}},
		}},
		// Property interpolation, a version from the local parent's
		// dependencyManagement, and the test scope.
		{"maven/child/pom.xml", "java/pomxml", 3, []pkg{
			{eco: "Maven", name: "org.apache.logging.log4j:log4j-core", version: "2.14.1", line: 14},
			{eco: "Maven", name: "com.fasterxml.jackson.core:jackson-databind", version: "2.12.1"},
			{eco: "Maven", name: "junit:junit", version: "4.13.1", groups: []string{"test"}},
		}},
		{"gradle/gradle.lockfile", "java/gradlelockfile", 2, []pkg{{eco: "Maven", name: "com.google.guava:guava", version: "31.1-jre"}}},
		{"gradle/buildscript-gradle.lockfile", "java/gradlelockfile", 1, []pkg{{eco: "Maven", name: "org.jetbrains.kotlin:kotlin-stdlib", version: "1.8.0"}}},
		{"gradle-verification/gradle/verification-metadata.xml", "java/gradleverificationmetadataxml", 1, []pkg{{eco: "Maven", name: "org.yaml:snakeyaml", version: "1.33"}}},
		{"nuget-lock/packages.lock.json", "dotnet/packageslockjson", 1, []pkg{{eco: "NuGet", name: "Newtonsoft.Json", version: "12.0.1"}}},
		{"nuget-config/packages.config", "dotnet/packagesconfig", 1, []pkg{{eco: "NuGet", name: "System.Text.Encodings.Web", version: "4.5.0"}}},
		{"conan/conan.lock", "cpp/conanlock", 1, []pkg{{eco: "ConanCenter", name: "zlib", version: "1.2.11", groups: []string{"requires"}}}},
		{"mix/mix.lock", "elixir/mixlock", 1, []pkg{{eco: "Hex", name: "plug", version: "1.11.1"}}},
		{"pubspec/pubspec.lock", "dart/pubspec", 2, []pkg{
			{eco: "Pub", name: "http", version: "0.13.3"},
			{eco: "Pub", name: "test", version: "1.21.0", groups: []string{"dev"}},
		}},
		{"renv/renv.lock", "r/renvlock", 1, []pkg{{eco: "CRAN", name: "commonmark", version: "1.7"}}},
		{"swift/Package.resolved", "swift/packageresolved", 1, []pkg{{eco: "SwiftURL", name: "github.com/apple/swift-nio", version: "2.40.0"}}},
		// Components without a package URL are skipped (with a warning
		// when osv-scalibr passes them on: a CPE-only component).
		{"sbom/bom.cdx.json", "sbom/cdx", 2, []pkg{
			{eco: "npm", name: "lodash", version: "4.17.20"},
			{eco: "PyPI", name: "django", version: "3.0.0"},
		}},
		{"sbom/bom.cdx.xml", "sbom/cdx", 1, []pkg{{eco: "Maven", name: "com.google.guava:guava", version: "31.1-jre"}}},
		{"sbom/tiny.spdx.json", "sbom/spdx", 1, []pkg{{eco: "Go", name: "github.com/gin-gonic/gin", version: "1.6.3"}}},
		{"sbom/tiny.spdx", "sbom/spdx", 1, []pkg{{eco: "PyPI", name: "requests", version: "2.19.0"}}},
	}
	covered := map[string]bool{}
	for _, tt := range tests {
		covered[tt.extractor] = true
		t.Run(tt.file, func(t *testing.T) {
			path := filepath.Join("testdata", filepath.FromSlash(tt.file))
			res, err := Extract(context.Background(), []string{path}, Options{})
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Packages) != tt.count {
				t.Errorf("got %d packages, want %d: %v", len(res.Packages), tt.count, res.Packages)
			}
			wantFile := FileResult{Path: filepath.ToSlash(path), Extractor: tt.extractor, Packages: tt.count}
			if len(res.Files) != 1 || res.Files[0] != wantFile {
				t.Errorf("Files = %+v, want [%+v]", res.Files, wantFile)
			}
			for _, p := range res.Packages {
				if p.Location.Path != filepath.ToSlash(path) {
					t.Errorf("%s: location %q, want %q", p.Name, p.Location.Path, filepath.ToSlash(path))
				}
			}
			for _, w := range tt.want {
				checkPkg(t, res.Packages, w)
			}
		})
	}
	for _, name := range Formats() {
		if !covered[name] {
			t.Errorf("extractor %s has no test row", name)
		}
	}
}

func TestSBOMWarnsOnComponentsWithoutPURL(t *testing.T) {
	res, err := Extract(context.Background(), []string{"testdata/sbom/bom.cdx.json"}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Warnings) != 1 || !strings.Contains(res.Warnings[0], "1 components without") {
		t.Errorf("Warnings = %q", res.Warnings)
	}
}

func TestNoDev(t *testing.T) {
	tests := []struct {
		file    string
		dropped []string
		kept    []string
	}{
		{"npm-v1/package-lock.json", []string{"mocha", "debug"}, []string{"left-pad", "fsevents"}},
		{"npm-v3/package-lock.json", []string{"jest"}, []string{"express", "fsevents", "react", "qs"}},
		{"pipenv/Pipfile.lock", []string{"pytest"}, []string{"markupsafe"}},
		{"composer/composer.lock", []string{"phpunit/phpunit"}, []string{"guzzlehttp/guzzle"}},
		{"maven/child/pom.xml", []string{"junit:junit"}, []string{"org.apache.logging.log4j:log4j-core"}},
		{"pubspec/pubspec.lock", []string{"test"}, []string{"http"}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			res, err := Extract(context.Background(), []string{filepath.Join("testdata", tt.file)}, Options{NoDev: true})
			if err != nil {
				t.Fatal(err)
			}
			var names []string
			for _, p := range res.Packages {
				names = append(names, p.Name)
			}
			for _, n := range tt.dropped {
				if slices.Contains(names, n) {
					t.Errorf("dev-only %s kept with NoDev", n)
				}
			}
			for _, n := range tt.kept {
				if !slices.Contains(names, n) {
					t.Errorf("%s dropped with NoDev", n)
				}
			}
			if res.Files[0].Packages != len(res.Packages) {
				t.Errorf("FileResult counts %d packages, result has %d", res.Files[0].Packages, len(res.Packages))
			}
		})
	}
}

func TestDevOnly(t *testing.T) {
	for groups, want := range map[string]bool{
		"": false, "dev": true, "test": true, "dev,optional": false, "optional": false, "peer": false, "dev,test": true,
	} {
		var g []string
		if groups != "" {
			g = strings.Split(groups, ",")
		}
		if got := DevOnly(scan.Package{DepGroups: g}); got != want {
			t.Errorf("DevOnly(%q) = %v, want %v", g, got, want)
		}
	}
}

func TestErrors(t *testing.T) {
	tests := []struct {
		path      string
		kind      error
		extractor string
		mention   string
	}{
		{"testdata/malformed/unknown.txt", ErrUnknownFormat, "", "not a recognised"},
		{"testdata/npm-v1", nil, "", ""}, // a directory: fine
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			_, err := Extract(context.Background(), []string{tt.path}, Options{})
			if tt.kind == nil {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if !errors.Is(err, tt.kind) {
				t.Fatalf("err = %v, want %v", err, tt.kind)
			}
			var fe *FileError
			if !errors.As(err, &fe) {
				t.Fatalf("err %T is not a *FileError", err)
			}
			if fe.Path != tt.path || fe.Extractor != tt.extractor {
				t.Errorf("FileError{Path: %q, Extractor: %q}, want %q, %q", fe.Path, fe.Extractor, tt.path, tt.extractor)
			}
			if !strings.Contains(err.Error(), tt.path) || !strings.Contains(err.Error(), tt.mention) {
				t.Errorf("error %q does not name %q and %q", err, tt.path, tt.mention)
			}
		})
	}
	if _, err := Extract(context.Background(), []string{"testdata/no-such-file"}, Options{}); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing path: err = %v, want fs.ErrNotExist", err)
	}
}

// A file that is recognised but does not parse is a failure in the result,
// with a nil error: the files given with it are still read.
func TestMalformedFilesAreFailures(t *testing.T) {
	tests := []struct {
		path      string
		extractor string
		mention   string
	}{
		{"testdata/malformed/package-lock.json", "javascript/packagelockjson", "unexpected end of JSON input"},
		{"testdata/malformed/go.mod", "go/gomod", "testdata/malformed/go.mod:5"},
		{"testdata/malformed/bom.cdx.json", "sbom/cdx", "malformed cdx file"},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			res, err := Extract(context.Background(), []string{tt.path, "testdata/npm-v1/package-lock.json"}, Options{})
			if err != nil {
				t.Fatalf("err = %v, want nil (the failure is in the result)", err)
			}
			if len(res.Failures) != 1 {
				t.Fatalf("Failures = %+v, want one", res.Failures)
			}
			f := res.Failures[0]
			if f.Path != tt.path || f.Extractor != tt.extractor || !strings.Contains(f.Reason, tt.mention) {
				t.Errorf("failure %+v, want path %q, extractor %q, reason mentioning %q", f, tt.path, tt.extractor, tt.mention)
			}
			if len(res.Files) != 1 || res.Files[0].Path != "testdata/npm-v1/package-lock.json" || len(res.Packages) != 4 {
				t.Errorf("the good lockfile was not read: files %+v, %d packages", res.Files, len(res.Packages))
			}
		})
	}
}

func TestMalformedInDirectoryKeepsGoing(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "good/package-lock.json", mustRead(t, "testdata/npm-v1/package-lock.json"))
	write(t, dir, "bad/package-lock.json", `{"packages": `)
	res, err := Extract(context.Background(), []string{dir}, Options{})
	if err != nil {
		t.Fatalf("err = %v, want nil with the failure in the result", err)
	}
	bad := filepath.ToSlash(filepath.Join(dir, "bad", "package-lock.json"))
	if len(res.Failures) != 1 || res.Failures[0].Path != bad || res.Failures[0].Extractor != "javascript/packagelockjson" ||
		!strings.HasPrefix(res.Failures[0].Reason, "malformed packagelockjson file: ") {
		t.Errorf("Failures = %+v, want bad/package-lock.json as malformed", res.Failures)
	}
	if len(res.Packages) != 4 || len(res.Files) != 1 {
		t.Errorf("the good lockfile's 4 packages should be there: %+v", res)
	}
}

func TestDirectoryWalk(t *testing.T) {
	dir := t.TempDir()
	lock := mustRead(t, "testdata/npm-v1/package-lock.json")
	write(t, dir, ".gitignore", "# build output\nbuild/\n*.generated.txt\n")
	write(t, dir, "package-lock.json", lock)
	write(t, dir, "app/requirements.txt", "flask==2.0.1\n")
	write(t, dir, "app/.gitignore", "local/\n")
	write(t, dir, "app/local/requirements.txt", "django==1.0\n")       // ignored by app/.gitignore
	write(t, dir, "build/package-lock.json", lock)                     // ignored by .gitignore
	write(t, dir, "x/deps.generated.txt", "ignored\n")                 // not a format anyway
	write(t, dir, "x/requirements.generated.txt", "django==1.0\n")     // ignored by pattern
	write(t, dir, "node_modules/left-pad/package-lock.json", lock)     // skipped dir
	write(t, dir, ".git/package-lock.json", lock)                      // skipped dir
	write(t, dir, "README.md", "# not a lockfile\n")                   // unknown: skipped silently
	write(t, dir, "sub/go.mod", "module example.com/sub\n\ngo 1.22\n") // only stdlib
	// A symlink loop and a link to a file: the walk ends and reads the file.
	if err := os.Symlink(dir, filepath.Join(dir, "sub", "loop")); err != nil {
		t.Skip("symlinks unsupported:", err)
	}
	if err := os.Symlink(filepath.Join(dir, "app", "requirements.txt"), filepath.Join(dir, "sub", "requirements.txt")); err != nil {
		t.Fatal(err)
	}

	// A link to a lockfile outside the project is not followed.
	outside := t.TempDir()
	write(t, outside, "requirements.txt", "leaked==1.0\n")
	if err := os.Symlink(filepath.Join(outside, "requirements.txt"), filepath.Join(dir, "sub", "requirements-outside.txt")); err != nil {
		t.Fatal(err)
	}

	res, err := Extract(context.Background(), []string{dir}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	var files []string
	for _, f := range res.Files {
		files = append(files, strings.TrimPrefix(f.Path, filepath.ToSlash(dir)+"/"))
	}
	want := []string{"app/requirements.txt", "package-lock.json", "sub/go.mod", "sub/requirements.txt"}
	if !slices.Equal(files, want) {
		t.Errorf("files = %q, want %q below %s", files, want, dir)
	}
	// The link leading outside is a lockfile that could not be read.
	outsideLink := filepath.ToSlash(filepath.Join(dir, "sub", "requirements-outside.txt"))
	if len(res.Failures) != 1 || res.Failures[0].Path != outsideLink || !strings.Contains(res.Failures[0].Reason, "outside the project") {
		t.Errorf("Failures = %+v, want %s refused as leading outside the project", res.Failures, outsideLink)
	}
	if _, ok := find(res.Packages, "PyPI", "leaked", "1.0"); ok {
		t.Errorf("a file outside the project was read")
	}
	if len(res.Packages) != 4+1+1+1 {
		t.Errorf("got %d packages, want 7", len(res.Packages))
	}
	if _, ok := find(res.Packages, "Go", "stdlib", "1.22"); !ok {
		t.Errorf("stdlib 1.22 not found")
	}

	res, err = Extract(context.Background(), []string{dir}, Options{NoGitignore: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Files) != 7 {
		t.Errorf("NoGitignore: %d files read, want 7: %+v", len(res.Files), res.Files)
	}
}

func TestEmptyDirectoryIsNotAnError(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "README.md", "nothing here\n")
	res, err := Extract(context.Background(), []string{dir}, Options{})
	if err != nil || len(res.Packages) != 0 || len(res.Files) != 0 {
		t.Errorf("Extract(empty dir) = %+v, %v", res, err)
	}
}

func TestCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Extract(ctx, []string{"testdata"}, Options{}); !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want context.Canceled", err)
	}
}

func TestExtractSBOM(t *testing.T) {
	tests := []struct {
		file, hint string
		want       pkg
	}{
		{"sbom/bom.cdx.json", "application/vnd.cyclonedx+json", pkg{eco: "npm", name: "lodash", version: "4.17.20"}},
		{"sbom/bom.cdx.json", "https://cyclonedx.org/bom/v1.5", pkg{eco: "npm", name: "lodash", version: "4.17.20"}},
		{"sbom/bom.cdx.json", "", pkg{eco: "npm", name: "lodash", version: "4.17.20"}},
		{"sbom/bom.cdx.xml", "", pkg{eco: "Maven", name: "com.google.guava:guava", version: "31.1-jre"}},
		{"sbom/tiny.spdx.json", "https://spdx.dev/Document", pkg{eco: "Go", name: "github.com/gin-gonic/gin", version: "1.6.3"}},
		{"sbom/tiny.spdx.json", "", pkg{eco: "Go", name: "github.com/gin-gonic/gin", version: "1.6.3"}},
		{"sbom/tiny.spdx", "", pkg{eco: "PyPI", name: "requests", version: "2.19.0"}},
		{"sbom/tiny.spdx", "text/spdx", pkg{eco: "PyPI", name: "requests", version: "2.19.0"}},
	}
	for _, tt := range tests {
		t.Run(tt.file+"/"+tt.hint, func(t *testing.T) {
			res, err := ExtractSBOM(context.Background(), "attestation", mustReadBytes(t, filepath.Join("testdata", tt.file)), tt.hint, Options{})
			if err != nil {
				t.Fatal(err)
			}
			checkPkg(t, res.Packages, tt.want)
			for _, p := range res.Packages {
				if p.Location.Path != "attestation" {
					t.Errorf("location %q", p.Location.Path)
				}
			}
		})
	}
	_, err := ExtractSBOM(context.Background(), "x", []byte("hello"), "", Options{})
	if !errors.Is(err, ErrUnknownFormat) || !errors.Is(err, ErrUnknownSBOMFormat) {
		t.Errorf("unknown: err = %v", err)
	}
	_, err = ExtractSBOM(context.Background(), "x", []byte(`{"bomFormat": "CycloneDX", "components": [`), "", Options{})
	if !errors.Is(err, ErrMalformed) {
		t.Errorf("malformed: err = %v", err)
	}
}

func write(t testing.TB, dir, name, content string) {
	t.Helper()
	p := filepath.Join(dir, filepath.FromSlash(name))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func mustRead(t *testing.T, name string) string { return string(mustReadBytes(t, name)) }

func mustReadBytes(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// References in a lockfile (requirements -r includes, pom parents) are
// followed only inside the project: the git work tree, else the directory
// scanned.
func TestReferencesStayInsideTheProject(t *testing.T) {
	top := t.TempDir()
	write(t, top, "secret.txt", "leaked-name==1.0\n")
	write(t, top, "proj/requirements.txt", "-r ../secret.txt\n-r /"+filepath.ToSlash(filepath.Join(top, "secret.txt"))+"\n-r inner.txt\nflask==2.0.1\n")
	write(t, top, "proj/inner.txt", "six==1.16.0\n")
	res, err := Extract(context.Background(), []string{filepath.Join(top, "proj")}, Options{})
	if err != nil {
		t.Logf("err (acceptable): %v", err)
	}
	if res == nil {
		t.Fatal("no result")
	}
	if _, ok := find(res.Packages, "PyPI", "leaked-name", "1.0"); ok {
		t.Errorf("a file outside the project was read: %v", res.Packages)
	}
	if _, ok := find(res.Packages, "PyPI", "six", "1.16.0"); !ok {
		t.Errorf("the include inside the project was not read: %v", res.Packages)
	}
}

func TestWalkOfSubdirectoryHonoursProjectGitignore(t *testing.T) {
	top := t.TempDir()
	write(t, top, ".git/HEAD", "ref: refs/heads/main\n")
	write(t, top, ".gitignore", "sub/generated/\n")
	write(t, top, "sub/requirements.txt", "flask==2.0.1\n")
	write(t, top, "sub/generated/requirements.txt", "django==1.0\n")
	res, err := Extract(context.Background(), []string{filepath.Join(top, "sub")}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.ToSlash(filepath.Join(top, "sub", "requirements.txt")); len(res.Files) != 1 || res.Files[0].Path != want {
		t.Errorf("files = %+v, want only %s", res.Files, want)
	}
}
