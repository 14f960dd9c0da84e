package attest

import (
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestLooksSecret(t *testing.T) {
	for name, want := range map[string]bool{
		"GITHUB_TOKEN": true, "AWS_SECRET_ACCESS_KEY": true, "AWS_ACCESS_KEY_ID": true,
		"NPM_AUTH": true, "npm_config__auth": true, "DB_PASSWORD": true, "PGPASSWORD": true,
		"GOOGLE_APPLICATION_CREDENTIALS": true, "ACTIONS_ID_TOKEN_REQUEST_URL": true,
		"ACTIONS_RUNTIME_TOKEN": true, "CI_JOB_TOKEN": true, "CI_JOB_JWT_V2": true,
		"BUILDKITE_AGENT_ACCESS_TOKEN": true, "CIRCLE_OIDC_TOKEN": true, "SIGSTORE_ID_TOKEN": true,
		"COSIGN_PRIVATE_KEY": true, "GPG_PASSPHRASE": true, "SENTRY_DSN": true, "api_key": true,
		"GITHUB_SHA": false, "GITHUB_REPOSITORY": false, "CI_COMMIT_SHA": false, "PATH": false,
		"HOME": false, "BUILDKITE_COMMIT": false, "CIRCLE_SHA1": false, "GITHUB_WORKFLOW_REF": false,
	} {
		if got := LooksSecret(name); got != want {
			t.Errorf("LooksSecret(%q) = %v, want %v", name, got, want)
		}
	}
	for _, name := range ciVariables {
		if LooksSecret(name) {
			t.Errorf("the CI variable %s looks secret: it would never be recorded", name)
		}
	}
}

func TestRecordedVariables(t *testing.T) {
	for _, tc := range []struct {
		name       string
		env, extra []string
		want       map[string]string
	}{
		{"github", []string{"GITHUB_ACTIONS=true", "GITHUB_RUN_ID=42", "GITHUB_TOKEN=ghs_abcdefgh", "ACTIONS_RUNTIME_TOKEN=xyzxyzxyz", "HOME=/home/runner"}, nil,
			map[string]string{"GITHUB_ACTIONS": "true", "GITHUB_RUN_ID": "42"}},
		{"gitlab", []string{"GITLAB_CI=true", "CI_PIPELINE_ID=7", "CI_JOB_TOKEN=glcbt-xyz123", "CI_SERVER_URL=https://u:p@gitlab.example"}, nil,
			map[string]string{"GITLAB_CI": "true", "CI_PIPELINE_ID": "7", "CI_SERVER_URL": "https://gitlab.example"}},
		{"buildkite", []string{"BUILDKITE=true", "BUILDKITE_BUILD_NUMBER=9", "BUILDKITE_AGENT_ACCESS_TOKEN=bkat_123456"}, nil,
			map[string]string{"BUILDKITE": "true", "BUILDKITE_BUILD_NUMBER": "9"}},
		{"circleci", []string{"CIRCLECI=true", "CIRCLE_BUILD_NUM=3", "CIRCLE_OIDC_TOKEN=eyJhbGciOi"}, nil,
			map[string]string{"CIRCLECI": "true", "CIRCLE_BUILD_NUM": "3"}},
		{"asked for", []string{"GOFLAGS=-mod=mod", "MY_TOKEN=abcdefgh", "OTHER=x"}, []string{"GOFLAGS", "MY_TOKEN", "ABSENT"},
			map[string]string{"GOFLAGS": "-mod=mod"}},
		{"secret inside", []string{"MY_TOKEN=s3cr3t-value", "GOFLAGS=-x=s3cr3t-value", "EMPTY_TOKEN=", "SHORT_KEY=ab"}, []string{"GOFLAGS"},
			map[string]string{"GOFLAGS": "-x=[redacted]"}},
		{"not UTF-8", []string{"CI=tr\xffue"}, nil, map[string]string{"CI": "tr\uFFFDue"}},
		{"malformed", []string{"=x", "NOEQUALS", "CI=true"}, nil, map[string]string{"CI": "true"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := recordedVariables(tc.env, tc.extra, secretValues(tc.env)); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
}

// gitFiles writes a repository's metadata by hand, as git lays it out.
func gitFiles(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

const (
	commitA = "1111111111111111111111111111111111111111"
	commitB = "2222222222222222222222222222222222222222"
)

func TestReadGit(t *testing.T) {
	config := "[core]\n\tbare = false\n[remote \"upstream\"]\n\turl = https://example.com/up.git\n[remote \"origin\"]\n\turl = https://user:ghp_secret@github.com/octo/app.git\n\tfetch = +refs/heads/*:refs/remotes/origin/*\n"
	for _, tc := range []struct {
		name  string
		files map[string]string
		sub   string // the step's directory under the tree
		want  *gitState
	}{
		{"loose ref", map[string]string{".git/HEAD": "ref: refs/heads/main\n", ".git/refs/heads/main": commitA + "\n", ".git/config": config},
			"", &gitState{Commit: commitA, Branch: "main", Remote: "https://github.com/octo/app.git"}},
		{"packed ref, from a subdirectory", map[string]string{".git/HEAD": "ref: refs/heads/feature/x\n", ".git/packed-refs": "# pack-refs with: peeled fully-peeled sorted\n" + commitB + " refs/heads/feature/x\n^" + commitA + "\n", "src/a.go": ""},
			"src", &gitState{Commit: commitB, Branch: "feature/x"}},
		{"detached", map[string]string{".git/HEAD": commitA + "\n", ".git/config": "[remote \"upstream\"]\n\turl = git@example.com:up.git\n"},
			"", &gitState{Commit: commitA, Remote: "git@example.com:up.git"}},
		{"unborn branch", map[string]string{".git/HEAD": "ref: refs/heads/main\n"}, "", &gitState{Branch: "main"}},
		{"linked worktree", map[string]string{
			"repo/.git/HEAD": "ref: refs/heads/main\n", "repo/.git/packed-refs": commitA + " refs/heads/main\n" + commitB + " refs/heads/wt\n",
			"repo/.git/config": config, "repo/.git/worktrees/wt/HEAD": "ref: refs/heads/wt\n", "repo/.git/worktrees/wt/commondir": "../..\n",
			"wt/.git": "gitdir: ../repo/.git/worktrees/wt\n"},
			"wt", &gitState{Commit: commitB, Branch: "wt", Remote: "https://github.com/octo/app.git"}},
		{"ref leading outside", map[string]string{".git/HEAD": "ref: refs/../../../etc/passwd\n"}, "", nil},
		{"garbage HEAD", map[string]string{".git/HEAD": "hello\n"}, "", nil},
		{"not a repository", map[string]string{"a.txt": ""}, "", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			root := t.TempDir()
			gitFiles(t, root, tc.files)
			got := readGit(filepath.Join(root, tc.sub))
			if g, _ := findGitDir(filepath.Dir(root)); tc.name == "not a repository" && g != "" {
				t.Skipf("the temporary directory is inside the git working tree of %s", g)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("readGit = %+v, want %+v", got, tc.want)
			}
		})
	}
}

// Against the real git, when there is one: a repository and a linked
// worktree read as git itself says.
func TestReadGitMatchesGit(t *testing.T) {
	gitBin, err := exec.LookPath("git")
	if err != nil {
		t.Skip("no git here; TestReadGit covers the layout")
	}
	root := t.TempDir()
	run := func(dir string, args ...string) string {
		t.Helper()
		cmd := exec.Command(gitBin, args...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "GIT_CONFIG_GLOBAL=/dev/null", "GIT_CONFIG_SYSTEM=/dev/null",
			"GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@example.com", "GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@example.com")
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
		return strings.TrimSpace(string(out))
	}
	repo := filepath.Join(root, "repo")
	run(root, "init", "-q", "-b", "trunk", repo)
	run(repo, "remote", "add", "origin", "https://example.com/octo/app.git")
	run(repo, "commit", "-q", "--allow-empty", "-m", "one")
	run(repo, "pack-refs", "--all")
	run(repo, "commit", "-q", "--allow-empty", "-m", "two")
	want := &gitState{Commit: run(repo, "rev-parse", "HEAD"), Branch: "trunk", Remote: "https://example.com/octo/app.git"}
	if got := readGit(repo); !reflect.DeepEqual(got, want) {
		t.Errorf("repository: %+v, want %+v", got, want)
	}
	wt := filepath.Join(root, "wt")
	run(repo, "worktree", "add", "-q", "-b", "side", wt)
	run(wt, "commit", "-q", "--allow-empty", "-m", "three")
	want = &gitState{Commit: run(wt, "rev-parse", "HEAD"), Branch: "side", Remote: "https://example.com/octo/app.git"}
	if got := readGit(wt); !reflect.DeepEqual(got, want) {
		t.Errorf("worktree: %+v, want %+v", got, want)
	}
}

// RunStep records the working tree's git state in the link's environment.
func TestRunStepRecordsGit(t *testing.T) {
	root := runnerTree(t, map[string]string{"in.txt": "in"})
	gitFiles(t, root, map[string]string{".git/HEAD": "ref: refs/heads/main\n", ".git/refs/heads/main": commitA + "\n",
		".git/config": "[remote \"origin\"]\n\turl = https://x-access-token:ghs_abcdef123@github.com/octo/app.git\n"})
	res, err := RunStep(t.Context(), StepOptions{
		Name: "g", Materials: []string{"in.txt"}, Command: []string{"true"}, Dir: root,
		Env: []string{"PATH=" + os.Getenv("PATH")},
	})
	if err != nil {
		t.Fatal(err)
	}
	g := stepLink(t, res.Statement).GetEnvironment().GetFields()[LinkEnvGit].GetStructValue().AsMap()
	want := map[string]any{"commit": commitA, "branch": "main", "remote": "https://github.com/octo/app.git"}
	if !reflect.DeepEqual(g, want) {
		t.Errorf("git %v, want %v", g, want)
	}
}

// A variable whose value is not UTF-8 does not stop the step from being
// recorded (JSON holds only UTF-8).
func TestRunStepNotUTF8Environment(t *testing.T) {
	root := runnerTree(t, map[string]string{"in.txt": "in"})
	res, err := RunStep(t.Context(), StepOptions{
		Name: "u", Materials: []string{"in.txt"}, Products: []string{"in.txt"}, Command: []string{"true"}, Dir: root,
		Env: []string{"PATH=" + os.Getenv("PATH"), "GITHUB_REF=refs/heads/\xff"},
	})
	if err != nil {
		t.Fatal(err)
	}
	vars := stepLink(t, res.Statement).GetEnvironment().GetFields()[LinkEnvVariables].GetStructValue().GetFields()
	if got := vars["GITHUB_REF"].GetStringValue(); got != "refs/heads/\uFFFD" {
		t.Errorf("GITHUB_REF = %q", got)
	}
}
