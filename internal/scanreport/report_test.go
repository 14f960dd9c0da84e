package scanreport

import (
	"bytes"
	"encoding/json"
	"go/build"
	"os"
	"path/filepath"
	"runtime/debug"
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

var goldenExt = map[string]string{"text": "txt", "json": "json", "sarif": "sarif", "openvex": "openvex.json", "cyclonedx": "cdx.json", "markdown": "md"}

// Each format renders the fixture result to its golden file; regenerate
// with UPDATE_GOLDEN=1 go test ./internal/scanreport/.
func TestGolden(t *testing.T) {
	r := loadResult(t)
	for _, format := range Formats {
		t.Run(format, func(t *testing.T) {
			var buf bytes.Buffer
			if err := Render(&buf, format, r); err != nil {
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
			if err := Render(&again, format, r); err != nil || !bytes.Equal(again.Bytes(), buf.Bytes()) {
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
	want := "2 vulnerabilities in 2 of 5 packages, 2 suppressed, 1 unpinned not checked"
	if got != want {
		t.Errorf("Summary = %q, want %q", got, want)
	}
	if got := Summary(&scan.Result{Packages: 3}); got != "0 vulnerabilities in 0 of 3 packages" {
		t.Errorf("empty Summary = %q", got)
	}
}
