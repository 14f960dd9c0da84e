package pypi_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sigstore/sigstore-go/pkg/root"

	"github.com/hallmark-dev/hallmark/pkg/ecosystem/pypi"
	"github.com/hallmark-dev/hallmark/pkg/verify"
)

// shared is ../shared (real attestations made elsewhere, read in place);
// the tests that need it skip, saying so, without it.
func shared(t testing.TB) string {
	t.Helper()
	dir := filepath.Join("..", "..", "..", "..", "shared")
	if _, err := os.Stat(filepath.Join(dir, "fixtures", "ecosystems", "pypi", "README.md")); err != nil {
		t.Skipf("../shared is not here (%v): the real PEP 740 attestations are not verified", err)
	}
	return dir
}

func loadRoot(t *testing.T, path string) root.TrustedMaterial {
	t.Helper()
	tr, err := root.NewTrustedRootFromPath(path)
	if err != nil {
		t.Fatal(err)
	}
	return tr
}

func readDoc(t *testing.T, path string) *pypi.Document {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	doc, err := pypi.Parse(data)
	if err != nil {
		t.Fatal(err)
	}
	return doc
}

func distOf(t *testing.T, path string) pypi.Dist {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	d, err := pypi.ReadDist(context.Background(), filepath.Base(path), f)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// The cases of ../shared/fixtures/ecosystems/cases.tsv for PyPI, each with
// the verdict it gives and, for a failure, which check refuses it.
func TestRealAttestations(t *testing.T) {
	sh := shared(t)
	dir := filepath.Join(sh, "fixtures", "ecosystems", "pypi")
	prod := loadRoot(t, filepath.Join(sh, "conformance", "data", "_production", "trusted_root.json"))
	staging := loadRoot(t, filepath.Join(dir, "roots", "staging-trusted-root.json"))
	models := filepath.Join(dir, "pypi_attestation_models-0.0.4a2.tar.gz.attestation")
	spt3g := filepath.Join(dir, "spt3g-1.0-cp310-cp310-manylinux_2_17_x86_64.manylinux2014_x86_64.whl.publish.attestation")
	spt3gDist, err := pypi.NewDist("spt3g-1.0-cp310-cp310-manylinux_2_17_x86_64.manylinux2014_x86_64.whl", "d2772f9a5199f05ed1be8d9aa78b879e51772e3ead9d73fe8057257b1aec7cf8")
	if err != nil {
		t.Fatal(err)
	}
	models0, err := pypi.ParsePublisher("github:trailofbits/pypi-attestation-models/release.yml")
	if err != nil {
		t.Fatal(err)
	}
	wrongWF := models0
	wrongWF.Workflow = "publish.yml"
	william := pypi.Publisher{Kind: pypi.KindEmail, Email: "william@yossarian.net", Issuer: "https://github.com/login/oauth"}

	for _, c := range []struct {
		name      string
		dist      pypi.Dist
		doc       string
		root      root.TrustedMaterial
		publisher pypi.Publisher
		cause     verify.Cause // "" for a pass
		as        func(error) bool
	}{
		{"pypi-models-0.0.4a2-attestation", distOf(t, filepath.Join(dir, "pypi_attestation_models-0.0.4a2.tar.gz")), models, prod, models0, "", nil},
		{"neg-pypi-models-renamed-file", distOf(t, filepath.Join(dir, "neg-renamed", "pypi_attestation_models-0.0.4a3.tar.gz")), models, prod, models0,
			verify.CauseStatement, func(err error) bool { var se *pypi.SubjectError; return errors.As(err, &se) }},
		{"neg-pypi-models-wrong-workflow", distOf(t, filepath.Join(dir, "pypi_attestation_models-0.0.4a2.tar.gz")), models, prod, wrongWF,
			verify.CauseIdentity, func(err error) bool { var pm *pypi.PublisherMismatchError; return errors.As(err, &pm) }},
		{"pypi-spt3g-1.0-publish-staging", spt3gDist, spt3g, staging, william, "", nil},
		{"neg-pypi-spt3g-on-production-root", spt3gDist, spt3g, prod, william, verify.CauseCertificate, nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			v, err := pypi.NewVerifier([]root.TrustedMaterial{c.root}, pypi.Policy{Publisher: c.publisher})
			if err != nil {
				t.Fatal(err)
			}
			res, err := pypi.Verify(context.Background(), v, readDoc(t, c.doc), c.dist)
			if c.cause == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				if len(res.Results) != 1 || !res.Results[0].Verified {
					t.Fatalf("results: %+v", res.Results)
				}
				return
			}
			var rej *verify.RejectedError
			if !errors.As(err, &rej) {
				t.Fatalf("want a rejection (%s), got %v", c.cause, err)
			}
			if rej.Cause != c.cause {
				t.Errorf("cause %q, want %q: %v", rej.Cause, c.cause, err)
			}
			if c.as != nil && !c.as(err) {
				t.Errorf("the rejection does not wrap the expected error type: %#v", rej.Err)
			}
			if len(res.Results) == 0 || res.Results[len(res.Results)-1].Verified {
				t.Errorf("the failing result is not recorded as unverified: %+v", res.Results)
			}
		})
	}
	// The wrong workflow's rejection shows both workflows.
	v, _ := pypi.NewVerifier([]root.TrustedMaterial{prod}, pypi.Policy{Publisher: wrongWF})
	_, err = pypi.Verify(context.Background(), v, readDoc(t, models), distOf(t, filepath.Join(dir, "pypi_attestation_models-0.0.4a2.tar.gz")))
	for _, want := range []string{".github/workflows/publish.yml", ".github/workflows/release.yml@refs/tags/v0.0.4a2"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("the wrong workflow's rejection does not show %q: %v", want, err)
		}
	}
}
