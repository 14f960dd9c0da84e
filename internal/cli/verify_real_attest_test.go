package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// sharedFixtures is ../shared/fixtures (real attestations made elsewhere),
// read in place; tests that need it skip, saying so, when it is absent.
func sharedFixtures(t *testing.T) string {
	t.Helper()
	dir := filepath.Join("..", "..", "..", "shared", "fixtures")
	if _, err := os.Stat(filepath.Join(dir, "real-bundles", "README.md")); err != nil {
		t.Skipf("the shared fixtures are not here (%v): real attestations not verified", err)
	}
	return dir
}

// npmBundle writes the bundle of the npm attestation document's entry whose
// predicate type contains kind to a temporary file (npm serves the bundles
// inside one document; verify reads one bundle per file).
func npmBundle(t *testing.T, doc, kind string) string {
	t.Helper()
	data, err := os.ReadFile(doc)
	if err != nil {
		t.Fatal(err)
	}
	var d struct {
		Attestations []struct {
			PredicateType string          `json:"predicateType"`
			Bundle        json.RawMessage `json:"bundle"`
		} `json:"attestations"`
	}
	if err := json.Unmarshal(data, &d); err != nil {
		t.Fatal(err)
	}
	for _, a := range d.Attestations {
		if strings.Contains(a.PredicateType, kind) {
			path := filepath.Join(t.TempDir(), kind+".sigstore.json")
			if err := os.WriteFile(path, a.Bundle, 0o600); err != nil {
				t.Fatal(err)
			}
			return path
		}
	}
	t.Fatalf("%s has no %s attestation", doc, kind)
	return ""
}

// Real attestations (npm provenance from sigstore-js and the registry,
// GitHub's release attestations) verify with --type; another type is
// rejected; the provenance agrees with its certificate.
func TestVerifyRealAttestations(t *testing.T) {
	fx := sharedFixtures(t)
	rb := filepath.Join(fx, "real-bundles")
	eco := filepath.Join(fx, "ecosystems")
	publicGood := filepath.Join(rb, "trusted-roots", "public-good.json")
	prod := filepath.Join(fx, "..", "conformance", "data", "_production", "trusted_root.json")
	ghRoot := filepath.Join(eco, "github", "roots", "github-trusted-root.json")
	playwright := filepath.Join(eco, "npm", "playwright-cli-0.1.1.attestations.json")
	laurent := filepath.Join(eco, "npm", "laurentsimon-provenance-npm-test-1.0.0.attestations.json")
	const laurentDigest = "sha512:29d19f26233f4441328412b34fd73ed104ecfef62f14097890cccf7455b521b65c5acff851849faa85c85395aa22d401436f01f3afb61b19c780e906c88c7f20"
	const npmPublish = "https://github.com/npm/attestation/tree/main/specs/publish/v0.1"
	// GitHub's release attestations: GitHub's own instance, no log, a
	// certificate with no OIDC issuer (see ecosystems/github/README.md).
	ghRelease := []string{"--trusted-root", ghRoot, "--certificate-identity", "https://dotcom.releases.github.com",
		"--certificate-oidc-issuer-regexp", ".*", "--insecure-ignore-tlog"}
	b2 := filepath.Join(rb, "b2-sigstorejs-2.0.0-provenance")
	b5 := filepath.Join(rb, "b5-sigstorejs-1.3.0-provenance")
	b3 := filepath.Join(rb, "b3-conf-intoto-dsse-v3")
	const beacon = "https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/.github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main"
	tests := []struct {
		name   string
		args   func() []string
		code   int
		stdout string // a pattern stdout must match
		stderr string // a pattern stderr must match
	}{
		{name: "sigstore-js 2.0.0 SLSA v1 provenance", code: 0,
			args: func() []string {
				return []string{"--trusted-root", publicGood, "--repo", "sigstore/sigstore-js", "--type", "slsaprovenance1",
					"--bundle", filepath.Join(b2, "bundle.sigstore.json"), filepath.Join(b2, "artifact")}
			},
			stdout: `(?m)^  provenance: source https://github.com/sigstore/sigstore-js ref refs/heads/main commit f0b49a04e5a62250e0f60fb128004a73110fe311$`},
		{name: "sigstore-js 2.0.0 builder pinned", code: 0,
			args: func() []string {
				return []string{"--trusted-root", publicGood, "--repo", "sigstore/sigstore-js", "--builder-id", "https://github.com/actions/runner/github-hosted",
					"--bundle", filepath.Join(b2, "bundle.sigstore.json"), filepath.Join(b2, "artifact")}
			}},
		{name: "sigstore-js 2.0.0 is no SBOM", code: 3,
			args: func() []string {
				return []string{"--trusted-root", publicGood, "--repo", "sigstore/sigstore-js", "--type", "spdxjson",
					"--bundle", filepath.Join(b2, "bundle.sigstore.json"), filepath.Join(b2, "artifact")}
			},
			stderr: `predicate type is "https://slsa.dev/provenance/v1" \(slsaprovenance1\), not "spdxjson"`},
		{name: "sigstore-js 1.3.0 SLSA v0.2 provenance", code: 0,
			args: func() []string {
				return []string{"--trusted-root", publicGood, "--repo", "sigstore/sigstore-js", "--predicate-type", "https://slsa.dev/provenance/v0.2",
					"--bundle", filepath.Join(b5, "bundle.sigstore.json"), filepath.Join(b5, "artifact")}
			},
			stdout: `(?m)^  provenance: builder https://github.com/actions/runner$`},
		{name: "sigstore-js 1.3.0 is not SLSA v1", code: 3,
			args: func() []string {
				return []string{"--trusted-root", publicGood, "--repo", "sigstore/sigstore-js", "--type", "slsaprovenance1",
					"--bundle", filepath.Join(b5, "bundle.sigstore.json"), filepath.Join(b5, "artifact")}
			},
			stderr: `predicate type is "https://slsa.dev/provenance/v0.2", not "slsaprovenance1"`},
		{name: "npm playwright-cli provenance", code: 0,
			args: func() []string {
				return []string{"--trusted-root", prod, "--repo", "microsoft/playwright-cli", "--type", "slsaprovenance1",
					"--bundle", npmBundle(t, playwright, "slsa"), filepath.Join(eco, "npm", "playwright-cli-0.1.1.tgz")}
			},
			stdout: `(?m)^  provenance: source https://github.com/microsoft/playwright-cli ref refs/tags/v0.1.1 commit d1c6d1113932ddcee243e8b111b6d4aea553df20$`},
		{name: "npm playwright-cli publish attestation, registry key", code: 0,
			args: func() []string {
				return []string{"--trusted-root", prod, "--key", filepath.Join(eco, "npm", "keys", "npm-key-DhQ8wR.pem"), "--type", npmPublish,
					"--bundle", npmBundle(t, playwright, "publish"), filepath.Join(eco, "npm", "playwright-cli-0.1.1.tgz")}
			}},
		{name: "npm playwright-cli provenance, byte-flipped tarball", code: 3,
			args: func() []string {
				return []string{"--trusted-root", prod, "--repo", "microsoft/playwright-cli", "--type", "slsaprovenance1",
					"--bundle", npmBundle(t, playwright, "slsa"), filepath.Join(eco, "npm", "neg-playwright-cli-0.1.1-byteflip.tgz")}
			},
			stderr: `the artifact is not the one that was signed`},
		{name: "npm 2023 SLSA v0.2 provenance (legacy GitHub OIDs: identity, not --repo)", code: 0,
			args: func() []string {
				return []string{"--trusted-root", prod,
					"--certificate-identity", "https://github.com/laurentsimon/provenance-npm-test/.github/workflows/release.yml@refs/heads/main",
					"--certificate-oidc-issuer", "https://token.actions.githubusercontent.com", "--type", "https://slsa.dev/provenance/v0.2",
					"--bundle", npmBundle(t, laurent, "slsa"), laurentDigest}
			}},
		{name: "npm 2023 publish attestation, old registry key", code: 0,
			args: func() []string {
				return []string{"--trusted-root", prod, "--key", filepath.Join(eco, "npm", "keys", "npm-key-jl3bws.pem"), "--type", npmPublish,
					"--bundle", npmBundle(t, laurent, "publish"), laurentDigest}
			}},
		{name: "GitHub release v0.2 (cli/cli 2.96.0)", code: 0,
			args: func() []string {
				return append(ghRelease, "--type", "https://in-toto.io/attestation/release/v0.2",
					"--bundle", filepath.Join(eco, "github", "cli-cli-v2.96.0-checksums.jsonl"),
					"sha256:fc046371efa250e2875208341a786a35a01717d5eebec6903e199a9b8a3f3565")
			}},
		{name: "GitHub release v0.2 is not the release v0.1 of the table", code: 3,
			args: func() []string {
				return append(ghRelease, "--type", "release",
					"--bundle", filepath.Join(eco, "github", "cli-cli-v2.96.0-checksums.jsonl"),
					"sha256:fc046371efa250e2875208341a786a35a01717d5eebec6903e199a9b8a3f3565")
			},
			stderr: `predicate type is "https://in-toto.io/attestation/release/v0.2", not "release"`},
		// The conformance suite's DSSE happy path signs, as its beacon
		// workflow, a GitHub provenance of another repository: a real
		// provenance its certificate contradicts.
		{name: "conformance beacon signing loosebazooka/aa-test's provenance", code: 3,
			args: func() []string {
				return []string{"--trusted-root", publicGood, "--certificate-identity", beacon, "--certificate-oidc-issuer", "https://token.actions.githubusercontent.com",
					"--bundle", filepath.Join(b3, "bundle.sigstore.json"), filepath.Join(b3, "artifact")}
			},
			stderr: `provenance workflow repository  expected "https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon" \(the certificate's source repository\)\n.*actual   "https://github.com/loosebazooka/aa-test"`},
		{name: "the same, --insecure-ignore-provenance", code: 0,
			args: func() []string {
				return []string{"--trusted-root", publicGood, "--certificate-identity", beacon, "--certificate-oidc-issuer", "https://token.actions.githubusercontent.com",
					"--insecure-ignore-provenance", "--bundle", filepath.Join(b3, "bundle.sigstore.json"), filepath.Join(b3, "artifact")}
			},
			stderr: `warning: --insecure-ignore-provenance`},
		{name: "GitHub release v0.1 (bdehamer/delme)", code: 0,
			args: func() []string {
				return append(ghRelease, "--type", "release",
					"--bundle", filepath.Join(eco, "github", "bdehamer-delme-v6-release.sigstore.json"),
					"sha256:e15b593c6ab8d7725a3cc82226ef816cac6bf9c70eed383bd459295cc65f5ec3")
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := append([]string{"verify", "--offline"}, tt.args()...)
			var out, errOut bytes.Buffer
			code := Run(context.Background(), args, Stdio{In: strings.NewReader(""), Out: &out, Err: &errOut})
			if code != tt.code {
				t.Fatalf("hallmark %s: exit %d, want %d\nstdout: %s\nstderr: %s", strings.Join(args, " "), code, tt.code, out.String(), errOut.String())
			}
			if tt.stdout != "" && !regexp.MustCompile(tt.stdout).MatchString(out.String()) {
				t.Errorf("stdout %q does not match %q", out.String(), tt.stdout)
			}
			if tt.stderr != "" && !regexp.MustCompile(tt.stderr).MatchString(errOut.String()) {
				t.Errorf("stderr %q does not match %q", errOut.String(), tt.stderr)
			}
		})
	}
}
