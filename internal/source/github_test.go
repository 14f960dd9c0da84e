package source_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/klauspost/compress/s2"

	"github.com/hallmark-dev/hallmark/internal/source"
	"github.com/hallmark-dev/hallmark/pkg/verify"
)

// fakeAPI is an attestations API: routes maps a request path (with query)
// to a handler.
type fakeAPI struct {
	srv      *httptest.Server
	mu       sync.Mutex
	requests map[string]int
	auth     map[string]string
	routes   map[string]http.HandlerFunc
}

func newFakeAPI(t *testing.T) *fakeAPI {
	f := &fakeAPI{requests: map[string]int{}, auth: map[string]string{}, routes: map[string]http.HandlerFunc{}}
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		f.requests[r.URL.Path]++
		f.auth[r.URL.Path] = r.Header.Get("Authorization")
		h := f.routes[r.URL.RequestURI()]
		if h == nil {
			h = f.routes[r.URL.Path]
		}
		f.mu.Unlock()
		if h == nil {
			http.NotFound(w, r)
			return
		}
		h(w, r)
	}))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeAPI) handle(path string, h http.HandlerFunc) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.routes[path] = h
}

func (f *fakeAPI) count(path string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.requests[path]
}

func jsonBody(v any) http.HandlerFunc {
	data, _ := json.Marshal(v)
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(data)
	}
}

func attPath(repo string, d verify.Digest) string {
	return "/repos/" + repo + "/attestations/" + d.String()
}

func inline(bundles ...[]byte) map[string]any {
	var list []map[string]any
	for _, b := range bundles {
		list = append(list, map[string]any{"bundle": json.RawMessage(b), "repository_id": 1})
	}
	return map[string]any{"attestations": list}
}

func TestGitHubInline(t *testing.T) {
	k := newKit(t)
	api := newFakeAPI(t)
	d := digestOf(k.blob)
	api.handle(attPath("o/r", d), jsonBody(inline(k.msg, k.dsse)))
	g := &source.GitHub{APIURL: api.srv.URL, Token: "t0ken", Concurrency: 2}
	got := g.Fetch(context.Background(), source.Scope{Repo: "o/r"}, []verify.Digest{d, d, d})
	if len(got) != 1 {
		t.Fatalf("%d results for one distinct digest", len(got))
	}
	f := got[d]
	if f.Err != nil {
		t.Fatal(f.Err)
	}
	if len(f.Bundles) != 2 || f.Bundles[1].Coverage.PredicateType != "https://example.com/p" {
		t.Fatalf("got %d bundles, want the message signature and the DSSE one", len(f.Bundles))
	}
	if n := api.count(attPath("o/r", d)); n != 1 {
		t.Errorf("%d requests for one distinct digest, want 1", n)
	}
	if a := api.auth[attPath("o/r", d)]; a != "Bearer t0ken" {
		t.Errorf("Authorization %q, want the bearer token", a)
	}
}

func TestGitHubOrgScope(t *testing.T) {
	k := newKit(t)
	api := newFakeAPI(t)
	d := digestOf(k.blob)
	api.handle("/orgs/acme/attestations/"+d.String(), jsonBody(inline(k.msg)))
	g := &source.GitHub{APIURL: api.srv.URL}
	f := g.Fetch(context.Background(), source.Scope{Owner: "acme"}, []verify.Digest{d})[d]
	if f.Err != nil || len(f.Bundles) != 1 {
		t.Fatalf("org scope: %d bundles, err %v", len(f.Bundles), f.Err)
	}
	for _, bad := range []source.Scope{{Repo: "norepo"}, {Repo: "a/b/c"}, {Owner: ""}, {Owner: "a/b"}} {
		if f := g.Fetch(context.Background(), bad, []verify.Digest{d})[d]; f.Err == nil || source.ReasonOf(f.Err) != "" {
			t.Errorf("scope %+v: err %v, want a scope error", bad, f.Err)
		}
	}
}

// TestGitHubBundleURL serves the real API response's shape (bundle: null,
// bundle_url) with snappy bodies made here.
func TestGitHubBundleURL(t *testing.T) {
	shared := sharedDir(t)
	resp, err := os.ReadFile(filepath.Join(shared, "fixtures", "ecosystems", "github", "attestations-api-response.redacted.json"))
	if err != nil {
		t.Fatal(err)
	}
	k := newKit(t)
	api := newFakeAPI(t)
	var doc struct {
		Attestations []map[string]any `json:"attestations"`
	}
	if err := json.Unmarshal(resp, &doc); err != nil {
		t.Fatal(err)
	}
	if len(doc.Attestations) != 2 {
		t.Fatalf("the fixture has %d attestations, want 2", len(doc.Attestations))
	}
	const blob = "https://tmaproduction.blob.core.windows.net"
	bodies := [][]byte{k.msg, k.dsse}
	for i, a := range doc.Attestations {
		if a["bundle"] != nil {
			t.Fatalf("attestation %d has an inline bundle: the fixture is not the bundle_url shape", i)
		}
		u, _ := a["bundle_url"].(string)
		if !strings.HasPrefix(u, blob) {
			t.Fatalf("bundle_url %q is not on %s", u, blob)
		}
		path, _, _ := strings.Cut(strings.TrimPrefix(u, blob), "?")
		body := s2.EncodeSnappy(nil, bodies[i])
		api.handle(path, func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write(body) })
	}
	d := digestOf(k.blob)
	rewritten := strings.ReplaceAll(string(resp), blob, api.srv.URL)
	api.handle(attPath("cli/cli", d), func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte(rewritten)) })

	cache := t.TempDir()
	g := &source.GitHub{APIURL: api.srv.URL, Token: "secret", CacheDir: cache}
	f := g.Fetch(context.Background(), source.Scope{Repo: "cli/cli"}, []verify.Digest{d})[d]
	if f.Err != nil {
		t.Fatal(f.Err)
	}
	if len(f.Bundles) != 2 || f.Bundles[0].Coverage.PredicateType != "" || f.Bundles[1].Coverage.PredicateType != "https://example.com/p" {
		t.Fatalf("got %d bundles, want the two served snappy bundles in order", len(f.Bundles))
	}
	for p, a := range api.auth {
		if strings.Contains(p, "/attestations/212613049/") && a != "" {
			t.Errorf("the token was sent to the bundle_url %s", p)
		}
	}
	// The cache answers the second time, in gh's download format.
	before := api.count(attPath("cli/cli", d))
	f2 := g.Fetch(context.Background(), source.Scope{Repo: "cli/cli"}, []verify.Digest{d})[d]
	if f2.Err != nil || !f2.Cached || len(f2.Bundles) != 2 {
		t.Fatalf("second fetch: cached %v, %d bundles, err %v", f2.Cached, len(f2.Bundles), f2.Err)
	}
	if api.count(attPath("cli/cli", d)) != before {
		t.Errorf("the second fetch asked the API again")
	}
	matches, _ := filepath.Glob(filepath.Join(cache, "*", "repos", "cli", "cli", source.DownloadFileName(d)))
	if len(matches) != 1 {
		t.Errorf("cache files %v, want one %s", matches, source.DownloadFileName(d))
	}
}

func TestGitHubSnappyBad(t *testing.T) {
	k := newKit(t)
	api := newFakeAPI(t)
	d := digestOf(k.blob)
	api.handle("/blob/1", func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write(k.msg) }) // not compressed
	api.handle(attPath("o/r", d), jsonBody(map[string]any{"attestations": []map[string]any{{"bundle": nil, "bundle_url": api.srv.URL + "/blob/1?sig=x"}}}))
	g := &source.GitHub{APIURL: api.srv.URL}
	f := g.Fetch(context.Background(), source.Scope{Repo: "o/r"}, []verify.Digest{d})[d]
	if source.ReasonOf(f.Err) != source.ReasonBadResponse || !strings.Contains(f.Err.Error(), "snappy") {
		t.Errorf("err = %v, want a bad response naming snappy", f.Err)
	}
	if strings.Contains(f.Err.Error(), "sig=x") {
		t.Errorf("the message %q shows the bundle_url's access token", f.Err)
	}
}

func TestGitHubPagination(t *testing.T) {
	k := newKit(t)
	api := newFakeAPI(t)
	d := digestOf(k.blob)
	p := attPath("o/r", d)
	api.handle(p+"?per_page=100", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Link", fmt.Sprintf(`<%s%s?per_page=100&page=2>; rel="next", <%s%s?per_page=100&page=2>; rel="last"`, api.srv.URL, p, api.srv.URL, p))
		jsonBody(inline(k.msg))(w, r)
	})
	api.handle(p+"?per_page=100&page=2", jsonBody(inline(k.dsse)))
	g := &source.GitHub{APIURL: api.srv.URL}
	f := g.Fetch(context.Background(), source.Scope{Repo: "o/r"}, []verify.Digest{d})[d]
	if f.Err != nil {
		t.Fatal(f.Err)
	}
	if len(f.Bundles) != 2 || api.count(p) != 2 {
		t.Errorf("%d bundles in %d requests, want 2 in 2", len(f.Bundles), api.count(p))
	}

	// A next link to another host is refused: the token would follow it.
	api.handle(attPath("o/x", d)+"?per_page=100", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Link", `<https://elsewhere.example/page2>; rel="next"`)
		jsonBody(inline(k.msg))(w, r)
	})
	f = g.Fetch(context.Background(), source.Scope{Repo: "o/x"}, []verify.Digest{d})[d]
	if source.ReasonOf(f.Err) != source.ReasonBadResponse {
		t.Errorf("foreign next link: err %v, want bad-response", f.Err)
	}
}

func TestGitHubErrors(t *testing.T) {
	k := newKit(t)
	d := digestOf(k.blob)
	reset := time.Now().Add(10 * time.Minute).Truncate(time.Second)
	closed := func() string {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		u := "http://" + l.Addr().String()
		_ = l.Close()
		return u
	}()
	status := func(code int, hdr map[string]string) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			for k, v := range hdr {
				w.Header().Set(k, v)
			}
			w.WriteHeader(code)
			_, _ = w.Write([]byte(`{"message":"x"}`))
		}
	}
	rl := map[string]string{"X-Ratelimit-Limit": "60", "X-Ratelimit-Remaining": "0", "X-Ratelimit-Reset": fmt.Sprint(reset.Unix())}
	cases := []struct {
		name    string
		h       http.HandlerFunc
		url     string
		token   string
		reason  source.Reason
		retry   bool
		message string
	}{
		{"rate limited 403", status(403, rl), "", "", source.ReasonRateLimited, true, "GITHUB_TOKEN lifts"},
		{"rate limited 429", status(429, map[string]string{"Retry-After": "60"}), "", "tok", source.ReasonRateLimited, true, "retry after"},
		{"unauthorized", status(401, nil), "", "bad", source.ReasonAuth, false, "refused the token"},
		{"forbidden without rate limit", status(403, map[string]string{"X-Ratelimit-Remaining": "42"}), "", "", source.ReasonAuth, false, "set GH_TOKEN"},
		{"not found", status(404, nil), "", "", source.ReasonNoAttestation, false, "no attestation for " + d.String()},
		{"empty list", jsonBody(map[string]any{"attestations": []any{}}), "", "", source.ReasonNoAttestation, false, "no attestation for"},
		{"server error", status(502, nil), "", "", source.ReasonBadResponse, false, "HTTP 502"},
		{"not json", func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte("<html>")) }, "", "", source.ReasonBadResponse, false, "not the attestations API"},
		{"closed port", nil, closed, "", source.ReasonNetwork, false, "cannot reach"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			api := newFakeAPI(t)
			if c.h != nil {
				api.handle(attPath("o/r", d), c.h)
			}
			u := c.url
			if u == "" {
				u = api.srv.URL
			}
			g := &source.GitHub{APIURL: u, Token: c.token}
			f := g.Fetch(context.Background(), source.Scope{Repo: "o/r"}, []verify.Digest{d})[d]
			var ae *source.APIError
			if !errors.As(f.Err, &ae) {
				t.Fatalf("err = %v, want an *APIError", f.Err)
			}
			if ae.Reason != c.reason {
				t.Errorf("reason %q, want %q (%v)", ae.Reason, c.reason, f.Err)
			}
			if c.retry == ae.RetryAt.IsZero() {
				t.Errorf("RetryAt %v, want set: %v", ae.RetryAt, c.retry)
			}
			if c.name == "rate limited 403" && !ae.RetryAt.Equal(reset) {
				t.Errorf("RetryAt %v, want x-ratelimit-reset %v", ae.RetryAt, reset)
			}
			if !strings.Contains(f.Err.Error(), c.message) {
				t.Errorf("message %q does not say %q", f.Err, c.message)
			}
			if c.token != "" && c.reason == source.ReasonRateLimited && strings.Contains(f.Err.Error(), "lifts") {
				t.Errorf("message %q suggests a token, though one was sent", f.Err)
			}
		})
	}
}

func TestGitHubConcurrencyBounded(t *testing.T) {
	k := newKit(t)
	api := newFakeAPI(t)
	var inFlight, peak atomic.Int32
	var digests []verify.Digest
	for i := range 12 {
		d := digestOf([]byte(fmt.Sprint("artifact ", i)))
		digests = append(digests, d)
		api.handle(attPath("o/r", d), func(w http.ResponseWriter, r *http.Request) {
			n := inFlight.Add(1)
			for {
				p := peak.Load()
				if n <= p || peak.CompareAndSwap(p, n) {
					break
				}
			}
			time.Sleep(20 * time.Millisecond)
			inFlight.Add(-1)
			jsonBody(inline(k.msg))(w, r)
		})
	}
	g := &source.GitHub{APIURL: api.srv.URL, Concurrency: 3}
	got := g.Fetch(context.Background(), source.Scope{Repo: "o/r"}, digests)
	for _, d := range digests {
		if got[d].Err != nil || len(got[d].Bundles) != 1 {
			t.Errorf("%s: %d bundles, err %v", d, len(got[d].Bundles), got[d].Err)
		}
	}
	if p := peak.Load(); p > 3 || p < 2 {
		t.Errorf("peak concurrency %d, want 2..3 (bound 3)", p)
	}
}

func TestGitHubCancelled(t *testing.T) {
	k := newKit(t)
	api := newFakeAPI(t)
	d := digestOf(k.blob)
	block := make(chan struct{})
	defer close(block)
	api.handle(attPath("o/r", d), func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-block:
		case <-r.Context().Done():
		}
	})
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	g := &source.GitHub{APIURL: api.srv.URL}
	f := g.Fetch(ctx, source.Scope{Repo: "o/r"}, []verify.Digest{d})[d]
	if !errors.Is(f.Err, context.DeadlineExceeded) {
		t.Errorf("err = %v, want the deadline", f.Err)
	}
}
