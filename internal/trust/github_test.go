package trust_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hallmark-dev/hallmark/internal/trust"
	"github.com/hallmark-dev/hallmark/internal/tuftest"
)

func sha256Of(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// proxy serves repo through a server that can rewrite 1.root.json, and
// records the paths asked for.
type proxy struct {
	URL   string
	mu    sync.Mutex
	paths []string
}

func newProxy(t *testing.T, repo *tuftest.Repo, rewriteRoot func([]byte) []byte) *proxy {
	t.Helper()
	p := &proxy{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p.mu.Lock()
		p.paths = append(p.paths, r.URL.Path)
		p.mu.Unlock()
		resp, err := http.Get(repo.URL + r.URL.Path)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		if r.URL.Path == "/1.root.json" && rewriteRoot != nil {
			body = rewriteRoot(body)
		}
		w.WriteHeader(resp.StatusCode)
		_, _ = w.Write(body)
	}))
	t.Cleanup(srv.Close)
	p.URL = srv.URL
	return p
}

func (p *proxy) requested() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.paths...)
}

// TestBootstrapPinnedRoot: a TUF repository whose initial root has the
// pinned SHA-256 is accepted, then used offline from the kept copy; one
// whose root differs by a byte (a space, which leaves its signatures
// valid) is refused before any other metadata is fetched or trusted.
func TestBootstrapPinnedRoot(t *testing.T) {
	good := newTrustedRootJSON(t)
	repo := tuftest.New(t, map[string][]byte{trust.TrustedRootTarget: good})
	c := &clock{time.Now()}
	pin := &trust.Bootstrap{Name: "1.root.json", SHA256: sha256Of(repo.RootJSON)}

	t.Run("pinned root accepted", func(t *testing.T) {
		p := newProxy(t, repo, nil)
		o := trust.Options{CacheDir: t.TempDir(), MirrorURL: p.URL, Bootstrap: pin, MaxAge: time.Hour, Now: c.Now}
		r, err := trust.Load(context.Background(), o)
		if err != nil {
			t.Fatal(err)
		}
		if r.Source.Kind != "tuf" || !bytes.Equal(r.JSON, good) {
			t.Fatalf("source %+v, root %d bytes; want the repository's trusted root through TUF", r.Source, len(r.JSON))
		}
		o.Offline = true
		n := len(p.requested())
		r, err = trust.Load(context.Background(), o)
		if err != nil || r.Source.Kind != "cache" {
			t.Fatalf("offline: %v, %+v; want the cache", err, r)
		}
		if len(p.requested()) != n {
			t.Errorf("the offline load made %d requests", len(p.requested())-n)
		}
	})

	t.Run("root differing by a byte refused", func(t *testing.T) {
		p := newProxy(t, repo, func(b []byte) []byte { return append([]byte(" "), b...) })
		o := trust.Options{CacheDir: t.TempDir(), MirrorURL: p.URL, Bootstrap: pin, Now: c.Now}
		_, err := trust.Load(context.Background(), o)
		if !errors.Is(err, trust.ErrBootstrap) || !strings.Contains(err.Error(), "want the pinned "+pin.SHA256) {
			t.Fatalf("err = %v, want ErrBootstrap naming the pinned hash", err)
		}
		if got := p.requested(); len(got) != 1 || got[0] != "/1.root.json" {
			t.Errorf("requests = %q, want the root only", got)
		}
		if entries, _ := os.ReadDir(o.CacheDir); len(entries) != 0 {
			t.Errorf("the cache holds %d entries after a refused root, want none", len(entries))
		}
	})

	t.Run("offline before the first fetch", func(t *testing.T) {
		o := trust.Options{CacheDir: t.TempDir(), MirrorURL: repo.URL, Bootstrap: pin, Offline: true, Now: c.Now}
		if _, err := trust.Load(context.Background(), o); !errors.Is(err, trust.ErrNoCachedRoot) {
			t.Fatalf("err = %v, want ErrNoCachedRoot", err)
		}
	})

	t.Run("kept copy tampered", func(t *testing.T) {
		o := trust.Options{CacheDir: t.TempDir(), MirrorURL: repo.URL, Bootstrap: pin, MaxAge: time.Hour, Now: c.Now}
		if _, err := trust.Load(context.Background(), o); err != nil {
			t.Fatal(err)
		}
		matches, _ := filepath.Glob(filepath.Join(o.CacheDir, "trust", "*", "bootstrap", "*.root.json"))
		if len(matches) != 1 {
			t.Fatalf("kept bootstrap roots: %q, want one", matches)
		}
		if err := os.WriteFile(matches[0], append(repo.RootJSON, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
		o.Offline = true
		if _, err := trust.Load(context.Background(), o); !errors.Is(err, trust.ErrBadCache) {
			t.Fatalf("err = %v, want ErrBadCache", err)
		}
	})
}

// TestGitHubOptions: GitHub's mirror and pin are the defaults; a test's
// mirror and root replace them.
func TestGitHubOptions(t *testing.T) {
	o := trust.GitHubOptions(trust.Options{TrustedRootPath: "x"})
	if o.MirrorURL != trust.GitHubMirror || o.Bootstrap == nil || o.Bootstrap.SHA256 != trust.GitHubRootSHA256 || o.TrustedRootPath != "" {
		t.Fatalf("GitHubOptions = %+v", o)
	}
	o = trust.GitHubOptions(trust.Options{MirrorURL: "http://127.0.0.1:1", InitialRoot: []byte("{}")})
	if o.Bootstrap != nil {
		t.Fatalf("a given initial root is replaced by the pin: %+v", o)
	}
}

// TestLoadFilesJSONL: a file may hold one trusted root (any layout) or
// JSONL of several, as gh attestation trusted-root writes.
func TestLoadFilesJSONL(t *testing.T) {
	a, b := newTrustedRootJSON(t), newTrustedRootJSON(t)
	dir := t.TempDir()
	write := func(name string, data []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	compact := func(j []byte) []byte {
		var buf bytes.Buffer
		if err := jsonCompact(&buf, j); err != nil {
			t.Fatal(err)
		}
		return buf.Bytes()
	}
	jsonl := append(append(append(compact(a), '\n'), compact(b)...), '\n')
	cases := []struct {
		name  string
		paths []string
		n     int
		want  string // error substring
	}{
		{"one pretty root", []string{write("one.json", a)}, 1, ""},
		{"JSONL of two", []string{write("two.jsonl", jsonl)}, 2, ""},
		{"two files", []string{write("a.json", a), write("b.jsonl", jsonl)}, 3, ""},
		{"a bad line", []string{write("bad.jsonl", append(jsonl, []byte("{\"mediaType\": 1}\n")...))}, 0, "line 3"},
		{"empty", []string{write("empty.jsonl", []byte("\n\n"))}, 0, "parsing trusted root"},
		{"blank lines only between", []string{write("blank.jsonl", []byte("\n \n\n{}x\n"))}, 0, "line 4"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rs, err := trust.LoadFiles(context.Background(), c.paths)
			if c.want != "" {
				if err == nil || !strings.Contains(err.Error(), c.want) {
					t.Fatalf("err = %v, want %q", err, c.want)
				}
				return
			}
			if err != nil || len(rs) != c.n {
				t.Fatalf("got %d roots, %v; want %d", len(rs), err, c.n)
			}
		})
	}
}

func jsonCompact(dst *bytes.Buffer, src []byte) error { return json.Compact(dst, src) }

// FuzzLoadFiles: a --trusted-root file, one root or JSONL of roots, never
// panics, and whatever it accepts is a list of parsed roots, one a line of
// JSONL at most. Seeded from a generated root (pretty and JSONL) and, when
// ../shared is there, GitHub's real trusted root.
func FuzzLoadFiles(f *testing.F) {
	gen := newTrustedRootJSON(f)
	var compact bytes.Buffer
	if err := json.Compact(&compact, gen); err != nil {
		f.Fatal(err)
	}
	seeds := [][]byte{gen, append(append(compact.Bytes(), '\n'), compact.Bytes()...)}
	if data, err := os.ReadFile(filepath.Join("..", "..", "..", "shared", "fixtures", "ecosystems", "github", "roots", "github-trusted-root.json")); err == nil {
		seeds = append(seeds, data)
	} else {
		f.Logf("../shared absent: seeding without GitHub's trusted root (%v)", err)
	}
	for _, s := range seeds {
		f.Add(s)
	}
	if len(seeds) < 2 {
		f.Fatal("no seeds")
	}
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, data []byte) {
		p := filepath.Join(dir, "roots")
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		rs, err := trust.LoadFiles(context.Background(), []string{p})
		if err != nil {
			if rs != nil {
				t.Fatalf("roots %v with error %v", rs, err)
			}
			return
		}
		if len(rs) == 0 || len(rs) > bytes.Count(data, []byte("\n"))+1 {
			t.Fatalf("%d roots from %d lines", len(rs), bytes.Count(data, []byte("\n"))+1)
		}
		for _, r := range rs {
			if r.Trusted == nil || len(r.JSON) == 0 {
				t.Fatalf("an empty root: %+v", r.Source)
			}
		}
	})
}
