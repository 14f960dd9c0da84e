//go:build e2e

package e2e

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/klauspost/compress/s2"

	"github.com/hallmark-dev/hallmark/internal/e2e/oidcissuer"
	"github.com/hallmark-dev/hallmark/pkg/ecosystem/homebrew"
)

const (
	bottleWorkflow   = ".github/workflows/publish-commit-bottles.yml"
	backfillWorkflow = ".github/workflows/backfill_signatures.yml"
	bottleRef        = "refs/heads/main"
	bottleSHA        = "89abcdef0123456789abcdef0123456789abcdef"
)

// githubIssuer is an issuer Fulcio treats as GitHub Actions': its URL
// (the iss of its tokens, the certificates' issuer) and where to ask it for
// a token.
type githubIssuer struct{ url, tokenURL string }

// stackGitHubIssuer is the stack's GitHub-workflow issuer at its own URL,
// http://127.0.0.1:5557.
func stackGitHubIssuer(t *testing.T) githubIssuer {
	t.Helper()
	g := githubIssuer{os.Getenv("HALLMARK_E2E_GITHUB_ISSUER"), os.Getenv("HALLMARK_E2E_GITHUB_TOKEN_URL")}
	if g.url == "" || g.tokenURL == "" {
		t.Skip("the stack has no GitHub-workflow issuer (HALLMARK_E2E_GITHUB_ISSUER): run with internal/e2e/stack.sh of this branch")
	}
	return g
}

// actionsIssuer is GitHub Actions' issuer at its real URL,
// https://token.actions.githubusercontent.com, which stack.sh serves inside
// a private mount namespace; ok is false, with why, when it could not.
func actionsIssuer() (g githubIssuer, ok bool, why string) {
	g = githubIssuer{os.Getenv("HALLMARK_E2E_GITHUB_ACTIONS_ISSUER"), os.Getenv("HALLMARK_E2E_GITHUB_ACTIONS_TOKEN_URL")}
	if g.url != "" && g.tokenURL != "" {
		return g, true, ""
	}
	if why = os.Getenv("HALLMARK_E2E_GITHUB_ACTIONS_WHY_NOT"); why == "" {
		why = "the stack does not say (HALLMARK_E2E_GITHUB_ACTIONS_ISSUER is unset): run with internal/e2e/stack.sh of this branch"
	}
	return g, false, why
}

// token mints a token of g for a run of repo's workflow wf, the claims
// edited by edit (a self-hosted runner, say).
func (g githubIssuer) token(t *testing.T, repo, wf string, edit func(map[string]any)) string {
	t.Helper()
	claims := oidcissuer.GitHubClaims(repo, wf, bottleRef, bottleSHA)
	edit(claims)
	c, err := json.Marshal(claims)
	if err != nil {
		t.Fatal(err)
	}
	q := url.Values{"email": {"none"}, "sub": {"repo:" + repo + ":ref:" + bottleRef}, "claims": {string(c)}}
	resp, err := http.Get(g.tokenURL + "?" + q.Encode())
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("github token from %s: %s %s %v", g.tokenURL, resp.Status, body, err)
	}
	return string(body)
}

// attestsAPI is a GitHub attestations API: GET .../attestations/sha256:HEX
// of any repository or organisation answers the bundles of that digest, one
// per page linked by a Link header, inline or (snappy) as bundle: null and
// a bundle_url serving snappy-compressed JSON; ratelimit answers 403 with
// the limit exhausted.
type attestsAPI struct {
	srv      *httptest.Server
	mu       sync.Mutex
	mode     string
	byDigest map[string][][]byte
	requests int
}

func newAttestsAPI(t *testing.T) *attestsAPI {
	a := &attestsAPI{mode: "inline", byDigest: map[string][][]byte{}}
	// The handler reads a.srv.URL: start only once a.srv is set.
	a.srv = httptest.NewUnstartedServer(http.HandlerFunc(a.serve))
	a.srv.Start()
	t.Cleanup(a.srv.Close)
	return a
}

func (a *attestsAPI) add(digest string, bundleJSON []byte) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.byDigest[digest] = append(a.byDigest[digest], bundleJSON)
}

func (a *attestsAPI) count() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.requests
}

func (a *attestsAPI) setMode(m string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.mode = m
}

func (a *attestsAPI) serve(w http.ResponseWriter, r *http.Request) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.requests++
	if a.mode == "ratelimit" {
		w.Header().Set("X-Ratelimit-Limit", "60")
		w.Header().Set("X-Ratelimit-Remaining", "0")
		w.Header().Set("X-Ratelimit-Reset", strconv.FormatInt(time.Now().Add(time.Hour).Unix(), 10))
		http.Error(w, `{"message":"API rate limit exceeded"}`, http.StatusForbidden)
		return
	}
	if rest, ok := strings.CutPrefix(r.URL.Path, "/blob/"); ok {
		d, n, _ := strings.Cut(rest, "/")
		i, err := strconv.Atoi(n)
		bs := a.byDigest[d]
		if err != nil || i < 0 || i >= len(bs) {
			http.NotFound(w, r)
			return
		}
		_, _ = w.Write(s2.EncodeSnappy(nil, bs[i]))
		return
	}
	_, d, ok := strings.Cut(r.URL.Path, "/attestations/")
	bs := a.byDigest[d]
	if !ok || len(bs) == 0 {
		http.Error(w, `{"message":"Not Found"}`, http.StatusNotFound)
		return
	}
	page, _ := strconv.Atoi(r.URL.Query().Get("page"))
	page = max(page, 1)
	if page > len(bs) {
		_, _ = w.Write([]byte(`{"attestations":[]}`))
		return
	}
	if page < len(bs) {
		w.Header().Set("Link", fmt.Sprintf(`<%s%s?page=%d>; rel="next"`, a.srv.URL, r.URL.Path, page+1))
	}
	entry := map[string]any{"repository_id": 1, "bundle": json.RawMessage(bs[page-1])}
	if a.mode == "snappy" {
		entry["bundle"], entry["bundle_url"] = nil, fmt.Sprintf("%s/blob/%s/%d?sig=secret", a.srv.URL, d, page-1)
	}
	data, _ := json.Marshal(map[string]any{"attestations": []any{entry}})
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(data)
}

// bottleCase is a bottle file and the attestation made for it.
type bottleCase struct {
	path, digest string // the file verified; sha256:HEX
	bundle       string // the attestation's path
	url          string // --bottle-url, for the backfill
}

func sha256File(t *testing.T, path string) string {
	t.Helper()
	sum := sha256.Sum256(read(t, path))
	return "sha256:" + hex.EncodeToString(sum[:])
}

// TestHomebrew signs "bottles" on the stack with hallmark attest
// --provenance under a GitHub Actions job of Homebrew/homebrew-core (Fulcio
// issues GitHub-workflow certificates), serves the attestations from a
// local attestations API, and verifies them as a user would: with
// --preset homebrew-core (attestation.rb's rules) and with gh's flags.
//
// The preset pins GitHub's own issuer, https://token.actions.githubusercontent.com,
// so the bottles are signed with tokens of that issuer, which stack.sh serves
// at its real URL inside the namespace. Where it cannot (no private mount
// namespace), the bottles are signed by the stack's other GitHub-workflow
// issuer, the gh-flag cases name it with --certificate-oidc-issuer, and the
// preset cases that verify a signer skip, saying why.
func TestHomebrew(t *testing.T) {
	in := stack(t)
	dir := t.TempDir()
	nonce := strconv.FormatInt(time.Now().UnixNano(), 10) // Rekor v2 refuses a duplicate entry
	api := newAttestsAPI(t)
	lookalikeIssuer := stackGitHubIssuer(t)
	actions, real, whyNot := actionsIssuer()
	if !real {
		actions = lookalikeIssuer
	}
	needActions := func(t *testing.T) {
		t.Helper()
		if !real {
			t.Skip("--preset homebrew-core pins https://token.actions.githubusercontent.com, which the stack does not serve here: " + whyNot)
		}
	}

	// attestBottle writes a bottle named subject, attests it as repo's
	// workflow wf would with a token of iss (claims edited by edit), copies
	// it to fileName and publishes the attestation under the bottle's
	// digest.
	attestBottle := func(iss githubIssuer, repo, wf, subject, fileName string, edit func(map[string]any), env ...string) bottleCase {
		t.Helper()
		tok := iss.token(t, repo, wf, edit)
		sub := filepath.Join(dir, "signed-"+nonce+"-"+fileName)
		if err := os.MkdirAll(sub, 0o755); err != nil {
			t.Fatal(err)
		}
		signed := filepath.Join(sub, subject)
		write(t, signed, []byte("bottle "+fileName+" "+nonce+"\n"))
		bp := filepath.Join(sub, "attestation.sigstore.json")
		in.attest(t, append(githubEnv(repo, wf, bottleRef, bottleSHA), env...), exitOK, tok, "--provenance", "--bundle", bp, signed)
		path := filepath.Join(dir, fileName)
		write(t, path, read(t, signed))
		c := bottleCase{path: path, digest: sha256File(t, path), bundle: bp}
		api.add(c.digest, read(t, bp))
		return c
	}
	hosted := func(map[string]any) {}
	core := homebrew.CoreRepo

	good := attestBottle(actions, core, bottleWorkflow, "jq--1.7.1.arm64_sonoma.bottle.tar.gz", "jq--1.7.1.arm64_sonoma.bottle.tar.gz", hosted)
	all := attestBottle(actions, core, bottleWorkflow, "ca-certificates--2024-03-11.arm64_sonoma.bottle.tar.gz", "ca-certificates--2024-03-11.all.bottle.tar.gz", hosted)
	other := attestBottle(actions, "octo/homebrew-core", bottleWorkflow, "jq--1.7.2.arm64_sonoma.bottle.tar.gz", "jq--1.7.2.arm64_sonoma.bottle.tar.gz", hosted)
	renamed := attestBottle(actions, core, bottleWorkflow, "oniguruma--6.9.9.arm64_sonoma.bottle.tar.gz", "oniguruma--6.9.9.x86_64_linux.bottle.tar.gz", hosted)
	bottleURL := "https://ghcr.io/v2/homebrew/core/wget/blobs/" + nonce
	sum := sha256.Sum256([]byte(bottleURL))
	backfill := attestBottle(actions, homebrew.BackfillRepo, backfillWorkflow, hex.EncodeToString(sum[:])+"--wget--1.21.4.sonoma.bottle.tar.gz",
		"wget--1.21.4.sonoma.bottle.tar.gz", hosted)
	backfill.url = bottleURL
	selfHosted := attestBottle(actions, core, bottleWorkflow, "xz--5.6.2.arm64_sonoma.bottle.tar.gz", "xz--5.6.2.arm64_sonoma.bottle.tar.gz",
		func(c map[string]any) { c["runner_environment"] = "self-hosted" }, "RUNNER_ENVIRONMENT=self-hosted")
	// The right repository and workflow, from an issuer that is not GitHub's.
	lookalike := attestBottle(lookalikeIssuer, core, bottleWorkflow, "lz4--1.9.4.arm64_sonoma.bottle.tar.gz", "lz4--1.9.4.arm64_sonoma.bottle.tar.gz", hosted)
	// A second page: the good bottle has another (unrelated repository's)
	// attestation first, so its own is on page 2.
	api.mu.Lock()
	api.byDigest[good.digest] = append([][]byte{read(t, other.bundle)}, api.byDigest[good.digest]...)
	api.mu.Unlock()
	missing := filepath.Join(dir, "zstd--1.5.6.arm64_sonoma.bottle.tar.gz")
	write(t, missing, []byte("never attested "+nonce))

	// gh's spelling of homebrew-core's policy, as brew passes it to gh
	// (the issuer is GitHub Actions' by default).
	policy := []string{"--trusted-root", in.trustedRoot, "--repo", core}
	if !real {
		policy = append(policy, "--certificate-oidc-issuer", actions.url)
	}
	fromGitHub := append([]string{"verify", "--from", "github", "--api-url", api.srv.URL}, policy...)
	preset := []string{"verify", "--preset", "homebrew-core", "--trusted-root", in.trustedRoot}
	presetFromGitHub := append(append([]string{}, preset...), "--from", "github", "--api-url", api.srv.URL)

	// The preset on the attestations API: each bottle alone, with the exit
	// code and what the output must say.
	for _, c := range []struct {
		name   string
		bottle bottleCase
		want   int
		says   []string // in stdout when it passes, stderr otherwise
	}{
		{"preset-bottle", good, exitOK, []string{"formula jq 1.7.1 (arm64_sonoma), built by https://github.com/Homebrew/homebrew-core/actions/runs/3000003/attempts/1 at "}},
		{"preset-all-bottle", all, exitOK, []string{"formula ca-certificates 2024-03-11 (all), built by https://github.com/Homebrew/homebrew-core/actions/runs/3000003/"}},
		// brew does not deny self-hosted runners: neither does the preset.
		{"preset-self-hosted-runner", selfHosted, exitOK, []string{"formula xz 5.6.2 (arm64_sonoma), built by "}},
		{"preset-other-repository", other, exitRejected, []string{"invalid attestation", "the signer does not match the identity policy",
			`source repository expected "https://github.com/Homebrew/homebrew-core", actual "https://github.com/octo/homebrew-core"`}},
		{"preset-renamed-bottle", renamed, exitRejected, []string{"invalid attestation", `verified, but none has a subject "oniguruma--6.9.9.x86_64_linux.bottle.tar.gz"`}},
		{"preset-backfill-after-cutoff", backfill, exitRejected, []string{"invalid attestation", "after the backfill cutoff 2024-03-14T00:00:00Z"}},
		{"preset-another-issuer", lookalike, exitRejected, []string{"invalid attestation", "the signer does not match the identity policy",
			`issuer expected "https://token.actions.githubusercontent.com", actual "` + lookalikeIssuer.url + `"`}},
	} {
		t.Run(c.name, func(t *testing.T) {
			needActions(t)
			args := append([]string{}, presetFromGitHub...)
			if c.bottle.url != "" {
				args = append(args, "--bottle-url", c.bottle.url)
			}
			stdout, stderr := in.run(t, c.want, "hallmark", append(args, c.bottle.path)...)
			out := stderr
			if c.want == exitOK {
				out = stdout
			}
			for _, s := range c.says {
				if !strings.Contains(out, s) {
					t.Errorf("the output does not say %q:\n%s", s, out)
				}
			}
		})
	}

	for _, mode := range []string{"inline", "snappy"} {
		t.Run("from-github-"+mode, func(t *testing.T) {
			api.setMode(mode)
			defer api.setMode("inline")
			stdout, _ := in.run(t, exitOK, "hallmark", append(fromGitHub, good.path, all.path, selfHosted.path)...)
			if n := strings.Count("\n"+stdout, "\nOK "); n != 3 {
				t.Errorf("%d bottles verified, want 3:\n%s", n, stdout)
			}
			in.run(t, exitRejected, "hallmark", append(fromGitHub, other.path)...)
		})
		t.Run("preset-from-github-"+mode, func(t *testing.T) {
			needActions(t)
			api.setMode(mode)
			defer api.setMode("inline")
			stdout, _ := in.run(t, exitOK, "hallmark", append(presetFromGitHub, good.path, all.path)...)
			if n := strings.Count("\n"+stdout, "\nOK "); n != 2 {
				t.Errorf("%d bottles verified, want 2:\n%s", n, stdout)
			}
		})
	}

	// "No attestation" and rate limiting come before any signer check (so
	// they need no GitHub Actions issuer): the preset says them, in words
	// and as the JSON reason.
	presetReason := func(t *testing.T, want int, bottle string) (homebrew.Reason, string) {
		t.Helper()
		stdout, stderr := in.run(t, want, "hallmark", append(presetFromGitHub, "-o", "json", bottle)...)
		var rep struct {
			Bottles []struct {
				Verified bool
				Reason   homebrew.Reason
			}
		}
		if err := json.Unmarshal([]byte(stdout), &rep); err != nil || len(rep.Bottles) != 1 || rep.Bottles[0].Verified {
			t.Fatalf("JSON report: %v\n%s", err, stdout)
		}
		return rep.Bottles[0].Reason, stderr
	}

	t.Run("preset-no-attestation", func(t *testing.T) {
		reason, stderr := presetReason(t, exitRejected, missing)
		if reason != homebrew.ReasonNoAttestation || !strings.Contains(stderr, "no attestation") {
			t.Errorf("reason %q, stderr:\n%s", reason, stderr)
		}
	})
	t.Run("no-attestation", func(t *testing.T) {
		_, stderr := in.run(t, exitRejected, "hallmark", append(fromGitHub, missing)...)
		if !strings.Contains(stderr, "no attestation for "+sha256File(t, missing)) {
			t.Errorf("gh's flags: stderr does not say there is no attestation for the digest:\n%s", stderr)
		}
	})

	t.Run("preset-rate-limit", func(t *testing.T) {
		api.setMode("ratelimit")
		defer api.setMode("inline")
		reason, stderr := presetReason(t, 1, good.path)
		if reason != homebrew.ReasonRateLimit {
			t.Errorf("reason %q, want %q", reason, homebrew.ReasonRateLimit)
		}
		for _, want := range []string{"rate limit", "GH_TOKEN"} {
			if !strings.Contains(stderr, want) {
				t.Errorf("stderr does not say %q:\n%s", want, stderr)
			}
		}
	})
	t.Run("rate-limit", func(t *testing.T) {
		api.setMode("ratelimit")
		defer api.setMode("inline")
		_, stderr := in.run(t, 1, "hallmark", append(fromGitHub, good.path)...)
		for _, want := range []string{"rate limit", "GH_TOKEN"} {
			if !strings.Contains(stderr, want) {
				t.Errorf("stderr does not say %q:\n%s", want, stderr)
			}
		}
	})

	t.Run("signer-workflow-needs-repo", func(t *testing.T) {
		in.run(t, 2, "hallmark", "verify", "--offline", "--trusted-root", in.trustedRoot, "--bundle", good.bundle,
			"--signer-workflow", core+"/"+bottleWorkflow, good.path)
	})

	t.Run("deny-self-hosted-runners", func(t *testing.T) {
		deny := append(append([]string{}, fromGitHub...), "--deny-self-hosted-runners")
		in.run(t, exitOK, "hallmark", append(deny, good.path)...)
		_, stderr := in.run(t, exitRejected, "hallmark", append(deny, selfHosted.path)...)
		if !strings.Contains(stderr, "self-hosted") {
			t.Errorf("stderr does not name the self-hosted runner:\n%s", stderr)
		}
	})

	// download, then verify from the directory with no network at all.
	mirror := filepath.Join(dir, "mirror")
	if err := os.Mkdir(mirror, 0o755); err != nil {
		t.Fatal(err)
	}
	downloaded := false
	download := func(t *testing.T) {
		t.Helper()
		if !downloaded {
			in.run(t, exitOK, "hallmark", "download", "--repo", core, "--api-url", api.srv.URL, "--dir", mirror, good.path, all.path)
			downloaded = true
		}
	}
	offline := func(t *testing.T, args ...string) {
		t.Helper()
		before := api.count()
		stdout, _ := in.run(t, exitOK, "hallmark", append(args, "--offline", "--bundle-dir", mirror, good.path, all.path)...)
		if n := strings.Count("\n"+stdout, "\nOK "); n != 2 {
			t.Errorf("%d bottles verified offline, want 2:\n%s", n, stdout)
		}
		if n := api.count(); n != before {
			t.Errorf("--offline --bundle-dir asked the API %d times", n-before)
		}
	}
	t.Run("download-then-offline", func(t *testing.T) {
		download(t)
		offline(t, append([]string{"verify"}, policy...)...)
	})
	t.Run("preset-download-then-offline", func(t *testing.T) {
		needActions(t)
		download(t)
		offline(t, preset...)
	})
}
