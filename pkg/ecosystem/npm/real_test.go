package npm_test

import (
	"bufio"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sigstore/sigstore-go/pkg/root"

	"github.com/hallmark-dev/hallmark/pkg/ecosystem/github"
	"github.com/hallmark-dev/hallmark/pkg/ecosystem/npm"
	"github.com/hallmark-dev/hallmark/pkg/verify"
)

// sharedNPM is ../shared/fixtures/ecosystems beside the checkout, or "".
func sharedEcosystems() string {
	dir := filepath.Join("..", "..", "..", "..", "shared", "fixtures", "ecosystems")
	if _, err := os.Stat(filepath.Join(dir, "cases.tsv")); err != nil {
		return ""
	}
	return dir
}

// realCase is one npm line of ../shared/fixtures/ecosystems/cases.tsv.
type realCase struct {
	name, expect, artifact, document, trustRoot, keys, repo, workflow string
}

func realCases(t *testing.T) (string, []realCase) {
	dir := sharedEcosystems()
	if dir == "" {
		t.Skip("../shared/fixtures/ecosystems not found: the real npm documents are not checked")
	}
	f, err := os.Open(filepath.Join(dir, "cases.tsv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []realCase
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		c := strings.Split(sc.Text(), "\t")
		if len(c) < 10 || c[1] != "npm" {
			continue
		}
		out = append(out, realCase{name: c[0], expect: c[2], artifact: c[3], document: c[4], trustRoot: c[6], keys: c[7], repo: c[8], workflow: c[9]})
	}
	if len(out) != 6 {
		t.Fatalf("found %d npm cases in cases.tsv, want the 6 its README lists", len(out))
	}
	return dir, out
}

// TestRealDocuments verifies the real npm attestations documents exactly as
// cases.tsv says: both documents pass with their repository and workflow,
// the byte-flipped tarball, the edited publish and provenance statements
// and the wrong repository fail, each for its own reason.
func TestRealDocuments(t *testing.T) {
	dir, cases := realCases(t)
	prod, err := root.NewTrustedRootFromPath(filepath.Join(dir, "..", "..", "conformance", "data", "_production", "trusted_root.json"))
	if err != nil {
		t.Fatal(err)
	}
	wantCause := map[string]verify.Cause{
		"neg-npm-playwright-byteflip":                             verify.CauseArtifact,
		"neg-npm-playwright-wrong-repo":                           verify.CauseIdentity,
		"neg-npm-laurentsimon-1.0.0-publish-invalid-signature":    verify.CauseMalformed,
		"neg-npm-laurentsimon-1.0.0-provenance-invalid-signature": verify.CauseTlog,
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if c.trustRoot != "PROD" {
				t.Fatalf("trust root %q", c.trustRoot)
			}
			keysJSON, err := os.ReadFile(filepath.Join(dir, c.keys))
			if err != nil {
				t.Fatal(err)
			}
			keys, err := npm.ParseKeys(keysJSON)
			if err != nil {
				t.Fatal(err)
			}
			id, err := github.RepoIdentity(c.repo)
			if err != nil {
				t.Fatal(err)
			}
			wf, _, _ := strings.Cut(c.workflow, "@")
			id.SignerWorkflow = c.repo + "/" + wf
			v, err := npm.New([]root.TrustedMaterial{prod}, keys, npm.Policy{Identity: id})
			if err != nil {
				t.Fatal(err)
			}
			data, err := os.ReadFile(filepath.Join(dir, c.document))
			if err != nil {
				t.Fatal(err)
			}
			doc, err := npm.ParseDocument(data)
			if err != nil {
				t.Fatal(err)
			}
			var digest verify.Digest
			if strings.HasPrefix(c.artifact, "sha512:") {
				digest, err = npm.ParseIntegrity(c.artifact)
			} else {
				f, ferr := os.Open(filepath.Join(dir, c.artifact))
				if ferr != nil {
					t.Fatal(ferr)
				}
				digest, err = npm.HashTarball(context.Background(), f)
				f.Close()
			}
			if err != nil {
				t.Fatal(err)
			}
			pkg := packageOf(t, doc)
			res, err := v.Verify(context.Background(), pkg, digest, doc)
			if c.expect == "pass" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				if res.Status != npm.StatusVerified || res.Repository() != "https://github.com/"+c.repo || res.PublishKey == nil {
					t.Fatalf("result %+v", res)
				}
				return
			}
			var rej *verify.RejectedError
			if !errors.As(err, &rej) {
				t.Fatalf("got %v, want a rejection", err)
			}
			if rej.Cause != wantCause[c.name] {
				t.Fatalf("cause %q (%v), want %q", rej.Cause, err, wantCause[c.name])
			}
		})
	}
}

// packageOf is the package the publish predicate names (its name and
// version are checked against the package by Verify).
func packageOf(t *testing.T, doc *npm.Document) npm.Package {
	t.Helper()
	p, err := doc.Package()
	if err != nil {
		t.Fatal(err)
	}
	return p
}
