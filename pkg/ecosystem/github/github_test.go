package github_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/sigstore/sigstore-go/pkg/root"

	"github.com/hallmark-dev/hallmark/internal/sigtest"
	"github.com/hallmark-dev/hallmark/pkg/ecosystem/github"
	"github.com/hallmark-dev/hallmark/pkg/verify"
)

// TestGitHubPolicy checks gh attestation verify's policy vocabulary at the
// library level: owner, signer repository, signer workflow ref glob, signer
// digest, runner environment and GitHub Enterprise Cloud hosts.
func TestGitHubPolicy(t *testing.T) {
	inst, err := sigtest.New()
	if err != nil {
		t.Fatal(err)
	}
	tm, err := inst.TrustedRoot()
	if err != nil {
		t.Fatal(err)
	}
	artifact := []byte(sigtest.DemoArtifact)
	claims := func(f func(c *sigtest.GitHubClaims)) *sigtest.GitHubClaims {
		c := sigtest.ReusableClaims()
		c.SourceRepositoryOwner = "https://github.com/hallmark-dev"
		if f != nil {
			f(c)
		}
		return c
	}
	const tenantRepo = "https://octo.ghe.com/acme/app"
	bundles := map[string]sigtest.Options{
		"reusable": {Identity: sigtest.ReusableIdentity, GitHub: claims(nil)},
		"self-hosted": {Identity: sigtest.ReusableIdentity, GitHub: claims(func(c *sigtest.GitHubClaims) {
			c.RunnerEnvironment = "self-hosted"
		})},
		"tenant": {Identity: tenantRepo + "/.github/workflows/build.yml@refs/heads/main", Issuer: "https://token.actions.octo.ghe.com",
			GitHub: &sigtest.GitHubClaims{BuildSignerURI: tenantRepo + "/.github/workflows/build.yml@refs/heads/main",
				SourceRepositoryURI: tenantRepo, SourceRepositoryOwner: "https://octo.ghe.com/acme", RunnerEnvironment: "github-hosted"}},
	}
	signed := map[string][]byte{}
	for name, o := range bundles {
		if signed[name], err = inst.SignBlob(artifact, o); err != nil {
			t.Fatal(err)
		}
	}
	owner := func(host string, f func(id *verify.Identity)) verify.Policy {
		id, err := github.OwnerIdentity(map[string]string{"": "hallmark-dev", "octo.ghe.com": "acme"}[host], host)
		if err != nil {
			t.Fatal(err)
		}
		// The reusable workflow lives in another repository of the owner.
		if f != nil {
			f(id)
		}
		return verify.Policy{Identity: id}
	}
	const wf = "hallmark-dev/shared-workflows/.github/workflows/build.yml"
	tests := []struct {
		name   string
		bundle string
		policy verify.Policy
		field  string // "" = accepted; else the mismatching comparison
	}{
		{"owner", "reusable", owner("", nil), ""},
		{"owner claim differs", "reusable", owner("", func(id *verify.Identity) {
			id.SourceRepositoryOwnerURI = "https://github.com/other"
		}), "source repository owner"},
		{"signer repository", "reusable", owner("", func(id *verify.Identity) {
			id.SignerRepositoryURI = "https://github.com/hallmark-dev/shared-workflows"
		}), ""},
		{"signer repository differs", "reusable", owner("", func(id *verify.Identity) {
			id.SignerRepositoryURI = "https://github.com/hallmark-dev/shared"
		}), "signer repository"},
		{"signer workflow ref glob", "reusable", owner("", func(id *verify.Identity) {
			id.SignerWorkflow, id.SignerWorkflowRef = wf, "refs/heads/*"
		}), ""},
		{"signer workflow ref glob differs", "reusable", owner("", func(id *verify.Identity) {
			id.SignerWorkflow, id.SignerWorkflowRef = wf, "refs/tags/v*"
		}), "signer workflow ref"},
		{"signer workflow ref glob does not cross a slash", "reusable", owner("", func(id *verify.Identity) {
			id.SignerWorkflow, id.SignerWorkflowRef = wf, "refs/*"
		}), "signer workflow ref"},
		{"signer digest", "reusable", owner("", func(id *verify.Identity) { id.SignerDigest = sigtest.ReusableDigest }), ""},
		{"signer digest differs", "reusable", owner("", func(id *verify.Identity) { id.SignerDigest = sigtest.DemoDigest }), "signer digest"},
		{"github-hosted runner", "reusable", owner("", func(id *verify.Identity) { id.RunnerEnvironment = verify.RunnerGitHubHosted }), ""},
		{"self-hosted runner refused", "self-hosted", owner("", func(id *verify.Identity) { id.RunnerEnvironment = verify.RunnerGitHubHosted }), "runner environment"},
		{"tenant host", "tenant", owner("octo.ghe.com", nil), ""},
		{"tenant bundle, github.com policy", "tenant", owner("", nil), "identity (SAN)"},
		{"github.com bundle, tenant policy", "reusable", owner("octo.ghe.com", nil), "identity (SAN)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := mustVerifier(t, tm, tt.policy)
			_, err := run(t, v, signed[tt.bundle], verify.FileArtifact(writeTemp(t, artifact)))
			if tt.field == "" {
				if err != nil {
					t.Fatalf("Verify = %v, want accepted", err)
				}
				return
			}
			var rej *verify.RejectedError
			if !errors.As(err, &rej) || rej.Cause != verify.CauseIdentity {
				t.Fatalf("Verify = %v, want an identity rejection", err)
			}
			for _, c := range rej.Comparisons {
				if c.Field == tt.field && !c.Match {
					return
				}
			}
			t.Errorf("comparisons %+v: want %q reported as a mismatch", rej.Comparisons, tt.field)
		})
	}
}

// TestIssuerFor: github.com and TENANT.ghe.com hosts have an issuer; any
// other host is a policy error.
func TestIssuerFor(t *testing.T) {
	for host, want := range map[string]string{"": verify.GitHubIssuer, "github.com": verify.GitHubIssuer,
		"Octo.GHE.com": "https://token.actions.octo.ghe.com"} {
		if got, err := github.IssuerFor(host); err != nil || got != want {
			t.Errorf("IssuerFor(%q) = %q, %v; want %q", host, got, err, want)
		}
	}
	for _, host := range []string{"example.com", ".ghe.com", "a.b.ghe.com", "evil.com/.ghe.com"} {
		if got, err := github.IssuerFor(host); !errors.Is(err, verify.ErrPolicy) {
			t.Errorf("IssuerFor(%q) = %q, %v; want ErrPolicy", host, got, err)
		}
	}
}

func TestRepoIdentity(t *testing.T) {
	for _, host := range []string{"", "octo.ghe.com"} {
		id, err := github.RepoIdentityOn("acme/app", host)
		if err != nil {
			t.Fatal(err)
		}
		want := map[string]string{"": "https://github.com/acme/app", "octo.ghe.com": "https://octo.ghe.com/acme/app"}[host]
		if iss, _ := github.IssuerFor(host); id.SourceRepositoryURI != want || id.Issuer != iss || id.SANRegexp == "" {
			t.Errorf("RepoIdentityOn(%q) = %+v, want source repository %q and issuer %q", host, id, want, iss)
		}
	}
	for _, bad := range []string{"acme", "acme/", "/app", "acme/app/x"} {
		if id, err := github.RepoIdentity(bad); err == nil {
			t.Errorf("RepoIdentity(%q) = %+v, want an error", bad, id)
		}
	}
	if _, err := github.RepoIdentityOn("acme/app", "example.com"); !errors.Is(err, verify.ErrPolicy) {
		t.Errorf("RepoIdentityOn on example.com = %v, want ErrPolicy", err)
	}
	for _, bad := range []string{"", "a/b", "a@b", "a b"} {
		if _, err := github.OwnerIdentity(bad, ""); !errors.Is(err, verify.ErrPolicy) {
			t.Errorf("OwnerIdentity(%q) = %v, want ErrPolicy", bad, err)
		}
	}
}

func mustVerifier(t *testing.T, tm root.TrustedMaterial, p verify.Policy) *verify.Verifier {
	t.Helper()
	v, err := verify.New(tm, p)
	if err != nil {
		t.Fatalf("verify.New: %v", err)
	}
	return v
}

func run(t *testing.T, v *verify.Verifier, bundleJSON []byte, a verify.Artifact) (*verify.Result, error) {
	t.Helper()
	b, err := verify.ParseBundle(bundleJSON)
	if err != nil {
		t.Fatalf("ParseBundle: %v", err)
	}
	return v.Verify(context.Background(), b, a)
}

func writeTemp(t testing.TB, data []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "artifact")
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}
