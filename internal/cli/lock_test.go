package cli

import (
	"bytes"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hallmark-dev/hallmark/pkg/lock"
	"github.com/hallmark-dev/hallmark/pkg/verify"
)

func lockResult(repo, wf string) *verify.Result {
	uri := "https://github.com/" + repo + "/" + wf + "@refs/tags/v1"
	return &verify.Result{Verified: true, Signer: &verify.Signer{Kind: "certificate", SAN: uri, Issuer: verify.GitHubIssuer,
		GitHub: &verify.GitHubClaims{SourceRepository: "https://github.com/" + repo, SourceRef: "refs/tags/v1", ConfigWorkflow: uri, SignerWorkflow: uri}}}
}

// The session API an ecosystem's verify calls: no --lock does nothing;
// record pins and says so, then refuses drift as exit 3 with the changed
// field; missing is drift for a pinned package; policyDrift turns an
// identity refusal under the entry into drift; save writes once.
func TestLockSession(t *testing.T) {
	var errOut bytes.Buffer
	a := newApp(Stdio{Out: &bytes.Buffer{}, Err: &errOut})
	var none *lockSession
	if ch, err := none.record("npm", "x", lockResult("o/x", ".github/workflows/p.yml")); ch != nil || err != nil {
		t.Errorf("no --lock: %+v, %v", ch, err)
	}
	if err := none.save(); err != nil {
		t.Error(err)
	}
	if _, err := a.openLock(&lockFlags{update: true}); exitCode(err) != ExitUsage {
		t.Errorf("--update-lock without --lock: %v", err)
	}

	path := filepath.Join(t.TempDir(), "hallmark.lock")
	ls, err := a.openLock(&lockFlags{path: path})
	if err != nil {
		t.Fatal(err)
	}
	if ch, err := ls.record("npm", "@scope/pkg", lockResult("o/pkg", ".github/workflows/publish.yml")); err != nil || ch.Kind != lock.Pinned {
		t.Fatalf("first use: %+v, %v", ch, err)
	}
	if !strings.Contains(errOut.String(), `hallmark: lock: pinned npm package @scope/pkg to github repository "https://github.com/o/pkg"`) {
		t.Errorf("the pin is not said: %q", errOut.String())
	}
	_, err = ls.record("npm", "@scope/pkg", lockResult("evil/pkg", ".github/workflows/publish.yml"))
	var rej *verify.RejectedError
	var drift *lock.DriftError
	if exitCode(err) != ExitRejected || !errors.As(err, &rej) || rej.Cause != lock.CauseDrift || !errors.As(err, &drift) ||
		len(rej.Comparisons) != 1 || rej.Comparisons[0].Field != "repository" || rej.Comparisons[0].Actual != "https://github.com/evil/pkg" || rej.Hint == "" {
		t.Errorf("drift: %v (%+v)", err, rej)
	}
	if _, err := ls.missing("npm", "@scope/pkg"); exitCode(err) != ExitRejected || !errors.Is(err, lock.ErrDrift) {
		t.Errorf("provenance gone: %v", err)
	}
	if _, err := ls.missing("npm", "never-pinned"); err != nil {
		t.Errorf("no provenance, never pinned: %v", err)
	}
	refused := &verify.RejectedError{Cause: verify.CauseIdentity, Reason: "the signer does not match the identity policy"}
	err = ls.policyDrift("npm", "@scope/pkg", lockResult("o/pkg", ".github/workflows/other.yml").Signer, refused, "hint")
	if !errors.As(err, &rej) || rej.Cause != lock.CauseDrift || rej.Hint != "hint" {
		t.Errorf("policyDrift: %v", err)
	}
	if err := ls.policyDrift("npm", "@scope/pkg", nil, errors.New("network"), "hint"); err == nil || errors.As(err, &drift) {
		t.Errorf("policyDrift of another error: %v", err)
	}
	if err := ls.save(); err != nil {
		t.Fatal(err)
	}
	l, err := lock.Open(path, lock.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if e, ok := l.Entry("npm", "@scope/pkg"); !ok || e.Repository != "https://github.com/o/pkg" {
		t.Errorf("saved entry %+v", e)
	}
}
