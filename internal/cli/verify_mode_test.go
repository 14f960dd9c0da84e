package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestVerifyMode: verify's flags pick one mode, and the flags of two modes
// that do not go together are a usage error naming both.
func TestVerifyMode(t *testing.T) {
	dir := t.TempDir()
	bundle := filepath.Join(dir, "a.sigstore.json")
	if err := os.WriteFile(bundle, []byte("{}"), 0o644); err != nil {
		t.Fatal(err)
	}
	const img = "oci://127.0.0.1:1/app:1"
	tests := []struct {
		argv []string
		mode verifyMode
		err  []string // the usage error names each of these
	}{
		{[]string{"--repo", "a/b", "f"}, modePlain, nil},
		{[]string{"--repo", "a/b", "--bundle", bundle, "f"}, modePlain, nil},
		{[]string{"--repo", "a/b", "--bundle", bundle, "f", "g"}, modeSearched, nil},
		{[]string{"--repo", "a/b", "--bundle-dir", dir, "f"}, modeSearched, nil},
		{[]string{"--policy", "p.yaml", "f"}, modePolicy, nil},
		{[]string{"--policy", "p.yaml", "--vsa", "v.json", "f"}, modePolicy, nil},
		{[]string{"--repo", "a/b", "--fail-on", "high", "f"}, modeGate, nil},
		{[]string{"--repo", "a/b", "--vsa", "v.json", "f"}, modeGate, nil},
		{[]string{"--preset", "npm", "--fail-on", "high", "--publisher", "github:a/b", "f"}, modeGate, nil},
		{[]string{"--preset", "npm", "--attestations", "d.json", "f"}, modeNPM, nil},
		{[]string{"--attestations", "d.json", "f"}, modeNPM, nil},
		{[]string{"--preset", "pypi", "--publisher", "github:a/b", "f"}, modePyPI, nil},
		{[]string{"--provenance", "p.json", "f"}, modePyPI, nil},
		{[]string{"--preset", "homebrew-core", "f"}, modePreset, nil},
		{[]string{"--repo", "a/b", img}, modeOCI, nil},
		{[]string{"--repo", "a/b", "--bundle-from-oci", "f"}, modeOCI, nil},

		{[]string{"--policy", "p.yaml", "--max-age", "1d", "f"}, "", []string{"--max-age", "--policy"}},
		{[]string{"--policy", "p.yaml", "--vex", "v.json", "f"}, "", []string{"--vex", "--policy"}},
		{[]string{"--max-age", "1d", "--repo", "a/b", img}, "", []string{"oci://", "the scan gate"}},
		{[]string{"--preset", "npm", "--attestations", "d.json", img}, "", []string{"oci://", "--preset"}},
		{[]string{"--preset", "npm", "--publisher", "github:a/b", "f"}, "", []string{"--publisher", "--preset pypi", "--preset npm"}},
		{[]string{"--preset", "pypi", "--lockfile", "package-lock.json", "f"}, "", []string{"--lockfile", "--preset npm", "--preset pypi"}},
		{[]string{"--bottle-url", "https://x/b.tar.gz", "f"}, "", []string{"--bottle-url", "--preset homebrew-core"}},
		{[]string{"--repo", "a/b", "f", img}, "", []string{"oci://", "cannot be mixed"}},
		{[]string{"--repo", "a/b", "--platform", "linux/amd64", "f"}, "", []string{"--platform", "oci://"}},
	}
	for _, tt := range tests {
		name := strings.Join(tt.argv, " ")
		t.Run(name, func(t *testing.T) {
			o := &verifyOptions{ghDefaultType: true}
			cmd := newApp(Stdio{}).verifyCommandWith(o)
			if err := cmd.ParseFlags(tt.argv); err != nil {
				t.Fatalf("ParseFlags: %v", err)
			}
			mode, err := verifyModeOf(o.modeFacts(cmd, cmd.Flags().Args()))
			if tt.err == nil {
				if err != nil || mode != tt.mode {
					t.Fatalf("mode = %q, %v; want %q", mode, err, tt.mode)
				}
				return
			}
			if err == nil || exitCode(err) != ExitUsage {
				t.Fatalf("mode = %q, %v; want a usage error (exit %d)", mode, err, ExitUsage)
			}
			for _, w := range tt.err {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not name %q", err, w)
				}
			}
		})
	}
}
