package cli

import (
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/hallmark-dev/hallmark/pkg/attest"
	"github.com/hallmark-dev/hallmark/pkg/ecosystem/github"
	"github.com/hallmark-dev/hallmark/pkg/verify"
)

// bindRelease binds --tag, the release attestation's tag.
func (o *verifyOptions) bindRelease(cmd *cobra.Command) {
	cmd.Flags().StringVar(&o.tag, "tag", "", "with --type release: the release `TAG` (predicate.tag and the pkg:github/OWNER/NAME@TAG subject)")
}

// releaseType reports whether --type names a GitHub release attestation
// type, and which URIs it admits: "release" admits v0.1 and v0.2.
func (o *verifyOptions) releaseType() ([]string, bool) {
	t := o.attestation.predicateType
	uri, ok := attest.PredicateType(t)
	switch {
	case !ok:
		return nil, false
	case t == "release" || uri == github.ReleasePredicateV01 && t != uri:
		return []string{github.ReleasePredicateV01, github.ReleasePredicateV02}, true
	case uri == github.ReleasePredicateV01 || uri == github.ReleasePredicateV02:
		return []string{uri}, true
	}
	return nil, false
}

// releasePolicy sets p to GitHub's release attestation policy when --type
// is a release type and --repo names the repository: signed by GitHub
// itself (no OIDC issuer), predicate.repository and the pkg:github subject
// pinned, and --tag if given. It reports whether it applied.
func (o *verifyOptions) releasePolicy(p *verify.Policy) (bool, error) {
	types, release := o.releaseType()
	if o.tag != "" && !release {
		return false, usageError(errors.New("--tag applies to release attestations"), "add --type release")
	}
	if !release || o.repo == "" {
		if release && o.tag != "" {
			return false, usageError(errors.New("--tag needs --repo OWNER/NAME"), "name the repository of the release with --repo")
		}
		return false, nil
	}
	for _, f := range []struct{ name, value string }{
		{"--certificate-identity", o.identity}, {"--certificate-identity-regexp", o.identityRegexp},
		{"--certificate-oidc-issuer", o.issuer}, {"--certificate-oidc-issuer-regexp", o.issuerRegexp},
		{"--signer-workflow", o.signerWorkflow}, {"--source-ref", o.sourceRef}, {"--source-digest", o.sourceDigest}, {"--trigger", o.trigger},
	} {
		if f.value != "" {
			return false, usageError(fmt.Errorf("%s does not apply to release attestations: GitHub signs them itself (%s, no OIDC issuer)", f.name, github.ReleaseSigner),
				"pin the release with --repo and --tag")
		}
	}
	id, rule, err := github.ReleasePolicy(o.repo, o.tag)
	if err != nil {
		return false, usageError(fmt.Errorf("--repo: %w", err))
	}
	rule.PredicateTypes = types
	p.Identity, p.Statement = id, rule
	p.PredicateType = "" // the rule admits each release version
	return true, nil
}
