package scanreport

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"go/build"
	"os"
	"path/filepath"
	"reflect"
	"runtime/debug"
	"strconv"
	"strings"
	"testing"

	"github.com/owenrumney/go-sarif/v3/pkg/report/v210/sarif"
	"github.com/xeipuuv/gojsonschema"

	"github.com/hallmark-dev/hallmark/pkg/scan"
)

func loadResult(t *testing.T) *scan.Result {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", "result.json"))
	if err != nil {
		t.Fatal(err)
	}
	var r scan.Result
	if err := json.Unmarshal(data, &r); err != nil {
		t.Fatal(err)
	}
	return &r
}

var goldenOptions = Options{SourceRoot: "/home/dev/my project"}

var goldenExt = map[string]string{"text": "txt", "json": "json", "sarif": "sarif", "openvex": "openvex.json", "cyclonedx": "cdx.json", "markdown": "md"}

// Each format renders the fixture result to its golden file; regenerate
// with UPDATE_GOLDEN=1 go test ./internal/scanreport/.
func TestGolden(t *testing.T) {
	r := loadResult(t)
	for _, format := range Formats {
		t.Run(format, func(t *testing.T) {
			var buf bytes.Buffer
			if err := RenderWith(&buf, format, r, goldenOptions); err != nil {
				t.Fatal(err)
			}
			path := filepath.Join("testdata", "golden", "result."+goldenExt[format])
			if os.Getenv("UPDATE_GOLDEN") != "" {
				if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run with UPDATE_GOLDEN=1 to create it)", err)
			}
			if !bytes.Equal(buf.Bytes(), want) {
				t.Errorf("%s output differs from %s (UPDATE_GOLDEN=1 regenerates it):\n%s", format, path, buf.String())
			}
			var again bytes.Buffer
			if err := RenderWith(&again, format, r, goldenOptions); err != nil || !bytes.Equal(again.Bytes(), buf.Bytes()) {
				t.Errorf("%s output is not deterministic", format)
			}
		})
	}
}

// The SARIF we write validates, as written, against the official SARIF
// 2.1.0 JSON schema (the copy go-sarif ships, read from the module cache).
func TestSARIFValidatesAgainstSchema(t *testing.T) {
	schema := sarifSchemaText(t)
	for _, r := range []*scan.Result{loadResult(t), {Scanner: scan.Scanner{Name: "hallmark", Version: "v0"}}} {
		var buf bytes.Buffer
		if err := Render(&buf, "sarif", r); err != nil {
			t.Fatal(err)
		}
		if _, err := sarif.FromBytes(buf.Bytes()); err != nil {
			t.Fatalf("a SARIF library cannot read our SARIF: %v", err)
		}
		res, err := gojsonschema.Validate(gojsonschema.NewStringLoader(schema), gojsonschema.NewBytesLoader(buf.Bytes()))
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range res.Errors() {
			t.Errorf("SARIF schema violation: %s", e)
		}
	}
}

// sarifSchemaText extracts the SARIF 2.1.0 schema from go-sarif's source in
// the module cache (go-sarif keeps it in an unexported constant).
func sarifSchemaText(t *testing.T) string {
	t.Helper()
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		t.Fatal("no build info")
	}
	modcache := os.Getenv("GOMODCACHE")
	if modcache == "" {
		modcache = filepath.Join(build.Default.GOPATH, "pkg", "mod")
	}
	for _, d := range bi.Deps {
		if d.Path != "github.com/owenrumney/go-sarif/v3" {
			continue
		}
		src, err := os.ReadFile(filepath.Join(modcache, "github.com", "owenrumney", "go-sarif", "v3@"+d.Version, "pkg", "report", "v210", "sarif", "schema.go"))
		if err != nil {
			t.Fatal(err)
		}
		_, rest, ok := strings.Cut(string(src), "const schema = `")
		schema, _, ok2 := strings.Cut(rest, "`")
		if !ok || !ok2 {
			t.Fatal("schema constant not found in go-sarif's schema.go")
		}
		return schema
	}
	t.Fatal("go-sarif is not a dependency of this test")
	return ""
}

// Suppressed findings are never dropped from machine formats.
func TestSuppressedFindingsAreKept(t *testing.T) {
	r := loadResult(t)
	for _, format := range []string{"json", "sarif", "openvex", "cyclonedx", "markdown", "text"} {
		var buf bytes.Buffer
		if err := Render(&buf, format, r); err != nil {
			t.Fatal(err)
		}
		for _, id := range []string{"GHSA-vh95-rmgr-6w4m", "PYSEC-2019-13"} {
			if !bytes.Contains(buf.Bytes(), []byte(id)) {
				t.Errorf("%s output lacks the suppressed finding %s", format, id)
			}
		}
	}
}

func TestUnknownFormat(t *testing.T) {
	if err := Render(&bytes.Buffer{}, "yaml", loadResult(t)); err == nil {
		t.Fatal("Render accepted an unknown format")
	}
}

func TestSummary(t *testing.T) {
	got := Summary(loadResult(t))
	want := "2 distinct vulnerabilities in 2 of 6 package instances, 2 findings suppressed, 1 unpinned not checked, " +
		"1 with an unparseable version not checked, 1 file could not be read"
	if got != want {
		t.Errorf("Summary = %q, want %q", got, want)
	}
	if got, want := Summary(&scan.Result{Packages: 3}), "0 distinct vulnerabilities in 0 of 3 package instances"; got != want {
		t.Errorf("empty Summary = %q, want %q", got, want)
	}
}

// The counts add up: many lockfiles pinning one vulnerable package are as
// many affected instances, each vulnerability is counted once, and the
// findings (vulnerability x instance) are said to be findings.
func TestSummaryCountsAddUp(t *testing.T) {
	r := &scan.Result{Packages: 10000}
	for i := range 10000 {
		p := scan.Package{Ecosystem: "npm", Name: "lodash", Version: "4.17.15", Location: scan.Location{Path: fmt.Sprintf("app%d/package-lock.json", i), Line: 12}}
		for _, id := range []string{"GHSA-1", "GHSA-2", "GHSA-3"} {
			r.Findings = append(r.Findings, scan.Finding{ID: id, Package: p})
		}
	}
	want := "3 distinct vulnerabilities in 10000 of 10000 package instances (30000 findings)"
	if got := Summary(r); got != want {
		t.Errorf("Summary = %q, want %q", got, want)
	}
	// Two entries of one package in one file (nested node_modules) are two
	// instances.
	r = &scan.Result{Packages: 2, Findings: []scan.Finding{
		{ID: "GHSA-1", Package: scan.Package{Ecosystem: "npm", Name: "a", Version: "1.0.0", Location: scan.Location{Path: "package-lock.json", Line: 3}}},
		{ID: "GHSA-1", Package: scan.Package{Ecosystem: "npm", Name: "a", Version: "1.0.0", Location: scan.Location{Path: "package-lock.json", Line: 9}}},
	}}
	if got, want := Summary(r), "1 distinct vulnerability in 2 of 2 package instances (2 findings)"; got != want {
		t.Errorf("Summary = %q, want %q", got, want)
	}
}

// SARIF locations: relative paths against %SRCROOT% (percent-encoded, and
// resolved by originalUriBaseIds when the source root is known); absolute
// paths as file URIs without a base; the invocation fails when a file
// could not be read.
func TestSARIFLocations(t *testing.T) {
	tests := []struct {
		path, uri, base string
	}{
		{"app/package-lock.json", "app/package-lock.json", "%SRCROOT%"},
		{"my app/go.mod", "my%20app/go.mod", "%SRCROOT%"},
		{"a:b/go.mod", "./a:b/go.mod", "%SRCROOT%"},
		{"../other/go.mod", "../other/go.mod", "%SRCROOT%"},
		{"", ".", "%SRCROOT%"},
		{"/srv/app/package-lock.json", "file:///srv/app/package-lock.json", ""},
		{`C:/src/app/package-lock.json`, "file:///C:/src/app/package-lock.json", ""},
	}
	for _, tc := range tests {
		if got := artifactOf(tc.path); got.URI != tc.uri || got.URIBaseID != tc.base {
			t.Errorf("artifactOf(%q) = %+v, want uri %q base %q", tc.path, got, tc.uri, tc.base)
		}
	}
	if got, want := dirURI("/home/dev/my project"), "file:///home/dev/my%20project/"; got != want {
		t.Errorf("dirURI = %q, want %q", got, want)
	}

	decode := func(r *scan.Result, opts Options) map[string]any {
		var buf bytes.Buffer
		if err := RenderWith(&buf, "sarif", r, opts); err != nil {
			t.Fatal(err)
		}
		var log map[string]any
		if err := json.Unmarshal(buf.Bytes(), &log); err != nil {
			t.Fatal(err)
		}
		return log["runs"].([]any)[0].(map[string]any)
	}
	run := decode(loadResult(t), Options{SourceRoot: "/work/repo"})
	if got := run["originalUriBaseIds"]; !reflect.DeepEqual(got, map[string]any{"%SRCROOT%": map[string]any{"uri": "file:///work/repo/"}}) {
		t.Errorf("originalUriBaseIds = %v", got)
	}
	inv := run["invocations"].([]any)[0].(map[string]any)
	if inv["executionSuccessful"] != false {
		t.Errorf("executionSuccessful = %v with a file that could not be read", inv["executionSuccessful"])
	}
	notes := inv["toolExecutionNotifications"].([]any)
	if len(notes) != 2 || notes[0].(map[string]any)["level"] != "error" || !strings.Contains(fmt.Sprint(notes[0]), "web/package-lock.json") {
		t.Errorf("notifications = %v, want the unreadable file as an error, then the unparseable version", notes)
	}
	run = decode(&scan.Result{}, Options{})
	if _, ok := run["originalUriBaseIds"]; ok {
		t.Error("originalUriBaseIds without a source root")
	}
	if inv := run["invocations"].([]any)[0].(map[string]any); inv["executionSuccessful"] != true {
		t.Errorf("executionSuccessful = %v for a complete scan", inv["executionSuccessful"])
	}
}

// A failed write is returned, whatever the format, even by renderers that
// print line by line.
func TestRenderReturnsWriteErrors(t *testing.T) {
	for _, format := range Formats {
		w := &failAfter{n: 20}
		if err := Render(w, format, loadResult(t)); !errors.Is(err, errFull) {
			t.Errorf("%s: err = %v, want %v", format, err, errFull)
		}
	}
}

var errFull = errors.New("disk full")

type failAfter struct{ n int }

func (f *failAfter) Write(p []byte) (int, error) {
	if len(p) > f.n {
		n := f.n
		f.n = 0
		return n, errFull
	}
	f.n -= len(p)
	return len(p), nil
}

// Every field of a result comes from a lockfile or an advisory: the text
// renderers show a hostile value quoted, on the line it belongs to, so it
// can neither add a line (a forged finding or summary) nor move the cursor.
func TestUntrustedTextIsEscaped(t *testing.T) {
	hostile := func(r *scan.Result) {
		f := &r.Findings[0]
		f.Package.Name += "\n0 distinct vulnerabilities in 0 of 5 package instances"
		f.Package.Version += "\x1b[2K"
		for i := range r.Findings {
			if r.Findings[i].Package.Location.Path == "package-lock.json" {
				r.Findings[i].Package.Location.Path += "\r" // one file, one group
			}
		}
		f.Package.DepGroups = []string{"prod\u202e"}
		f.ID += "\u2028"
		f.Aliases = []string{"CVE-2020-8203\u009b2J"}
		f.FixedVersions = []string{"4.17.19\t"}
		r.Findings[1].Suppressed.Reason += "\nGHSA-forged"
		r.Unpinned[0].Name += "\n  forged"
		r.Unpinned[0].Requirement += "\x00"
		r.Unparseable[0].Package.Name += "\nforged"
		r.Unparseable[0].Reason += "\x1b[2K"
		r.Failures[0].Path += "\nforged"
		r.Failures[0].Reason += "\r"
	}
	for _, format := range []string{"text", "markdown"} {
		t.Run(format, func(t *testing.T) {
			var plain, got bytes.Buffer
			if err := Render(&plain, format, loadResult(t)); err != nil {
				t.Fatal(err)
			}
			r := loadResult(t)
			hostile(r)
			if err := Render(&got, format, r); err != nil {
				t.Fatal(err)
			}
			out := got.String()
			if n, want := strings.Count(out, "\n"), strings.Count(plain.String(), "\n"); n != want {
				t.Errorf("%d lines, want %d as without the hostile values:\n%s", n, want, out)
			}
			for _, c := range out {
				if c != '\n' && !strconv.IsPrint(c) {
					t.Errorf("output holds the rune %U:\n%s", c, out)
				}
			}
			for _, want := range []string{`"lodash\n0 distinct vulnerabilities in 0 of 5 package instances"`, `"4.17.15\x1b[2K"`,
				`"GHSA-p6mc-m468-83gw\u2028"`, `"build tool only\nGHSA-forged"`, `"certifi\n  forged"`, `"left-pad\nforged"`, `"web/package-lock.json\nforged"`} {
				if !strings.Contains(out, want) {
					t.Errorf("output lacks %s:\n%s", want, out)
				}
			}
			if format == "text" {
				for _, want := range []string{`"package-lock.json\r"`, `"prod\u202e"`, `"CVE-2020-8203\u009b2J"`, `"4.17.19\t"`, `">=2018.1.18\x00"`} {
					if !strings.Contains(out, want) {
						t.Errorf("output lacks %s:\n%s", want, out)
					}
				}
			}
		})
	}
}
