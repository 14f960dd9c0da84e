package pypi_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hallmark-dev/hallmark/pkg/ecosystem/pypi"
)

// realDocuments are the PEP 740 documents of ../shared, as fuzz seeds.
func realDocuments(f *testing.F) int {
	dir := filepath.Join("..", "..", "..", "..", "shared", "fixtures", "ecosystems", "pypi")
	found := 0
	for _, name := range []string{
		"pypi_attestation_models-0.0.4a2.tar.gz.attestation",
		"spt3g-1.0-cp310-cp310-manylinux_2_17_x86_64.manylinux2014_x86_64.whl.publish.attestation",
	} {
		data, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			continue
		}
		f.Add(data)
		// The same attestation inside a provenance object.
		f.Add([]byte(`{"version": 1, "attestation_bundles": [{"publisher": {"kind": "GitHub", "repository": "o/r", "workflow": "release.yml"}, "attestations": [` + string(data) + `]}]}`))
		found++
	}
	return found
}

// FuzzParse: any input is a document or an ErrMalformed error, never a
// panic; a parsed document's attestations convert to bundles or are
// rejected.
func FuzzParse(f *testing.F) {
	if n := realDocuments(f); n != 0 && n != 2 {
		f.Fatalf("found %d of the 2 PEP 740 seeds in ../shared", n)
	}
	f.Add([]byte(`{"version": 1, "attestation_bundles": []}`))
	f.Add([]byte(`{"version": 1, "verification_material": {"certificate": "eA==", "transparency_entries": [{}]}, "envelope": {"statement": "eA==", "signature": "eA=="}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		doc, err := pypi.Parse(data)
		if err != nil {
			if doc != nil {
				t.Fatal("a document and an error")
			}
			return
		}
		for _, b := range doc.Bundles {
			for i := range b.Attestations {
				_, _ = b.Attestations[i].Bundle()
			}
		}
		_ = doc.Signer()
	})
}

// FuzzParseFilename: a parsed name is Equal to itself and to its own
// spelling parsed again; an error is a *FilenameError.
func FuzzParseFilename(f *testing.F) {
	// The distribution names of ../shared's PEP 740 fixtures (their
	// attestation files, less the suffix), when it is here.
	dir := filepath.Join("..", "..", "..", "..", "shared", "fixtures", "ecosystems", "pypi")
	if entries, err := os.ReadDir(dir); err == nil {
		found := 0
		for _, e := range entries {
			for _, ext := range []string{".publish.attestation", ".attestation"} {
				if name, ok := strings.CutSuffix(e.Name(), ext); ok {
					f.Add(name)
					found++
					break
				}
			}
		}
		if found != 2 {
			f.Fatalf("found %d of the 2 distribution names in %s", found, dir)
		}
	}
	for _, s := range []string{
		"pypi_attestation_models-0.0.4a2.tar.gz",
		"spt3g-1.0-cp310-cp310-manylinux_2_17_x86_64.manylinux2014_x86_64.whl",
		"six-1.16.0-1-py2.py3-none-any.whl", "Foo.Bar-1!2.0rc1.post2.dev3+loc.al.zip",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, name string) {
		fn, err := pypi.ParseFilename(name)
		if err != nil {
			if !strings.Contains(err.Error(), "not a distribution file name") {
				t.Fatalf("error %v does not wrap ErrFilename", err)
			}
			return
		}
		if !fn.Equal(fn) {
			t.Fatalf("%q is not Equal to itself", name)
		}
		again, err := pypi.ParseFilename(fn.Raw)
		if err != nil || !again.Equal(fn) {
			t.Fatalf("%q parsed again: %v", name, err)
		}
	})
}
