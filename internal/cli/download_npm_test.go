package cli

import (
	"crypto/sha512"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
)

// TestDownloadNPMStopsWhenTheRegistryFails: a registry that answers 429
// (or 503, or is unreachable) for every package stops the download after
// the fetches under way, not after one request per package (a minute
// each for a silent one); the rest are counted as not fetched, exit 1.
func TestDownloadNPMStopsWhenTheRegistryFails(t *testing.T) {
	const packages = 200
	for _, status := range []int{http.StatusTooManyRequests, http.StatusServiceUnavailable} {
		t.Run(fmt.Sprint(status), func(t *testing.T) {
			var requests atomic.Int64
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				requests.Add(1)
				w.Header().Set("Retry-After", "3600")
				w.WriteHeader(status)
			}))
			defer srv.Close()
			dir := t.TempDir()
			pk := map[string]any{"": map[string]string{"name": "app"}}
			for i := range packages {
				sum := sha512.Sum512([]byte(fmt.Sprint(i)))
				pk[fmt.Sprintf("node_modules/p%d", i)] = map[string]string{"version": "1.0.0", "integrity": "sha512-" + base64.StdEncoding.EncodeToString(sum[:])}
			}
			data, err := json.Marshal(map[string]any{"lockfileVersion": 3, "packages": pk})
			if err != nil {
				t.Fatal(err)
			}
			lockfile := filepath.Join(dir, "package-lock.json")
			if err := os.WriteFile(lockfile, data, 0o644); err != nil {
				t.Fatal(err)
			}
			out := filepath.Join(dir, "out")
			if err := os.Mkdir(out, 0o755); err != nil {
				t.Fatal(err)
			}
			r := runHallmark(t, "", "download", "--preset", "npm", "--lockfile", lockfile, "--registry", srv.URL, "--dir", out)
			if r.code != ExitError {
				t.Fatalf("exit %d, want %d\n%s", r.code, ExitError, r.stderr)
			}
			if n := requests.Load(); n > 2*npmFetchers {
				t.Errorf("%d requests to a registry that refused the first, want at most %d", n, 2*npmFetchers)
			}
			if !strings.Contains(r.stderr, "package(s) not fetched: the registry is failing (registry error: unavailable: ") ||
				!strings.Contains(r.stderr, fmt.Sprintf("HTTP %d, retry after \"3600\"", status)) {
				t.Errorf("stderr:\n%s", r.stderr)
			}
			if strings.Count(r.stderr, "hallmark: error:") > 2*npmFetchers+1 {
				t.Errorf("%d error lines", strings.Count(r.stderr, "hallmark: error:"))
			}
			if entries, _ := os.ReadDir(out); len(entries) != 0 {
				t.Errorf("wrote %d files", len(entries))
			}
		})
	}
}
