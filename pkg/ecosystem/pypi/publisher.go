package pypi

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
	"sync"

	"github.com/hallmark-dev/hallmark/pkg/verify"
)

// The publisher kinds: PyPI's three Trusted Publisher kinds, and Email, a
// personal identity (any Fulcio SAN with its issuer), which PyPI does not
// accept from uploaders but a test or a private index may.
const (
	KindGitHub = "GitHub"
	KindGitLab = "GitLab"
	KindGoogle = "Google"
	KindEmail  = "Email"
)

// The OIDC issuers of the Trusted Publisher kinds.
const (
	GitLabIssuer = "https://gitlab.com"
	GoogleIssuer = "https://accounts.google.com"
)

// ErrPublisher is wrapped by the error of a publisher that cannot be a
// policy (a bad --publisher value, a provenance object's unknown kind).
var ErrPublisher = errors.New("invalid publisher")

// Publisher is who may publish a distribution: the policy its
// attestations' certificates must satisfy, as pypi-attestations' GitHub,
// GitLab and Google publishers define it.
type Publisher struct {
	// Kind is KindGitHub, KindGitLab, KindGoogle or KindEmail.
	Kind string `json:"kind"`
	// Repository is OWNER/NAME (GitHub) or NAMESPACE/PROJECT, with any
	// subgroups (GitLab).
	Repository string `json:"repository,omitempty"`
	// Workflow is the GitHub workflow's file name under .github/workflows
	// (release.yml) or the GitLab CI/CD file's path (.gitlab-ci.yml). Empty
	// accepts any workflow of the repository.
	Workflow string `json:"workflow,omitempty"`
	// Environment is the deployment environment a provenance object
	// names; like pypi-attestations, it is not checked (certificates do
	// not carry it).
	Environment string `json:"environment,omitempty"`
	// Email is the Google service account (KindGoogle) or the personal
	// identity (KindEmail).
	Email string `json:"email,omitempty"`
	// Issuer is the OIDC issuer of a KindEmail identity (required). For
	// the other kinds it replaces their own (GitHubIssuer, GitLabIssuer,
	// GoogleIssuer) when set: a GitHub Enterprise tenant's
	// https://token.actions.TENANT.ghe.com, or a private instance's.
	Issuer string `json:"issuer,omitempty"`
}

// wirePublisher is a provenance object's publisher, as PyPI writes it.
type wirePublisher struct {
	Kind             string  `json:"kind"`
	Repository       string  `json:"repository"`
	Workflow         string  `json:"workflow"`
	WorkflowFilepath string  `json:"workflow_filepath"`
	Environment      *string `json:"environment"`
	Email            string  `json:"email"`
}

func (w *wirePublisher) publisher() (Publisher, error) {
	p := Publisher{Kind: w.Kind, Repository: w.Repository, Email: w.Email}
	if w.Environment != nil {
		p.Environment = *w.Environment
	}
	switch w.Kind {
	case KindGitHub:
		p.Workflow = w.Workflow
	case KindGitLab:
		p.Workflow = w.WorkflowFilepath
	case KindGoogle:
	default:
		return Publisher{}, fmt.Errorf("%w: publisher kind %q is none of GitHub, GitLab, Google", ErrPublisher, w.Kind)
	}
	if err := p.Validate(); err != nil {
		return Publisher{}, err
	}
	return p, nil
}

// The repository patterns compile on first use, not at every hallmark
// start (sync.OnceValue).
var (
	githubRepo = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$`) })
	gitlabRepo = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[A-Za-z0-9_.-]+(?:/[A-Za-z0-9_.-]+)+$`) })
)

// Validate checks that p can be a policy. The error wraps ErrPublisher.
func (p Publisher) Validate() error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: %s", ErrPublisher, fmt.Sprintf(format, args...))
	}
	switch p.Kind {
	case KindGitHub:
		if !githubRepo().MatchString(p.Repository) || strings.Contains(p.Repository, "..") {
			return bad("GitHub repository %q is not OWNER/NAME", p.Repository)
		}
		if p.Workflow != "" && (strings.ContainsAny(p.Workflow, "/@ ") || !(strings.HasSuffix(p.Workflow, ".yml") || strings.HasSuffix(p.Workflow, ".yaml"))) {
			return bad("GitHub workflow %q is not a file name under .github/workflows ending in .yml or .yaml", p.Workflow)
		}
	case KindGitLab:
		if !gitlabRepo().MatchString(p.Repository) || strings.Contains(p.Repository, "..") {
			return bad("GitLab project %q is not NAMESPACE/PROJECT", p.Repository)
		}
		if p.Workflow != "" && (strings.ContainsAny(p.Workflow, "@ ") || strings.HasPrefix(p.Workflow, "/") || strings.Contains(p.Workflow, "//")) {
			return bad("GitLab CI/CD file %q is not a path in the project", p.Workflow)
		}
	case KindGoogle, KindEmail:
		if p.Email == "" || strings.ContainsAny(p.Email, " \t\n") {
			return bad("%s identity %q is not an e-mail address", p.Kind, p.Email)
		}
		if p.Kind == KindEmail && p.Issuer == "" {
			return bad("an e-mail identity needs its OIDC issuer URL")
		}
	default:
		return bad("publisher kind %q is none of GitHub, GitLab, Google, Email", p.Kind)
	}
	if p.Issuer != "" && !strings.HasPrefix(p.Issuer, "https://") && !strings.HasPrefix(p.Issuer, "http://") {
		return bad("OIDC issuer %q is not a URL", p.Issuer)
	}
	return nil
}

// ParsePublisher reads the command line's spelling of a publisher:
//
//	github:OWNER/REPO[/WORKFLOW]              WORKFLOW: release.yml (or .github/workflows/release.yml)
//	gitlab:NAMESPACE/PROJECT[//WORKFLOW-PATH] also gitlab:NAMESPACE/PROJECT/FILE.yml
//	google:SERVICE-ACCOUNT-EMAIL
//	email:ADDRESS                             issuer given apart (Publisher.Issuer)
//
// The error wraps ErrPublisher.
func ParsePublisher(s string) (Publisher, error) {
	kind, rest, ok := strings.Cut(s, ":")
	if !ok || rest == "" {
		return Publisher{}, fmt.Errorf("%w: %q is not KIND:VALUE (github:OWNER/REPO[/WORKFLOW], gitlab:NAMESPACE/PROJECT[//PATH], google:EMAIL)", ErrPublisher, s)
	}
	var p Publisher
	switch strings.ToLower(kind) {
	case "github":
		p.Kind = KindGitHub
		rest = strings.Replace(rest, "/.github/workflows/", "/", 1)
		parts := strings.Split(rest, "/")
		switch len(parts) {
		case 2:
			p.Repository = rest
		case 3:
			p.Repository, p.Workflow = parts[0]+"/"+parts[1], parts[2]
		default:
			return Publisher{}, fmt.Errorf("%w: %q is not github:OWNER/REPO[/WORKFLOW]", ErrPublisher, s)
		}
	case "gitlab":
		p.Kind = KindGitLab
		if repo, path, ok := strings.Cut(rest, "//"); ok {
			p.Repository, p.Workflow = repo, path
			if path == "" {
				return Publisher{}, fmt.Errorf("%w: %q has an empty CI/CD file path after //", ErrPublisher, s)
			}
		} else if i := strings.LastIndex(rest, "/"); i >= 0 && (strings.HasSuffix(rest, ".yml") || strings.HasSuffix(rest, ".yaml")) && strings.Count(rest, "/") >= 2 {
			p.Repository, p.Workflow = rest[:i], rest[i+1:]
		} else {
			p.Repository = rest
		}
	case "google":
		p.Kind, p.Email = KindGoogle, rest
	case "email":
		p.Kind, p.Email = KindEmail, rest
		// Issuer: the caller's (it is required, see Validate).
		return p, nil
	default:
		return Publisher{}, fmt.Errorf("%w: unknown publisher kind %q (want github, gitlab, google or email)", ErrPublisher, kind)
	}
	return p, p.Validate()
}

// String is the command line's spelling of p (ParsePublisher's input).
func (p Publisher) String() string {
	switch p.Kind {
	case KindGitHub:
		if p.Workflow != "" {
			return "github:" + p.Repository + "/" + p.Workflow
		}
		return "github:" + p.Repository
	case KindGitLab:
		if p.Workflow != "" {
			return "gitlab:" + p.Repository + "//" + p.Workflow
		}
		return "gitlab:" + p.Repository
	case KindGoogle:
		return "google:" + p.Email
	case KindEmail:
		return "email:" + p.Email
	}
	return p.Kind
}

// host is the forge of a CI publisher.
func (p Publisher) host() string {
	if p.Kind == KindGitLab {
		return "https://gitlab.com"
	}
	return "https://github.com"
}

// RepositoryURI is the certificate's source repository URI of a CI
// publisher.
func (p Publisher) RepositoryURI() string { return p.host() + "/" + p.Repository }

// workflowPrefix is the Build Config URI up to the workflow's file: the
// workflow path follows.
func (p Publisher) workflowPrefix() string {
	if p.Kind == KindGitLab {
		return p.RepositoryURI() + "//"
	}
	return p.RepositoryURI() + "/.github/workflows/"
}

// IssuerURI is the OIDC issuer the certificate must name.
func (p Publisher) IssuerURI() string {
	if p.Issuer != "" {
		return p.Issuer
	}
	switch p.Kind {
	case KindGitHub:
		return verify.GitHubIssuer
	case KindGitLab:
		return GitLabIssuer
	case KindGoogle:
		return GoogleIssuer
	}
	return p.Issuer
}

// Identity is the part of the policy pkg/verify checks: issuer, source
// repository, and a SAN of the forge (the workflow is checked by Match, on
// the Build Config URI, which pkg/verify does not know).
func (p Publisher) Identity() (*verify.Identity, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	switch p.Kind {
	case KindGitHub, KindGitLab:
		return &verify.Identity{
			SANRegexp:           regexp.QuoteMeta(p.host()+"/") + ".+",
			Issuer:              p.IssuerURI(),
			SourceRepositoryURI: p.RepositoryURI(),
		}, nil
	}
	return &verify.Identity{SAN: p.Email, Issuer: p.IssuerURI()}, nil
}

// PublisherMismatchError is a verified signer that is not the publisher:
// every field asked for, expected against actual.
type PublisherMismatchError struct {
	Publisher   Publisher
	Comparisons []verify.Comparison
	// Claimed is set when the publisher was the provenance object's own
	// (unsigned) claim rather than the policy.
	Claimed bool
}

func (e *PublisherMismatchError) Error() string {
	var b strings.Builder
	who := "publisher"
	if e.Claimed {
		who = "the provenance object's (unsigned) publisher"
	}
	fmt.Fprintf(&b, "the signer is not %s %s", who, e.Publisher)
	for _, c := range e.Comparisons {
		if !c.Match {
			fmt.Fprintf(&b, "; %s: expected %s, got %q", c.Field, c.Expected, c.Actual)
		}
	}
	return b.String()
}

// Match checks a verified signer against the publisher as
// pypi-attestations does. For GitHub and GitLab: the issuer, the source
// repository, and the Build Config URI, which must be the publisher's
// workflow at the certificate's own source ref or commit (the ref is not
// pinned: a Trusted Publisher does not know it); without a Workflow, any
// workflow of the repository at that ref or commit. For Google and Email:
// the SAN and the issuer. It returns nil or a *PublisherMismatchError.
func (p Publisher) Match(s *verify.Signer) error {
	if s == nil || s.Kind != "certificate" {
		return &PublisherMismatchError{Publisher: p, Comparisons: []verify.Comparison{{Field: "signer", Expected: "a Fulcio certificate", Actual: "none"}}}
	}
	var cs []verify.Comparison
	add := func(field, expected, actual string, match bool) {
		cs = append(cs, verify.Comparison{Field: field, Expected: expected, Actual: actual, Match: match})
	}
	add("issuer", fmt.Sprintf("%q", p.IssuerURI()), s.Issuer, s.Issuer == p.IssuerURI())
	switch p.Kind {
	case KindGitHub, KindGitLab:
		var gh verify.GitHubClaims
		if s.GitHub != nil {
			gh = *s.GitHub
		}
		add("source repository", fmt.Sprintf("%q", p.RepositoryURI()), gh.SourceRepository, gh.SourceRepository == p.RepositoryURI())
		expected, ok := p.matchConfig(gh)
		add("build config", expected, gh.ConfigWorkflow, ok)
	default:
		add("identity (SAN)", fmt.Sprintf("%q", p.Email), s.SAN, s.SAN == p.Email)
	}
	for _, c := range cs {
		if !c.Match {
			return &PublisherMismatchError{Publisher: p, Comparisons: cs}
		}
	}
	return nil
}

// matchConfig checks the Build Config URI: WORKFLOW-PREFIX + workflow +
// "@" + the source commit or the source ref.
func (p Publisher) matchConfig(gh verify.GitHubClaims) (expected string, ok bool) {
	var suffixes []string
	for _, s := range []string{gh.SourceDigest, gh.SourceRef} {
		if s != "" {
			suffixes = append(suffixes, s)
		}
	}
	prefix := p.workflowPrefix()
	if p.Workflow != "" {
		expected = fmt.Sprintf("%q at the source ref or commit", prefix+p.Workflow)
	} else {
		expected = fmt.Sprintf("a workflow under %q at the source ref or commit", prefix)
	}
	if len(suffixes) == 0 {
		return expected + " (the certificate has neither)", false
	}
	for _, sfx := range suffixes {
		wf, ok := strings.CutSuffix(gh.ConfigWorkflow, "@"+sfx)
		if !ok {
			continue
		}
		if p.Workflow != "" && wf == prefix+p.Workflow {
			return expected, true
		}
		if rest, ok := strings.CutPrefix(wf, prefix); p.Workflow == "" && ok && rest != "" && (p.Kind == KindGitLab || !strings.Contains(rest, "/")) {
			return expected, true
		}
	}
	return expected, false
}

// Workflow of a verified signer: the Build Config URI's workflow under the
// repository (release.yml for GitHub, a path for GitLab), "" when the
// certificate names none of the publisher's repository.
func (p Publisher) workflowOf(gh *verify.GitHubClaims) string {
	if gh == nil {
		return ""
	}
	wf := gh.ConfigWorkflow
	if at := strings.LastIndex(wf, "@"); at >= 0 {
		wf = wf[:at]
	}
	rest, _ := strings.CutPrefix(wf, p.workflowPrefix())
	if rest == wf {
		return ""
	}
	return rest
}

// FromSigner is the publisher a certificate shows, for a hint: GitHub or
// GitLab when it carries their CI claims, Google for accounts.google.com,
// else Email. It is what was found, not what to trust.
func FromSigner(s *verify.Signer) (Publisher, bool) {
	if s == nil || s.Kind != "certificate" {
		return Publisher{}, false
	}
	if gh := s.GitHub; gh != nil && gh.SourceRepository != "" {
		for _, p := range []Publisher{{Kind: KindGitHub}, {Kind: KindGitLab}} {
			repo, ok := strings.CutPrefix(gh.SourceRepository, p.host()+"/")
			if !ok {
				continue
			}
			if s.Issuer != p.IssuerURI() {
				p.Issuer = s.Issuer
			}
			p.Repository = repo
			p.Workflow = p.workflowOf(gh)
			return p, p.Validate() == nil
		}
	}
	if s.Issuer == GoogleIssuer {
		return Publisher{Kind: KindGoogle, Email: s.SAN}, true
	}
	p := Publisher{Kind: KindEmail, Email: s.SAN, Issuer: s.Issuer}
	return p, p.Validate() == nil
}
