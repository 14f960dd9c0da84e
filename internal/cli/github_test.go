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

// sharedFixtures is ../shared/fixtures, or a skip when it is absent.
func sharedFixtures(t *testing.T) string {
	t.Helper()
	dir := filepath.Join("..", "..", "..", "shared", "fixtures")
	if _, err := os.Stat(filepath.Join(dir, "ecosystems", "github")); err != nil {
		t.Skipf("../shared is absent (%v): the GitHub fixtures are not there", err)
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
	fx := sharedFixtures(t)
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
	fx := sharedFixtures(t)
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
