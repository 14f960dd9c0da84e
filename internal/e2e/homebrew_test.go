//go:build e2e

package e2e

import (
	"context"
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
	"github.com/sigstore/sigstore-go/pkg/bundle"
	"github.com/sigstore/sigstore-go/pkg/root"

	"github.com/hallmark-dev/hallmark/internal/e2e/oidcissuer"
	"github.com/hallmark-dev/hallmark/pkg/ecosystem/homebrew"
	"github.com/hallmark-dev/hallmark/pkg/verify"
)

const (
	bottleWorkflow   = ".github/workflows/publish-commit-bottles.yml"
	backfillWorkflow = ".github/workflows/backfill_signatures.yml"
	bottleRef        = "refs/heads/main"
	bottleSHA        = "89abcdef0123456789abcdef0123456789abcdef"
)

// githubTokenWith is githubToken with the claims edited (a self-hosted
// runner, say).
func githubTokenWith(t *testing.T, repo, wf string, edit func(map[string]any)) (issuer, token string) {
	t.Helper()
	issuer, tokenURL := os.Getenv("HALLMARK_E2E_GITHUB_ISSUER"), os.Getenv("HALLMARK_E2E_GITHUB_TOKEN_URL")
	if issuer == "" || tokenURL == "" {
		t.Skip("the stack has no GitHub-workflow issuer (HALLMARK_E2E_GITHUB_ISSUER): run with internal/e2e/stack.sh of this branch")
	}
	claims := oidcissuer.GitHubClaims(repo, wf, bottleRef, bottleSHA)
	edit(claims)
	c, err := json.Marshal(claims)
	if err != nil {
		t.Fatal(err)
	}
	q := url.Values{"email": {"none"}, "sub": {"repo:" + repo + ":ref:" + bottleRef}, "claims": {string(c)}}
	resp, err := http.Get(tokenURL + "?" + q.Encode())
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("github token: %s %s %v", resp.Status, body, err)
	}
	return issuer, string(body)
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
// issues GitHub-workflow certificates from the stack's GitHub issuer),
// serves the attestations from a local attestations API, and checks
// attestation.rb's rules on them.
//
// --preset homebrew-core pins GitHub's own issuer
// (https://token.actions.githubusercontent.com), which the stack cannot be:
// the CLI cases use the same policy spelled with gh's flags (--repo
// Homebrew/homebrew-core --certificate-oidc-issuer STACK), and the preset's
// rules (subject names, :all bottles, the backfill and its cutoff) are
// checked with pkg/ecosystem/homebrew, the code --preset runs, on the same
// bundles verified against the stack with the stack's issuer. The preset
// itself must refuse the stack's bottles for their issuer.
func TestHomebrew(t *testing.T) {
	in := stack(t)
	dir := t.TempDir()
	nonce := strconv.FormatInt(time.Now().UnixNano(), 10) // Rekor v2 refuses a duplicate entry
	api := newAttestsAPI(t)

	// attestBottle writes a bottle named subject, attests it as repo's
	// workflow wf would (claims edited by edit), copies it to fileName and
	// publishes the attestation under the bottle's digest.
	var issuer string
	attestBottle := func(repo, wf, subject, fileName string, edit func(map[string]any), env ...string) bottleCase {
		t.Helper()
		iss, tok := githubTokenWith(t, repo, wf, edit)
		issuer = iss
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

	good := attestBottle(core, bottleWorkflow, "jq--1.7.1.arm64_sonoma.bottle.tar.gz", "jq--1.7.1.arm64_sonoma.bottle.tar.gz", hosted)
	all := attestBottle(core, bottleWorkflow, "ca-certificates--2024-03-11.arm64_sonoma.bottle.tar.gz", "ca-certificates--2024-03-11.all.bottle.tar.gz", hosted)
	other := attestBottle("octo/homebrew-core", bottleWorkflow, "jq--1.7.2.arm64_sonoma.bottle.tar.gz", "jq--1.7.2.arm64_sonoma.bottle.tar.gz", hosted)
	renamed := attestBottle(core, bottleWorkflow, "oniguruma--6.9.9.arm64_sonoma.bottle.tar.gz", "oniguruma--6.9.9.x86_64_linux.bottle.tar.gz", hosted)
	bottleURL := "https://ghcr.io/v2/homebrew/core/wget/blobs/" + nonce
	sum := sha256.Sum256([]byte(bottleURL))
	backfill := attestBottle(homebrew.BackfillRepo, backfillWorkflow, hex.EncodeToString(sum[:])+"--wget--1.21.4.sonoma.bottle.tar.gz",
		"wget--1.21.4.sonoma.bottle.tar.gz", hosted)
	backfill.url = bottleURL
	selfHosted := attestBottle(core, bottleWorkflow, "xz--5.6.2.arm64_sonoma.bottle.tar.gz", "xz--5.6.2.arm64_sonoma.bottle.tar.gz",
		func(c map[string]any) { c["runner_environment"] = "self-hosted" }, "RUNNER_ENVIRONMENT=self-hosted")
	// A second page: the good bottle has another (unrelated repository's)
	// attestation first, so its own is on page 2.
	api.mu.Lock()
	api.byDigest[good.digest] = append([][]byte{read(t, other.bundle)}, api.byDigest[good.digest]...)
	api.mu.Unlock()
	missing := filepath.Join(dir, "zstd--1.5.6.arm64_sonoma.bottle.tar.gz")
	write(t, missing, []byte("never attested "+nonce))

	// gh's spelling of homebrew-core's policy, with the stack's issuer.
	policy := []string{"--trusted-root", in.trustedRoot, "--repo", core, "--certificate-oidc-issuer", issuer}
	fromGitHub := append([]string{"verify", "--from", "github", "--api-url", api.srv.URL}, policy...)

	t.Run("preset-rules", func(t *testing.T) {
		tr, err := root.NewTrustedRootFromPath(in.trustedRoot)
		if err != nil {
			t.Fatal(err)
		}
		onStack := func(p verify.Policy) *verify.Verifier {
			id := *p.Identity
			id.Issuer = issuer // the stack's GitHub issuer for GitHub's
			p.Identity = &id
			v, err := verify.NewWithRoots([]root.TrustedMaterial{tr}, p)
			if err != nil {
				t.Fatal(err)
			}
			return v
		}
		preset := homebrew.Core()
		own, back := onStack(preset.Policy()), onStack(homebrew.BackfillPolicy())
		check := func(c bottleCase) (*homebrew.Verdict, error) {
			b, err := homebrew.ParseBottle(filepath.Base(c.path))
			if err != nil {
				t.Fatal(err)
			}
			b.URL = c.url
			art, err := verify.ParseDigest(c.digest)
			if err != nil {
				t.Fatal(err)
			}
			_, hexd, _ := strings.Cut(c.digest, ":")
			d := verify.Digest{Algorithm: "sha256", Value: hexd}
			var ownEv, backEv homebrew.Evidence
			for _, raw := range api.byDigest[c.digest] {
				var bb bundle.Bundle
				if err := bb.UnmarshalJSON(raw); err != nil {
					t.Fatal(err)
				}
				if r, err := own.Verify(context.Background(), &bb, art); err == nil {
					ownEv.Verified = append(ownEv.Verified, r)
				} else if r, berr := back.Verify(context.Background(), &bb, art); berr == nil {
					backEv.Verified = append(backEv.Verified, r)
				} else {
					ownEv.Refused++
					ownEv.Reasons = append(ownEv.Reasons, err.Error())
				}
			}
			return homebrew.Check(preset, b, d, ownEv, backEv, homebrew.BackfillCutoff)
		}
		for _, c := range []struct {
			name string
			c    bottleCase
			ok   bool
			want string
		}{
			{"bottle", good, true, ""},
			{"all-bottle", all, true, ""},
			{"other-repository", other, false, "octo/homebrew-core"},
			{"renamed", renamed, false, "oniguruma--6.9.9.x86_64_linux.bottle.tar.gz"},
			{"backfill-after-cutoff", backfill, false, "2024-03-14"},
		} {
			v, err := check(c.c)
			switch {
			case c.ok && err != nil:
				t.Errorf("%s: refused: %v", c.name, err)
			case c.ok && v.Bottle.FileName != filepath.Base(c.c.path):
				t.Errorf("%s: verdict for %q", c.name, v.Bottle.FileName)
			case !c.ok && err == nil:
				t.Errorf("%s: passed: %+v", c.name, v)
			case !c.ok && !strings.Contains(err.Error(), c.want):
				t.Errorf("%s: the refusal does not say %q: %v", c.name, c.want, err)
			}
		}
	})

	t.Run("preset-pins-github-issuer", func(t *testing.T) {
		_, stderr := in.run(t, exitRejected, "hallmark", "verify", "--preset", "homebrew-core", "--from", "github", "--api-url", api.srv.URL,
			"--trusted-root", in.trustedRoot, good.path)
		if !strings.Contains(stderr, "invalid attestation") || !strings.Contains(stderr, "the signer does not match the identity policy") {
			t.Errorf("the preset's refusal of the stack's issuer:\n%s", stderr)
		}
	})

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
	}

	// "No attestation" and rate limiting come before any signer check:
	// the preset itself says them, in words and as the JSON reason.
	preset := []string{"verify", "--preset", "homebrew-core", "--from", "github", "--api-url", api.srv.URL, "--trusted-root", in.trustedRoot}
	presetReason := func(t *testing.T, want int, bottle string) (homebrew.Reason, string) {
		t.Helper()
		stdout, stderr := in.run(t, want, "hallmark", append(preset, "-o", "json", bottle)...)
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

	t.Run("no-attestation", func(t *testing.T) {
		reason, stderr := presetReason(t, exitRejected, missing)
		if reason != homebrew.ReasonNoAttestation || !strings.Contains(stderr, "no attestation") {
			t.Errorf("reason %q, stderr:\n%s", reason, stderr)
		}
		_, stderr = in.run(t, exitRejected, "hallmark", append(fromGitHub, missing)...)
		if !strings.Contains(stderr, "no attestation for "+sha256File(t, missing)) {
			t.Errorf("gh's flags: stderr does not say there is no attestation for the digest:\n%s", stderr)
		}
	})

	t.Run("rate-limit", func(t *testing.T) {
		api.setMode("ratelimit")
		defer api.setMode("inline")
		reason, stderr := presetReason(t, 1, good.path)
		if reason != homebrew.ReasonRateLimit {
			t.Errorf("reason %q, want %q", reason, homebrew.ReasonRateLimit)
		}
		_, stderr2 := in.run(t, 1, "hallmark", append(fromGitHub, good.path)...)
		for _, want := range []string{"rate limit", "GH_TOKEN"} {
			for _, e := range []string{stderr, stderr2} {
				if !strings.Contains(e, want) {
					t.Errorf("stderr does not say %q:\n%s", want, e)
				}
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

	t.Run("download-then-offline", func(t *testing.T) {
		d := filepath.Join(dir, "mirror")
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
		in.run(t, exitOK, "hallmark", "download", "--repo", core, "--api-url", api.srv.URL, "--dir", d, good.path, all.path)
		before := api.count()
		stdout, _ := in.run(t, exitOK, "hallmark", append([]string{"verify", "--offline", "--bundle-dir", d}, append(policy, good.path, all.path)...)...)
		if n := strings.Count("\n"+stdout, "\nOK "); n != 2 {
			t.Errorf("%d bottles verified offline, want 2:\n%s", n, stdout)
		}
		if n := api.count(); n != before {
			t.Errorf("--offline --bundle-dir asked the API %d times", n-before)
		}
	})
}
