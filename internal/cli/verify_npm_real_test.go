package cli

import (
	"bufio"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestVerifyNPMRealCases runs 'hallmark verify --preset npm' on every npm
// case of ../shared/fixtures/ecosystems/cases.tsv, with the production
// root and the registry keys it names, and checks the exit code its
// expectation means (pass 0, fail 3); without --repo, a usage error (2)
// whose hint names the provenance's repository; with --lock, the first use
// pins it and the lock is the policy of the next verify.
func TestVerifyNPMRealCases(t *testing.T) {
	eco := filepath.Join(sharedFixtures(t), "ecosystems")
	f, err := os.Open(filepath.Join(eco, "cases.tsv"))
	if err != nil {
		t.Skipf("no ecosystems cases (%v)", err)
	}
	defer f.Close()
	prod := filepath.Join(eco, "..", "..", "conformance", "data", "_production", "trusted_root.json")
	n := 0
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		c := strings.Split(sc.Text(), "\t")
		if len(c) < 10 || c[1] != "npm" {
			continue
		}
		n++
		name, expect, artifact, doc, keys, repo, workflow := c[0], c[2], c[3], c[4], c[7], c[8], c[9]
		if !strings.HasPrefix(artifact, "sha512:") {
			artifact = filepath.Join(eco, artifact)
		}
		wf, _, _ := strings.Cut(workflow, "@")
		base := []string{"verify", "--preset", "npm", "--trusted-root", prod, "--npm-keys", filepath.Join(eco, keys),
			"--attestations", filepath.Join(eco, doc)}
		t.Run(name, func(t *testing.T) {
			want := map[string]int{"pass": ExitOK, "fail": ExitRejected}[expect]
			code, stdout, stderr := runCLI(t, append(base, "--repo", repo, "--signer-workflow", repo+"/"+wf, artifact)...)
			if code != want {
				t.Fatalf("exit %d, want %d\nstdout: %s\nstderr: %s", code, want, stdout, stderr)
			}
			if want == ExitOK && !strings.HasPrefix(stdout, "OK @") {
				t.Fatalf("stdout %q", stdout)
			}
			if expect != "pass" {
				return
			}
			code, _, stderr = runCLI(t, append(base, artifact)...)
			if code != ExitUsage || !strings.Contains(stderr, "pass --repo "+repo+"\n") {
				t.Fatalf("without --repo: exit %d\n%s", code, stderr)
			}
			// --lock pins the real provenance's repository and workflow
			// (from the legacy extensions in 2023), and is the policy after.
			lockFile := filepath.Join(t.TempDir(), "hallmark.lock")
			code, _, stderr = runCLI(t, append(base, "--lock", lockFile, "--repo", repo, artifact)...)
			pinned := `github repository "https://github.com/` + repo + `" workflow "` + wf + `"`
			if code != ExitOK || !strings.Contains(stderr, "hallmark: lock: pinned npm package ") || !strings.Contains(stderr, pinned) {
				t.Fatalf("first use with --lock: exit %d, want 0 and %s pinned\n%s", code, pinned, stderr)
			}
			if code, stdout, stderr := runCLI(t, append(base, "--lock", lockFile, artifact)...); code != ExitOK || stderr != "" {
				t.Fatalf("the lock as the policy: exit %d\nstdout: %s\nstderr: %s", code, stdout, stderr)
			}
		})
	}
	if n != 6 {
		t.Fatalf("found %d npm cases in cases.tsv, want 6", n)
	}
}
