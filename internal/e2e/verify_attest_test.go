//go:build e2e

package e2e

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hallmark-dev/hallmark/internal/e2e/oidcissuer"
)

// githubToken asks the stack's GitHub-workflow issuer (Fulcio treats its
// tokens as GitHub Actions'), for a token of a run of workflow wf of repo
// at ref, commit sha.
func githubToken(t *testing.T, repo, wf, ref, sha string) (issuer, token string) {
	t.Helper()
	issuer, tokenURL := os.Getenv("HALLMARK_E2E_GITHUB_ISSUER"), os.Getenv("HALLMARK_E2E_GITHUB_TOKEN_URL")
	if issuer == "" || tokenURL == "" {
		t.Skip("the stack has no GitHub-workflow issuer (HALLMARK_E2E_GITHUB_ISSUER): run with internal/e2e/stack.sh of this branch")
	}
	c, err := json.Marshal(oidcissuer.GitHubClaims(repo, wf, ref, sha))
	if err != nil {
		t.Fatal(err)
	}
	q := url.Values{"email": {"none"}, "sub": {"repo:" + repo + ":ref:" + ref}, "claims": {string(c)}}
	resp, err := http.Get(tokenURL + "?" + q.Encode())
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("github token: %s %s %v", resp.Status, body, err)
	}
	return issuer, string(body)
}

// githubEnv is the environment of a GitHub Actions job of repo (the
// variables a step sees), for hallmark attest --provenance.
func githubEnv(repo, wf, ref, sha string) []string {
	return []string{"GITHUB_ACTIONS=true", "GITHUB_SERVER_URL=https://github.com", "GITHUB_REPOSITORY=" + repo,
		"GITHUB_REF=" + ref, "GITHUB_WORKFLOW_REF=" + repo + "/" + wf + "@" + ref, "GITHUB_EVENT_NAME=push",
		"GITHUB_REPOSITORY_ID=1000001", "GITHUB_REPOSITORY_OWNER_ID=2000002", "RUNNER_ENVIRONMENT=github-hosted",
		"GITHUB_SHA=" + sha, "GITHUB_RUN_ID=3000003", "GITHUB_RUN_ATTEMPT=1", "GITLAB_CI="}
}

// verifyAs runs hallmark verify of bundle bp for artifact with the policy
// args, and returns stdout and stderr.
func (in *instance) verifyAs(t *testing.T, want int, bp, artifact string, args ...string) (string, string) {
	t.Helper()
	all := append([]string{"verify", "--offline", "--trusted-root", in.trustedRoot, "--bundle", bp}, args...)
	return in.run(t, want, "hallmark", append(all, artifact)...)
}

// TestVerifyAttestations attests with every --type against the stack and
// verifies each with hallmark verify --type: the right type passes, another
// type, an artifact whose digest is no subject, and a message signature
// under --type are refused, each saying what differed.
func TestVerifyAttestations(t *testing.T) {
	in := stack(t)
	id := []string{"--certificate-identity", signer, "--certificate-oidc-issuer", in.issuer}
	for name, pred := range predicates {
		t.Run("type-"+name, func(t *testing.T) {
			t.Parallel()
			f := newFiles(t)
			pp := filepath.Join(f.dir, name+".json")
			write(t, pp, []byte(pred))
			bp := filepath.Join(f.dir, name+".sigstore.json")
			in.attest(t, nil, exitOK, in.token(t, signer), "--type", name, "--predicate", pp, "--bundle", bp, f.artifact)
			in.verifyAs(t, exitOK, bp, f.artifact, append(id, "--type", name)...)
			in.verifyAs(t, exitOK, bp, f.artifact, append(id, "--predicate-type", predicateURIs[name])...)
			other := "vsa"
			if name == other {
				other = "link"
			}
			_, stderr := in.verifyAs(t, exitRejected, bp, f.artifact, append(id, "--type", other)...)
			if !strings.Contains(stderr, predicateURIs[name]) || !strings.Contains(stderr, `"`+other+`"`) {
				t.Errorf("a wrong --type: stderr does not name both types:\n%s", stderr)
			}
			_, stderr = in.verifyAs(t, exitRejected, bp, f.tampered, append(id, "--type", name)...)
			if !strings.Contains(stderr, "the artifact is not the one that was signed") || !strings.Contains(stderr, "artifact digest") {
				t.Errorf("an artifact that is no subject: stderr does not say which digest differed:\n%s", stderr)
			}
		})
	}

	t.Run("message-signature", func(t *testing.T) {
		t.Parallel()
		f := newFiles(t)
		bp := filepath.Join(f.dir, "blob.sigstore.json")
		in.run(t, exitOK, "hallmark", "sign", "--identity-token", in.token(t, signer), "--signing-config", in.signingConfig,
			"--trusted-root", in.trustedRoot, "--bundle", bp, f.artifact)
		in.verifyAs(t, exitOK, bp, f.artifact, id...)
		_, stderr := in.verifyAs(t, exitUsage, bp, f.artifact, append(id, "--type", "slsaprovenance1")...)
		if !strings.Contains(stderr, "not an in-toto attestation") {
			t.Errorf("stderr:\n%s", stderr)
		}
	})

	// attest run records a step; verify --type link shows it, in text and
	// JSON, for a step that succeeds and one that fails.
	t.Run("attest-run-link", func(t *testing.T) {
		t.Parallel()
		f := newFiles(t)
		tok := in.token(t, signer)
		write(t, filepath.Join(f.dir, "src.txt"), []byte("source "+t.Name()))
		sign := []string{"attest", "run", "--identity-token", tok, "--signing-config", in.signingConfig, "--trusted-root", in.trustedRoot}
		if r := runHallmarkIn(t, in, f.dir, append(sign, "--step", "build", "--materials", "src.txt", "--products", "out.txt",
			"--", "cp", "src.txt", "out.txt")...); r.code != exitOK {
			t.Fatalf("attest run exited %d:\n%s", r.code, r.stderr)
		}
		if r := runHallmarkIn(t, in, f.dir, append(sign, "--step", "fail", "--materials", "src.txt", "--products", "half.txt",
			"--", "sh", "-c", "echo half > half.txt; exit 7")...); r.code != 7 {
			t.Fatalf("a failing step exited %d, want 7:\n%s", r.code, r.stderr)
		}
		for _, c := range []struct{ step, product, command, code string }{
			{"build", "out.txt", "cp src.txt out.txt", "0"},
			{"fail", "half.txt", `sh -c "echo half > half.txt; exit 7"`, "7"},
		} {
			bp := filepath.Join(f.dir, c.step+".link.sigstore.json")
			product := filepath.Join(f.dir, c.product)
			stdout, _ := in.verifyAs(t, exitOK, bp, product, append(id, "--type", "link")...)
			for _, want := range []string{"  step " + c.step + ": " + c.command + " (exit code " + c.code + ")\n",
				"\n  material src.txt sha256:", "\n  product " + c.product + " sha256:"} {
				if !strings.Contains(stdout, want) {
					t.Errorf("%s: stdout lacks %q:\n%s", c.step, want, stdout)
				}
			}
			stdout, _ = in.verifyAs(t, exitOK, bp, product, append(id, "-o", "json", "--type", "link")...)
			var rep struct {
				Results []struct {
					Statement struct {
						Link struct {
							Name                string
							Command             []string
							ExitCode            *int
							Materials, Products []struct{ Name string }
						}
					}
				}
			}
			if err := json.Unmarshal([]byte(stdout), &rep); err != nil || len(rep.Results) != 1 {
				t.Fatalf("JSON report: %v\n%s", err, stdout)
			}
			l := rep.Results[0].Statement.Link
			if l.Name != c.step || l.ExitCode == nil || fmt.Sprint(*l.ExitCode) != c.code || len(l.Materials) != 1 || l.Materials[0].Name != "src.txt" ||
				len(l.Products) != 1 || l.Products[0].Name != c.product || len(l.Command) == 0 {
				t.Errorf("%s: link in the report: %+v", c.step, l)
			}
			in.verifyAs(t, exitRejected, bp, product, append(id, "--type", "slsaprovenance1")...)
		}
	})

	// --provenance under GitHub Actions with a real GitHub-workflow
	// certificate from the stack's Fulcio: it agrees with the certificate.
	// The same job, its environment claiming another repository than its
	// token, makes provenance the certificate contradicts: refused.
	repo, wf, ref, sha := "hallmark-dev/e2e", ".github/workflows/release.yml", "refs/tags/v1.0.0", "0123456789abcdef0123456789abcdef01234567"
	ghPolicy := func(issuer string) []string {
		return []string{"--repo", repo, "--certificate-oidc-issuer", issuer}
	}
	t.Run("provenance-github-certificate", func(t *testing.T) {
		t.Parallel()
		f := newFiles(t)
		issuer, tok := githubToken(t, repo, wf, ref, sha)
		bp := filepath.Join(f.dir, "provenance.sigstore.json")
		in.attest(t, githubEnv(repo, wf, ref, sha), exitOK, tok, "--provenance", "--bundle", bp, f.artifact)
		stdout, _ := in.verifyAs(t, exitOK, bp, f.artifact, append(ghPolicy(issuer), "-o", "json", "--type", "slsaprovenance1")...)
		var rep struct {
			Results []struct {
				Signer struct {
					GitHub struct{ SourceRepository, SourceRef, ConfigWorkflow string }
				}
				Statement struct {
					PredicateType string
					Provenance    struct{ Builder, SourceRepository, SourceRef, SourceCommit string }
				}
			}
		}
		if err := json.Unmarshal([]byte(stdout), &rep); err != nil || len(rep.Results) != 1 {
			t.Fatalf("JSON report: %v\n%s", err, stdout)
		}
		r := rep.Results[0]
		wantBuilder := "https://github.com/" + repo + "/" + wf + "@" + ref
		if r.Signer.GitHub.SourceRepository != "https://github.com/"+repo || r.Signer.GitHub.ConfigWorkflow != wantBuilder {
			t.Errorf("the certificate has no GitHub claims from Fulcio: %+v", r.Signer.GitHub)
		}
		p := r.Statement.Provenance
		if p.Builder != wantBuilder || p.SourceRepository != "https://github.com/"+repo || p.SourceRef != ref || p.SourceCommit != sha {
			t.Errorf("provenance in the report: %+v", p)
		}
		in.verifyAs(t, exitOK, bp, f.artifact, append(ghPolicy(issuer), "--builder-id", wantBuilder)...)
		in.verifyAs(t, exitRejected, bp, f.artifact, append(ghPolicy(issuer), "--builder-id", "https://github.com/actions/runner/github-hosted")...)
		in.verifyAs(t, exitRejected, bp, f.artifact, append(ghPolicy(issuer), "--type", "spdxjson")...)
		// Another repository's policy: the certificate says whose it is.
		in.verifyAs(t, exitRejected, bp, f.artifact, "--repo", "mallory/lookalike", "--certificate-oidc-issuer", issuer)
	})

	t.Run("provenance-github-other-repository", func(t *testing.T) {
		t.Parallel()
		f := newFiles(t)
		issuer, tok := githubToken(t, repo, wf, ref, sha)
		bp := filepath.Join(f.dir, "lying.sigstore.json")
		// The token is hallmark-dev/e2e's; the environment says mallory's.
		// (This issuer is not GitHub's URL, so hallmark attest takes the
		// environment's word, as it would for any other issuer.)
		in.attest(t, githubEnv("mallory/lookalike", wf, ref, sha), exitOK, tok, "--provenance", "--bundle", bp, f.artifact)
		_, stderr := in.verifyAs(t, exitRejected, bp, f.artifact, append(ghPolicy(issuer), "--type", "slsaprovenance1")...)
		for _, want := range []string{
			"the provenance does not agree with the signer's certificate",
			`provenance workflow repository  expected "https://github.com/hallmark-dev/e2e" (the certificate's source repository)`,
			`actual   "https://github.com/mallory/lookalike"`,
		} {
			if !strings.Contains(stderr, want) {
				t.Errorf("stderr does not say %q:\n%s", want, stderr)
			}
		}
	})
}
