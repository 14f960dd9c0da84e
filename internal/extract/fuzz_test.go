package extract

import (
	"context"
	"errors"

	"path/filepath"
	"testing"
)

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
		if err != nil && !errors.Is(err, ErrMalformed) && !errors.Is(err, ErrUnknownFormat) {
			t.Fatalf("unclassified error %v", err)
		}
	})
}
