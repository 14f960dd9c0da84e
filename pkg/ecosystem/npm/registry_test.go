package npm_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/hallmark-dev/hallmark/internal/npmtest"
	"github.com/hallmark-dev/hallmark/pkg/ecosystem/npm"
)

// TestFetchDocument checks the registry client against a local registry:
// the request path, a document, none (404), a server error, a body that is
// not a document and one too large.
func TestFetchDocument(t *testing.T) {
	k := newKit(t)
	good := k.doc(t, pkgName, pkgVersion, npmtest.SHA512(tarball), &k.workflow).Document
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.EscapedPath() {
		case "/-/npm/v1/attestations/@acme%2Fleft-pad@1.2.3":
			w.Write(good)
		case "/-/npm/v1/attestations/broken@1.0.0":
			w.WriteHeader(http.StatusInternalServerError)
		case "/-/npm/v1/attestations/junk@1.0.0":
			w.Write([]byte(`{"hello": 1}`))
		case "/-/npm/v1/attestations/huge@1.0.0":
			w.Write([]byte(`{"attestations": [` + strings.Repeat(" ", npm.MaxDocumentSize) + `]}`))
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	c := &npm.Client{HTTP: srv.Client(), Registry: srv.URL + "/"}
	p, _ := npm.ParsePackage(pkgName, pkgVersion)
	data, err := c.FetchDocument(context.Background(), p)
	if err != nil || string(data) != string(good) {
		t.Fatalf("FetchDocument = %d bytes, %v", len(data), err)
	}
	for name, want := range map[string]error{"missing": npm.ErrNoAttestations, "broken": npm.ErrRegistry, "junk": npm.ErrRegistry, "huge": npm.ErrRegistry} {
		p, _ := npm.ParsePackage(name, "1.0.0")
		if _, err := c.FetchDocument(context.Background(), p); !errors.Is(err, want) {
			t.Errorf("%s: got %v, want %v", name, err, want)
		}
	}
	if _, err := c.FetchDocument(context.Background(), npm.Package{Name: "../x", Version: "1"}); !errors.Is(err, npm.ErrPackage) {
		t.Errorf("bad name: %v", err)
	}
}
