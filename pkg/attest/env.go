package attest

import (
	"encoding/hex"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	gitconfig "github.com/go-git/go-git/v5/plumbing/format/config"
)

// The environment a step records, in its link's "environment":
//
//	{"git": {"commit": ..., "branch": ..., "remote": ...},
//	 "variables": {"GITHUB_SHA": ..., ...}}
//
// "git" describes the working tree the step ran in (absent outside one);
// "variables" holds the CI variables that describe the run (GitHub
// Actions, GitLab CI, Buildkite, CircleCI) and those named on purpose
// (StepOptions.RecordEnv). A variable whose name looks like a secret is
// never recorded, even when named on purpose; user names and passwords in
// URLs are removed, and any text equal to the value of a secret-looking
// variable is replaced by "[redacted]".

// The keys of a step link's environment.
const (
	LinkEnvGit       = "git"
	LinkEnvVariables = "variables"
)

// secretWords: a variable whose upper-cased name holds one of these is
// taken for a secret.
var secretWords = []string{
	"TOKEN", "KEY", "SECRET", "PASSWORD", "PASSWD", "PASSPHRASE", "PASS",
	"CREDENTIAL", "CRED", "AUTH", "PRIVATE", "COOKIE", "SESSION", "JWT",
	"SIGNATURE", "CERTIFICATE", "DSN", "WEBHOOK",
}

// LooksSecret reports whether an environment variable's name looks like
// that of a secret (TOKEN, KEY, SECRET, PASSWORD, CREDENTIAL, AUTH, ...);
// such a variable is never recorded.
func LooksSecret(name string) bool {
	u := strings.ToUpper(name)
	for _, w := range secretWords {
		if strings.Contains(u, w) {
			return true
		}
	}
	return false
}

// ciVariables are the variables that describe a CI run, by system.
var ciVariables = []string{
	"CI",
	// GitHub Actions
	"GITHUB_ACTIONS", "GITHUB_SERVER_URL", "GITHUB_REPOSITORY", "GITHUB_REPOSITORY_ID",
	"GITHUB_REPOSITORY_OWNER", "GITHUB_REPOSITORY_OWNER_ID", "GITHUB_WORKFLOW", "GITHUB_WORKFLOW_REF",
	"GITHUB_WORKFLOW_SHA", "GITHUB_RUN_ID", "GITHUB_RUN_NUMBER", "GITHUB_RUN_ATTEMPT", "GITHUB_JOB",
	"GITHUB_ACTION", "GITHUB_ACTOR", "GITHUB_ACTOR_ID", "GITHUB_TRIGGERING_ACTOR", "GITHUB_EVENT_NAME",
	"GITHUB_REF", "GITHUB_REF_NAME", "GITHUB_REF_TYPE", "GITHUB_HEAD_REF", "GITHUB_BASE_REF",
	"GITHUB_SHA", "RUNNER_OS", "RUNNER_ARCH", "RUNNER_NAME", "RUNNER_ENVIRONMENT",
	// GitLab CI
	"GITLAB_CI", "CI_SERVER_URL", "CI_PROJECT_ID", "CI_PROJECT_PATH", "CI_PROJECT_URL",
	"CI_PIPELINE_ID", "CI_PIPELINE_IID", "CI_PIPELINE_URL", "CI_PIPELINE_SOURCE", "CI_JOB_ID",
	"CI_JOB_NAME", "CI_JOB_STAGE", "CI_JOB_URL", "CI_COMMIT_SHA", "CI_COMMIT_REF_NAME",
	"CI_COMMIT_BRANCH", "CI_COMMIT_TAG", "CI_CONFIG_PATH", "CI_RUNNER_ID", "CI_RUNNER_DESCRIPTION",
	"CI_DEFAULT_BRANCH", "CI_MERGE_REQUEST_IID",
	// Buildkite
	"BUILDKITE", "BUILDKITE_ORGANIZATION_SLUG", "BUILDKITE_PIPELINE_SLUG", "BUILDKITE_BUILD_ID",
	"BUILDKITE_BUILD_NUMBER", "BUILDKITE_BUILD_URL", "BUILDKITE_JOB_ID", "BUILDKITE_STEP_ID",
	"BUILDKITE_LABEL", "BUILDKITE_COMMIT", "BUILDKITE_BRANCH", "BUILDKITE_TAG", "BUILDKITE_REPO",
	"BUILDKITE_SOURCE", "BUILDKITE_AGENT_NAME", "BUILDKITE_PULL_REQUEST",
	// CircleCI
	"CIRCLECI", "CIRCLE_PROJECT_USERNAME", "CIRCLE_PROJECT_REPONAME", "CIRCLE_REPOSITORY_URL",
	"CIRCLE_BUILD_NUM", "CIRCLE_BUILD_URL", "CIRCLE_JOB", "CIRCLE_WORKFLOW_ID",
	"CIRCLE_WORKFLOW_JOB_ID", "CIRCLE_SHA1", "CIRCLE_BRANCH", "CIRCLE_TAG", "CIRCLE_NODE_INDEX",
	"CIRCLE_PR_NUMBER",
}

// minSecretLen: shorter values of secret-looking variables are not
// searched for in recorded text (they would match everywhere).
const minSecretLen = 6

// recordedVariables returns the variables of env (as os.Environ) a step
// records: the CI ones and those in extra, never one whose name looks
// secret, with credentials removed from their values.
func recordedVariables(env, extra []string, secrets []string) map[string]string {
	values := map[string]string{}
	for _, kv := range env {
		k, v, ok := strings.Cut(kv, "=")
		if ok && k != "" && !LooksSecret(k) {
			values[k] = v
		}
	}
	out := map[string]string{}
	for _, names := range [][]string{ciVariables, extra} {
		for _, k := range names {
			v, ok := values[k]
			if !ok || LooksSecret(k) {
				continue
			}
			out[k] = redact(v, secrets)
		}
	}
	return out
}

// secretValues are the values of env's secret-looking variables, the
// longest first, so that a secret inside another is not left half
// redacted.
func secretValues(env []string) []string {
	var secrets []string
	for _, kv := range env {
		k, v, ok := strings.Cut(kv, "=")
		if ok && LooksSecret(k) && len(v) >= minSecretLen {
			secrets = append(secrets, v)
		}
	}
	sort.Slice(secrets, func(i, j int) bool { return len(secrets[i]) > len(secrets[j]) })
	return secrets
}

// redact removes the user information from URLs in v and replaces the
// secrets found in it, and bytes that are not UTF-8 (JSON holds none).
func redact(v string, secrets []string) string {
	v = stripURLCredentials(strings.ToValidUTF8(v, "\uFFFD"))
	for _, s := range secrets {
		v = strings.ReplaceAll(v, s, "[redacted]")
	}
	return v
}

// stripURLCredentials drops user:password@ from a URL; other text is
// returned as it is.
func stripURLCredentials(v string) string {
	if !strings.Contains(v, "://") {
		return v
	}
	u, err := url.Parse(v)
	if err != nil || u.User == nil {
		return v
	}
	u.User = nil
	return u.String()
}

// gitState is the working tree a step ran in.
type gitState struct {
	Commit, Branch, Remote string
}

// readGit reads the commit, branch and remote of the git working tree
// holding dir from its files (HEAD, refs, packed-refs, config; a linked
// worktree's .git file and commondir included), without running git.
// Outside a working tree, or when it cannot be read (a reftable store,
// say), it returns what it found or nil: a step never fails for want of
// git.
func readGit(dir string) *gitState {
	gitDir, common := findGitDir(dir)
	if gitDir == "" {
		return nil
	}
	var g gitState
	ref, hash := readHead(gitDir)
	if b, ok := strings.CutPrefix(ref, "refs/heads/"); ok {
		g.Branch = b
	}
	if hash == "" && ref != "" {
		hash = resolveRef(gitDir, common, ref, 0)
	}
	g.Commit = hash
	g.Remote = readRemote(common)
	if g == (gitState{}) {
		return nil
	}
	return &g
}

// findGitDir finds the git directory of the working tree holding dir, and
// the common directory a linked worktree shares with its repository.
func findGitDir(dir string) (gitDir, common string) {
	for d := dir; ; {
		p := filepath.Join(d, ".git")
		if fi, err := os.Stat(p); err == nil {
			if fi.IsDir() {
				gitDir = p
			} else if b, err := readSmall(p); err == nil {
				if rest, ok := strings.CutPrefix(strings.TrimSpace(b), "gitdir:"); ok {
					gitDir = strings.TrimSpace(rest)
					if !filepath.IsAbs(gitDir) {
						gitDir = filepath.Join(d, gitDir)
					}
				}
			}
			if gitDir == "" {
				return "", ""
			}
			common = gitDir
			if b, err := readSmall(filepath.Join(gitDir, "commondir")); err == nil {
				c := strings.TrimSpace(b)
				if !filepath.IsAbs(c) {
					c = filepath.Join(gitDir, c)
				}
				common = c
			}
			return gitDir, common
		}
		parent := filepath.Dir(d)
		if parent == d {
			return "", ""
		}
		d = parent
	}
}

// readSmall reads a file of git's metadata, refusing large ones.
func readSmall(p string) (string, error) {
	f, err := os.Open(p)
	if err != nil {
		return "", err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, 1<<20))
	return string(b), err
}

// isHash reports whether s is a SHA-1 or SHA-256 object name.
func isHash(s string) bool {
	if len(s) != 40 && len(s) != 64 {
		return false
	}
	_, err := hex.DecodeString(s)
	return err == nil
}

// validRef reports whether a ref name is safe to read as a file.
func validRef(ref string) bool {
	return strings.HasPrefix(ref, "refs/") && !strings.Contains(ref, "..") && !strings.ContainsAny(ref, "\\\x00")
}

// readHead returns the ref HEAD names, or the commit of a detached HEAD.
func readHead(gitDir string) (ref, hash string) {
	b, err := readSmall(filepath.Join(gitDir, "HEAD"))
	if err != nil {
		return "", ""
	}
	line := strings.TrimSpace(b)
	if r, ok := strings.CutPrefix(line, "ref:"); ok {
		r = strings.TrimSpace(r)
		if validRef(r) {
			return r, ""
		}
		return "", ""
	}
	if isHash(line) {
		return "", line
	}
	return "", ""
}

// resolveRef returns the commit a ref names: a loose ref in the worktree's
// or the common directory, else a line of packed-refs.
func resolveRef(gitDir, common, ref string, depth int) string {
	if depth > 5 || !validRef(ref) {
		return ""
	}
	for _, d := range []string{gitDir, common} {
		b, err := readSmall(filepath.Join(d, filepath.FromSlash(ref)))
		if err != nil {
			continue
		}
		line := strings.TrimSpace(b)
		if r, ok := strings.CutPrefix(line, "ref:"); ok {
			return resolveRef(gitDir, common, strings.TrimSpace(r), depth+1)
		}
		if isHash(line) {
			return line
		}
		return ""
	}
	b, err := readSmall(filepath.Join(common, "packed-refs"))
	if err != nil {
		return ""
	}
	for _, line := range strings.Split(b, "\n") {
		if h, r, ok := strings.Cut(strings.TrimSpace(line), " "); ok && r == ref && isHash(h) {
			return h
		}
	}
	return ""
}

// readRemote returns the URL of the remote "origin", else of the first
// remote by name, without credentials.
func readRemote(common string) string {
	b, err := readSmall(filepath.Join(common, "config"))
	if err != nil {
		return ""
	}
	cfg := gitconfig.New()
	if err := gitconfig.NewDecoder(strings.NewReader(b)).Decode(cfg); err != nil {
		return ""
	}
	subs := cfg.Section("remote").Subsections
	var names []string
	for _, s := range subs {
		if s.Option("url") != "" {
			names = append(names, s.Name)
		}
	}
	if len(names) == 0 {
		return ""
	}
	sort.Strings(names)
	name := names[0]
	if slices.Contains(names, "origin") {
		name = "origin"
	}
	return stripURLCredentials(cfg.Section("remote").Subsection(name).Option("url"))
}

// environment is the link's environment for a step in dir.
func environment(dir string, env, extra []string) map[string]any {
	out := map[string]any{}
	secrets := secretValues(env)
	if g := readGit(dir); g != nil {
		m := map[string]any{}
		for k, v := range map[string]string{"commit": g.Commit, "branch": g.Branch, "remote": redact(g.Remote, secrets)} {
			if v != "" {
				m[k] = v
			}
		}
		out[LinkEnvGit] = m
	}
	vars := map[string]any{}
	for k, v := range recordedVariables(env, extra, secrets) {
		vars[k] = v
	}
	out[LinkEnvVariables] = vars
	return out
}
