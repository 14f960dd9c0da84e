package verify_test

import (
	"errors"
	"testing"

	"github.com/hallmark-dev/hallmark/internal/sigtest"
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
		id, err := verify.GitHubOwnerIdentity(map[string]string{"": "hallmark-dev", "octo.ghe.com": "acme"}[host], host)
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

func TestGitHubPolicyValidation(t *testing.T) {
	tm := getWorld(t).tm
	base := func(f func(id *verify.Identity)) verify.Policy {
		id := &verify.Identity{SAN: sigtest.ReusableIdentity, Issuer: sigtest.GitHubIssuer}
		f(id)
		return verify.Policy{Identity: id}
	}
	for name, p := range map[string]verify.Policy{
		"ref glob without workflow": base(func(id *verify.Identity) {
			id.SourceRepositoryURI, id.SignerWorkflowRef = sigtest.DemoRepository, "refs/*"
		}),
		"bad ref glob": base(func(id *verify.Identity) {
			id.SourceRepositoryURI, id.SignerWorkflow, id.SignerWorkflowRef = sigtest.DemoRepository, "a/b/.github/workflows/c.yml", "refs/["
		}),
		"signer repository alone": base(func(id *verify.Identity) { id.SignerRepositoryURI = "https://github.com/a/b" }),
		"signer workflow alone":   base(func(id *verify.Identity) { id.SignerWorkflow = "a/b/.github/workflows/c.yml" }),
		"malformed signer repo": base(func(id *verify.Identity) {
			id.SourceRepositoryURI, id.SignerRepositoryURI = sigtest.DemoRepository, "https://github.com/a"
		}),
	} {
		if _, err := verify.New(tm, p); !errors.Is(err, verify.ErrPolicy) {
			t.Errorf("%s: New = %v, want ErrPolicy", name, err)
		}
	}
	// signer workflow with only an owner is a valid extra constraint.
	p := base(func(id *verify.Identity) {
		id.SourceRepositoryOwnerURI, id.SignerWorkflow = "https://github.com/a", "a/b/.github/workflows/c.yml"
	})
	if _, err := verify.New(tm, p); err != nil {
		t.Errorf("owner + signer workflow: New = %v, want nil", err)
	}
	for host, want := range map[string]string{"": verify.GitHubIssuer, "github.com": verify.GitHubIssuer,
		"Octo.GHE.com": "https://token.actions.octo.ghe.com"} {
		if got, err := verify.GitHubIssuerFor(host); err != nil || got != want {
			t.Errorf("GitHubIssuerFor(%q) = %q, %v; want %q", host, got, err, want)
		}
	}
	for _, host := range []string{"example.com", ".ghe.com", "a.b.ghe.com", "evil.com/.ghe.com"} {
		if got, err := verify.GitHubIssuerFor(host); !errors.Is(err, verify.ErrPolicy) {
			t.Errorf("GitHubIssuerFor(%q) = %q, %v; want ErrPolicy", host, got, err)
		}
	}
}

// TestAttestationPredicateType: gh's default predicate type applies to DSSE
// statements only; a message signature is not turned away.
func TestAttestationPredicateType(t *testing.T) {
	w := getWorld(t)
	p := demoPolicy()
	p.AttestationPredicateType = "https://cyclonedx.org/bom"
	v := mustVerifier(t, w.tm, p)
	if _, err := run(t, v, w.bundles["blob"], verify.FileArtifact(writeTemp(t, w.artifact))); err != nil {
		t.Errorf("message signature: %v, want accepted", err)
	}
	_, err := run(t, v, w.bundles["attest"], verify.FileArtifact(writeTemp(t, w.artifact)))
	var rej *verify.RejectedError
	if !errors.As(err, &rej) || rej.Cause != verify.CausePredicateType {
		t.Errorf("SLSA attestation against a CycloneDX default: %v, want CausePredicateType", err)
	}
	p.AttestationPredicateType = sigtest.SLSAProvenanceV1
	if _, err := run(t, mustVerifier(t, w.tm, p), w.bundles["attest"], verify.FileArtifact(writeTemp(t, w.artifact))); err != nil {
		t.Errorf("SLSA attestation against the SLSA default: %v, want accepted", err)
	}
	p.AttestationPredicateType = "not a type"
	if _, err := verify.New(w.tm, p); !errors.Is(err, verify.ErrPolicy) {
		t.Errorf("New with a bad default type: %v, want ErrPolicy", err)
	}
}
