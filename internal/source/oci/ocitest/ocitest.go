// Package ocitest runs real OCI registries in the test process, for the
// tests of package oci, the CLI and the benchmarks: go-containerregistry's
// pkg/registry with the OCI 1.1 referrers API, and the CNCF distribution v3
// registry (in-memory storage), which has no referrers API, so that clients
// fall back to the referrers tag schema. It also pushes random images and
// multi-platform indexes, and counts requests. Test-only: production code
// must never import it.
package ocitest

import (
	"context"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/distribution/distribution/v3/configuration"
	"github.com/distribution/distribution/v3/registry/handlers"
	_ "github.com/distribution/distribution/v3/registry/storage/driver/inmemory" // the in-memory storage driver
	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/static"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/sirupsen/logrus"
)

// Kind is a registry implementation.
type Kind string

const (
	// GGCR is go-containerregistry's registry with the referrers API on.
	GGCR Kind = "ggcr"
	// Distribution is distribution/distribution v3: no referrers API.
	Distribution Kind = "distribution"
)

// Kinds are both registries, for table tests.
var Kinds = []Kind{GGCR, Distribution}

// Registry is a registry on 127.0.0.1.
type Registry struct {
	Kind Kind
	// Host is 127.0.0.1:PORT.
	Host string
	// Requests counts the requests the registry served.
	Requests atomic.Int64
	server   *httptest.Server
}

// Options change a registry.
type Options struct {
	// Username and Password, when set, are required (HTTP basic auth) on
	// every request.
	Username, Password string
}

// Start runs a registry of kind k until the test ends.
func Start(tb testing.TB, k Kind, o Options) *Registry {
	tb.Helper()
	var h http.Handler
	switch k {
	case GGCR:
		h = registry.New(registry.WithReferrersSupport(true), registry.Logger(log.New(io.Discard, "", 0)))
	case Distribution:
		logrus.SetOutput(io.Discard)
		cfg := &configuration.Configuration{
			Storage: configuration.Storage{
				"inmemory":    configuration.Parameters{},
				"delete":      configuration.Parameters{"enabled": true},
				"maintenance": configuration.Parameters{"uploadpurging": map[any]any{"enabled": false}},
			},
		}
		cfg.Log.Level = "error"
		cfg.Log.AccessLog.Disabled = true
		h = handlers.NewApp(context.Background(), cfg)
	default:
		tb.Fatalf("unknown registry kind %q", k)
	}
	r := &Registry{Kind: k}
	inner := h
	h = http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		r.Requests.Add(1)
		if o.Username != "" {
			u, p, ok := req.BasicAuth()
			if !ok || u != o.Username || p != o.Password {
				w.Header().Set("WWW-Authenticate", `Basic realm="ocitest"`)
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(http.StatusUnauthorized)
				_, _ = io.WriteString(w, `{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}`)
				return
			}
		}
		inner.ServeHTTP(w, req)
	})
	r.server = httptest.NewServer(h)
	tb.Cleanup(r.server.Close)
	r.Host = strings.TrimPrefix(r.server.URL, "http://")
	return r
}

// Ref is the oci:// reference of repo:tag (or repo@digest) in the
// registry.
func (r *Registry) Ref(repoAndTag string) string { return "oci://" + r.Host + "/" + repoAndTag }

// Close stops the registry (to test an unreachable one).
func (r *Registry) Close() { r.server.Close() }

func (r *Registry) options(o Options) []remote.Option {
	opts := []remote.Option{}
	if o.Username != "" {
		opts = append(opts, remote.WithAuth(&authn.Basic{Username: o.Username, Password: o.Password}))
	}
	return opts
}

// PushImage pushes a random image (layers random bytes) as repo:tag and
// returns its manifest digest.
func (r *Registry) PushImage(tb testing.TB, repoTag string, o Options) string {
	tb.Helper()
	img, err := random.Image(512, 2)
	if err != nil {
		tb.Fatal(err)
	}
	img = mutate.MediaType(img, types.OCIManifestSchema1)
	img = mutate.ConfigMediaType(img, types.OCIConfigJSON)
	ref, err := name.ParseReference(r.Host+"/"+repoTag, name.Insecure)
	if err != nil {
		tb.Fatal(err)
	}
	if err := remote.Write(ref, img, r.options(o)...); err != nil {
		tb.Fatalf("pushing %s: %v", ref, err)
	}
	d, err := img.Digest()
	if err != nil {
		tb.Fatal(err)
	}
	return d.String()
}

// Platform is one manifest of a multi-platform index.
type Platform struct {
	OS, Architecture string
	// Digest is filled in by PushIndex.
	Digest string
}

// PushIndex pushes an image index of one random image per platform as
// repo:tag, and returns the index digest and the platforms with their
// manifest digests.
func (r *Registry) PushIndex(tb testing.TB, repoTag string, platforms []string, o Options) (string, []Platform) {
	tb.Helper()
	var ix v1.ImageIndex = empty.Index
	ix = mutate.IndexMediaType(ix, types.OCIImageIndex)
	var out []Platform
	for _, p := range platforms {
		osName, arch, ok := strings.Cut(p, "/")
		if !ok {
			tb.Fatalf("platform %q: want os/arch", p)
		}
		img, err := random.Image(256, 1)
		if err != nil {
			tb.Fatal(err)
		}
		img = mutate.MediaType(img, types.OCIManifestSchema1)
		img = mutate.ConfigMediaType(img, types.OCIConfigJSON)
		d, err := img.Digest()
		if err != nil {
			tb.Fatal(err)
		}
		ix = mutate.AppendManifests(ix, mutate.IndexAddendum{Add: img, Descriptor: v1.Descriptor{
			MediaType: types.OCIManifestSchema1, Platform: &v1.Platform{OS: osName, Architecture: arch},
		}})
		out = append(out, Platform{OS: osName, Architecture: arch, Digest: d.String()})
	}
	ref, err := name.ParseReference(r.Host+"/"+repoTag, name.Insecure)
	if err != nil {
		tb.Fatal(err)
	}
	if err := remote.WriteIndex(ref, ix, r.options(o)...); err != nil {
		tb.Fatalf("pushing %s: %v", ref, err)
	}
	d, err := ix.Digest()
	if err != nil {
		tb.Fatal(err)
	}
	return d.String(), out
}

// CountingTransport counts the requests it sends, by kind.
type CountingTransport struct {
	Base http.RoundTripper
	// Total, and by kind: the referrers API, manifests (by tag or digest,
	// the referrers tag schema too), blobs, the /v2/ ping, the rest.
	Total, Referrers, Manifests, Blobs, Ping, Other atomic.Int64
}

func (c *CountingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	c.Total.Add(1)
	p := req.URL.Path
	switch {
	case strings.Contains(p, "/referrers/"):
		c.Referrers.Add(1)
	case strings.Contains(p, "/manifests/"):
		c.Manifests.Add(1)
	case strings.Contains(p, "/blobs/"):
		c.Blobs.Add(1)
	case p == "/v2/" || p == "/v2":
		c.Ping.Add(1)
	default:
		c.Other.Add(1)
	}
	base := c.Base
	if base == nil {
		base = http.DefaultTransport
	}
	return base.RoundTrip(req)
}

// String is the counts, for logs.
func (c *CountingTransport) String() string {
	return fmt.Sprintf("%d requests: %d referrers, %d manifests, %d blobs, %d pings, %d other",
		c.Total.Load(), c.Referrers.Load(), c.Manifests.Load(), c.Blobs.Load(), c.Ping.Load(), c.Other.Load())
}

// Reset zeroes the counters.
func (c *CountingTransport) Reset() {
	for _, n := range []*atomic.Int64{&c.Total, &c.Referrers, &c.Manifests, &c.Blobs, &c.Ping, &c.Other} {
		n.Store(0)
	}
}

// LegacyLayer is one layer of a cosign v2 legacy signature image.
type LegacyLayer struct {
	MediaType   string
	Data        []byte
	Annotations map[string]string
}

// PushLegacy pushes an image of the given layers as repo:tag, the way
// cosign v2 stores signatures (tag sha256-HEX.sig) and attestations
// (sha256-HEX.att).
func (r *Registry) PushLegacy(tb testing.TB, repoTag string, layers []LegacyLayer) {
	tb.Helper()
	img := mutate.MediaType(empty.Image, types.OCIManifestSchema1)
	img = mutate.ConfigMediaType(img, types.OCIConfigJSON)
	for _, l := range layers {
		var err error
		img, err = mutate.Append(img, mutate.Addendum{Layer: static.NewLayer(l.Data, types.MediaType(l.MediaType)), Annotations: l.Annotations})
		if err != nil {
			tb.Fatal(err)
		}
	}
	ref, err := name.ParseReference(r.Host+"/"+repoTag, name.Insecure)
	if err != nil {
		tb.Fatal(err)
	}
	if err := remote.Write(ref, img); err != nil {
		tb.Fatalf("pushing %s: %v", ref, err)
	}
}
