package verify

import (
	"strings"

	"github.com/sigstore/sigstore-go/pkg/fulcio/certificate"
)

// legacyGitHubClaims fills the GitHub Actions claims of a certificate that
// Fulcio issued before it wrote the CI extensions (1.3.6.1.4.1.57264.1.9 and
// later, from October 2023) from the legacy GitHub extensions it carries
// instead (1.3.6.1.4.1.57264.1.2 to .6, which sigstore-go parses into the
// deprecated Github* fields): the repository (.5) as the source repository
// and its owner, the ref (.6), the commit (.3), the trigger (.2), and the
// SAN, which for GitHub Actions is the job's workflow (job_workflow_ref), as
// the build signer. It fills only claims the certificate lacks, only for
// github.com's issuer, and reports whether it filled any: the identity
// policy and the Result then read old and new certificates alike.
func legacyGitHubClaims(s *certificate.Summary) bool {
	if s == nil || s.Issuer != GitHubIssuer || s.SourceRepositoryURI != "" || s.BuildSignerURI != "" {
		return false
	}
	owner, name, ok := strings.Cut(s.GithubWorkflowRepository, "/")
	if !ok || owner == "" || name == "" || strings.ContainsAny(name, "/@ ") || strings.ContainsAny(owner, "@ ") {
		return false
	}
	repo := "https://" + GitHubHost + "/" + owner + "/" + name
	s.SourceRepositoryURI = repo
	s.SourceRepositoryOwnerURI = "https://" + GitHubHost + "/" + owner
	if s.SourceRepositoryRef == "" {
		s.SourceRepositoryRef = s.GithubWorkflowRef
	}
	if s.SourceRepositoryDigest == "" {
		s.SourceRepositoryDigest = s.GithubWorkflowSHA
	}
	if s.BuildTrigger == "" {
		s.BuildTrigger = s.GithubWorkflowTrigger
	}
	// The SAN of a GitHub Actions certificate is the workflow whose job ran
	// (job_workflow_ref), which the build signer URI records in newer ones.
	if strings.HasPrefix(s.SubjectAlternativeName, "https://"+GitHubHost+"/") &&
		strings.Contains(s.SubjectAlternativeName, "/.github/workflows/") && strings.Contains(s.SubjectAlternativeName, "@") {
		s.BuildSignerURI = s.SubjectAlternativeName
	}
	return true
}

// markLegacy records on s that its GitHub claims came from the legacy
// extensions.
func markLegacy(s *Signer, legacy bool) {
	if legacy && s != nil && s.GitHub != nil {
		s.GitHub.LegacyExtensions = true
	}
}
