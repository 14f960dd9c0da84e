package attest

import (
	"errors"
	"fmt"
	"strings"

	provenancev1 "github.com/in-toto/attestation/go/predicates/provenance/v1"
	intotov1 "github.com/in-toto/attestation/go/v1"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/types/known/structpb"
)

// Build types of the provenance Provenance makes.
const (
	// BuildTypeGitHub is actions/attest-build-provenance's build type: a
	// GitHub Actions workflow run.
	BuildTypeGitHub = "https://actions.github.io/buildtypes/workflow/v1"
	// BuildTypeGitLabPrefix starts the GitLab runner's build type, which
	// ends in the runner version: .../-/blob/v17.0.0/PROVENANCE.md.
	BuildTypeGitLabPrefix = "https://gitlab.com/gitlab-org/gitlab-runner/-/blob/"
	// BuildTypeLocal is hallmark's build type for a build that no CI
	// system ran: only the signer vouches for it.
	BuildTypeLocal = "https://github.com/hallmark-dev/hallmark/buildtypes/local/v1"
	// BuilderLocal is the builder id of a local build.
	BuilderLocal = "https://github.com/hallmark-dev/hallmark/builders/local"
)

// The CI systems Provenance knows.
const (
	CIGitHubActions = "github-actions"
	CIGitLab        = "gitlab-ci"
	CINone          = "local"
)

// ErrProvenance: the CI environment lacks what the provenance must say.
var ErrProvenance = errors.New("cannot make the build provenance")

// ProvenanceOptions say where the provenance's facts come from.
type ProvenanceOptions struct {
	// Env is the environment, as os.Environ().
	Env []string
	// Claims are the signer's OIDC identity token claims, when signing
	// keyless. On GitHub Actions, actions/attest-build-provenance takes the
	// workflow's facts from the token's claims rather than from variables a
	// step can change; so does Provenance when a token from GitHub's
	// issuer is given, so that the provenance agrees with the Fulcio
	// certificate.
	Claims map[string]any
}

// GitHubIssuer is the OIDC issuer of GitHub Actions tokens.
const GitHubIssuer = "https://token.actions.githubusercontent.com"

// DetectCI says which CI system env describes: CIGitHubActions, CIGitLab
// or CINone.
func DetectCI(env []string) string {
	e := envMap(env)
	switch {
	case e["GITHUB_ACTIONS"] == "true":
		return CIGitHubActions
	case e["GITLAB_CI"] == "true":
		return CIGitLab
	}
	return CINone
}

// Provenance makes a SLSA v1 provenance predicate for the current build:
// on GitHub Actions exactly the shape actions/attest-build-provenance
// makes (@actions/attest's buildSLSAProvenancePredicate: the workflow's ref
// is the part of workflow_ref after "@", the builder id is
// SERVER/job_workflow_ref), on GitLab CI the shape of the GitLab runner's provenance, and
// elsewhere BuildTypeLocal, which says that no CI system made it.
func Provenance(o ProvenanceOptions) (*structpb.Struct, error) {
	var p *provenancev1.Provenance
	var err error
	switch DetectCI(o.Env) {
	case CIGitHubActions:
		p, err = githubProvenance(o)
	case CIGitLab:
		p, err = gitlabProvenance(envMap(o.Env))
	default:
		p, err = localProvenance()
	}
	if err != nil {
		return nil, err
	}
	if err := p.Validate(); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrProvenance, err)
	}
	data, err := protojson.Marshal(p)
	if err != nil {
		return nil, err
	}
	st := &structpb.Struct{}
	if err := protojson.Unmarshal(data, st); err != nil {
		return nil, err
	}
	return st, nil
}

func envMap(env []string) map[string]string {
	m := make(map[string]string, len(env))
	for _, kv := range env {
		if k, v, ok := strings.Cut(kv, "="); ok {
			m[k] = v
		}
	}
	return m
}

// facts reads named values from the token's claims (when from issuer)
// or else the environment, and names the first one missing.
type facts struct {
	env    map[string]string
	claims map[string]any
	miss   []string
}

func (f *facts) get(claim, envName string) string {
	if f.claims != nil && claim != "" {
		if v, ok := f.claims[claim]; ok {
			if s := fmt.Sprint(v); s != "" {
				return s
			}
		}
	}
	v := f.env[envName]
	if v == "" {
		f.miss = append(f.miss, envName)
	}
	return v
}

func (f *facts) err(ci string) error {
	if len(f.miss) == 0 {
		return nil
	}
	return fmt.Errorf("%w: %s is running, but %s not set", ErrProvenance, ci, plural(f.miss))
}

func plural(names []string) string {
	if len(names) == 1 {
		return names[0] + " is"
	}
	return strings.Join(names, ", ") + " are"
}

// structs converts maps to structpb values, keeping the first error.
type structs struct{ err error }

func (c *structs) of(m map[string]any) *structpb.Struct {
	s, err := structpb.NewStruct(m)
	if err != nil && c.err == nil {
		c.err = err
	}
	return s
}

func githubProvenance(o ProvenanceOptions) (*provenancev1.Provenance, error) {
	f := &facts{env: envMap(o.Env)}
	if iss, _ := o.Claims["iss"].(string); iss == GitHubIssuer {
		f.claims = o.Claims
	}
	server := f.env["GITHUB_SERVER_URL"]
	if server == "" {
		server = "https://github.com"
	}
	repo := f.get("repository", "GITHUB_REPOSITORY")
	ref := f.get("ref", "GITHUB_REF")
	workflowRef := f.get("workflow_ref", "GITHUB_WORKFLOW_REF")
	// The builder is the workflow file whose job runs (a reusable
	// workflow's, when one is called). Only the token says which: no
	// variable does, so without one it is the top-level workflow.
	jobWorkflowRef := workflowRef
	if v, ok := f.claims["job_workflow_ref"].(string); ok && v != "" {
		jobWorkflowRef = v
	}
	event := f.get("event_name", "GITHUB_EVENT_NAME")
	repoID := f.get("repository_id", "GITHUB_REPOSITORY_ID")
	ownerID := f.get("repository_owner_id", "GITHUB_REPOSITORY_OWNER_ID")
	runner := f.get("runner_environment", "RUNNER_ENVIRONMENT")
	sha := f.get("sha", "GITHUB_SHA")
	runID := f.get("run_id", "GITHUB_RUN_ID")
	attempt := f.get("run_attempt", "GITHUB_RUN_ATTEMPT")
	if err := f.err("GitHub Actions"); err != nil {
		return nil, err
	}
	// owner/repo/.github/workflows/release.yml@refs/tags/v1 ->
	// .github/workflows/release.yml and refs/tags/v1 (a tag may hold "@").
	path, workflowAt, _ := strings.Cut(strings.TrimPrefix(workflowRef, repo+"/"), "@")
	var c structs
	p := &provenancev1.Provenance{
		BuildDefinition: &provenancev1.BuildDefinition{
			BuildType: BuildTypeGitHub,
			ExternalParameters: c.of(map[string]any{
				"workflow": map[string]any{"ref": workflowAt, "repository": server + "/" + repo, "path": path},
			}),
			InternalParameters: c.of(map[string]any{
				"github": map[string]any{
					"event_name": event, "repository_id": repoID,
					"repository_owner_id": ownerID, "runner_environment": runner,
				},
			}),
			ResolvedDependencies: []*intotov1.ResourceDescriptor{{
				Uri:    "git+" + server + "/" + repo + "@" + ref,
				Digest: map[string]string{"gitCommit": sha},
			}},
		},
		RunDetails: &provenancev1.RunDetails{
			Builder: &provenancev1.Builder{Id: server + "/" + jobWorkflowRef},
			Metadata: &provenancev1.BuildMetadata{
				InvocationId: fmt.Sprintf("%s/%s/actions/runs/%s/attempts/%s", server, repo, runID, attempt),
			},
		},
	}
	return p, c.err
}

// gitlabVariables are the GitLab CI variables recorded in
// externalParameters.variables: they describe the run, and none is a
// secret. (The GitLab runner records every variable, masking the masked
// ones; hallmark cannot know which are, so it records only these.)
var gitlabVariables = []string{
	"CI_COMMIT_BRANCH", "CI_COMMIT_REF_NAME", "CI_COMMIT_SHA", "CI_COMMIT_TAG",
	"CI_CONFIG_PATH", "CI_JOB_ID", "CI_JOB_NAME", "CI_JOB_STAGE", "CI_JOB_URL",
	"CI_PIPELINE_ID", "CI_PIPELINE_SOURCE", "CI_PIPELINE_URL", "CI_PROJECT_ID",
	"CI_PROJECT_PATH", "CI_PROJECT_URL", "CI_RUNNER_ID", "CI_RUNNER_VERSION",
	"CI_SERVER_URL",
}

// gitlabProvenance follows the GitLab runner's SLSA v1 provenance
// (docs.gitlab.com/ci/pipeline_security/slsa/provenance_v1): buildType
// .../gitlab-runner/-/blob/vVERSION/PROVENANCE.md, externalParameters
// {source, entryPoint, variables}, internalParameters {name, architecture,
// job}, builder PROJECT/-/runners/ID with the runner version. Two
// deliberate differences: the commit is recorded as gitCommit (the runner
// labels the SHA-1 commit "sha256", which the in-toto digest checks
// reject), and variables are only the non-secret ones in gitlabVariables.
func gitlabProvenance(env map[string]string) (*provenancev1.Provenance, error) {
	f := &facts{env: env}
	project := f.get("", "CI_PROJECT_URL")
	job := f.get("", "CI_JOB_NAME")
	jobID := f.get("", "CI_JOB_ID")
	sha := f.get("", "CI_COMMIT_SHA")
	ref := f.get("", "CI_COMMIT_REF_NAME")
	runnerID := f.get("", "CI_RUNNER_ID")
	version := f.get("", "CI_RUNNER_VERSION")
	if err := f.err("GitLab CI"); err != nil {
		return nil, err
	}
	vars := map[string]any{}
	for _, k := range gitlabVariables {
		if v, ok := env[k]; ok {
			vars[k] = v
		}
	}
	internal := map[string]any{"job": jobID}
	for k, name := range map[string]string{"name": "CI_RUNNER_DESCRIPTION", "architecture": "CI_RUNNER_EXECUTABLE_ARCH"} {
		if v := env[name]; v != "" {
			internal[k] = v
		}
	}
	invocation := env["CI_JOB_URL"]
	if invocation == "" {
		invocation = project + "/-/jobs/" + jobID
	}
	var c structs
	p := &provenancev1.Provenance{
		BuildDefinition: &provenancev1.BuildDefinition{
			BuildType:          BuildTypeGitLabPrefix + "v" + strings.TrimPrefix(version, "v") + "/PROVENANCE.md",
			ExternalParameters: c.of(map[string]any{"source": project, "entryPoint": job, "variables": vars}),
			InternalParameters: c.of(internal),
			ResolvedDependencies: []*intotov1.ResourceDescriptor{{
				Uri:    "git+" + project + "@" + ref,
				Digest: map[string]string{"gitCommit": sha},
			}},
		},
		RunDetails: &provenancev1.RunDetails{
			Builder: &provenancev1.Builder{
				Id:      project + "/-/runners/" + runnerID,
				Version: map[string]string{"gitlab-runner": version},
			},
			Metadata: &provenancev1.BuildMetadata{InvocationId: invocation},
		},
	}
	return p, c.err
}

// localNote is what a local provenance says of itself.
const localNote = "not made by a CI system: hallmark ran outside GitHub Actions and GitLab CI, so nothing but the signer vouches for how this was built"

func localProvenance() (*provenancev1.Provenance, error) {
	var c structs
	p := &provenancev1.Provenance{
		BuildDefinition: &provenancev1.BuildDefinition{
			BuildType:          BuildTypeLocal,
			ExternalParameters: c.of(map[string]any{"ci": CINone, "note": localNote}),
		},
		RunDetails: &provenancev1.RunDetails{Builder: &provenancev1.Builder{Id: BuilderLocal}},
	}
	return p, c.err
}
