package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"time"

	"github.com/klauspost/compress/s2"
	"github.com/rogpeppe/go-internal/testscript"

	"github.com/hallmark-dev/hallmark/internal/source"
	"github.com/hallmark-dev/hallmark/pkg/verify"
)

// cmdGHAPI starts a GitHub attestations API for this script at $GHAPI_URL
// ("ghapi MODE FILE..."): it serves the bundles in FILEs (single bundles or
// JSONL) under /repos/OWNER/NAME/attestations/DIGEST and
// /orgs/OWNER/attestations/DIGEST for every digest they cover, whatever the
// owner, one attestation per page linked by Link headers. MODE is inline
// (bundles in the response), snappy (bundle: null and a snappy bundle_url),
// ratelimit (403, limit exhausted, reset in an hour) or auth (401).
func cmdGHAPI(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 1 {
		ts.Fatalf("usage: ghapi inline|snappy|ratelimit|auth FILE...")
	}
	mode := args[0]
	ix := source.NewIndex()
	for _, f := range args[1:] {
		bs, err := source.ReadFile(context.Background(), ts.MkAbs(f))
		ts.Check(err)
		ix.Add(bs...)
	}
	// The handler reads srv.URL: the server starts only once srv is set.
	var srv *httptest.Server
	srv = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch mode {
		case "ratelimit":
			w.Header().Set("X-Ratelimit-Limit", "60")
			w.Header().Set("X-Ratelimit-Remaining", "0")
			w.Header().Set("X-Ratelimit-Reset", strconv.FormatInt(time.Now().Add(time.Hour).Unix(), 10))
			http.Error(w, `{"message":"API rate limit exceeded"}`, http.StatusForbidden)
			return
		case "auth":
			http.Error(w, `{"message":"Bad credentials"}`, http.StatusUnauthorized)
			return
		}
		if rest, ok := strings.CutPrefix(r.URL.Path, "/blob/"); ok {
			d, n, _ := strings.Cut(rest, "/")
			i, _ := strconv.Atoi(n)
			bs := lookup(ix, d)
			if i < 0 || i >= len(bs) {
				http.NotFound(w, r)
				return
			}
			_, _ = w.Write(s2.EncodeSnappy(nil, bs[i].Raw))
			return
		}
		i := strings.LastIndex(r.URL.Path, "/attestations/")
		if i < 0 {
			http.NotFound(w, r)
			return
		}
		d := r.URL.Path[i+len("/attestations/"):]
		bs := lookup(ix, d)
		if len(bs) == 0 {
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
			w.Header().Set("Link", fmt.Sprintf(`<%s%s?page=%d>; rel="next"`, srv.URL, r.URL.Path, page+1))
		}
		entry := map[string]any{"repository_id": 1, "bundle": json.RawMessage(bs[page-1].Raw)}
		if mode == "snappy" {
			entry["bundle"], entry["bundle_url"] = nil, fmt.Sprintf("%s/blob/%s/%d?sig=secret", srv.URL, d, page-1)
		}
		data, _ := json.Marshal(map[string]any{"attestations": []any{entry}})
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(data)
	}))
	srv.Start()
	ts.Defer(srv.Close)
	ts.Setenv("GHAPI_URL", srv.URL)
}

func lookup(ix *source.Index, d string) []*source.Bundle {
	alg, hex, ok := strings.Cut(d, ":")
	if !ok {
		return nil
	}
	return ix.Lookup(verify.Digest{Algorithm: alg, Value: hex})
}
