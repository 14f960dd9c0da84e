package verify_test

import (
	"context"
	"errors"
	"testing"

	"github.com/hallmark-dev/hallmark/internal/sigtest"
	"github.com/hallmark-dev/hallmark/pkg/ecosystem/github"
	"github.com/hallmark-dev/hallmark/pkg/verify"
)

// TestLegacyGitHubExtensions checks that a certificate with only the legacy
// GitHub extensions (1.3.6.1.4.1.57264.1.2 to .6, before October 2023)
// satisfies --repo, --owner and --signer-workflow policies by what they
// say, and is refused for another repository.
func TestLegacyGitHubExtensions(t *testing.T) {
	inst, err := sigtest.New()
	if err != nil {
		t.Fatal(err)
	}
	tm, err := inst.TrustedRoot()
	if err != nil {
		t.Fatal(err)
	}
	artifact := []byte(sigtest.DemoArtifact)
	legacy := &sigtest.GitHubClaims{LegacyRepository: "hallmark-dev/demo", LegacyRef: sigtest.DemoRef,
		LegacySHA: sigtest.DemoDigest, LegacyTrigger: "push", LegacyWorkflow: "Release"}
	bundles := map[string]sigtest.Options{
		"legacy":     {GitHub: legacy},
		"new":        {GitHub: sigtest.DemoClaims()},
		"legacy-gl":  {Issuer: "https://gitlab.com", GitHub: legacy},
		"legacy-bad": {GitHub: &sigtest.GitHubClaims{LegacyRepository: "no-slash"}},
	}
	signed := map[string][]byte{}
	for name, o := range bundles {
		if signed[name], err = inst.SignBlob(artifact, o); err != nil {
			t.Fatal(err)
		}
	}
	repo := func(r string, f func(*verify.Identity)) verify.Policy {
		id, err := github.RepoIdentity(r)
		if err != nil {
			t.Fatal(err)
		}
		if f != nil {
			f(id)
		}
		return verify.Policy{Identity: id}
	}
	tests := []struct {
		name, bundle string
		policy       verify.Policy
		field        string // "" = accepted, else the mismatching comparison
		legacy       bool
	}{
		{"repo", "legacy", repo("hallmark-dev/demo", nil), "", true},
		{"repo and ref", "legacy", repo("hallmark-dev/demo", func(id *verify.Identity) { id.SourceRef = sigtest.DemoRef }), "", true},
		{"signer workflow", "legacy", repo("hallmark-dev/demo", func(id *verify.Identity) {
			id.SignerWorkflow = "hallmark-dev/demo/.github/workflows/release.yml"
		}), "", true},
		{"other signer workflow", "legacy", repo("hallmark-dev/demo", func(id *verify.Identity) {
			id.SignerWorkflow = "hallmark-dev/demo/.github/workflows/other.yml"
		}), "signer workflow", true},
		{"commit differs", "legacy", repo("hallmark-dev/demo", func(id *verify.Identity) { id.SourceDigest = sigtest.ReusableDigest }), "source digest", true},
		{"another repository", "legacy", repo("hallmark-dev/other", nil), "source repository", true},
		{"new extensions are not marked", "new", repo("hallmark-dev/demo", nil), "", false},
		{"not github.com's issuer", "legacy-gl", repo("hallmark-dev/demo", func(id *verify.Identity) { id.Issuer = "https://gitlab.com" }), "source repository", false},
		{"malformed legacy repository", "legacy-bad", repo("hallmark-dev/demo", nil), "source repository", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			v, err := verify.New(tm, tc.policy)
			if err != nil {
				t.Fatal(err)
			}
			b, err := verify.ParseBundle(signed[tc.bundle])
			if err != nil {
				t.Fatal(err)
			}
			art, _ := verify.ParseDigest(digestOf(artifact))
			res, err := v.Verify(context.Background(), b, art)
			if tc.field == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				gh := res.Signer.GitHub
				if gh == nil || gh.SourceRepository != sigtest.DemoRepository || gh.LegacyExtensions != tc.legacy {
					t.Fatalf("claims %+v, want repository %s and legacy %v", gh, sigtest.DemoRepository, tc.legacy)
				}
				if tc.legacy && (gh.SourceRef != sigtest.DemoRef || gh.SourceDigest != sigtest.DemoDigest || gh.SignerWorkflow != sigtest.DemoIdentity ||
					gh.Trigger != "push" || gh.SourceOwner != "https://github.com/hallmark-dev") {
					t.Fatalf("legacy claims %+v", gh)
				}
				return
			}
			var rej *verify.RejectedError
			if !errors.As(err, &rej) || rej.Cause != verify.CauseIdentity {
				t.Fatalf("got %v, want an identity rejection", err)
			}
			for _, c := range rej.Comparisons {
				if c.Field == tc.field && !c.Match {
					return
				}
			}
			t.Fatalf("no mismatching %q in %+v", tc.field, rej.Comparisons)
		})
	}
	t.Run("hint signer", func(t *testing.T) {
		b, err := verify.ParseBundle(signed["legacy"])
		if err != nil {
			t.Fatal(err)
		}
		s := verify.BundleSigner(b)
		if s == nil || s.GitHub == nil || s.GitHub.SourceRepository != sigtest.DemoRepository || !s.GitHub.LegacyExtensions {
			t.Fatalf("BundleSigner = %+v", s)
		}
	})
}
