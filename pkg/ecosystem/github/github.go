// Package github holds GitHub's policy vocabulary as data on top of
// pkg/verify: the identity policies of gh attestation verify's --repo and
// --owner (on github.com or a GitHub Enterprise Cloud TENANT.ghe.com host),
// the GitHub Actions OIDC issuer of a host, and the policy of GitHub's own
// release attestations.
//
// Each function returns a verify.Identity (and, for releases, a
// verify.StatementRule) to put in a verify.Policy; nothing here verifies.
// Errors about an unusable policy wrap verify.ErrPolicy.
//
// What pkg/verify needs to read a certificate stays there: the GitHub
// Actions claims Fulcio records (verify.GitHubClaims and the Identity fields
// that check them, with the legacy extensions, which name
// verify.GitHubIssuer and verify.GitHubHost), and verify.ParseSignerWorkflow,
// which validates Identity.SignerWorkflow.
package github

import (
	"fmt"
	"regexp"
	"strings"
	"sync"

	"github.com/hallmark-dev/hallmark/pkg/verify"
)

func policyErr(format string, args ...any) error {
	return fmt.Errorf("%w: %s", verify.ErrPolicy, fmt.Sprintf(format, args...))
}

// IssuerFor returns the GitHub Actions OIDC issuer of a GitHub host:
// verify.GitHubIssuer for github.com (or ""), https://token.actions.TENANT.ghe.com
// for a GitHub Enterprise Cloud tenant with data residency (TENANT.ghe.com).
// Any other host is an error wrapping verify.ErrPolicy.
func IssuerFor(host string) (string, error) {
	host = strings.ToLower(host)
	if host == "" || host == verify.GitHubHost {
		return verify.GitHubIssuer, nil
	}
	tenant, ok := strings.CutSuffix(host, ".ghe.com")
	if !ok || tenant == "" || strings.ContainsAny(tenant, "./:@ ") {
		return "", policyErr("host %q is neither github.com nor a TENANT.ghe.com host", host)
	}
	return "https://token.actions." + tenant + ".ghe.com", nil
}

// OwnerIdentity returns the identity policy of gh's --owner OWNER on host
// (empty for github.com): a workflow of one of the owner's repositories
// signed (SAN under https://HOST/OWNER/), the source repository owner claim
// names the owner, and the issuer is the host's GitHub Actions issuer.
func OwnerIdentity(owner, host string) (*verify.Identity, error) {
	if owner == "" || strings.ContainsAny(owner, "/@ ") {
		return nil, policyErr("owner %q is not a GitHub user or organization name", owner)
	}
	iss, err := IssuerFor(host)
	if err != nil {
		return nil, err
	}
	uri := "https://" + hostOrDefault(host) + "/" + owner
	return &verify.Identity{
		SANRegexp:                regexp.QuoteMeta(uri+"/") + ".*",
		Issuer:                   iss,
		SourceRepositoryOwnerURI: uri,
	}, nil
}

// RepoIdentity returns the identity policy of gh's --repo OWNER/NAME: a
// workflow of that repository signed (SAN under
// https://github.com/OWNER/NAME/), the source repository claim names it,
// and the issuer is GitHub Actions.
func RepoIdentity(repo string) (*verify.Identity, error) {
	return RepoIdentityOn(repo, "")
}

// RepoIdentityOn is RepoIdentity on another GitHub host (empty for
// github.com): SAN, source repository and issuer follow the host.
func RepoIdentityOn(repo, host string) (*verify.Identity, error) {
	owner, name, ok := strings.Cut(repo, "/")
	if !ok || owner == "" || name == "" || strings.Contains(name, "/") {
		return nil, fmt.Errorf("repository %q is not of the form OWNER/NAME", repo)
	}
	iss, err := IssuerFor(host)
	if err != nil {
		return nil, err
	}
	uri := "https://" + hostOrDefault(host) + "/" + owner + "/" + name
	return &verify.Identity{
		SANRegexp:           regexp.QuoteMeta(uri+"/") + ".*",
		Issuer:              iss,
		SourceRepositoryURI: uri,
	}, nil
}

func hostOrDefault(host string) string {
	if host == "" {
		return verify.GitHubHost
	}
	return strings.ToLower(host)
}

// ReleaseSigner is the SAN of the certificates GitHub's own Sigstore
// instance issues to itself for release attestations; they carry no OIDC
// issuer extension.
const ReleaseSigner = "https://dotcom.releases.github.com"

// Release attestation predicate types.
const (
	ReleasePredicateV01 = "https://in-toto.io/attestation/release/v0.1"
	ReleasePredicateV02 = "https://in-toto.io/attestation/release/v0.2"
)

var repoPattern = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$`) })

// ReleasePolicy is the policy of GitHub release attestations of repo
// (OWNER/NAME), optionally of one tag: signed by GitHub itself
// (ReleaseSigner, no OIDC issuer), a release predicate naming the
// repository (and tag), and the pkg:github/OWNER/NAME@TAG subject.
func ReleasePolicy(repo, tag string) (*verify.Identity, *verify.StatementRule, error) {
	if !repoPattern().MatchString(repo) {
		return nil, nil, policyErr("repository %q is not OWNER/NAME", repo)
	}
	rule := &verify.StatementRule{
		PredicateTypes:      []string{ReleasePredicateV01, ReleasePredicateV02},
		PredicateRepository: repo,
		PredicateTag:        tag,
		SubjectURIPrefix:    "pkg:github/" + repo + "@" + tag,
		SubjectURIExact:     tag != "",
	}
	return &verify.Identity{SAN: ReleaseSigner, NoIssuer: true}, rule, nil
}
