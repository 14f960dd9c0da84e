package oci_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hallmark-dev/hallmark/internal/source/oci"
)

// hostile is a registry on 127.0.0.1 whose manifest endpoint is h; /v2/
// answers 200 (no auth).
func hostile(t *testing.T, h http.HandlerFunc) (oci.Reference, *atomic.Int64) {
	return hostileRef(t, "app:v1", h)
}

func hostileRef(t *testing.T, repoRef string, h http.HandlerFunc) (oci.Reference, *atomic.Int64) {
	t.Helper()
	var hits atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		if r.URL.Path == "/v2/" {
			w.WriteHeader(http.StatusOK)
			return
		}
		h(w, r)
	}))
	t.Cleanup(srv.Close)
	return parse(t, "oci://"+strings.TrimPrefix(srv.URL, "http://")+"/"+repoRef), &hits
}

func sha(b []byte) string { s := sha256.Sum256(b); return "sha256:" + hex.EncodeToString(s[:]) }

const imageManifest = `{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a","size":2},"layers":[]}`

// TestHostileRegistryResolve: each answer of a hostile registry to a
// manifest request ends within bounded time as a classified error.
func TestHostileRegistryResolve(t *testing.T) {
	for _, tc := range []struct {
		name string
		ref  string // default app:v1
		h    http.HandlerFunc
		want error
	}{
		{"trickles the body byte by byte", "", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/vnd.oci.image.manifest.v1+json")
			w.WriteHeader(http.StatusOK)
			for i := 0; i < len(imageManifest); i++ {
				if _, err := w.Write([]byte{imageManifest[i]}); err != nil {
					return
				}
				w.(http.Flusher).Flush()
				select {
				case <-r.Context().Done():
					return
				case <-time.After(100 * time.Millisecond):
				}
			}
		}, oci.ErrNetwork},
		{"stalls after the headers", "", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/vnd.oci.image.manifest.v1+json")
			w.Header().Set("Content-Length", fmt.Sprint(len(imageManifest)))
			w.WriteHeader(http.StatusOK)
			w.(http.Flusher).Flush()
			<-r.Context().Done()
		}, oci.ErrNetwork},
		{"invalid JSON", "", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/vnd.oci.image.manifest.v1+json")
			fmt.Fprint(w, `{"schemaVersion":`)
		}, oci.ErrRegistry},
		{"wrong content type", "", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/html")
			fmt.Fprint(w, "<html>hello</html>")
		}, oci.ErrRegistry},
		{"digest does not match", "app@" + sha([]byte("asked for")), func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/vnd.oci.image.manifest.v1+json")
			w.Header().Set("Docker-Content-Digest", sha([]byte("other")))
			fmt.Fprint(w, imageManifest)
		}, oci.ErrRegistry},
		{"503 with Retry-After", "", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Retry-After", "3600")
			w.WriteHeader(http.StatusServiceUnavailable)
		}, oci.ErrRegistry},
		{"429 with Retry-After", "", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Retry-After", "3600")
			w.WriteHeader(http.StatusTooManyRequests)
		}, oci.ErrRegistry},
		{"redirect to plain http elsewhere", "", func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, "http://192.0.2.1:1/v2/app/manifests/v1", http.StatusTemporaryRedirect)
		}, oci.ErrNetwork},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.ref == "" {
				tc.ref = "app:v1"
			}
			ref, _ := hostileRef(t, tc.ref, tc.h)
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			start := time.Now()
			_, err := oci.New(oci.Options{AllowInsecure: true, ResponseTimeout: 300 * time.Millisecond}).Resolve(ctx, ref)
			if d := time.Since(start); d > 10*time.Second {
				t.Errorf("took %v", d)
			}
			if ctx.Err() != nil {
				t.Fatalf("ran into the test's deadline: %v", err)
			}
			if !errors.Is(err, tc.want) {
				t.Fatalf("err %v, want %v", err, tc.want)
			}
		})
	}
}
