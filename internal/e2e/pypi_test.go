//go:build e2e

package e2e

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sigstore/sigstore-go/pkg/bundle"

	"github.com/hallmark-dev/hallmark/pkg/ecosystem/pypi"
)

// TestPyPI makes PEP 740 documents on the stack: a publish attestation
// (https://docs.pypi.org/attestations/publish/v1) of an sdist, signed
// keyless with a GitHub-workflow token of pypa/sampleproject (Fulcio issues
// the GitHub claims), logged in Rekor v2 and timestamped by the TSA,
// rebuilt as an attestation object (pypi.FromBundle; the Rekor v2 entry
// has no time, so the RFC 3161 timestamps ride in the proposed
// "timestamps" field) and wrapped in a provenance object as PyPI serves it.
// The tokens come from GitHub Actions' issuer at its real URL when the
// stack serves it (then --preset pypi runs with GitHub's issuer, as for
// PyPI), else from the stack's GitHub-workflow issuer named with
// --publisher-issuer. hallmark verify --preset pypi verifies them; another
// package's attestation is refused; the lock pins the publisher on first
// use and refuses the same package attested by another workflow, old
// against new.
func TestPyPI(t *testing.T) {
	in := stack(t)
	dir := t.TempDir()
	nonce := strconv.FormatInt(time.Now().UnixNano(), 10) // Rekor v2 refuses a duplicate entry
	const repo = "pypa/sampleproject"

	// attestDist writes dist (a file name) with content, attests it as
	// the workflow wf of repo would, and returns its path and the
	// attestation object's path.
	g, real, why := actionsIssuer()
	if !real {
		t.Logf("GitHub Actions' issuer at its real URL is not served (%s): the stack's own GitHub-workflow issuer signs, named with --publisher-issuer", why)
		g = stackGitHubIssuer(t)
	}
	attestWith := func(g githubIssuer, wf, sub, dist, content string) (string, string) {
		t.Helper()
		tok := g.token(t, repo, wf, func(map[string]any) {})
		d := filepath.Join(dir, sub)
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(d, dist)
		write(t, path, []byte(content))
		pred := filepath.Join(d, "predicate.json")
		write(t, pred, []byte(`{}`))
		bp := filepath.Join(d, dist+".sigstore.json")
		in.attest(t, githubEnv(repo, wf, bottleRef, bottleSHA), exitOK, tok, "--type", pypi.PublishPredicateType, "--predicate", pred, "--bundle", bp, path)
		var b bundle.Bundle
		if err := b.UnmarshalJSON(read(t, bp)); err != nil {
			t.Fatal(err)
		}
		a, err := pypi.FromBundle(&b)
		if err != nil {
			t.Fatal(err)
		}
		if len(a.VerificationMaterial.Timestamps) == 0 {
			t.Fatalf("the stack's bundle has no RFC 3161 timestamp to carry")
		}
		data, err := json.Marshal(a)
		if err != nil {
			t.Fatal(err)
		}
		ap := path + ".publish.attestation"
		write(t, ap, data)
		return path, ap
	}
	attestDist := func(wf, sub, dist, content string) (string, string) {
		t.Helper()
		return attestWith(g, wf, sub, dist, content)
	}
	sdist := "sampleproject-4.0." + nonce + ".tar.gz"
	good, goodAtt := attestDist(".github/workflows/release.yml", "release", sdist, "sdist "+nonce)
	// The same package attested by another workflow of the repository.
	pr, prAtt := attestDist(".github/workflows/pr.yml", "pr", sdist, "sdist "+nonce)
	// Another package's attestation, whose file is copied under this name.
	_, otherAtt := attestDist(".github/workflows/release.yml", "other", "otherproject-1.0."+nonce+".tar.gz", "sdist "+nonce)

	// A provenance object as PyPI's Integrity API serves it.
	var att json.RawMessage = read(t, goodAtt)
	prov, err := json.Marshal(map[string]any{"version": 1, "attestation_bundles": []any{map[string]any{
		"publisher": map[string]any{"kind": "GitHub", "repository": repo, "workflow": "release.yml", "environment": nil}, "attestations": []any{att}}}})
	if err != nil {
		t.Fatal(err)
	}
	provPath := filepath.Join(dir, "release", sdist+".provenance")
	write(t, provPath, prov)

	base := []string{"verify", "--offline", "--preset", "pypi", "--trusted-root", in.trustedRoot}
	// issuerFlag names the issuer when it is not GitHub's own.
	var issuerFlag []string
	if !real {
		issuerFlag = []string{"--publisher-issuer", g.url}
	}
	publisher := append([]string{"--publisher", "github:" + repo + "/release.yml"}, issuerFlag...)
	lockPath := filepath.Join(dir, "hallmark.lock")

	t.Run("provenance-object", func(t *testing.T) {
		stdout, _ := in.run(t, exitOK, "hallmark", append(append(base, publisher...), "--provenance", provPath, good)...)
		if !strings.HasPrefix(stdout, "OK ") || !strings.Contains(stdout, "published by github:"+repo+"/release.yml") {
			t.Errorf("stdout:\n%s", stdout)
		}
	})
	t.Run("no-publisher-hint", func(t *testing.T) {
		_, stderr := in.run(t, 2, "hallmark", append(base, good)...)
		if want := strings.Join(append([]string{"--publisher github:" + repo + "/release.yml"}, issuerFlag...), " "); !strings.Contains(stderr, want) {
			t.Errorf("the hint does not show the publisher found (%s):\n%s", want, stderr)
		}
	})
	t.Run("github-issuer-pinned-by-default", func(t *testing.T) {
		// A GitHub-workflow certificate of another issuer (the stack's
		// own URL) is refused unless --publisher-issuer names it.
		own := stackGitHubIssuer(t)
		p, pa := attestWith(own, ".github/workflows/release.yml", "own-issuer", sdist, "sdist "+nonce)
		_, stderr := in.run(t, exitRejected, "hallmark", append(base, "--publisher", "github:"+repo+"/release.yml", "--provenance", pa, p)...)
		if !strings.Contains(stderr, `expected "https://token.actions.githubusercontent.com"`) {
			t.Errorf("the refusal does not show GitHub's issuer expected:\n%s", stderr)
		}
		in.run(t, exitOK, "hallmark", append(base, "--publisher", "github:"+repo+"/release.yml", "--publisher-issuer", own.url, "--provenance", pa, p)...)
	})
	t.Run("copied-from-another-package", func(t *testing.T) {
		_, stderr := in.run(t, exitRejected, "hallmark", append(append(base, publisher...), "--provenance", otherAtt, good)...)
		if !strings.Contains(stderr, "does not name the distribution") || !strings.Contains(stderr, "subject name") {
			t.Errorf("stderr:\n%s", stderr)
		}
	})
	t.Run("lock-drift", func(t *testing.T) {
		_, stderr := in.run(t, exitOK, "hallmark", append(append(base, publisher...), "--lock", lockPath, good)...)
		if !strings.Contains(stderr, "lock: pinned pypi package sampleproject to github") {
			t.Errorf("the first use does not say what it pinned:\n%s", stderr)
		}
		pinned := read(t, lockPath)
		// The lock is the policy: no --publisher.
		in.run(t, exitOK, "hallmark", append(base, "--lock", lockPath, good)...)
		// The same package from pr.yml: refused, locked against now.
		for _, args := range [][]string{
			append(base, "--lock", lockPath, "--provenance", prAtt, pr),
			append(append(append(base, "--publisher", "github:"+repo), issuerFlag...), "--lock", lockPath, "--provenance", prAtt, pr),
		} {
			_, stderr := in.run(t, exitRejected, "hallmark", args...)
			for _, want := range []string{`differs from the lock file's entry`, `workflow  expected ".github/workflows/release.yml" (locked)`, `actual   ".github/workflows/pr.yml"`} {
				if !strings.Contains(stderr, want) {
					t.Errorf("the drift does not show %q:\n%s", want, stderr)
				}
			}
		}
		if string(read(t, lockPath)) != string(pinned) {
			t.Error("a refused drift changed the lock file")
		}
		in.run(t, exitOK, "hallmark", append(append(append(base, "--publisher", "github:"+repo+"/pr.yml"), issuerFlag...), "--lock", lockPath, "--update-lock", "--provenance", prAtt, pr)...)
		if !strings.Contains(string(read(t, lockPath)), `workflow = ".github/workflows/pr.yml"`) {
			t.Errorf("--update-lock did not write the new workflow:\n%s", read(t, lockPath))
		}
	})
}
