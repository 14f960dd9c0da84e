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

// TestCredentialsStayWithTheRegistry: a registry that redirects the
// manifest request to another host (or answers 401 naming a token realm
// on another host over plain HTTP) does not get the credentials sent
// there.
func TestCredentialsStayWithTheRegistry(t *testing.T) {
	var leaked atomic.Value
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if a := r.Header.Get("Authorization"); a != "" {
			leaked.Store(r.URL.Path + ": " + a)
		}
		w.Header().Set("Content-Type", "application/vnd.oci.image.manifest.v1+json")
		fmt.Fprint(w, imageManifest)
	}))
	defer other.Close()
	// The other host by another name: localhost, not 127.0.0.1.
	otherURL := strings.Replace(other.URL, "127.0.0.1", "localhost", 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if u, p, ok := r.BasicAuth(); !ok || u != "alice" || p != "s3cret" {
			w.Header().Set("WWW-Authenticate", `Basic realm="test"`)
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		if r.URL.Path == "/v2/" {
			return
		}
		http.Redirect(w, r, otherURL+r.URL.Path, http.StatusTemporaryRedirect)
	}))
	defer srv.Close()
	ref := parse(t, "oci://"+strings.TrimPrefix(srv.URL, "http://")+"/app:v1")
	_, err := oci.New(oci.Options{AllowInsecure: true, Username: "alice", Password: "s3cret", ResponseTimeout: time.Second}).Resolve(context.Background(), ref)
	if err != nil {
		t.Fatalf("Resolve through the redirect: %v", err)
	}
	if l := leaked.Load(); l != nil {
		t.Errorf("the credentials followed the redirect to %s: %v", otherURL, l)
	}
}

// TestHostileReferrers: a referrers list of 10,000 bundle referrers reads
// at most MaxReferrers of them; a list entry that names the subject itself
// (a manifest that refers to itself) or an index is skipped as not a
// bundle, never followed.
func TestHostileReferrers(t *testing.T) {
	subject := sha([]byte(imageManifest))
	const n = 10000
	var entries []string
	for i := range n {
		entries = append(entries, fmt.Sprintf(`{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"%s","size":2,"artifactType":"application/vnd.dev.sigstore.bundle.v0.3+json"}`, sha([]byte(fmt.Sprint(i)))))
	}
	entries = append(entries,
		`{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"`+subject+`","size":2,"artifactType":"application/vnd.dev.sigstore.bundle.v0.3+json"}`)
	list := `{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[` + strings.Join(entries, ",") + `]}`
	var manifests atomic.Int64
	ref, _ := hostileRef(t, "app@"+subject, func(w http.ResponseWriter, r *http.Request) {
		switch {
		case strings.HasPrefix(r.URL.Path, "/v2/app/referrers/"):
			w.Header().Set("Content-Type", "application/vnd.oci.image.index.v1+json")
			fmt.Fprint(w, list)
		case strings.HasPrefix(r.URL.Path, "/v2/app/manifests/"):
			manifests.Add(1)
			w.Header().Set("Content-Type", "application/vnd.oci.image.manifest.v1+json")
			fmt.Fprint(w, imageManifest) // no subject: not a bundle referrer
		default:
			http.NotFound(w, r)
		}
	})
	start := time.Now()
	found, err := oci.New(oci.Options{AllowInsecure: true, ResponseTimeout: time.Second}).Bundles(context.Background(), ref)
	if err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d > 20*time.Second {
		t.Errorf("took %v", d)
	}
	if len(found.Bundles) != 0 || len(found.Skipped) != n+1 {
		t.Errorf("%d bundles, %d skipped, want 0 and %d", len(found.Bundles), len(found.Skipped), n+1)
	}
	if m := manifests.Load(); m > oci.MaxReferrers {
		t.Errorf("%d referrer manifests fetched, at most %d wanted", m, oci.MaxReferrers)
	}
}

// TestHugeManifest: a manifest or referrers list without end, or one that
// announces more than MaxManifestSize, is refused after reading at most
// about MaxManifestSize bytes (go-containerregistry alone reads 100 MiB).
func TestHugeManifest(t *testing.T) {
	for _, announce := range []bool{false, true} {
		t.Run(fmt.Sprintf("announced=%v", announce), func(t *testing.T) {
			var sent atomic.Int64
			ref, _ := hostile(t, func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/vnd.oci.image.manifest.v1+json")
				if announce {
					w.Header().Set("Content-Length", fmt.Sprint(200<<20))
				}
				chunk := []byte(strings.Repeat(" ", 1<<16))
				for sent.Load() < 200<<20 {
					n, err := w.Write(chunk)
					sent.Add(int64(n))
					if err != nil {
						return
					}
				}
			})
			_, err := oci.New(oci.Options{AllowInsecure: true, ResponseTimeout: 2 * time.Second}).Resolve(context.Background(), ref)
			if !errors.Is(err, oci.ErrRegistry) || !strings.Contains(err.Error(), "a manifest may have") {
				t.Fatalf("err %v, want ErrRegistry about the size", err)
			}
			if s := sent.Load(); s > 3*(4<<20) {
				t.Errorf("the registry sent %d bytes, want at most about %d", s, 4<<20)
			}
		})
	}
}

// TestEndlessPing: go-containerregistry drains the body of the /v2/ ping;
// an endless one is cut like a manifest, not read for the five minutes of
// the total timeout.
func TestEndlessPing(t *testing.T) {
	var sent atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/v2/" {
			http.NotFound(w, r)
			return
		}
		chunk := []byte(strings.Repeat(" ", 1<<16))
		for sent.Load() < 1<<30 {
			n, err := w.Write(chunk)
			sent.Add(int64(n))
			if err != nil {
				return
			}
		}
	}))
	defer srv.Close()
	ref := parse(t, "oci://"+strings.TrimPrefix(srv.URL, "http://")+"/app:v1")
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	_, err := oci.New(oci.Options{AllowInsecure: true, ResponseTimeout: 10 * time.Second}).Resolve(ctx, ref)
	if ctx.Err() != nil {
		t.Fatalf("ran into the test's deadline after %d bytes: %v", sent.Load(), err)
	}
	if !errors.Is(err, oci.ErrNotFound) {
		t.Errorf("err %v, want ErrNotFound (the manifest)", err)
	}
	if s := sent.Load(); s > 3*oci.MaxManifestSize {
		t.Errorf("the registry sent %d bytes, want at most about %d", s, oci.MaxManifestSize)
	}
}
