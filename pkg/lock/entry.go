package lock

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
	"sync"

	"github.com/hallmark-dev/hallmark/pkg/ecosystem/pypi"
	"github.com/hallmark-dev/hallmark/pkg/verify"
)

// The signer kinds of an entry.
const (
	// SignerGitHub: a GitHub Actions workflow (github.com or a GHE.com
	// tenant).
	SignerGitHub = "github"
	// SignerGitLab: a GitLab CI/CD pipeline.
	SignerGitLab = "gitlab"
	// SignerIdentity: any other keyless identity (a Google service
	// account, an e-mail address), pinned by SAN and issuer.
	SignerIdentity = "identity"
)

// Entry is what the lock remembers of one package: who signed its
// provenance. Repository and the workflows are URIs or paths as the
// certificate shows them; Ref is a ref pattern (see RefPattern).
type Entry struct {
	// Ecosystem is the package's ecosystem: pypi, npm, homebrew, github.
	Ecosystem string `toml:"ecosystem" json:"ecosystem"`
	// Name is the package (pypi: canonical, PEP 503), formula or artifact
	// name.
	Name string `toml:"name" json:"name"`
	// Signer is SignerGitHub, SignerGitLab or SignerIdentity.
	Signer string `toml:"signer" json:"signer"`
	// Issuer is the certificate's OIDC issuer.
	Issuer string `toml:"issuer" json:"issuer"`
	// Identity is the SAN of a SignerIdentity entry.
	Identity string `toml:"identity,omitempty" json:"identity,omitempty"`
	// Repository is the source repository URI of a CI signer.
	Repository string `toml:"repository,omitempty" json:"repository,omitempty"`
	// Workflow is the workflow that ran (the Build Config URI, without
	// its @ref), relative to Repository when under it:
	// .github/workflows/release.yml, or a GitLab CI/CD file's path.
	Workflow string `toml:"workflow,omitempty" json:"workflow,omitempty"`
	// SignerWorkflow is the workflow that signed (the certificate's SAN
	// without @ref) when it is not Workflow: a reusable workflow.
	SignerWorkflow string `toml:"signer_workflow,omitempty" json:"signerWorkflow,omitempty"`
	// Ref is the pattern of the source refs seen: a ref, or a prefix
	// ending in * (refs/tags/*).
	Ref string `toml:"ref,omitempty" json:"ref,omitempty"`

	// seenRef is the source ref Observe saw, for drift reports.
	seenRef string
}

// ErrNotKeyless: a result without a verified certificate identity (a key
// signature, a failure) cannot be locked.
var ErrNotKeyless = errors.New("only a verified keyless signature can be locked")

// RefPattern is the pattern Observe records for a source ref: any tag
// for a tag (releases are tagged anew each time), the ref itself else.
func RefPattern(ref string) string {
	if strings.HasPrefix(ref, "refs/tags/") {
		return "refs/tags/*"
	}
	return ref
}

// RefMatches reports whether ref matches pattern: equal, or for a
// pattern ending in *, starting with what precedes it. An empty pattern
// (none recorded) matches any ref.
func RefMatches(pattern, ref string) bool {
	if pattern == "" {
		return true
	}
	if prefix, ok := strings.CutSuffix(pattern, "*"); ok {
		return strings.HasPrefix(ref, prefix)
	}
	return pattern == ref
}

// Key is the normalised name of a package in an ecosystem: pypi names are
// canonical (PEP 503), the ecosystem lower case.
func Key(ecosystem, name string) (string, string) {
	ecosystem = strings.ToLower(ecosystem)
	if ecosystem == "pypi" {
		name = pypi.CanonicalName(name)
	}
	return ecosystem, name
}

// Observe is the entry a verified result gives the package name of
// ecosystem: GitHub or GitLab claims when the certificate has them (or,
// for certificates with only the legacy GitHub extensions, a SAN that is
// a GitHub workflow URI), else the SAN and issuer.
func Observe(ecosystem, name string, r *verify.Result) (Entry, error) {
	if r == nil || !r.Verified {
		return Entry{}, ErrNotKeyless
	}
	return ObserveSigner(ecosystem, name, r.Signer)
}

// ObserveSigner is Observe of a signer whose signature the caller has
// verified (a result refused for its identity only, say, to show how it
// differs from the lock).
func ObserveSigner(ecosystem, name string, s *verify.Signer) (Entry, error) {
	if s == nil || s.Kind != "certificate" {
		return Entry{}, ErrNotKeyless
	}
	e := Entry{Issuer: s.Issuer}
	e.Ecosystem, e.Name = Key(ecosystem, name)
	gh := s.GitHub
	if gh == nil || gh.SourceRepository == "" {
		if repo, wf, ref, ok := githubWorkflowURI(s.SAN); ok {
			gh = &verify.GitHubClaims{SourceRepository: repo, ConfigWorkflow: wf + "@" + ref, SignerWorkflow: wf + "@" + ref, SourceRef: ref}
		}
	}
	if gh == nil || gh.SourceRepository == "" {
		e.Signer, e.Identity = SignerIdentity, s.SAN
		return e, e.validate()
	}
	e.Signer, e.Repository = SignerGitHub, gh.SourceRepository
	sep := "/"
	if s.Issuer == pypi.GitLabIssuer || strings.HasPrefix(gh.SourceRepository, "https://gitlab.com/") {
		e.Signer, sep = SignerGitLab, "//"
	}
	config := withoutRef(firstNonEmpty(gh.ConfigWorkflow, gh.SignerWorkflow, s.SAN))
	e.Workflow = strings.TrimPrefix(config, e.Repository+sep)
	if signer := withoutRef(firstNonEmpty(gh.SignerWorkflow, s.SAN)); signer != config {
		e.SignerWorkflow = signer
	}
	e.Ref, e.seenRef = RefPattern(gh.SourceRef), gh.SourceRef
	return e, e.validate()
}

func firstNonEmpty(vals ...string) string {
	for _, v := range vals {
		if v != "" {
			return v
		}
	}
	return ""
}

func withoutRef(uri string) string {
	if at := strings.LastIndex(uri, "@"); at >= 0 && strings.HasPrefix(uri, "https://") {
		return uri[:at]
	}
	return uri
}

var workflowURI = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`^(https://github\.com/[^/@]+/[^/@]+)/(\.github/workflows/[^@]+)@(.+)$`)
})

// githubWorkflowURI splits a GitHub workflow SAN.
func githubWorkflowURI(san string) (repo, wf, ref string, ok bool) {
	m := workflowURI().FindStringSubmatch(san)
	if m == nil {
		return "", "", "", false
	}
	return m[1], m[1] + "/" + m[2], m[3], true
}

// fields are an entry's fields as the lock file names them, for drift
// reports and validation.
func (e Entry) fields() [][2]string {
	return [][2]string{
		{"signer", e.Signer}, {"issuer", e.Issuer}, {"identity", e.Identity}, {"repository", e.Repository},
		{"workflow", e.Workflow}, {"signer_workflow", e.SignerWorkflow}, {"ref", e.Ref},
	}
}

// Diff is one field of an entry that changed: the locked value against
// the one seen now.
type Diff struct {
	Field string `json:"field"`
	Old   string `json:"old"`
	New   string `json:"new"`
}

// Compare lists where observed differs from locked, as Check does: every
// field but the ref by equality, the ref by the locked pattern. Empty when
// observed matches.
func Compare(locked, observed Entry) []Diff { return diff(locked, observed) }

// diff lists where observed differs from locked: every field but the ref
// by equality, the ref by the locked pattern.
func diff(locked, observed Entry) []Diff {
	var out []Diff
	lf, of := locked.fields(), observed.fields()
	for i := range lf {
		if lf[i][0] == "ref" {
			if !RefMatches(locked.Ref, observed.Ref) {
				out = append(out, Diff{Field: "ref", Old: locked.Ref, New: firstNonEmpty(observed.seenRef, observed.Ref)})
			}
			continue
		}
		if lf[i][1] != of[i][1] {
			out = append(out, Diff{Field: lf[i][0], Old: lf[i][1], New: of[i][1]})
		}
	}
	return out
}

// IdentityPolicy is the keyless policy an entry stands for, for a verify whose
// only policy is the lock: the issuer, the source repository and a SAN of
// the signing workflow (CI signers), or the SAN (identities). What
// pkg/verify cannot check (the Build Config URI, the ref pattern) the
// lock's Check does on the verified result.
func (e Entry) IdentityPolicy() (*verify.Identity, error) {
	if err := e.validate(); err != nil {
		return nil, err
	}
	if e.Signer == SignerIdentity {
		return &verify.Identity{SAN: e.Identity, Issuer: e.Issuer}, nil
	}
	signer := e.SignerWorkflow
	if signer == "" {
		sep := "/"
		if e.Signer == SignerGitLab {
			sep = "//"
		}
		signer = e.Workflow
		if !strings.HasPrefix(signer, "https://") {
			signer = e.Repository + sep + signer
		}
	}
	return &verify.Identity{SANRegexp: regexp.QuoteMeta(signer+"@") + ".+", Issuer: e.Issuer, SourceRepositoryURI: e.Repository}, nil
}

// String is the entry in one line, for messages.
func (e Entry) String() string {
	var b strings.Builder
	switch e.Signer {
	case SignerIdentity:
		fmt.Fprintf(&b, "identity %q", e.Identity)
	default:
		fmt.Fprintf(&b, "%s repository %q workflow %q", e.Signer, e.Repository, e.Workflow)
		if e.SignerWorkflow != "" {
			fmt.Fprintf(&b, " signer workflow %q", e.SignerWorkflow)
		}
		if e.Ref != "" {
			fmt.Fprintf(&b, " ref %q", e.Ref)
		}
	}
	fmt.Fprintf(&b, " issuer %q", e.Issuer)
	return b.String()
}

var ecosystemName = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[a-z0-9][a-z0-9.-]*$`) })

// validate checks an entry; the error names the field.
func (e Entry) validate() error {
	for _, f := range append([][2]string{{"ecosystem", e.Ecosystem}, {"name", e.Name}}, e.fields()...) {
		for _, r := range f[1] {
			if r < 0x20 || r == 0x7f {
				return &fieldError{f[0], fmt.Sprintf("%s %q holds a control character", f[0], f[1])}
			}
		}
	}
	need := func(field, v string) error {
		if v == "" {
			return &fieldError{field, fmt.Sprintf("a %s entry needs %s", e.Signer, field)}
		}
		return nil
	}
	switch {
	case !ecosystemName().MatchString(e.Ecosystem):
		return &fieldError{"ecosystem", fmt.Sprintf("ecosystem %q is not a lower-case name such as pypi or npm", e.Ecosystem)}
	case e.Name == "":
		return &fieldError{"name", "the package name is empty"}
	case !strings.HasPrefix(e.Issuer, "https://") && !strings.HasPrefix(e.Issuer, "http://"):
		return &fieldError{"issuer", fmt.Sprintf("issuer %q is not a URL", e.Issuer)}
	}
	switch e.Signer {
	case SignerGitHub, SignerGitLab:
		if err := need("repository", e.Repository); err != nil {
			return err
		}
		if !strings.HasPrefix(e.Repository, "https://") {
			return &fieldError{"repository", fmt.Sprintf("repository %q is not an https URL", e.Repository)}
		}
		if err := need("workflow", e.Workflow); err != nil {
			return err
		}
		if e.Identity != "" {
			return &fieldError{"identity", "identity is for signer \"identity\" entries"}
		}
	case SignerIdentity:
		if err := need("identity", e.Identity); err != nil {
			return err
		}
		if e.Repository != "" || e.Workflow != "" || e.SignerWorkflow != "" {
			return &fieldError{"repository", "an identity entry has no repository or workflows"}
		}
	default:
		return &fieldError{"signer", fmt.Sprintf("signer %q is none of github, gitlab, identity", e.Signer)}
	}
	if strings.Count(e.Ref, "*") > 1 || (strings.Contains(e.Ref, "*") && !strings.HasSuffix(e.Ref, "*")) {
		return &fieldError{"ref", fmt.Sprintf("ref %q: a pattern has one *, at the end", e.Ref)}
	}
	return nil
}

// fieldError is an invalid entry field.
type fieldError struct{ field, msg string }

func (e *fieldError) Error() string { return e.msg }
