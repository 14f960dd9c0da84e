package extract

import (
	"context"
	"os"
	"path/filepath"
	"testing"
)

// sharedInputs returns the directory of real lockfiles shared between the
// project's sessions (../shared/osv/inputs from the repository root, or
// $HALLMARK_OSV_INPUTS), skipping the test when it is absent.
func sharedInputs(tb testing.TB, sub string) string {
	tb.Helper()
	dir := os.Getenv("HALLMARK_OSV_INPUTS")
	if dir == "" {
		dir = filepath.Join("..", "..", "..", "shared", "osv", "inputs")
	}
	p := filepath.Join(dir, sub)
	if _, err := os.Stat(p); err != nil {
		tb.Skipf("shared inputs not available: %v", err)
	}
	return p
}

func TestSharedInputs(t *testing.T) {
	tests := []struct {
		dir   string
		count int
		want  []pkg
	}{
		{"npm-old", 97, []pkg{
			{eco: "npm", name: "lodash", version: "4.17.15"},
			{eco: "npm", name: "minimist", version: "1.2.0"},
			{eco: "npm", name: "minimist", version: "0.0.10"},
			{eco: "npm", name: "express", version: "4.16.0"},
		}},
		// 14 pins; certifi and idna are ranged, so unpinned, never their floor.
		{"py-old", 16, []pkg{
			{eco: "PyPI", name: "django", version: "2.2.0", line: 2},
			{eco: "PyPI", name: "pyjwt", version: "1.7.1"},
			{eco: "PyPI", name: "certifi", req: ">=2018.1.18"},
			{eco: "PyPI", name: "idna", req: "<2.8,>=2.5"},
		}},
		// go.mod requires 27 modules (8 direct, 19 indirect); with the go
		// directive as stdlib, 28 packages.
		{"go-old", 28, []pkg{
			{eco: "Go", name: "stdlib", version: "1.17", line: 3},
			{eco: "Go", name: "github.com/gin-gonic/gin", version: "1.6.3"},
			{eco: "Go", name: "github.com/dgrijalva/jwt-go", version: "3.2.0+incompatible"},
			{eco: "Go", name: "golang.org/x/crypto", version: "0.0.0-20200622213623-75b288015ac9"},
		}},
		{"maven-old", 5, []pkg{
			{eco: "Maven", name: "org.apache.logging.log4j:log4j-core", version: "2.14.1", line: 12},
			{eco: "Maven", name: "com.fasterxml.jackson.core:jackson-databind", version: "2.9.8"},
			{eco: "Maven", name: "junit:junit", version: "4.12", groups: []string{"test"}},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.dir, func(t *testing.T) {
			dir := sharedInputs(t, tt.dir)
			res, err := Extract(context.Background(), []string{dir}, Options{})
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Packages) != tt.count {
				t.Errorf("got %d packages, want %d", len(res.Packages), tt.count)
			}
			for _, w := range tt.want {
				checkPkg(t, res.Packages, w)
			}
			unpinned := 0
			for _, p := range res.Packages {
				if p.Unpinned() {
					unpinned++
				}
			}
			if tt.dir == "py-old" && unpinned != 2 {
				t.Errorf("%d unpinned, want 2", unpinned)
			}
		})
	}
}

func TestSharedInputsNoDev(t *testing.T) {
	dir := sharedInputs(t, "maven-old")
	res, err := Extract(context.Background(), []string{dir}, Options{NoDev: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Packages) != 4 {
		t.Errorf("NoDev: %d packages, want 4 (junit is test scope)", len(res.Packages))
	}
}

func BenchmarkExtractNpmLarge(b *testing.B) {
	dir := sharedInputs(b, "npm-large")
	lock := filepath.Join(dir, "package-lock.json")
	info, err := os.Stat(lock)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(info.Size())
	b.ReportAllocs()
	for b.Loop() {
		res, err := Extract(context.Background(), []string{lock}, Options{})
		if err != nil {
			b.Fatal(err)
		}
		if len(res.Packages) < 1000 {
			b.Fatalf("only %d packages", len(res.Packages))
		}
	}
}
