package cli

import (
	"errors"
	"fmt"
	"path"
	"regexp"
	"strings"

	"github.com/spf13/cobra"

	"github.com/hallmark-dev/hallmark/pkg/ecosystem/github"
	"github.com/hallmark-dev/hallmark/pkg/verify"
)

// ghPolicyFlags are the flags of gh attestation verify's policy vocabulary
// that go beyond --repo and --signer-workflow.
type ghPolicyFlags struct {
	owner, signerRepo, signerDigest string
	hostname                        string
	denySelfHosted                  bool
}

// ghDefaultPredicateType is the predicate type gh attestation verify
// requires when --type is not given: SLSA provenance v1.
const ghDefaultPredicateType = "https://slsa.dev/provenance/v1"

// ghFlagNames are the flags of ghPolicyFlags, for the exclusions with --key.
var ghFlagNames = []string{"owner", "signer-repo", "signer-digest", "hostname", "deny-self-hosted-runners"}

func (g *ghPolicyFlags) bind(cmd *cobra.Command, o *verifyOptions) {
	f := cmd.Flags()
	f.StringVar(&g.owner, "owner", "", "GitHub user or organization `OWNER` one of whose repositories' workflows signed (implies the GitHub Actions issuer)")
	f.StringVar(&g.signerRepo, "signer-repo", "", "the repository `OWNER/NAME` of the (reusable) workflow that signed; needs --repo or --owner")
	f.StringVar(&g.signerDigest, "signer-digest", "", "the commit of the workflow that signed")
	f.StringVar(&g.hostname, "hostname", "", "GitHub `HOST`: github.com (default) or a TENANT.ghe.com GitHub Enterprise Cloud host")
	f.BoolVar(&g.denySelfHosted, "deny-self-hosted-runners", false, "refuse builds that ran on self-hosted runners")
	// gh's spellings, same variables: a user can swap the command.
	f.StringVar(&o.identity, "cert-identity", "", "alias of --certificate-identity (gh's spelling)")
	f.StringVar(&o.identityRegexp, "cert-identity-regex", "", "alias of --certificate-identity-regexp (gh's spelling)")
	f.StringVar(&o.issuer, "cert-oidc-issuer", "", "alias of --certificate-oidc-issuer (gh's spelling)")
	f.StringArrayVar(&o.trust.trustedRoot, "custom-trusted-root", nil, "alias of --trusted-root (gh's spelling)")
	cmd.MarkFlagsMutuallyExclusive("custom-trusted-root", "trusted-root")
	for alias, name := range map[string]string{"cert-identity": "certificate-identity", "cert-identity-regex": "certificate-identity-regexp",
		"cert-oidc-issuer": "certificate-oidc-issuer"} {
		cmd.MarkFlagsMutuallyExclusive(alias, name)
		cmd.MarkFlagsMutuallyExclusive("key", alias)
	}
	cmd.MarkFlagsMutuallyExclusive("cert-identity", "cert-identity-regex")
	cmd.MarkFlagsMutuallyExclusive("cert-identity", "certificate-identity-regexp")
	cmd.MarkFlagsMutuallyExclusive("certificate-identity", "cert-identity-regex")
	cmd.MarkFlagsMutuallyExclusive("owner", "repo")
	for _, n := range ghFlagNames {
		cmd.MarkFlagsMutuallyExclusive("key", n)
	}
}

// set reports whether any of the flags was given.
func (g *ghPolicyFlags) set() bool {
	return g.owner != "" || g.signerRepo != "" || g.signerDigest != "" || g.hostname != "" || g.denySelfHosted
}

// errSignerAlone is the usage error of --signer-workflow or --signer-repo
// without --repo or --owner: anyone can call a public reusable workflow and
// get a certificate naming it, so it does not say whose build it was.
var errSignerAlone = errors.New("accepts the workflow run for any repository: it needs --repo OWNER/NAME or --owner OWNER")

// githubBase is the GitHub part of the identity: --repo or --owner on
// --hostname. It returns nil when neither is given.
func (o *verifyOptions) githubBase() (*verify.Identity, error) {
	g := &o.gh
	if g.hostname != "" {
		if _, err := github.IssuerFor(g.hostname); err != nil {
			return nil, usageError(fmt.Errorf("--hostname %q is neither github.com nor a TENANT.ghe.com host", g.hostname),
				"GitHub Enterprise Server is not supported; for GitHub Enterprise Cloud with data residency pass --hostname TENANT.ghe.com")
		}
		if o.repo == "" && g.owner == "" {
			return nil, usageError(errors.New("--hostname says where --repo or --owner live, but neither was given"),
				"pass --repo OWNER/NAME or --owner OWNER")
		}
	}
	switch {
	case o.repo != "":
		id, err := github.RepoIdentityOn(o.repo, g.hostname)
		if err != nil {
			return nil, usageError(fmt.Errorf("--repo: %w", err))
		}
		return id, nil
	case g.owner != "":
		id, err := github.OwnerIdentity(g.owner, g.hostname)
		if err != nil {
			return nil, usageError(fmt.Errorf("--owner %q is not a GitHub user or organization name", g.owner))
		}
		return id, nil
	}
	return nil, nil
}

// githubHost is the host URI prefix of --hostname, https://github.com by default.
func (g *ghPolicyFlags) hostURI() string {
	if g.hostname == "" {
		return "https://" + verify.GitHubHost
	}
	return "https://" + strings.ToLower(g.hostname)
}

// signerPolicy applies --signer-workflow WF[@REF-GLOB], --signer-repo,
// --signer-digest and --deny-self-hosted-runners to id. base tells whether
// --repo or --owner pinned whose build it is.
func (o *verifyOptions) signerPolicy(id *verify.Identity, base bool) error {
	g := &o.gh
	if o.signerWorkflow != "" {
		wf, glob, hasGlob := strings.Cut(o.signerWorkflow, "@")
		full := wf
		if !strings.HasPrefix(wf, "https://") {
			full = g.hostURI() + "/" + strings.TrimPrefix(wf, "/")
		}
		uri, err := verify.ParseSignerWorkflow(full)
		if err != nil {
			return usageError(fmt.Errorf("--signer-workflow %q is not of the form OWNER/NAME/.github/workflows/FILE.yml[@REF-GLOB]", o.signerWorkflow),
				"name the workflow file that signed, e.g. --signer-workflow octo/shared/.github/workflows/build.yml@refs/heads/main")
		}
		if hasGlob {
			if _, err := path.Match(glob, ""); err != nil || glob == "" {
				return usageError(fmt.Errorf("--signer-workflow %q: the ref glob %q is not valid", o.signerWorkflow, glob),
					"after @ give a ref or a glob such as refs/tags/v* (* does not cross a slash)")
			}
			id.SignerWorkflowRef = glob
		}
		if !base {
			return usageError(fmt.Errorf("--signer-workflow alone %w", errSignerAlone), "pin the repository whose build you trust with --repo OWNER/NAME")
		}
		id.SignerWorkflow = uri
		id.SANRegexp = regexp.QuoteMeta(uri+"@") + ".*"
	}
	if g.signerRepo != "" {
		owner, name, ok := strings.Cut(g.signerRepo, "/")
		if !ok || owner == "" || name == "" || strings.ContainsAny(name, "/@") {
			return usageError(fmt.Errorf("--signer-repo %q is not of the form OWNER/NAME", g.signerRepo))
		}
		if !base {
			return usageError(fmt.Errorf("--signer-repo alone %w", errSignerAlone), "pin the repository whose build you trust with --repo OWNER/NAME")
		}
		id.SignerRepositoryURI = g.hostURI() + "/" + owner + "/" + name
		if o.signerWorkflow == "" {
			id.SANRegexp = regexp.QuoteMeta(id.SignerRepositoryURI+"/.github/workflows/") + ".*"
		}
	}
	if (o.signerWorkflow != "" || g.signerRepo != "") && o.issuer == "" && o.issuerRegexp == "" {
		id.Issuer, _ = github.IssuerFor(g.hostname)
	}
	id.SignerDigest = g.signerDigest
	if g.denySelfHosted {
		id.RunnerEnvironment = verify.RunnerGitHubHosted
	}
	return nil
}
