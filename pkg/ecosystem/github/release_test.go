package github_test

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sigstore/sigstore-go/pkg/bundle"
	"github.com/sigstore/sigstore-go/pkg/root"

	"github.com/hallmark-dev/hallmark/pkg/ecosystem/github"
	"github.com/hallmark-dev/hallmark/pkg/verify"
)

// githubFixtures loads ../shared's GitHub ecosystem fixtures: GitHub's and
// the public-good trusted roots, and the two real release attestations.
type githubFixtures struct {
	github, publicGood *root.TrustedRoot
	cli, delme         *bundle.Bundle
}

const (
	cliChecksums = "sha256:fc046371efa250e2875208341a786a35a01717d5eebec6903e199a9b8a3f3565"
	cliLinux     = "sha256:83d5c2ccad5498f58bf6368acb1ab32588cf43ab3a4b1c301bf36328b1c8bd60"
	delmeZip     = "sha256:e15b593c6ab8d7725a3cc82226ef816cac6bf9c70eed383bd459295cc65f5ec3"
)

func loadGitHubFixtures(t *testing.T) *githubFixtures {
	t.Helper()
	shared := sharedDir(t)
	if shared == "" {
		t.Skip("../shared not found: the GitHub release fixtures are not there")
	}
	dir := filepath.Join(shared, "fixtures", "ecosystems", "github")
	var f githubFixtures
	var err error
	if f.github, err = root.NewTrustedRootFromPath(filepath.Join(dir, "roots", "github-trusted-root.json")); err != nil {
		t.Fatal(err)
	}
	if f.publicGood, err = root.NewTrustedRootFromPath(filepath.Join(shared, "fixtures", "real-bundles", "trusted-roots", "public-good.json")); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join(dir, "cli-cli-v2.96.0-checksums.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(nil, 1<<20)
	if !sc.Scan() {
		t.Fatal("the cli/cli JSONL has no line")
	}
	if f.cli, err = verify.ParseBundle(sc.Bytes()); err != nil {
		t.Fatal(err)
	}
	if data, err = os.ReadFile(filepath.Join(dir, "bdehamer-delme-v6-release.sigstore.json")); err != nil {
		t.Fatal(err)
	}
	if f.delme, err = verify.ParseBundle(data); err != nil {
		t.Fatal(err)
	}
	return &f
}

func releasePolicy(t *testing.T, repo, tag string) verify.Policy {
	t.Helper()
	id, rule, err := github.ReleasePolicy(repo, tag)
	if err != nil {
		t.Fatal(err)
	}
	return verify.Policy{Identity: id, Statement: rule}
}

// TestGitHubRelease runs the cases of ../shared's GitHub README: release
// attestations verify against GitHub's root (alone or next to the
// public-good one) with signed timestamps only, and are refused against the
// public-good root, for another repository or tag, and for a digest that is
// not a subject.
func TestGitHubRelease(t *testing.T) {
	f := loadGitHubFixtures(t)
	both := []root.TrustedMaterial{f.publicGood, f.github}
	gh := []root.TrustedMaterial{f.github}
	pg := []root.TrustedMaterial{f.publicGood}
	cases := []struct {
		name      string
		roots     []root.TrustedMaterial
		b         *bundle.Bundle
		digest    string
		repo, tag string
		cause     verify.Cause // "" = accepted
		reason    string       // in the rejection
	}{
		{"cli checksums", gh, f.cli, cliChecksums, "cli/cli", "", "", ""},
		{"cli linux amd64, both roots", both, f.cli, cliLinux, "cli/cli", "", "", ""},
		{"cli with its tag", both, f.cli, cliChecksums, "cli/cli", "v2.96.0", "", ""},
		{"delme v0.1", both, f.delme, delmeZip, "bdehamer/delme", "", "", ""},
		{"public-good root", pg, f.cli, cliChecksums, "cli/cli", "", verify.CauseCertificate, "does not chain to a Fulcio CA"},
		{"wrong repository", both, f.cli, cliChecksums, "cli/go-gh", "", verify.CauseStatement, "statement policy"},
		{"wrong tag", both, f.cli, cliChecksums, "cli/cli", "v2.95.0", verify.CauseStatement, "statement policy"},
		{"digest not a subject", both, f.delme, cliChecksums, "bdehamer/delme", "", verify.CauseArtifact, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			v, err := verify.NewWithRoots(c.roots, releasePolicy(t, c.repo, c.tag))
			if err != nil {
				t.Fatal(err)
			}
			a, err := verify.ParseDigest(c.digest)
			if err != nil {
				t.Fatal(err)
			}
			res, err := v.Verify(context.Background(), c.b, a)
			if c.cause == "" {
				if err != nil {
					t.Fatalf("rejected: %v", err)
				}
				skipped := map[verify.Check]string{}
				for _, s := range res.SkippedChecks {
					skipped[s.Check] = s.Reason
				}
				for _, ch := range []verify.Check{verify.CheckTlog, verify.CheckSCT} {
					if !strings.Contains(skipped[ch], "signed timestamps only") {
						t.Errorf("skippedChecks[%s] = %q, want the reason that GitHub's root verifies with signed timestamps only", ch, skipped[ch])
					}
				}
				if res.Signer == nil || res.Signer.SAN != github.ReleaseSigner {
					t.Errorf("signer = %+v, want %s", res.Signer, github.ReleaseSigner)
				}
				return
			}
			var rej *verify.RejectedError
			if !errors.As(err, &rej) {
				t.Fatalf("err = %v, want a *RejectedError", err)
			}
			if rej.Cause != c.cause || !strings.Contains(rej.Message(), c.reason) {
				t.Fatalf("rejected with %s %q, want %s containing %q", rej.Cause, rej.Message(), c.cause, c.reason)
			}
			if res.Verified {
				t.Fatal("the result says verified")
			}
		})
	}
}

// TestMultiRootSelection: each bundle is checked against the root whose CA
// issued it; a public-good bundle against GitHub's root alone is refused,
// naming the reason, and a GitHub bundle needs GitHub's root whatever else
// is trusted.
func TestMultiRootSelection(t *testing.T) {
	f := loadGitHubFixtures(t)
	shared := sharedDir(t)
	rb := filepath.Join(shared, "fixtures", "real-bundles", "b2-sigstorejs-2.0.0-provenance")
	data, err := os.ReadFile(filepath.Join(rb, "bundle.sigstore.json"))
	if err != nil {
		t.Fatal(err)
	}
	npm, err := verify.ParseBundle(data)
	if err != nil {
		t.Fatal(err)
	}
	npmPolicy := verify.Policy{Identity: &verify.Identity{
		SAN:    "https://github.com/sigstore/sigstore-js/.github/workflows/release.yml@refs/heads/main",
		Issuer: verify.GitHubIssuer,
	}}
	cases := []struct {
		name   string
		roots  []root.TrustedMaterial
		b      *bundle.Bundle
		p      verify.Policy
		art    verify.Artifact
		cause  verify.Cause
		reason string
	}{
		{"public-good bundle, both roots", []root.TrustedMaterial{f.github, f.publicGood}, npm, npmPolicy, verify.StatementOnly("npm"), "", ""},
		{"public-good bundle, GitHub root alone", []root.TrustedMaterial{f.github}, npm, npmPolicy, verify.StatementOnly("npm"), verify.CauseCertificate, "does not chain to a Fulcio CA of the trust root"},
		{"GitHub bundle, public-good root twice", []root.TrustedMaterial{f.publicGood, f.publicGood}, f.delme, releasePolicy(t, "bdehamer/delme", ""), verify.StatementOnly("delme"), verify.CauseCertificate, "any of the 2 trust roots"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			v, err := verify.NewWithRoots(c.roots, c.p)
			if err != nil {
				t.Fatal(err)
			}
			res, err := v.Verify(context.Background(), c.b, c.art)
			if c.cause == "" {
				if err != nil {
					t.Fatalf("rejected: %v", err)
				}
				for _, s := range res.SkippedChecks {
					if s.Check == verify.CheckTlog || s.Check == verify.CheckSCT {
						t.Errorf("a public-good bundle skipped %s: %s", s.Check, s.Reason)
					}
				}
				return
			}
			var rej *verify.RejectedError
			if !errors.As(err, &rej) || rej.Cause != c.cause || !strings.Contains(rej.Message(), c.reason) {
				t.Fatalf("err = %v, want %s containing %q", err, c.cause, c.reason)
			}
		})
	}
}

// TestReleasePolicyData: the release policy is data, and a bad
// repository is a policy error.
func TestReleasePolicyData(t *testing.T) {
	id, rule, err := github.ReleasePolicy("cli/cli", "v1")
	if err != nil {
		t.Fatal(err)
	}
	if id.SAN != github.ReleaseSigner || !id.NoIssuer || id.Issuer != "" {
		t.Errorf("identity = %+v", id)
	}
	if rule.PredicateRepository != "cli/cli" || rule.SubjectURIPrefix != "pkg:github/cli/cli@v1" || !rule.SubjectURIExact {
		t.Errorf("rule = %+v", rule)
	}
	for _, bad := range []string{"cli", "cli/cli/x", "", "a b/c"} {
		if _, _, err := github.ReleasePolicy(bad, ""); !errors.Is(err, verify.ErrPolicy) {
			t.Errorf("ReleasePolicy(%q) = %v, want ErrPolicy", bad, err)
		}
	}
}

// BenchmarkVerifyWithRoots: a public-good bundle and a GitHub release
// bundle verified over both roots (the default trust), against the same
// bundle over its own root alone: the difference is the cost of picking
// the root.
func BenchmarkVerifyWithRoots(b *testing.B) {
	shared := sharedDir(b)
	if shared == "" {
		b.Skip("../shared not found")
	}
	dir := filepath.Join(shared, "fixtures", "ecosystems", "github")
	gh, err := root.NewTrustedRootFromPath(filepath.Join(dir, "roots", "github-trusted-root.json"))
	if err != nil {
		b.Fatal(err)
	}
	pg, err := root.NewTrustedRootFromPath(filepath.Join(shared, "fixtures", "real-bundles", "trusted-roots", "public-good.json"))
	if err != nil {
		b.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join(dir, "bdehamer-delme-v6-release.sigstore.json"))
	if err != nil {
		b.Fatal(err)
	}
	delme, err := verify.ParseBundle(data)
	if err != nil {
		b.Fatal(err)
	}
	id, rule, err := github.ReleasePolicy("bdehamer/delme", "")
	if err != nil {
		b.Fatal(err)
	}
	release := verify.Policy{Identity: id, Statement: rule}
	cases := []struct {
		name  string
		roots []root.TrustedMaterial
	}{
		{"github-release/own-root", []root.TrustedMaterial{gh}},
		{"github-release/both-roots", []root.TrustedMaterial{pg, gh}},
	}
	for _, c := range cases {
		v, err := verify.NewWithRoots(c.roots, release)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(c.name, func(b *testing.B) {
			for b.Loop() {
				if _, err := v.Verify(context.Background(), delme, verify.StatementOnly("delme")); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// sharedDir is ../shared next to the repository, or "" (the cases that
// need it skip, saying so) when it is absent.
func sharedDir(tb testing.TB) string {
	dir := filepath.Join("..", "..", "..", "..", "shared")
	if _, err := os.Stat(filepath.Join(dir, "fixtures")); err != nil {
		tb.Logf("../shared not found: real-bundle cases skipped")
		return ""
	}
	return dir
}
