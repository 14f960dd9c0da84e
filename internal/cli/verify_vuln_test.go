package cli

import (
	"testing"
	"time"

	"github.com/hallmark-dev/hallmark/pkg/attest"
	"github.com/hallmark-dev/hallmark/pkg/verify"
)

func TestParseAge(t *testing.T) {
	for in, want := range map[string]time.Duration{
		"1h": time.Hour, "90m": 90 * time.Minute, "7d": 7 * 24 * time.Hour, "2w": 14 * 24 * time.Hour,
		"1w2d": 9 * 24 * time.Hour, "1d12h": 36 * time.Hour, "1d12h30m": 36*time.Hour + 30*time.Minute, " 3d ": 72 * time.Hour,
	} {
		got, err := parseAge(in)
		if err != nil || got != want {
			t.Errorf("parseAge(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"", "7", "d", "7x", "0s", "0d", "-1h", "1d-2h", "2d1w", "99999999999999999999d", "1h1d", "w"} {
		if got, err := parseAge(in); err == nil {
			t.Errorf("parseAge(%q) = %v, want an error", in, got)
		}
	}
}

// TestFlagsPolicyRef: the policy digest is that of the canonical JSON, so
// the same policy gives the same digest whatever the map order, and any
// change gives another.
func TestFlagsPolicyRef(t *testing.T) {
	a := map[string]any{"policyType": vsaFlagsPolicyURI, "minTimestamps": 1, "identity": &verify.Identity{SAN: "alice@example.com", Issuer: "https://issuer.example"}}
	b := map[string]any{"identity": map[string]any{"issuer": "https://issuer.example", "san": "alice@example.com"}, "minTimestamps": 1.0, "policyType": vsaFlagsPolicyURI}
	ra, err := flagsPolicyRef(a)
	if err != nil {
		t.Fatal(err)
	}
	rb, err := flagsPolicyRef(b)
	if err != nil {
		t.Fatal(err)
	}
	if ra.URI != vsaFlagsPolicyURI || len(ra.Digest["sha256"]) != 64 || ra.Digest["sha256"] != rb.Digest["sha256"] {
		t.Errorf("digests %v and %v of the same policy", ra, rb)
	}
	b["minTimestamps"] = 2
	rc, _ := flagsPolicyRef(b)
	if rc.Digest["sha256"] == ra.Digest["sha256"] {
		t.Error("another policy has the same digest")
	}
}

func TestSLSALevels(t *testing.T) {
	gh := func() *verify.Result {
		return &verify.Result{
			Signer:    &verify.Signer{Kind: "certificate", Issuer: verify.GitHubIssuer, GitHub: &verify.GitHubClaims{RunnerEnvironment: "github-hosted"}},
			Statement: &verify.Statement{PredicateType: attest.TypeSLSAProvenance1, Provenance: &verify.Provenance{BuildType: attest.BuildTypeGitHub}},
		}
	}
	tests := []struct {
		name string
		edit func(*verify.Result)
		want string
	}{
		{"github-hosted GitHub Actions provenance, checked", func(*verify.Result) {}, attest.SLSABuildLevel2},
		{"self-hosted runner", func(r *verify.Result) { r.Signer.GitHub.RunnerEnvironment = "self-hosted" }, attest.SLSABuildLevel1},
		{"key-signed", func(r *verify.Result) { r.Signer = &verify.Signer{Kind: "key"} }, attest.SLSABuildLevel1},
		{"another issuer", func(r *verify.Result) { r.Signer.Issuer = "https://gitlab.com" }, attest.SLSABuildLevel1},
		{"local build type", func(r *verify.Result) { r.Statement.Provenance.BuildType = attest.BuildTypeLocal }, attest.SLSABuildLevel1},
		{"provenance check skipped", func(r *verify.Result) {
			r.SkippedChecks = []verify.SkippedCheck{{Check: verify.CheckProvenance}}
		}, attest.SLSABuildLevel1},
		{"no provenance", func(r *verify.Result) { r.Statement.Provenance = nil }, ""},
		{"a signature", func(r *verify.Result) { r.Statement = nil }, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := gh()
			tt.edit(r)
			got := slsaLevels(r)
			if (tt.want == "" && len(got) != 0) || (tt.want != "" && (len(got) != 1 || got[0] != tt.want)) {
				t.Errorf("slsaLevels = %v, want %q", got, tt.want)
			}
		})
	}
}
