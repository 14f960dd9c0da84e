package policy_test

import (
	"strings"
	"testing"

	"github.com/hallmark-dev/hallmark/internal/sigtest"
	"github.com/hallmark-dev/hallmark/pkg/verify"
)

// TestSignerMatches: every field of a keyless signer is checked, patterns
// against the whole value.
func TestSignerMatches(t *testing.T) {
	p := parse(t, `version: 1
signers:
  exact: {issuer: https://token.actions.githubusercontent.com, san: "https://github.com/acme/app/.github/workflows/release.yml@refs/tags/v1.0.0"}
  pattern:
    issuerPattern: https://token\.actions\.(githubusercontent|[a-z]+\.ghe)\.com
    sanPattern: https://github\.com/acme/app/.*
  claims:
    issuer: https://token.actions.githubusercontent.com
    sanPattern: .*
    github:
      repository: acme/app
      workflow: acme/app/.github/workflows/release.yml
      ref: refs/tags/v*
      runnerEnvironment: github-hosted
steps:
  - {name: s, signers: [exact, pattern, claims]}
`)
	wf := "https://github.com/acme/app/.github/workflows/release.yml"
	good := func() *verify.Signer {
		return &verify.Signer{Kind: "certificate", SAN: wf + "@refs/tags/v1.0.0", Issuer: sigtest.GitHubIssuer,
			GitHub: &verify.GitHubClaims{SourceRepository: "https://github.com/acme/app", SignerWorkflow: wf + "@refs/tags/v1.0.0",
				SourceRef: "refs/tags/v1.0.0", RunnerEnvironment: "github-hosted"}}
	}
	tests := []struct {
		name string
		edit func(*verify.Signer)
		want string // the signers that match, in order
	}{
		{"all", func(*verify.Signer) {}, "exact pattern claims"},
		{"another tag", func(s *verify.Signer) { s.SAN = wf + "@refs/tags/v2.0.0"; s.GitHub.SourceRef = "refs/tags/v2.0.0" }, "pattern claims"},
		{"a branch", func(s *verify.Signer) { s.SAN = wf + "@refs/heads/main"; s.GitHub.SourceRef = "refs/heads/main" }, "pattern"},
		{"a ref glob does not cross /", func(s *verify.Signer) { s.GitHub.SourceRef = "refs/tags/v1/evil" }, "exact pattern"},
		{"self-hosted", func(s *verify.Signer) { s.GitHub.RunnerEnvironment = "self-hosted" }, "exact pattern"},
		{"another repository", func(s *verify.Signer) { s.GitHub.SourceRepository = "https://github.com/acme/app2" }, "exact pattern"},
		{"another workflow", func(s *verify.Signer) {
			s.GitHub.SignerWorkflow = "https://github.com/acme/app/.github/workflows/x.yml@refs/tags/v1.0.0"
		}, "exact pattern"},
		{"no claims", func(s *verify.Signer) { s.GitHub = nil }, "exact pattern"},
		{"an unanchored SAN prefix", func(s *verify.Signer) { s.SAN = "https://evil.example/https://github.com/acme/app/x" }, "claims"},
		{"a tenant issuer", func(s *verify.Signer) { s.Issuer = "https://token.actions.octo.ghe.com" }, "pattern"},
		{"an issuer suffix", func(s *verify.Signer) { s.Issuer = sigtest.GitHubIssuer + ".evil" }, ""},
		{"a key", func(s *verify.Signer) { *s = verify.Signer{Kind: "key", KeyFingerprint: "sha256:00"} }, ""},
	}
	for _, tt := range tests {
		s := good()
		tt.edit(s)
		var got []string
		for _, ps := range p.Signers {
			if ps.Matches(s) {
				got = append(got, ps.Name)
			}
		}
		if strings.Join(got, " ") != tt.want {
			t.Errorf("%s: matched %q, want %q", tt.name, got, tt.want)
		}
	}
}

// TestArtifactRules: in-toto's rule semantics, IN prefixes, REQUIRE, and
// the agreement of a step's signers.
func TestArtifactRules(t *testing.T) {
	c := getChain(t)
	const linkType = "https://in-toto.io/attestation/link/v0.3"
	builder := sigtest.Options{Identity: "builder@example.com", Issuer: exampleIssuer}
	builder2 := sigtest.Options{Identity: "builder2@example.com", Issuer: exampleIssuer}
	packager := sigtest.Options{Identity: "packager@example.com", Issuer: exampleIssuer}
	build := statement(t, linkType, map[string][]byte{"dist/app.tar.gz": c.tarball, "dist/notes.txt": []byte("notes")},
		link("build", map[string][]byte{"src/main.c": c.src, "Makefile": []byte("all:")}))
	pkg := statement(t, linkType, map[string][]byte{"app.pkg": c.pkg},
		link("package", map[string][]byte{"in/app.tar.gz": c.tarball}))
	head := `version: 1
signers:
  builder: {issuer: https://accounts.example.com, san: builder@example.com}
  builder2: {issuer: https://accounts.example.com, san: builder2@example.com}
  packager: {issuer: https://accounts.example.com, san: packager@example.com}
steps:
`
	tests := []struct {
		name    string
		steps   string
		bundles map[string][]byte
		failed  string
		actual  string
	}{
		{
			name: "prefixes",
			steps: `  - name: build
    signers: [builder]
    materials: ["ALLOW src/*.c", "ALLOW Makefile", "DISALLOW *"]
    products: ["REQUIRE dist/app.tar.gz", "ALLOW dist/*", "DISALLOW *"]
  - name: package
    signers: [packager]
    materials: ["MATCH *.tar.gz IN in WITH products IN dist FROM build", "DISALLOW *"]
`,
		},
		{
			name: "require missing, disallow after allow",
			steps: `  - name: build
    signers: [builder]
    materials: ["ALLOW src/*", "DISALLOW *"]
    products: ["REQUIRE dist/app.zip", "DISALLOW dist/notes.*"]
  - name: package
    signers: [packager]
    materials: ["MATCH * WITH products IN dist FROM build"]
`,
			failed: "steps.build.materials[1] steps.build.products[0] steps.build.products[1] steps.package.materials[0]",
			actual: `disallowed "Makefile"`,
		},
		{
			name: "a wrong prefix matches nothing there",
			steps: `  - name: build
    signers: [builder]
  - name: package
    signers: [packager]
    materials: ["MATCH * WITH products FROM build"]
`,
			failed: "steps.package.materials[0]",
			actual: `"in/app.tar.gz" is not among the products of "build"`,
		},
		{
			name: "two builders that disagree",
			steps: `  - name: build
    signers: "2 of [builder, builder2]"
  - name: package
    signers: [packager]
    materials: ["MATCH *.tar.gz IN in WITH products IN dist FROM build"]
`,
			bundles: map[string][]byte{"build2": c.attest(t, statement(t, linkType, map[string][]byte{"dist/app.tar.gz": []byte("other")},
				link("build", map[string][]byte{"src/main.c": c.src, "Makefile": []byte("all:")})), builder2)},
			failed: "steps.build.agreement",
			actual: "build2 differ from build",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			bs := map[string][]byte{"build": c.attest(t, build, builder), "package": c.attest(t, pkg, packager)}
			for k, v := range tt.bundles {
				bs[k] = v
			}
			rep := c.evaluate(t, parse(t, head+tt.steps), bs)
			got := strings.Join(failed(rep), " ")
			if got != tt.failed {
				t.Fatalf("failed %q, want %q: %+v", got, tt.failed, rep.Failed())
			}
			if tt.failed != "" && !strings.Contains(rep.Failed()[0].Actual, tt.actual) {
				t.Errorf("actual %q lacks %q", rep.Failed()[0].Actual, tt.actual)
			}
			if (tt.failed == "") != rep.Passed {
				t.Errorf("passed %v", rep.Passed)
			}
		})
	}
}

// TestProvenanceStep: a step recorded as SLSA provenance: its materials are
// the resolved dependencies, its products the subjects.
func TestProvenanceStep(t *testing.T) {
	c := getChain(t)
	prov := statement(t, sigtest.SLSAProvenanceV1, map[string][]byte{"app.pkg": c.pkg}, map[string]any{
		"buildDefinition": map[string]any{"buildType": "x", "resolvedDependencies": []any{
			map[string]any{"name": "app.tar.gz", "digest": map[string]string{"sha256": sha(c.tarball)}},
			map[string]any{"uri": "git+https://example.com/app@refs/tags/v1", "digest": map[string]string{"gitCommit": "abc"}},
		}},
		"runDetails": map[string]any{"builder": map[string]any{"id": "y"}}})
	p := parse(t, `version: 1
signers:
  release: {issuer: https://token.actions.githubusercontent.com, sanPattern: ".*"}
steps:
  - name: release
    predicateType: slsaprovenance1
    signers: [release]
    materials: ["ALLOW git+https://example.com/app@*", "REQUIRE app.tar.gz", "ALLOW app.tar.gz", "DISALLOW *"]
    products: ["ALLOW app.pkg", "DISALLOW *"]
`)
	rep := c.evaluate(t, p, map[string][]byte{"prov": c.attest(t, prov, sigtest.Options{GitHub: sigtest.DemoClaims()})})
	if !rep.Passed {
		t.Fatalf("%+v", rep.Failed())
	}
}
