package osvdb_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hallmark-dev/hallmark/internal/osvdb"
	"github.com/hallmark-dev/hallmark/pkg/scan"
)

// fakeOSV is a small osv.dev API: querybatch answers by package name (a
// second page for "paged"), vulns/{id} serves records; the first fail5xx
// requests answer 503.
func fakeOSV(t *testing.T, fail5xx int32) (*httptest.Server, *atomic.Int32, *atomic.Int32) {
	var reqs, batches atomic.Int32
	records := map[string]string{
		"OSV-1": rec("OSV-1", "npm", "lib", "2.0.0", "2026-01-01T00:00:00Z"),
		"OSV-2": rec("OSV-2", "npm", "paged", "2.0.0", "2026-01-01T00:00:00Z"),
		"OSV-3": rec("OSV-3", "npm", "paged", "2.0.0", "2026-01-01T00:00:00Z"),
		"OSV-4": rec("OSV-4", "npm", "JSONStream", "2.0.0", "2026-01-01T00:00:00Z"),
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if reqs.Add(1) <= fail5xx {
			http.Error(w, "overloaded", http.StatusServiceUnavailable)
			return
		}
		switch {
		case r.Method == http.MethodPost && r.URL.Path == "/v1/querybatch":
			batches.Add(1)
			var body struct {
				Queries []struct {
					Package   struct{ Name, Ecosystem string } `json:"package"`
					Version   string                           `json:"version"`
					PageToken string                           `json:"page_token"`
				} `json:"queries"`
			}
			if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
				http.Error(w, err.Error(), 400)
				return
			}
			type vuln struct {
				ID string `json:"id"`
			}
			type result struct {
				Vulns []vuln `json:"vulns,omitempty"`
				Next  string `json:"next_page_token,omitempty"`
			}
			var out struct {
				Results []result `json:"results"`
			}
			for _, q := range body.Queries {
				switch {
				case q.Package.Name == "JSONStream" && q.Package.Ecosystem == "npm":
					// osv.dev matches npm names exactly: the raw name is sent
					out.Results = append(out.Results, result{Vulns: []vuln{{"OSV-4"}}})
				case q.Package.Name == "lib":
					out.Results = append(out.Results, result{Vulns: []vuln{{"OSV-1"}}})
				case q.Package.Name == "paged" && q.PageToken == "":
					out.Results = append(out.Results, result{Vulns: []vuln{{"OSV-2"}}, Next: "p2"})
				case q.Package.Name == "paged":
					out.Results = append(out.Results, result{Vulns: []vuln{{"OSV-3"}}})
				default:
					out.Results = append(out.Results, result{})
				}
			}
			json.NewEncoder(w).Encode(out)
		case r.Method == http.MethodGet && strings.HasPrefix(r.URL.Path, "/v1/vulns/"):
			rec, ok := records[strings.TrimPrefix(r.URL.Path, "/v1/vulns/")]
			if !ok {
				http.NotFound(w, r)
				return
			}
			w.Write([]byte(rec))
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	return srv, &reqs, &batches
}

func TestClient(t *testing.T) {
	srv, _, batches := fakeOSV(t, 2)
	c := &osvdb.Client{BaseURL: srv.URL, BatchSize: 2, Backoff: time.Millisecond}
	pkgs := []scan.Package{
		{Ecosystem: "npm", Name: "lib", Version: "1.0.0"},
		{Ecosystem: "npm", Name: "paged", Version: "1.0.0"},
		{Ecosystem: "npm", Name: "clean", Version: "1.0.0"},
		{Ecosystem: "npm", Name: "lib", Version: "3.0.0"}, // server says affected; our matcher disagrees
		{Ecosystem: "npm", Name: "JSONStream", Version: "1.0.0"},
	}
	res, err := scan.Scan(t.Context(), c, pkgs, scan.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, f := range res.Findings {
		got = append(got, f.Package.Name+"@"+f.Package.Version+":"+f.ID)
	}
	want := []string{"lib@1.0.0:OSV-1", "paged@1.0.0:OSV-2", "paged@1.0.0:OSV-3", "JSONStream@1.0.0:OSV-4"}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("findings %v, want %v", got, want)
	}
	if n := batches.Load(); n != 3 { // 5 queries + 1 next page, 2 per batch
		t.Errorf("%d querybatch calls, want 3", n)
	}
	if !strings.HasPrefix(res.Databases[0].Source, "osv.dev API http://127.0.0.1") {
		t.Errorf("databases %+v", res.Databases)
	}
}

func TestClientErrors(t *testing.T) {
	// Always 503: gives up after the retries with the status.
	srv, reqs, _ := fakeOSV(t, 1<<30)
	c := &osvdb.Client{BaseURL: srv.URL, Retries: 2, Backoff: time.Millisecond}
	_, err := c.Query(t.Context(), []scan.Query{{Ecosystem: "npm", Name: "lib", Version: "1"}})
	if err == nil || !strings.Contains(err.Error(), "503") || reqs.Load() != 3 {
		t.Errorf("err %v after %d requests", err, reqs.Load())
	}
	// Nothing listening: ErrUnreachable.
	dead := httptest.NewServer(http.NotFoundHandler())
	url := dead.URL
	dead.Close()
	c = &osvdb.Client{BaseURL: url, Retries: 1, Backoff: time.Millisecond}
	_, err = c.Query(t.Context(), []scan.Query{{Ecosystem: "npm", Name: "lib", Version: "1"}})
	if !errors.Is(err, osvdb.ErrUnreachable) {
		t.Errorf("err = %v, want ErrUnreachable", err)
	}
	// A 4xx is not retried.
	srv2, reqs2, _ := fakeOSV(t, 0)
	c = &osvdb.Client{BaseURL: srv2.URL + "/nope", Backoff: time.Millisecond}
	_, err = c.Query(t.Context(), []scan.Query{{Ecosystem: "npm", Name: "lib", Version: "1"}})
	if err == nil || !strings.Contains(err.Error(), "404") || reqs2.Load() != 1 {
		t.Errorf("err %v after %d requests", err, reqs2.Load())
	}
}

// A host name that does not resolve is unreachable at once: no retries.
func TestClientUnresolvableHost(t *testing.T) {
	c := &osvdb.Client{BaseURL: "http://osv-api.invalid", Backoff: time.Millisecond, Retries: 2}
	_, err := c.Query(context.Background(), []scan.Query{{Ecosystem: "npm", Name: "lodash", Version: "4.17.15"}})
	if !errors.Is(err, osvdb.ErrUnreachable) {
		t.Fatalf("err = %v, want ErrUnreachable", err)
	}
}
