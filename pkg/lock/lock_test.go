package lock_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/hallmark-dev/hallmark/pkg/lock"
	"github.com/hallmark-dev/hallmark/pkg/verify"
)

func ghResult(repo, wf, ref string) *verify.Result {
	uri := "https://github.com/" + repo + "/" + wf + "@" + ref
	return &verify.Result{Verified: true, Signer: &verify.Signer{Kind: "certificate", SAN: uri, Issuer: verify.GitHubIssuer,
		GitHub: &verify.GitHubClaims{SourceRepository: "https://github.com/" + repo, SourceRef: ref, ConfigWorkflow: uri, SignerWorkflow: uri}}}
}

func TestObserve(t *testing.T) {
	reusable := ghResult("o/r", ".github/workflows/release.yml", "refs/heads/main")
	reusable.Signer.SAN = "https://github.com/slsa/gen/.github/workflows/builder.yml@refs/tags/v2"
	reusable.Signer.GitHub.SignerWorkflow = reusable.Signer.SAN
	legacy := &verify.Result{Verified: true, Signer: &verify.Signer{Kind: "certificate", Issuer: verify.GitHubIssuer,
		SAN: "https://github.com/o/r/.github/workflows/release.yml@refs/heads/main"}}
	gitlab := &verify.Result{Verified: true, Signer: &verify.Signer{Kind: "certificate", Issuer: "https://gitlab.com",
		SAN: "https://gitlab.com/ns/p//.gitlab-ci.yml@refs/heads/main", GitHub: &verify.GitHubClaims{SourceRepository: "https://gitlab.com/ns/p",
			SourceRef: "refs/heads/main", ConfigWorkflow: "https://gitlab.com/ns/p//.gitlab-ci.yml@refs/heads/main"}}}
	email := &verify.Result{Verified: true, Signer: &verify.Signer{Kind: "certificate", SAN: "sa@p.iam.gserviceaccount.com", Issuer: "https://accounts.google.com"}}
	for _, c := range []struct {
		name string
		r    *verify.Result
		want lock.Entry
	}{
		{"github", ghResult("o/r", ".github/workflows/release.yml", "refs/tags/v1.0"), lock.Entry{Ecosystem: "pypi", Name: "foo-bar", Signer: "github",
			Issuer: verify.GitHubIssuer, Repository: "https://github.com/o/r", Workflow: ".github/workflows/release.yml", Ref: "refs/tags/*"}},
		{"reusable", reusable, lock.Entry{Ecosystem: "pypi", Name: "foo-bar", Signer: "github", Issuer: verify.GitHubIssuer, Repository: "https://github.com/o/r",
			Workflow: ".github/workflows/release.yml", SignerWorkflow: "https://github.com/slsa/gen/.github/workflows/builder.yml", Ref: "refs/heads/main"}},
		{"legacy-extensions", legacy, lock.Entry{Ecosystem: "pypi", Name: "foo-bar", Signer: "github", Issuer: verify.GitHubIssuer, Repository: "https://github.com/o/r",
			Workflow: ".github/workflows/release.yml", Ref: "refs/heads/main"}},
		{"gitlab", gitlab, lock.Entry{Ecosystem: "pypi", Name: "foo-bar", Signer: "gitlab", Issuer: "https://gitlab.com", Repository: "https://gitlab.com/ns/p",
			Workflow: ".gitlab-ci.yml", Ref: "refs/heads/main"}},
		{"identity", email, lock.Entry{Ecosystem: "pypi", Name: "foo-bar", Signer: "identity", Issuer: "https://accounts.google.com", Identity: "sa@p.iam.gserviceaccount.com"}},
	} {
		got, err := lock.Observe("PyPI", "Foo_Bar", c.r)
		if err != nil {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		got2 := got
		if _, err := lock.Encode([]lock.Entry{got2}); err != nil {
			t.Fatal(err)
		}
		if e, _ := lock.Parse("x", mustEncode(t, got)); len(e) != 1 || e[0] != c.want {
			t.Errorf("%s: observed %+v, want %+v", c.name, e, c.want)
		}
	}
	if _, err := lock.Observe("npm", "x", &verify.Result{Verified: true, Signer: &verify.Signer{Kind: "key"}}); !errors.Is(err, lock.ErrNotKeyless) {
		t.Errorf("a key signature: %v", err)
	}
	if _, err := lock.Observe("npm", "x", &verify.Result{Signer: email.Signer}); !errors.Is(err, lock.ErrNotKeyless) {
		t.Errorf("an unverified result: %v", err)
	}
}

func mustEncode(t *testing.T, es ...lock.Entry) []byte {
	t.Helper()
	data, err := lock.Encode(es)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func open(t *testing.T, path string, update bool) *lock.Lock {
	t.Helper()
	l, err := lock.Open(path, lock.Options{Update: update})
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// The first use pins, the next matches, each kind of drift is refused
// with old against new, --update-lock accepts it.
func TestTrustOnFirstUse(t *testing.T) {
	path := filepath.Join(t.TempDir(), "hallmark.lock")
	good := ghResult("o/r", ".github/workflows/release.yml", "refs/tags/v1")

	l := open(t, path, false)
	ch, err := l.CheckResult("pypi", "foo", good)
	if err != nil || ch.Kind != lock.Pinned {
		t.Fatalf("first use: %+v, %v", ch, err)
	}
	if wrote, err := l.Save(); err != nil || !wrote {
		t.Fatalf("save: %v, %v", wrote, err)
	}
	first, _ := os.ReadFile(path)
	if !strings.Contains(string(first), `workflow = ".github/workflows/release.yml"`) || !strings.HasPrefix(string(first), "# hallmark.lock") {
		t.Errorf("lock file:\n%s", first)
	}

	l = open(t, path, false)
	if ch, err := l.CheckResult("pypi", "FOO", ghResult("o/r", ".github/workflows/release.yml", "refs/tags/v2")); err != nil || ch.Kind != lock.Matched {
		t.Fatalf("a later release: %+v, %v", ch, err)
	}
	if wrote, err := l.Save(); err != nil || wrote {
		t.Errorf("nothing changed, but Save wrote (%v, %v)", wrote, err)
	}

	otherIssuer := ghResult("o/r", ".github/workflows/release.yml", "refs/tags/v2")
	otherIssuer.Signer.Issuer = "https://token.actions.octo.ghe.com"
	reusable := ghResult("o/r", ".github/workflows/release.yml", "refs/tags/v2")
	reusable.Signer.GitHub.SignerWorkflow = "https://github.com/x/y/.github/workflows/b.yml@v1"
	for _, c := range []struct {
		name, field, old, new string
		r                     *verify.Result
	}{
		{"repository", "repository", "https://github.com/o/r", "https://github.com/evil/r", ghResult("evil/r", ".github/workflows/release.yml", "refs/tags/v2")},
		{"workflow", "workflow", ".github/workflows/release.yml", ".github/workflows/pr.yml", ghResult("o/r", ".github/workflows/pr.yml", "refs/tags/v2")},
		{"issuer", "issuer", verify.GitHubIssuer, "https://token.actions.octo.ghe.com", otherIssuer},
		{"ref", "ref", "refs/tags/*", "refs/heads/feature", ghResult("o/r", ".github/workflows/release.yml", "refs/heads/feature")},
		{"signer-workflow", "signer_workflow", "", "https://github.com/x/y/.github/workflows/b.yml", reusable},
	} {
		l := open(t, path, false)
		_, err := l.CheckResult("pypi", "foo", c.r)
		var d *lock.DriftError
		if !errors.As(err, &d) || !errors.Is(err, lock.ErrDrift) {
			t.Errorf("%s: want a DriftError, got %v", c.name, err)
			continue
		}
		found := false
		for _, df := range d.Diffs {
			if df.Field == c.field && df.Old == c.old && df.New == c.new {
				found = true
			}
		}
		if !found {
			t.Errorf("%s: diffs %+v do not show %s %q -> %q", c.name, d.Diffs, c.field, c.old, c.new)
		}
		if wrote, err := l.Save(); wrote || err != nil {
			t.Errorf("%s: a refused drift was saved (%v, %v)", c.name, wrote, err)
		}
	}
	// Provenance gone.
	l = open(t, path, false)
	if _, err := l.Missing("pypi", "foo"); !errors.Is(err, lock.ErrDrift) || !strings.Contains(err.Error(), "now has none") {
		t.Errorf("provenance gone: %v", err)
	}
	if ch, err := l.Missing("pypi", "unknown"); ch != nil || err != nil {
		t.Errorf("an unknown package without provenance: %+v, %v", ch, err)
	}
	if after, _ := os.ReadFile(path); string(after) != string(first) {
		t.Errorf("refused drifts changed the file:\n%s", after)
	}

	// --update-lock accepts a change on purpose, then the removal.
	l = open(t, path, true)
	ch, err = l.CheckResult("pypi", "foo", ghResult("o/r", ".github/workflows/pr.yml", "refs/tags/v3"))
	if err != nil || ch.Kind != lock.Updated || ch.Old == nil || ch.Old.Workflow != ".github/workflows/release.yml" {
		t.Fatalf("update: %+v, %v", ch, err)
	}
	if _, err := l.Save(); err != nil {
		t.Fatal(err)
	}
	if e, ok := open(t, path, false).Entry("pypi", "foo"); !ok || e.Workflow != ".github/workflows/pr.yml" {
		t.Errorf("after the update: %+v", e)
	}
	l = open(t, path, true)
	if ch, err := l.Missing("pypi", "foo"); err != nil || ch.Kind != lock.Removed {
		t.Errorf("removal: %+v, %v", ch, err)
	}
	if _, err := l.Save(); err != nil {
		t.Fatal(err)
	}
	if _, ok := open(t, path, false).Entry("pypi", "foo"); ok {
		t.Error("the removed entry is still there")
	}
}

// Many packages checked concurrently are written once, sorted.
func TestConcurrentChecks(t *testing.T) {
	path := filepath.Join(t.TempDir(), "hallmark.lock")
	l := open(t, path, false)
	var wg sync.WaitGroup
	names := []string{"zeta", "alpha", "mu", "beta", "omega", "gamma"}
	for _, n := range names {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := l.CheckResult("npm", n, ghResult("o/"+n, ".github/workflows/publish.yml", "refs/tags/v1")); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if wrote, err := l.Save(); !wrote || err != nil {
		t.Fatalf("save: %v %v", wrote, err)
	}
	data, _ := os.ReadFile(path)
	last := ""
	for _, line := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, "name = "); ok {
			if v < last {
				t.Errorf("not sorted: %s after %s", v, last)
			}
			last = v
		}
	}
	if strings.Count(string(data), "[[package]]") != len(names) {
		t.Errorf("lock file:\n%s", data)
	}
}

// Another run's change made since Open is kept; a conflicting one is
// refused.
func TestSaveMerges(t *testing.T) {
	path := filepath.Join(t.TempDir(), "hallmark.lock")
	a, b := open(t, path, false), open(t, path, false)
	if _, err := a.CheckResult("npm", "a", ghResult("o/a", ".github/workflows/p.yml", "refs/tags/v1")); err != nil {
		t.Fatal(err)
	}
	if _, err := b.CheckResult("npm", "b", ghResult("o/b", ".github/workflows/p.yml", "refs/tags/v1")); err != nil {
		t.Fatal(err)
	}
	if _, err := b.CheckResult("npm", "c", ghResult("o/c", ".github/workflows/p.yml", "refs/tags/v1")); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Save(); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Save(); err != nil {
		t.Fatal(err)
	}
	l := open(t, path, false)
	for _, n := range []string{"a", "b", "c"} {
		if _, ok := l.Entry("npm", n); !ok {
			t.Errorf("%s lost", n)
		}
	}
	c1, c2 := open(t, path, false), open(t, path, false)
	if _, err := c1.CheckResult("npm", "d", ghResult("o/d", ".github/workflows/p.yml", "refs/tags/v1")); err != nil {
		t.Fatal(err)
	}
	if _, err := c2.CheckResult("npm", "d", ghResult("evil/d", ".github/workflows/p.yml", "refs/tags/v1")); err != nil {
		t.Fatal(err)
	}
	if _, err := c1.Save(); err != nil {
		t.Fatal(err)
	}
	if _, err := c2.Save(); !errors.Is(err, lock.ErrConflict) {
		t.Errorf("conflicting first uses: %v", err)
	}
	if e, _ := open(t, path, false).Entry("npm", "d"); e.Repository != "https://github.com/o/d" {
		t.Errorf("the conflict overwrote the entry: %+v", e)
	}
}

// A damaged lock file is an error with its line, and is never written.
func TestDamaged(t *testing.T) {
	valid := string(mustEncode(t, lock.Entry{Ecosystem: "pypi", Name: "foo", Signer: "github", Issuer: verify.GitHubIssuer,
		Repository: "https://github.com/o/r", Workflow: ".github/workflows/release.yml", Ref: "refs/tags/*"}))
	for _, c := range []struct {
		name, content string
		line          int
		want          string
	}{
		{"syntax", "version = 1\n\n[[package]\n", 3, "expected"},
		{"no-version", "[[package]]\necosystem = \"npm\"\n", 1, "no version"},
		{"version", "version = 2\n", 1, "version 2"},
		{"unknown-key", strings.Replace(valid, `ref = `, "colour = \"red\"\nref = ", 1), 13, `unknown key "package.colour"`},
		{"bad-signer", strings.Replace(valid, `signer = "github"`, `signer = "jenkins"`, 1), 9, "jenkins"},
		{"no-workflow", strings.Replace(valid, "workflow = \".github/workflows/release.yml\"\n", "", 1), 6, "needs workflow"},
		{"not-normalised", strings.Replace(valid, `name = "foo"`, `name = "Foo_Bar"`, 1), 8, "not normalised"},
		{"duplicate", valid + strings.SplitN(valid, "version = 1\n", 2)[1], 15, "listed twice"},
		{"type", strings.Replace(valid, `name = "foo"`, `name = 7`, 1), 8, "name"},
		{"bad-ref", strings.Replace(valid, `ref = "refs/tags/*"`, `ref = "refs/*/x"`, 1), 13, "one *"},
	} {
		path := filepath.Join(t.TempDir(), "hallmark.lock")
		if err := os.WriteFile(path, []byte(c.content), 0o644); err != nil {
			t.Fatal(err)
		}
		_, err := lock.Open(path, lock.Options{Update: true})
		var pe *lock.ParseError
		if !errors.As(err, &pe) || !errors.Is(err, lock.ErrDamaged) || pe.Line != c.line || !strings.Contains(pe.Msg, c.want) {
			t.Errorf("%s: want line %d saying %q, got %v", c.name, c.line, c.want, err)
		}
		if after, _ := os.ReadFile(path); string(after) != c.content {
			t.Errorf("%s: the damaged file was changed", c.name)
		}
	}
}

// A lock entry is a policy: the identity it stands for.
func TestIdentityPolicy(t *testing.T) {
	e, err := lock.Observe("npm", "x", ghResult("o/r", ".github/workflows/release.yml", "refs/tags/v1"))
	if err != nil {
		t.Fatal(err)
	}
	id, err := e.IdentityPolicy()
	if err != nil || id.SourceRepositoryURI != "https://github.com/o/r" || id.Issuer != verify.GitHubIssuer ||
		id.SANRegexp != `https://github\.com/o/r/\.github/workflows/release\.yml@.+` {
		t.Errorf("identity %+v, %v", id, err)
	}
}
