package policy_test

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"testing"

	"github.com/sigstore/sigstore-go/pkg/root"

	"github.com/hallmark-dev/hallmark/internal/sigtest"
	"github.com/hallmark-dev/hallmark/pkg/policy"
	"github.com/hallmark-dev/hallmark/pkg/verify"
)

// TestImageArtifacts: an artifacts glob matches an artifact's name or one
// of its aliases (an image's repository), and a "signature" requirement is
// met by cosign's image signature statement, not by another predicate.
func TestImageArtifacts(t *testing.T) {
	c := getChain(t)
	manifest := []byte(`{"schemaVersion":2}`)
	signed := func(ptype string) *verify.Result {
		t.Helper()
		st := statement(t, ptype, map[string][]byte{"ghcr.io/acme/app": manifest}, map[string]any{})
		b, err := verify.ParseBundle(c.attest(t, st, verifyOpts))
		if err != nil {
			t.Fatal(err)
		}
		vs, err := policy.NewVerifiers(parse(t, imagePolicy("*")), []root.TrustedMaterial{c.tm})
		if err != nil {
			t.Fatal(err)
		}
		res, err := vs.Verify(context.Background(), b, verify.StatementOnly(ptype))
		if err != nil {
			t.Fatal(err)
		}
		res.Bundle = ptype
		return res
	}
	imageSig := signed("https://sigstore.dev/cosign/sign/v1")
	otherType := signed("https://example.com/not-a-signature/v1")
	digests := []verify.Digest{{Algorithm: "sha256", Value: sha(manifest)}}
	cases := []struct {
		name    string
		glob    string
		art     policy.Artifact
		results []*verify.Result
		failed  []string
	}{
		{"image signature by name", "oci://ghcr.io/acme/app:*",
			policy.Artifact{Name: "oci://ghcr.io/acme/app:v1", Digests: digests}, []*verify.Result{imageSig}, nil},
		{"image signature by alias", "oci://ghcr.io/acme/app",
			policy.Artifact{Name: "oci://ghcr.io/acme/app:v1", Aliases: []string{"oci://ghcr.io/acme/app"}, Digests: digests}, []*verify.Result{imageSig}, nil},
		{"alias glob", "oci://ghcr.io/acme/*",
			policy.Artifact{Name: "oci://ghcr.io/acme/app@sha256:" + sha(manifest), Aliases: []string{"oci://ghcr.io/acme/app"}, Digests: digests}, []*verify.Result{imageSig}, nil},
		{"no alias, no match", "oci://ghcr.io/acme/app",
			policy.Artifact{Name: "oci://ghcr.io/acme/app:v1", Digests: digests}, []*verify.Result{imageSig}, []string{"artifacts"}},
		{"alias of another repository", "oci://ghcr.io/acme/app",
			policy.Artifact{Name: "oci://ghcr.io/acme/web:v1", Aliases: []string{"oci://ghcr.io/acme/web"}, Digests: digests}, []*verify.Result{imageSig}, []string{"artifacts"}},
		{"another predicate is no signature", "oci://ghcr.io/acme/app",
			policy.Artifact{Name: "oci://ghcr.io/acme/app:v1", Aliases: []string{"oci://ghcr.io/acme/app"}, Digests: digests}, []*verify.Result{otherType},
			[]string{"artifacts[0].attestations[0].signers"}},
		{"another digest", "oci://ghcr.io/acme/app",
			policy.Artifact{Name: "oci://ghcr.io/acme/app:v1", Aliases: []string{"oci://ghcr.io/acme/app"}, Digests: []verify.Digest{{Algorithm: "sha256", Value: sha([]byte("other"))}}},
			[]*verify.Result{imageSig}, []string{"artifacts[0].attestations[0].signers"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rep, err := parse(t, imagePolicy(tc.glob)).Evaluate(context.Background(), policy.Input{Artifacts: []policy.Artifact{tc.art}, Attestations: tc.results})
			if err != nil {
				t.Fatal(err)
			}
			if got := failed(rep); !slices.Equal(got, tc.failed) || rep.Passed != (len(tc.failed) == 0) {
				t.Errorf("failed rules %q (passed %v), want %q", got, rep.Passed, tc.failed)
			}
			for _, o := range rep.Outcomes {
				if o.Artifact != "" && o.Artifact != tc.art.Name {
					t.Errorf("outcome %s names %q, want the artifact's name %q", o.Rule, o.Artifact, tc.art.Name)
				}
			}
		})
	}
}

var verifyOpts = sigtest.Options{Identity: "ci@example.com", Issuer: exampleIssuer}

func imagePolicy(glob string) string {
	return `version: 1
signers:
  ci: {issuer: ` + exampleIssuer + `, san: ci@example.com}
artifacts:
  - name: "` + glob + `"
    attestations:
      - predicateType: signature
        signers: "1 of [ci]"
`
}

// TestImageDocExample: the README's policy for container images parses,
// and its glob covers both repositories by their aliases.
func TestImageDocExample(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile("(?s)## Signing container images.*?\n  ```yaml\n(.*?)  ```").FindSubmatch(data)
	if m == nil {
		t.Fatal("README: no policy example under \"Signing container images\"")
	}
	text := regexp.MustCompile("(?m)^  ").ReplaceAllString(string(m[1]), "")
	p := parse(t, text)
	for _, tc := range []struct {
		art  policy.Artifact
		want bool
	}{
		{policy.Artifact{Name: "oci://ghcr.io/o/app:v1", Aliases: []string{"oci://ghcr.io/o/app"}}, true},
		{policy.Artifact{Name: "oci://ghcr.io/o/worker@sha256:" + sha(nil), Aliases: []string{"oci://ghcr.io/o/worker"}}, true},
		{policy.Artifact{Name: "oci://ghcr.io/o/other:v1", Aliases: []string{"oci://ghcr.io/o/other"}}, false},
	} {
		rep, err := p.Evaluate(context.Background(), policy.Input{Artifacts: []policy.Artifact{tc.art}})
		if err != nil {
			t.Fatal(err)
		}
		if got := !slices.Contains(failed(rep), "artifacts"); got != tc.want {
			t.Errorf("%s: covered %v, want %v (%q)", tc.art.Name, got, tc.want, failed(rep))
		}
	}
}
