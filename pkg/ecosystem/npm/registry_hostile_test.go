package npm_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/hallmark-dev/hallmark/internal/npmtest"
	"github.com/hallmark-dev/hallmark/pkg/ecosystem/npm"
)

// TestFetchDocumentHostile: a registry that redirects to plain HTTP, says
// nothing, sends an endless body or a body byte by byte, or answers 429,
// fails within bounded time as ErrRegistry, never with a document.
func TestFetchDocumentHostile(t *testing.T) {
	k := newKit(t)
	good := k.doc(t, pkgName, pkgVersion, npmtest.SHA512(tarball), &k.workflow).Document
	plain := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write(good) }))
	defer plain.Close()
	stop := make(chan struct{})
	defer close(stop)
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case strings.HasPrefix(r.URL.Path, "/downgrade/"):
			http.Redirect(w, r, plain.URL+r.URL.Path, http.StatusFound)
		case strings.HasPrefix(r.URL.Path, "/silent/"):
			select {
			case <-stop:
			case <-r.Context().Done():
			}
		case strings.HasPrefix(r.URL.Path, "/endless/"):
			for {
				if _, err := w.Write([]byte(strings.Repeat(" ", 1<<16))); err != nil {
					return
				}
			}
		case strings.HasPrefix(r.URL.Path, "/trickle/"):
			for {
				if _, err := w.Write([]byte(" ")); err != nil {
					return
				}
				w.(http.Flusher).Flush()
				select {
				case <-r.Context().Done():
					return
				case <-time.After(50 * time.Millisecond):
				}
			}
		case strings.HasPrefix(r.URL.Path, "/busy/"):
			w.Header().Set("Retry-After", "3600")
			w.WriteHeader(http.StatusTooManyRequests)
		case strings.HasPrefix(r.URL.Path, "/html/"):
			w.Header().Set("Content-Type", "text/html")
			w.Write([]byte("<html>"))
		}
	}))
	defer srv.Close()
	hc := srv.Client()
	hc.Timeout = 500 * time.Millisecond
	p, _ := npm.ParsePackage(pkgName, pkgVersion)
	for _, tc := range []struct{ path, want string }{
		{"downgrade", "plain HTTP"},
		{"silent", "Timeout"},
		{"endless", "larger than"},
		{"trickle", ""}, // a timeout, or the spaces read so far, which do not parse
		{"busy", "HTTP 429"},
		{"html", npm.ErrDocument.Error()},
	} {
		t.Run(tc.path, func(t *testing.T) {
			c := &npm.Client{HTTP: hc, Registry: srv.URL + "/" + tc.path}
			start := time.Now()
			data, err := c.FetchDocument(context.Background(), p)
			if !errors.Is(err, npm.ErrRegistry) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("FetchDocument = %d bytes, %v; want ErrRegistry with %q", len(data), err, tc.want)
			}
			if d := time.Since(start); d > 10*time.Second {
				t.Errorf("took %v", d)
			}
		})
	}
}
