//go:build e2e

package e2e

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"os"
	osexec "os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sigstore/sigstore-go/pkg/bundle"

	"github.com/hallmark-dev/hallmark/internal/e2e/oidcissuer"
)

// exitUsage is hallmark's exit code for a usage error.
const exitUsage = 2

// predicates are one valid predicate per --type, made here.
var predicates = map[string]string{
	"slsaprovenance1": `{"buildDefinition":{"buildType":"https://example.com/e2e/v1","externalParameters":{"target":"artifact.bin"}},"runDetails":{"builder":{"id":"https://example.com/e2e-builder"}}}`,
	"spdxjson":        `{"spdxVersion":"SPDX-2.3","dataLicense":"CC0-1.0","SPDXID":"SPDXRef-DOCUMENT","name":"artifact","documentNamespace":"https://example.com/e2e","creationInfo":{"created":"2026-01-01T00:00:00Z","creators":["Tool: e2e"]}}`,
	"cyclonedx":       `{"bomFormat":"CycloneDX","specVersion":"1.6","version":1,"components":[{"type":"library","name":"left-pad","version":"1.3.0"}]}`,
	"vuln":            `{"scanner":{"uri":"https://github.com/hallmark-dev/hallmark","result":[]}}`,
	"openvex":         `{"@context":"https://openvex.dev/ns/v0.2.0","@id":"https://example.com/vex","author":"e2e","timestamp":"2026-01-01T00:00:00Z","version":1,"statements":[{"vulnerability":{"name":"CVE-2026-0001"},"products":[{"@id":"pkg:generic/artifact"}],"status":"not_affected","justification":"component_not_present"}]}`,
	"link":            `{"name":"build","command":["make"],"byproducts":{"exitCode":0}}`,
	"release":         `{"purl":"pkg:github/hallmark-dev/e2e@v1.0.0","releaseId":"1"}`,
	"vsa":             `{"verifier":{"id":"https://example.com/verifier"},"timeVerified":"2026-01-01T00:00:00Z","resourceUri":"pkg:generic/artifact","policy":{"uri":"https://example.com/policy"},"verificationResult":"PASSED","verifiedLevels":["SLSA_BUILD_LEVEL_1"]}`,
}

// predicateURIs are the predicate types the names stand for.
var predicateURIs = map[string]string{
	"slsaprovenance1": "https://slsa.dev/provenance/v1",
	"spdxjson":        "https://spdx.dev/Document/v2.3",
	"cyclonedx":       "https://cyclonedx.org/bom",
	"vuln":            "https://in-toto.io/attestation/vulns/v0.2",
	"openvex":         "https://openvex.dev/ns/v0.2.0",
	"link":            "https://in-toto.io/attestation/link/v0.3",
	"release":         "https://in-toto.io/attestation/release/v0.1",
	"vsa":             "https://slsa.dev/verification_summary/v1",
}

// statementOf decodes the in-toto statement of a DSSE bundle.
func statementOf(t *testing.T, bundlePath string) map[string]any {
	t.Helper()
	b, err := bundle.LoadJSONFromPath(bundlePath)
	if err != nil {
		t.Fatal(err)
	}
	env := b.GetDsseEnvelope()
	if env == nil || env.GetPayloadType() != "application/vnd.in-toto+json" {
		t.Fatalf("%s is not a DSSE in-toto bundle", bundlePath)
	}
	var st map[string]any
	if err := json.Unmarshal(env.GetPayload(), &st); err != nil {
		t.Fatal(err)
	}
	return st
}

// field follows a dotted path in decoded JSON.
func field(t *testing.T, v any, path string) any {
	t.Helper()
	for _, k := range strings.Split(path, ".") {
		m, ok := v.(map[string]any)
		if !ok {
			t.Fatalf("%s: %q is not an object", path, k)
		}
		v = m[k]
	}
	return v
}

// tokenWith asks the local issuer for a token for email with extra claims.
func (in *instance) tokenWith(t *testing.T, email string, extra map[string]any) string {
	t.Helper()
	c, err := json.Marshal(extra)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.Get(in.tokenURL + "?email=" + url.QueryEscape(email) + "&claims=" + url.QueryEscape(string(c)))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var b bytes.Buffer
	if _, err := b.ReadFrom(resp.Body); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("token: %s %s %v", resp.Status, b.String(), err)
	}
	return b.String()
}

// attest runs hallmark attest keyless against the instance.
func (in *instance) attest(t *testing.T, env []string, want int, tok string, args ...string) (string, string) {
	t.Helper()
	all := append([]string{"attest", "--identity-token", tok, "--signing-config", in.signingConfig, "--trusted-root", in.trustedRoot}, args...)
	return in.runEnv(t, env, want, "hallmark", all...)
}

// TestAttest signs an attestation of every --type keyless against the
// instance (Fulcio, Rekor v2, the TSA), verifies each with hallmark verify
// and with sigstore-go's verifier, and rejects a malformed predicate.
func TestAttest(t *testing.T) {
	in := stack(t)
	for name, pred := range predicates {
		t.Run("type-"+name, func(t *testing.T) {
			t.Parallel()
			f := newFiles(t)
			pp := filepath.Join(f.dir, name+".json")
			write(t, pp, []byte(pred))
			bp := filepath.Join(f.dir, "artifact.bin."+name+".sigstore.json")
			in.attest(t, nil, exitOK, in.token(t, signer), "--type", name, "--predicate", pp, "--bundle", bp, f.artifact)
			checkBundle(t, bp)
			if got := statementOf(t, bp)["predicateType"]; got != predicateURIs[name] {
				t.Errorf("predicateType %v, want %s", got, predicateURIs[name])
			}
			in.verify(t, exitOK, bp, f.artifact, signer)
			in.verify(t, exitRejected, bp, f.tampered, signer)
			in.verify(t, exitRejected, bp, f.artifact, "someone-else@example.com")
			if err := in.verifyIndependently(bp, f.artifact, signer); err != nil {
				t.Errorf("sigstore-go's verifier: %v", err)
			}
		})
	}

	t.Run("malformed", func(t *testing.T) {
		t.Parallel()
		f := newFiles(t)
		tok := in.token(t, signer)
		for typ, bad := range map[string]string{
			"slsaprovenance1": `{"buildDefinition":{"externalParameters":{"a":1}},"runDetails":{"builder":{"id":"x"}}}`,
			"spdxjson":        `{"SPDXID":"SPDXRef-DOCUMENT","name":"x"}`,
			"cyclonedx":       `{"bomFormat":"CycloneDX"}`,
		} {
			pp := filepath.Join(f.dir, typ+"-bad.json")
			write(t, pp, []byte(bad))
			_, stderr := in.attest(t, nil, exitUsage, tok, "--type", typ, "--predicate", pp, f.artifact)
			if !strings.Contains(stderr, "predicate is invalid") {
				t.Errorf("%s: stderr %q does not say the predicate is invalid", typ, stderr)
			}
		}
	})

	// --provenance in a simulated GitHub Actions job, with a token whose
	// claims are shaped like GitHub's.
	t.Run("provenance-github", func(t *testing.T) {
		t.Parallel()
		f := newFiles(t)
		repo, wf, ref, sha := "hallmark-dev/e2e", ".github/workflows/release.yml", "refs/tags/v1.0.0", "0123456789abcdef0123456789abcdef01234567"
		claims := oidcissuer.GitHubClaims(repo, wf, ref, sha)
		env := []string{"GITHUB_ACTIONS=true", "GITHUB_SERVER_URL=https://github.com", "GITHUB_REPOSITORY=" + repo,
			"GITHUB_REF=" + ref, "GITHUB_WORKFLOW_REF=" + repo + "/" + wf + "@" + ref, "GITHUB_EVENT_NAME=push",
			"GITHUB_REPOSITORY_ID=1000001", "GITHUB_REPOSITORY_OWNER_ID=2000002", "RUNNER_ENVIRONMENT=github-hosted",
			"GITHUB_SHA=" + sha, "GITHUB_RUN_ID=3000003", "GITHUB_RUN_ATTEMPT=1", "GITHUB_TOKEN=ghs_e2e_secret", "GITLAB_CI="}
		in.attest(t, env, exitOK, in.tokenWith(t, signer, claims), "--provenance", f.artifact)
		bp := f.artifact + ".provenance.sigstore.json"
		checkBundle(t, bp)
		st := statementOf(t, bp)
		p := st["predicate"]
		for path, want := range map[string]string{
			"buildDefinition.buildType":                                     "https://actions.github.io/buildtypes/workflow/v1",
			"buildDefinition.externalParameters.workflow.repository":        "https://github.com/" + repo,
			"buildDefinition.externalParameters.workflow.ref":               ref,
			"buildDefinition.externalParameters.workflow.path":              wf,
			"buildDefinition.internalParameters.github.event_name":          "push",
			"buildDefinition.internalParameters.github.repository_id":       "1000001",
			"buildDefinition.internalParameters.github.repository_owner_id": "2000002",
			"buildDefinition.internalParameters.github.runner_environment":  "github-hosted",
			"runDetails.builder.id":                                         "https://github.com/" + repo + "/" + wf + "@" + ref,
			"runDetails.metadata.invocationId":                              "https://github.com/" + repo + "/actions/runs/3000003/attempts/1",
		} {
			if got := field(t, p, path); got != want {
				t.Errorf("%s = %v, want %s", path, got, want)
			}
		}
		deps := field(t, p, "buildDefinition.resolvedDependencies").([]any)
		if len(deps) != 1 || field(t, deps[0], "uri") != "git+https://github.com/"+repo+"@"+ref || field(t, deps[0], "digest.gitCommit") != sha {
			t.Errorf("resolvedDependencies %v", deps)
		}
		raw, _ := json.Marshal(st)
		if strings.Contains(string(raw), "ghs_e2e_secret") {
			t.Errorf("GITHUB_TOKEN reached the statement")
		}
		in.verify(t, exitOK, bp, f.artifact, signer)
		in.verify(t, exitRejected, bp, f.tampered, signer)
	})

	t.Run("provenance-gitlab", func(t *testing.T) {
		t.Parallel()
		f := newFiles(t)
		env := []string{"GITHUB_ACTIONS=", "GITLAB_CI=true", "CI_PROJECT_URL=https://gitlab.com/hallmark-dev/e2e", "CI_JOB_NAME=build",
			"CI_JOB_ID=55", "CI_COMMIT_SHA=0123456789abcdef0123456789abcdef01234567", "CI_COMMIT_REF_NAME=main",
			"CI_RUNNER_ID=9", "CI_RUNNER_VERSION=17.5.0", "CI_JOB_TOKEN=glcbt-e2e-secret"}
		bp := filepath.Join(f.dir, "gitlab.sigstore.json")
		in.attest(t, env, exitOK, in.token(t, signer), "--provenance", "--bundle", bp, f.artifact)
		st := statementOf(t, bp)
		p := st["predicate"]
		for path, want := range map[string]string{
			"buildDefinition.buildType":                     "https://gitlab.com/gitlab-org/gitlab-runner/-/blob/v17.5.0/PROVENANCE.md",
			"buildDefinition.externalParameters.source":     "https://gitlab.com/hallmark-dev/e2e",
			"buildDefinition.externalParameters.entryPoint": "build",
			"runDetails.builder.id":                         "https://gitlab.com/hallmark-dev/e2e/-/runners/9",
			"runDetails.metadata.invocationId":              "https://gitlab.com/hallmark-dev/e2e/-/jobs/55",
		} {
			if got := field(t, p, path); got != want {
				t.Errorf("%s = %v, want %s", path, got, want)
			}
		}
		raw, _ := json.Marshal(st)
		if strings.Contains(string(raw), "glcbt-e2e-secret") {
			t.Errorf("CI_JOB_TOKEN reached the statement")
		}
		in.verify(t, exitOK, bp, f.artifact, signer)
	})

	t.Run("provenance-local", func(t *testing.T) {
		t.Parallel()
		f := newFiles(t)
		bp := filepath.Join(f.dir, "local.sigstore.json")
		in.attest(t, []string{"GITHUB_ACTIONS=", "GITLAB_CI="}, exitOK, in.token(t, signer), "--provenance", "--bundle", bp, f.artifact)
		if got := field(t, statementOf(t, bp)["predicate"], "buildDefinition.buildType"); got != "https://github.com/hallmark-dev/hallmark/buildtypes/local/v1" {
			t.Errorf("buildType %v", got)
		}
		in.verify(t, exitOK, bp, f.artifact, signer)
	})

	t.Run("several-files-and-statement", func(t *testing.T) {
		t.Parallel()
		f := newFiles(t)
		bp := filepath.Join(f.dir, "both.sigstore.json")
		pp := filepath.Join(f.dir, "p.json")
		write(t, pp, []byte(`{"e2e":true}`))
		in.attest(t, nil, exitOK, in.token(t, signer), "--type", "https://example.com/e2e/v1", "--predicate", pp,
			"--bundle", bp, f.artifact, f.tampered)
		in.verify(t, exitOK, bp, f.artifact, signer)
		in.verify(t, exitOK, bp, f.tampered, signer)
		if n := len(statementOf(t, bp)["subject"].([]any)); n != 2 {
			t.Errorf("%d subjects, want 2", n)
		}
		// A ready statement; a FILE that is not its subject is exit 3. (The
		// shared statement's SLSA predicate lacks runDetails: hallmark
		// refuses it, exit 2.)
		in.attest(t, nil, exitUsage, in.token(t, signer), "--statement", f.statement, "--bundle", bp+".1", f.artifact)
		st := statementOf(t, bp)
		st["predicateType"], st["predicate"] = predicateURIs["link"], json.RawMessage(predicates["link"])
		data, err := json.Marshal(st)
		if err != nil {
			t.Fatal(err)
		}
		sp := filepath.Join(f.dir, "link-statement.json")
		write(t, sp, data)
		in.attest(t, nil, exitRejected, in.token(t, signer), "--statement", sp, "--bundle", bp+".2", f.dir+"/p.json")
		in.attest(t, nil, exitOK, in.token(t, signer), "--statement", sp, "--bundle", bp+".3", f.artifact)
		in.verify(t, exitOK, bp+".3", f.artifact, signer)
	})

	t.Run("run", func(t *testing.T) {
		t.Parallel()
		f := newFiles(t)
		tok := in.token(t, signer)
		write(t, filepath.Join(f.dir, "src.txt"), []byte("source "+t.Name()))
		// Globs are relative to the step's working directory.
		args := []string{"attest", "run", "--identity-token", tok, "--signing-config", in.signingConfig, "--trusted-root", in.trustedRoot,
			"--step", "build", "--materials", "src.txt", "--products", "out.txt", "--", "cp", "src.txt", "out.txt"}
		if r := runHallmarkIn(t, in, f.dir, args...); r.code != exitOK {
			t.Fatalf("attest run exited %d:\n%s", r.code, r.stderr)
		}
		bp := filepath.Join(f.dir, "build.link.sigstore.json")
		in.verify(t, exitOK, bp, filepath.Join(f.dir, "out.txt"), signer)
		if got := field(t, statementOf(t, bp), "predicateType"); got != predicateURIs["link"] {
			t.Errorf("predicateType %v", got)
		}
		// A failing command: its exit code, and the bundle still written.
		failed := runHallmarkIn(t, in, f.dir, "attest", "run", "--identity-token", tok, "--signing-config", in.signingConfig, "--trusted-root", in.trustedRoot,
			"--step", "fail", "--materials", "src.txt", "--products", "half.txt", "--", "sh", "-c", "echo half > half.txt; exit 7")
		if failed.code != 7 {
			t.Errorf("a failing step: exit %d, want 7:\n%s", failed.code, failed.stderr)
		}
		fp := filepath.Join(f.dir, "fail.link.sigstore.json")
		if _, err := os.Stat(fp); err != nil {
			t.Errorf("a failing step wrote no bundle: %v", err)
		} else {
			in.verify(t, exitOK, fp, filepath.Join(f.dir, "half.txt"), signer)
		}
	})
}

type result struct {
	code           int
	stdout, stderr string
}

// runHallmarkIn runs bin/hallmark in the working directory dir and returns
// its exit code instead of asserting it.
func runHallmarkIn(t *testing.T, in *instance, dir string, args ...string) result {
	t.Helper()
	var o, e bytes.Buffer
	cmd := osexec.Command(filepath.Join(in.bin, "hallmark"), args...)
	cmd.Dir = dir
	cmd.Stdout, cmd.Stderr = &o, &e
	cmd.Env = append(os.Environ(), "HALLMARK_CACHE_DIR="+t.TempDir())
	err := cmd.Run()
	r := result{stdout: o.String(), stderr: e.String()}
	var exitErr *osexec.ExitError
	switch {
	case errors.As(err, &exitErr):
		r.code = exitErr.ExitCode()
	case err != nil:
		t.Fatalf("running hallmark: %v", err)
	}
	return r
}
