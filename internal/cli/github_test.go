package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// githubFixtures is ../shared/fixtures with its GitHub ecosystem files, or
// a skip when they are absent.
func githubFixtures(t *testing.T) string {
	t.Helper()
	dir := sharedFixtures(t)
	if _, err := os.Stat(filepath.Join(dir, "ecosystems", "github")); err != nil {
		t.Skipf("../shared has no GitHub fixtures (%v)", err)
	}
	return dir
}

func runCLI(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	t.Setenv("HALLMARK_CACHE_DIR", t.TempDir())
	var out, errb bytes.Buffer
	code = Run(context.Background(), args, Stdio{In: strings.NewReader(""), Out: &out, Err: &errb})
	return code, out.String(), errb.String()
}

// writeJSONL writes the given trusted roots as JSONL, as gh attestation
// trusted-root does.
func writeJSONL(t *testing.T, paths ...string) string {
	t.Helper()
	var buf bytes.Buffer
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Compact(&buf, data); err != nil {
			t.Fatal(err)
		}
		buf.WriteByte('\n')
	}
	out := filepath.Join(t.TempDir(), "roots.jsonl")
	if err := os.WriteFile(out, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestVerifySeveralTrustedRoots: --trusted-root is repeatable and takes
// JSONL; a public-good bundle verifies when the public-good root is among
// them, and against GitHub's root alone is exit 3 naming the reason.
func TestVerifySeveralTrustedRoots(t *testing.T) {
	fx := githubFixtures(t)
	gh := filepath.Join(fx, "ecosystems", "github", "roots", "github-trusted-root.json")
	pg := filepath.Join(fx, "real-bundles", "trusted-roots", "public-good.json")
	b2 := filepath.Join(fx, "real-bundles", "b2-sigstorejs-2.0.0-provenance")
	policy := []string{"--offline",
		"--certificate-identity", "https://github.com/sigstore/sigstore-js/.github/workflows/release.yml@refs/heads/main",
		"--certificate-oidc-issuer", "https://token.actions.githubusercontent.com",
		"--bundle", filepath.Join(b2, "bundle.sigstore.json"), filepath.Join(b2, "artifact")}
	jsonl := writeJSONL(t, gh, pg)
	cases := []struct {
		name   string
		roots  []string
		code   int
		stderr string
	}{
		{"both, two flags", []string{"--trusted-root", gh, "--trusted-root", pg}, 0, ""},
		{"both, one JSONL file", []string{"--trusted-root", jsonl}, 0, ""},
		{"GitHub's root alone", []string{"--trusted-root", gh}, 3, "does not chain to a Fulcio CA of the trust root"},
		{"a bad file", []string{"--trusted-root", gh, "--trusted-root", b2 + "/artifact"}, 1, "parsing trusted root"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			code, _, stderr := runCLI(t, append(append([]string{"verify"}, c.roots...), policy...)...)
			if code != c.code || !strings.Contains(stderr, c.stderr) {
				t.Fatalf("exit %d, stderr %q; want exit %d and %q", code, stderr, c.code, c.stderr)
			}
		})
	}
}

// TestTrustShowSeveralRoots: trust show lists every root given, the first
// at the top level and the others under additionalRoots.
func TestTrustShowSeveralRoots(t *testing.T) {
	fx := githubFixtures(t)
	gh := filepath.Join(fx, "ecosystems", "github", "roots", "github-trusted-root.json")
	pg := filepath.Join(fx, "real-bundles", "trusted-roots", "public-good.json")
	code, stdout, stderr := runCLI(t, "trust", "show", "-o", "json", "--trusted-root", writeJSONL(t, pg, gh))
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var s rootSummary
	if err := json.Unmarshal([]byte(stdout), &s); err != nil {
		t.Fatal(err)
	}
	if len(s.Logs) == 0 || len(s.Additional) != 1 {
		t.Fatalf("top level has %d logs and %d additional roots, want the public-good root and GitHub's", len(s.Logs), len(s.Additional))
	}
	g := s.Additional[0]
	if len(g.Logs) != 0 || len(g.CTLogs) != 0 || len(g.TSAs) == 0 || !strings.Contains(g.CAs[0].URI, "githubapp.com") {
		t.Errorf("additional root = %+v, want GitHub's (TSAs, no logs)", g)
	}
}

// TestVerifyGitHubRelease runs ../shared's GitHub release cases through
// the CLI, offline: both subjects of the cli/cli JSONL and the bdehamer
// bundle pass with --repo and --type release against GitHub's root; the
// public-good root, another repository or tag, and a digest that is not a
// subject are exit 3; flags that cannot apply are usage errors.
func TestVerifyGitHubRelease(t *testing.T) {
	fx := githubFixtures(t)
	dir := filepath.Join(fx, "ecosystems", "github")
	gh := filepath.Join(dir, "roots", "github-trusted-root.json")
	pg := filepath.Join(fx, "real-bundles", "trusted-roots", "public-good.json")
	// The JSONL holds one bundle line; --bundle reads one bundle.
	raw, err := os.ReadFile(filepath.Join(dir, "cli-cli-v2.96.0-checksums.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	cli := filepath.Join(t.TempDir(), "cli.sigstore.json")
	if err := os.WriteFile(cli, bytes.TrimSpace(raw), 0o644); err != nil {
		t.Fatal(err)
	}
	delme := filepath.Join(dir, "bdehamer-delme-v6-release.sigstore.json")
	const (
		checksums = "sha256:fc046371efa250e2875208341a786a35a01717d5eebec6903e199a9b8a3f3565"
		linux     = "sha256:83d5c2ccad5498f58bf6368acb1ab32588cf43ab3a4b1c301bf36328b1c8bd60"
		zip       = "sha256:e15b593c6ab8d7725a3cc82226ef816cac6bf9c70eed383bd459295cc65f5ec3"
	)
	cases := []struct {
		name   string
		args   []string
		code   int
		output string // in stdout (0) or stderr
	}{
		{"cli checksums", []string{"--trusted-root", gh, "--repo", "cli/cli", "--type", "release", "--bundle", cli, checksums}, 0, "signed by https://dotcom.releases.github.com (no OIDC issuer)"},
		{"cli linux amd64, both roots", []string{"--trusted-root", pg, "--trusted-root", gh, "--repo", "cli/cli", "--type", "release", "--bundle", cli, linux}, 0, "OK " + linux},
		{"cli with its tag", []string{"--trusted-root", gh, "--repo", "cli/cli", "--type", "release", "--tag", "v2.96.0", "--bundle", cli, checksums}, 0, "OK "},
		{"cli v0.2 URI", []string{"--trusted-root", gh, "--repo", "cli/cli", "--type", "https://in-toto.io/attestation/release/v0.2", "--bundle", cli, checksums}, 0, "OK "},
		{"delme v0.1", []string{"--trusted-root", gh, "--repo", "bdehamer/delme", "--type", "release", "--bundle", delme, zip}, 0, "OK "},
		{"public-good root", []string{"--trusted-root", pg, "--repo", "cli/cli", "--type", "release", "--bundle", cli, checksums}, 3, "does not chain to a Fulcio CA"},
		{"wrong repository", []string{"--trusted-root", gh, "--repo", "cli/go-gh", "--type", "release", "--bundle", cli, checksums}, 3, "predicate.repository"},
		{"wrong tag", []string{"--trusted-root", gh, "--repo", "cli/cli", "--type", "release", "--tag", "v2.95.0", "--bundle", cli, checksums}, 3, "predicate.tag"},
		{"v0.1 URI for a v0.2 attestation", []string{"--trusted-root", gh, "--repo", "cli/cli", "--type", "https://in-toto.io/attestation/release/v0.1", "--bundle", cli, checksums}, 3, "predicate type"},
		{"digest not a subject", []string{"--trusted-root", gh, "--repo", "bdehamer/delme", "--type", "release", "--bundle", delme, checksums}, 3, ""},
		{"without --type, a workflow identity", []string{"--trusted-root", gh, "--repo", "cli/cli", "--bundle", cli, checksums}, 3, "hint: this is a GitHub release attestation, signed by GitHub itself: verify it with --type release --repo OWNER/NAME"},
		{"--tag without release", []string{"--trusted-root", gh, "--repo", "cli/cli", "--tag", "v1", "--bundle", cli, checksums}, 2, "--tag applies to release attestations"},
		{"--source-ref with release", []string{"--trusted-root", gh, "--repo", "cli/cli", "--type", "release", "--source-ref", "refs/tags/v1", "--bundle", cli, checksums}, 2, "does not apply to release attestations"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			code, stdout, stderr := runCLI(t, append([]string{"verify", "--offline"}, c.args...)...)
			out := stderr
			if c.code == 0 {
				out = stdout
			}
			if code != c.code || !strings.Contains(out, c.output) {
				t.Fatalf("exit %d, stdout %q, stderr %q; want exit %d with %q", code, stdout, stderr, c.code, c.output)
			}
		})
	}
	// JSON: tlog and sct were not checked, and why.
	code, stdout, stderr := runCLI(t, "verify", "--offline", "-o", "json", "--trusted-root", gh, "--repo", "cli/cli", "--type", "release", "--bundle", cli, checksums)
	if code != 0 || !strings.Contains(stdout, `"check": "tlog"`) || !strings.Contains(stdout, `"check": "sct"`) || !strings.Contains(stdout, "signed timestamps only") {
		t.Fatalf("exit %d, stdout %s, stderr %s; want skippedChecks tlog and sct with the reason", code, stdout, stderr)
	}
}
