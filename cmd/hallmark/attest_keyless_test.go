package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sigstore/sigstore-go/pkg/bundle"

	"github.com/hallmark-dev/hallmark/internal/cli"
	"github.com/hallmark-dev/hallmark/internal/signtest"
)

// TestAttestKeylessProvenance runs 'hallmark attest --provenance' keyless
// in a simulated GitHub Actions job against a fake Fulcio and TSA: the
// workflow facts come from the identity token's claims (what Fulcio
// certifies), not from variables a step could change, and the result
// verifies with 'hallmark verify'.
func TestAttestKeylessProvenance(t *testing.T) {
	st := signtest.New(t)
	dir := t.TempDir()
	write := func(name string, data []byte) string { return signtest.WriteFile(t, dir, name, data) }
	tr, sc := st.WriteInstance(t, dir)
	const (
		issuer = "https://token.actions.githubusercontent.com"
		repo   = "hallmark-dev/demo"
		wfRef  = repo + "/.github/workflows/release.yml@refs/tags/v1.0.0"
		sha    = "0123456789abcdef0123456789abcdef01234567"
	)
	san := "https://github.com/" + wfRef
	tok := write("token", []byte(signtest.Token(map[string]any{
		"iss": issuer, "sub": san, "aud": "sigstore", "exp": time.Now().Add(time.Hour).Unix(),
		"repository": repo, "ref": "refs/tags/v1.0.0", "workflow_ref": wfRef, "job_workflow_ref": wfRef, "sha": sha, "event_name": "push",
		"repository_id": "1", "repository_owner_id": "2", "runner_environment": "github-hosted",
		"run_id": "3", "run_attempt": "1",
	})))
	for k, v := range map[string]string{
		"GITHUB_ACTIONS": "true", "GITHUB_REPOSITORY": "evil/fork", "GITHUB_REF": "refs/heads/evil",
		"GITHUB_WORKFLOW_REF": "evil/fork/.github/workflows/x.yml@refs/heads/evil", "GITHUB_EVENT_NAME": "push",
		"GITHUB_REPOSITORY_ID": "9", "GITHUB_REPOSITORY_OWNER_ID": "9", "RUNNER_ENVIRONMENT": "self-hosted",
		"GITHUB_SHA": strings.Repeat("f", 40), "GITHUB_RUN_ID": "9", "GITHUB_RUN_ATTEMPT": "9", "GITLAB_CI": "",
	} {
		t.Setenv(k, v)
	}
	art := write("app.tgz", []byte("app"))
	code, out, errs := run(t, "attest", "--signing-config", sc, "--trusted-root", tr, "--identity-token", "@"+tok,
		"--oidc-disable-ambient-providers", "--provenance", art)
	if code != cli.ExitOK {
		t.Fatalf("attest: exit %d\n%s%s", code, out, errs)
	}
	bp := art + ".provenance.sigstore.json"
	b, err := bundle.LoadJSONFromPath(bp)
	if err != nil {
		t.Fatal(err)
	}
	var stmt struct {
		Predicate struct {
			BuildDefinition struct {
				BuildType            string
				ExternalParameters   struct{ Workflow map[string]string }
				ResolvedDependencies []struct {
					URI    string
					Digest map[string]string
				}
			}
			RunDetails struct {
				Builder  struct{ ID string }
				Metadata struct{ InvocationID string }
			}
		}
	}
	if err := json.Unmarshal(b.GetDsseEnvelope().GetPayload(), &stmt); err != nil {
		t.Fatal(err)
	}
	p := stmt.Predicate
	wf := p.BuildDefinition.ExternalParameters.Workflow
	if wf["repository"] != "https://github.com/"+repo || wf["ref"] != "refs/tags/v1.0.0" || wf["path"] != ".github/workflows/release.yml" {
		t.Errorf("workflow %v: not the token's", wf)
	}
	if d := p.BuildDefinition.ResolvedDependencies; len(d) != 1 || d[0].Digest["gitCommit"] != sha || d[0].URI != "git+https://github.com/"+repo+"@refs/tags/v1.0.0" {
		t.Errorf("resolvedDependencies %+v", d)
	}
	if p.RunDetails.Builder.ID != san ||
		p.RunDetails.Metadata.InvocationID != "https://github.com/"+repo+"/actions/runs/3/attempts/1" {
		t.Errorf("runDetails %+v", p.RunDetails)
	}
	verifyArgs := []string{"verify", "--trusted-root", tr, "--insecure-ignore-tlog", "--certificate-oidc-issuer", issuer, "--bundle", bp}
	if code, out, errs := run(t, append(verifyArgs, "--certificate-identity", san, art)...); code != cli.ExitOK {
		t.Fatalf("verify: exit %d\n%s%s", code, out, errs)
	}
	other := write("other.tgz", []byte("other"))
	if code, _, _ := run(t, append(verifyArgs, "--certificate-identity", san, other)...); code != cli.ExitRejected {
		t.Fatalf("verify of another file: exit %d, want 3", code)
	}
	if _, err := os.Stat(filepath.Join(dir, "app.tgz.provenance.sigstore.json")); err != nil {
		t.Fatal(err)
	}
}
