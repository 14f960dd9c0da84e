//go:build e2e

package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestInteropAttest: hallmark's attestations verify with cosign
// verify-blob-attestation --type and with sigstore-go's verifier, and
// cosign attest-blob's verify with hallmark verify.
func TestInteropAttest(t *testing.T) {
	in := stack(t)
	if os.Getenv("HALLMARK_E2E_COSIGN") == "" {
		t.Skip("HALLMARK_E2E_COSIGN is not set: run 'make interop'")
	}
	cosignVerify := func(bp, typ, artifact string) []string {
		return []string{"verify-blob-attestation", "--bundle", bp, "--trusted-root", in.trustedRoot,
			"--certificate-identity", signer, "--certificate-oidc-issuer", in.issuer,
			"--insecure-ignore-sct", "--use-signed-timestamps", "--type", typ, artifact}
	}
	// cosign's own short names differ from hallmark's for some types
	// (its spdxjson is https://spdx.dev/Document, its vuln another
	// predicate): give it the URIs, and its name where they agree.
	for name, cosignType := range map[string]string{
		"slsaprovenance1": "slsaprovenance1",
		"cyclonedx":       "cyclonedx",
		"spdxjson":        predicateURIs["spdxjson"],
		"vuln":            predicateURIs["vuln"],
		"openvex":         predicateURIs["openvex"],
		"link":            predicateURIs["link"],
		"release":         predicateURIs["release"],
		"vsa":             predicateURIs["vsa"],
	} {
		t.Run("cosign-verifies-hallmark-"+name, func(t *testing.T) {
			t.Parallel()
			f := newFiles(t)
			pp := filepath.Join(f.dir, name+".json")
			write(t, pp, []byte(predicates[name]))
			bp := filepath.Join(f.dir, "att.sigstore.json")
			in.attest(t, nil, exitOK, in.token(t, signer), "--type", name, "--predicate", pp, "--bundle", bp, f.artifact)
			mustCosign(t, f.dir, cosignVerify(bp, cosignType, f.artifact)...)
			mustNotCosign(t, f.dir, cosignVerify(bp, cosignType, f.tampered)...)
			mustNotCosign(t, f.dir, cosignVerify(bp, "https://example.com/another/v1", f.artifact)...)
			if err := in.verifyIndependently(bp, f.artifact, signer); err != nil {
				t.Errorf("sigstore-go's verifier: %v", err)
			}
		})
	}

	t.Run("cosign-verifies-hallmark-provenance", func(t *testing.T) {
		t.Parallel()
		f := newFiles(t)
		in.attest(t, []string{"GITHUB_ACTIONS=", "GITLAB_CI="}, exitOK, in.token(t, signer), "--provenance", f.artifact)
		bp := f.artifact + ".provenance.sigstore.json"
		mustCosign(t, f.dir, cosignVerify(bp, "slsaprovenance1", f.artifact)...)
	})

	t.Run("hallmark-verifies-cosign-attest-blob", func(t *testing.T) {
		t.Parallel()
		f := newFiles(t)
		pp := filepath.Join(f.dir, "slsa.json")
		write(t, pp, []byte(predicates["slsaprovenance1"]))
		bp := filepath.Join(f.dir, "cosign.sigstore.json")
		mustCosign(t, f.dir, "attest-blob", "--predicate", pp, "--type", "slsaprovenance1", "--identity-token", in.token(t, signer),
			"--signing-config", in.signingConfig, "--trusted-root", in.trustedRoot, "--bundle", bp, "--yes", f.artifact)
		checkBundle(t, bp)
		if got := statementOf(t, bp)["predicateType"]; got != predicateURIs["slsaprovenance1"] {
			t.Errorf("cosign's predicateType %v", got)
		}
		in.verify(t, exitOK, bp, f.artifact, signer)
		in.verify(t, exitRejected, bp, f.tampered, signer)
		id := []string{"--certificate-identity", signer, "--certificate-oidc-issuer", in.issuer}
		in.verifyAs(t, exitOK, bp, f.artifact, append(id, "--type", "slsaprovenance1")...)
		in.verifyAs(t, exitRejected, bp, f.artifact, append(id, "--type", "spdxjson")...)
	})

	// cosign signs, with a GitHub-workflow certificate of hallmark-dev/e2e,
	// a GitHub Actions provenance naming another repository: hallmark
	// verify refuses it, naming both; the same provenance told truthfully
	// passes.
	t.Run("hallmark-checks-cosign-provenance-against-certificate", func(t *testing.T) {
		t.Parallel()
		repo, wf, ref, sha := "hallmark-dev/e2e", ".github/workflows/release.yml", "refs/heads/main", "89abcdef0123456789abcdef0123456789abcdef"
		for _, tc := range []struct {
			claimed string
			want    int
		}{{repo, exitOK}, {"mallory/lookalike", exitRejected}} {
			f := newFiles(t)
			issuer, tok := githubToken(t, repo, wf, ref, sha)
			pred := fmt.Sprintf(`{"buildDefinition":{"buildType":"https://actions.github.io/buildtypes/workflow/v1",`+
				`"externalParameters":{"workflow":{"ref":%q,"repository":%q,"path":%q}}},`+
				`"runDetails":{"builder":{"id":%q}}}`, ref, "https://github.com/"+tc.claimed, wf, "https://github.com/"+repo+"/"+wf+"@"+ref)
			pp := filepath.Join(f.dir, "provenance.json")
			write(t, pp, []byte(pred))
			bp := filepath.Join(f.dir, "cosign-provenance.sigstore.json")
			mustCosign(t, f.dir, "attest-blob", "--predicate", pp, "--type", "slsaprovenance1", "--identity-token", tok,
				"--signing-config", in.signingConfig, "--trusted-root", in.trustedRoot, "--bundle", bp, "--yes", f.artifact)
			_, stderr := in.verifyAs(t, tc.want, bp, f.artifact, "--repo", repo, "--certificate-oidc-issuer", issuer, "--type", "slsaprovenance1")
			if tc.want == exitRejected && !strings.Contains(stderr, `actual   "https://github.com/mallory/lookalike"`) {
				t.Errorf("stderr does not name the provenance's repository:\n%s", stderr)
			}
		}
	})
}
