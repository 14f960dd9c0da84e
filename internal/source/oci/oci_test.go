package oci_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/hallmark-dev/hallmark/internal/source/oci"
	"github.com/hallmark-dev/hallmark/internal/source/oci/ocitest"
)

func client(t testing.TB, o oci.Options) *oci.Client {
	o.AllowInsecure = true
	o.Keychain = nil
	return oci.New(o)
}

func parse(t testing.TB, s string) oci.Reference {
	t.Helper()
	r, err := oci.ParseReference(s, true)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestPushAndFindBundles(t *testing.T) {
	for _, k := range ocitest.Kinds {
		t.Run(string(k), func(t *testing.T) {
			t.Parallel()
			reg := ocitest.Start(t, k, ocitest.Options{})
			digest := reg.PushImage(t, "app:v1", ocitest.Options{})
			other := reg.PushImage(t, "app:v2", ocitest.Options{})
			c := client(t, oci.Options{})
			ctx := context.Background()

			im, err := c.Resolve(ctx, parse(t, reg.Ref("app:v1")))
			if err != nil {
				t.Fatal(err)
			}
			if im.Descriptor.Digest != digest || im.Ref.Digest != digest || im.IsIndex() {
				t.Fatalf("resolved %+v, want digest %s, an image", im.Descriptor, digest)
			}
			if want := reg.Ref("app@" + digest); im.Ref.Arg != want {
				t.Errorf("digest reference %q, want %q", im.Ref.Arg, want)
			}
			byDigest, err := c.Resolve(ctx, parse(t, reg.Ref("app@"+digest)))
			if err != nil || byDigest.Descriptor.Digest != im.Descriptor.Digest || byDigest.Descriptor.Size != im.Descriptor.Size {
				t.Fatalf("by digest: %+v, %v; want %+v", byDigest, err, im.Descriptor)
			}

			// Nothing yet: an empty list, not an error.
			f, err := c.Bundles(ctx, im.Ref)
			if err != nil || len(f.Bundles) != 0 {
				t.Fatalf("before pushing: %+v, %v", f, err)
			}

			bundles := [][]byte{[]byte(`{"first":1}`), []byte(`{"second":2}`)}
			var pushed []oci.Descriptor
			for i, b := range bundles {
				d, err := c.PushBundle(ctx, oci.Push{Subject: im, Bundle: b, Content: oci.ContentDSSE, PredicateType: fmt.Sprintf("https://example.com/p%d", i)})
				if err != nil {
					t.Fatalf("push %d: %v", i, err)
				}
				if d.ArtifactType != oci.BundleMediaType {
					t.Errorf("artifactType %q", d.ArtifactType)
				}
				pushed = append(pushed, d)
			}
			// A bundle of the other image must not show up here.
			im2, err := c.Resolve(ctx, parse(t, reg.Ref("app:v2")))
			if err != nil || im2.Descriptor.Digest != other {
				t.Fatal(err)
			}
			if _, err := c.PushBundle(ctx, oci.Push{Subject: im2, Bundle: []byte(`{"other":1}`), Content: oci.ContentMessageSignature}); err != nil {
				t.Fatal(err)
			}

			f, err = c.Bundles(ctx, im.Ref)
			if err != nil {
				t.Fatal(err)
			}
			if len(f.Bundles) != 2 || len(f.Skipped) != 0 {
				t.Fatalf("found %d bundles, %d skipped (%+v), want 2, 0", len(f.Bundles), len(f.Skipped), f.Skipped)
			}
			got := map[string]string{}
			for _, b := range f.Bundles {
				got[string(b.Data)] = b.Referrer.Annotations[oci.AnnotationPredicateType]
				if b.Referrer.Annotations[oci.AnnotationContent] != oci.ContentDSSE {
					t.Errorf("content annotation %q", b.Referrer.Annotations[oci.AnnotationContent])
				}
				if !strings.HasPrefix(b.Origin, reg.Host+"/app@sha256:") {
					t.Errorf("origin %q", b.Origin)
				}
			}
			if got[`{"first":1}`] != "https://example.com/p0" || got[`{"second":2}`] != "https://example.com/p1" {
				t.Errorf("bundles found %v", got)
			}

			// go-containerregistry's remote.Referrers (what gh and cosign
			// read) sees the same manifests, with the artifact type.
			d, _ := name.NewDigest(reg.Host+"/app@"+digest, name.Insecure)
			ix, err := remote.Referrers(d)
			if err != nil {
				t.Fatal(err)
			}
			m, err := ix.IndexManifest()
			if err != nil {
				t.Fatal(err)
			}
			if len(m.Manifests) != 2 {
				t.Fatalf("remote.Referrers lists %d manifests", len(m.Manifests))
			}
			for _, e := range m.Manifests {
				// go-containerregistry's registry lists the config's media
				// type as the artifact type (its handleReferrers ignores
				// the manifest's artifactType).
				if e.ArtifactType != oci.BundleMediaType && !(k == ocitest.GGCR && e.ArtifactType == "application/vnd.oci.empty.v1+json") {
					t.Errorf("referrer %s artifactType %q", e.Digest, e.ArtifactType)
				}
			}
			checkManifest(t, reg, pushed[0].Digest, digest)
		})
	}
}

// checkManifest reads the referrer manifest raw and checks it is laid out
// as cosign's BUNDLE_SPEC says.
func checkManifest(t *testing.T, reg *ocitest.Registry, referrer, subject string) {
	t.Helper()
	ref, _ := name.NewDigest(reg.Host+"/app@"+referrer, name.Insecure)
	d, err := remote.Get(ref)
	if err != nil {
		t.Fatal(err)
	}
	var m struct {
		MediaType    string `json:"mediaType"`
		ArtifactType string `json:"artifactType"`
		Config       struct {
			MediaType string `json:"mediaType"`
			Digest    string `json:"digest"`
			Size      int    `json:"size"`
		} `json:"config"`
		Layers []struct {
			MediaType string `json:"mediaType"`
		} `json:"layers"`
		Subject struct {
			MediaType string `json:"mediaType"`
			Digest    string `json:"digest"`
		} `json:"subject"`
		Annotations map[string]string `json:"annotations"`
	}
	if err := json.Unmarshal(d.Manifest, &m); err != nil {
		t.Fatal(err)
	}
	switch {
	case m.MediaType != "application/vnd.oci.image.manifest.v1+json":
		t.Errorf("mediaType %q", m.MediaType)
	case m.ArtifactType != oci.BundleMediaType:
		t.Errorf("artifactType %q", m.ArtifactType)
	case m.Config.MediaType != "application/vnd.oci.empty.v1+json" || m.Config.Size != 2 ||
		m.Config.Digest != "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a":
		t.Errorf("config %+v is not the empty descriptor", m.Config)
	case len(m.Layers) != 1 || m.Layers[0].MediaType != oci.BundleMediaType:
		t.Errorf("layers %+v", m.Layers)
	case m.Subject.Digest != subject || m.Subject.MediaType != "application/vnd.oci.image.manifest.v1+json":
		t.Errorf("subject %+v, want %s", m.Subject, subject)
	case m.Annotations[oci.AnnotationContent] != oci.ContentDSSE || m.Annotations[oci.AnnotationPredicateType] == "" ||
		m.Annotations["org.opencontainers.image.created"] == "":
		t.Errorf("annotations %v", m.Annotations)
	}
}

func TestIndexPlatforms(t *testing.T) {
	reg := ocitest.Start(t, ocitest.GGCR, ocitest.Options{})
	digest, plats := reg.PushIndex(t, "multi:v1", []string{"linux/amd64", "linux/arm64"}, ocitest.Options{})
	c := client(t, oci.Options{})
	im, err := c.Resolve(context.Background(), parse(t, reg.Ref("multi:v1")))
	if err != nil {
		t.Fatal(err)
	}
	if !im.IsIndex() || im.Descriptor.Digest != digest {
		t.Fatalf("resolved %+v, want the index %s", im.Descriptor, digest)
	}
	all, err := im.Platforms("")
	if err != nil || len(all) != 2 {
		t.Fatalf("platforms: %+v, %v", all, err)
	}
	arm, err := im.Platforms("linux/arm64")
	if err != nil || len(arm) != 1 || arm[0].Digest != plats[1].Digest {
		t.Fatalf("linux/arm64: %+v, %v; want %s", arm, err, plats[1].Digest)
	}
	if _, err := im.Platforms("windows/amd64"); err == nil || !strings.Contains(err.Error(), "linux/amd64, linux/arm64") {
		t.Errorf("a missing platform: %v", err)
	}
}

func TestErrorKinds(t *testing.T) {
	ctx := context.Background()
	secured := ocitest.Start(t, ocitest.Distribution, ocitest.Options{Username: "alice", Password: "s3cret"})
	secured.PushImage(t, "app:v1", ocitest.Options{Username: "alice", Password: "s3cret"})
	open := ocitest.Start(t, ocitest.GGCR, ocitest.Options{})
	open.PushImage(t, "app:v1", ocitest.Options{})
	gone := ocitest.Start(t, ocitest.GGCR, ocitest.Options{})
	gone.Close()

	cases := []struct {
		name string
		ref  string
		o    oci.Options
		want error
	}{
		{"no credentials", secured.Ref("app:v1"), oci.Options{}, oci.ErrAuth},
		{"wrong password", secured.Ref("app:v1"), oci.Options{Username: "alice", Password: "nope"}, oci.ErrAuth},
		{"right password", secured.Ref("app:v1"), oci.Options{Username: "alice", Password: "s3cret"}, nil},
		{"no such tag", open.Ref("app:v9"), oci.Options{}, oci.ErrNotFound},
		{"no such repository", open.Ref("nothing:v1"), oci.Options{}, oci.ErrNotFound},
		{"unreachable", gone.Ref("app:v1"), oci.Options{}, oci.ErrNetwork},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := client(t, tc.o).Resolve(ctx, parse(t, tc.ref))
			if tc.want == nil {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			var e *oci.Error
			if !errors.Is(err, tc.want) || !errors.As(err, &e) || e.Hint() == "" {
				t.Fatalf("err %v, want %v with a hint", err, tc.want)
			}
			for _, other := range []error{oci.ErrAuth, oci.ErrNotFound, oci.ErrNetwork} {
				if other != tc.want && errors.Is(err, other) {
					t.Errorf("err %v is also %v", err, other)
				}
			}
		})
	}
}

// TestPlainHTTPNeedsTheFlag: without AllowInsecure even a loopback registry
// is spoken to over HTTPS (go-containerregistry alone would use HTTP).
func TestPlainHTTPNeedsTheFlag(t *testing.T) {
	reg := ocitest.Start(t, ocitest.GGCR, ocitest.Options{})
	reg.PushImage(t, "app:v1", ocitest.Options{})
	ref, err := oci.ParseReference(reg.Ref("app:v1"), false)
	if err != nil {
		t.Fatal(err)
	}
	before := reg.Requests.Load()
	_, err = oci.New(oci.Options{}).Resolve(context.Background(), ref)
	if !errors.Is(err, oci.ErrNetwork) {
		t.Fatalf("err %v, want ErrNetwork (a TLS handshake with a plain HTTP server)", err)
	}
	if n := reg.Requests.Load() - before; n != 0 {
		t.Errorf("the registry served %d plain HTTP requests", n)
	}
}

func TestParseReference(t *testing.T) {
	hex := strings.Repeat("ab", 32)
	cases := []struct {
		in       string
		insecure bool
		repo     string
		tag      string
		digest   string
		bad      bool
	}{
		{in: "oci://ghcr.io/owner/app:v1", repo: "ghcr.io/owner/app", tag: "v1"},
		{in: "oci://ghcr.io/owner/app", repo: "ghcr.io/owner/app", tag: "latest"},
		{in: "oci://ghcr.io/owner/app@sha256:" + hex, repo: "ghcr.io/owner/app", digest: "sha256:" + hex},
		{in: "oci://127.0.0.1:5000/app:v1", insecure: true, repo: "127.0.0.1:5000/app", tag: "v1"},
		{in: "oci://localhost:5000/app:v1", insecure: true, repo: "localhost:5000/app", tag: "v1"},
		{in: "oci://[::1]:5000/app:v1", insecure: true, repo: "[::1]:5000/app", tag: "v1"},
		{in: "oci://10.0.0.1:5000/app:v1", insecure: true, bad: true},
		{in: "oci://registry.example.com/app:v1", insecure: true, bad: true},
		{in: "oci://alpine", bad: true},
		{in: "oci://docker.io/library/alpine:3", repo: "index.docker.io/library/alpine", tag: "3"},
		{in: "oci://library/alpine:3", bad: true},
		{in: "oci://alpine:3", bad: true},
		{in: "ghcr.io/owner/app:v1", bad: true},
		{in: "oci://ghcr.io/owner/app@sha256:abc", bad: true},
		{in: "oci://ghcr.io/Owner/app:v1", bad: true},
		{in: "oci://ghcr.io/owner/app@sha512:" + hex + hex, bad: true},
	}
	for _, tc := range cases {
		r, err := oci.ParseReference(tc.in, tc.insecure)
		if tc.bad {
			if !errors.Is(err, oci.ErrReference) {
				t.Errorf("%s: err %v, want ErrReference", tc.in, err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", tc.in, err)
			continue
		}
		if r.Repository != tc.repo || r.Tag != tc.tag || r.Digest != tc.digest || r.Arg != tc.in {
			t.Errorf("%s: %+v", tc.in, r)
		}
	}
}

// TestBundlesRoundTrips: finding a hallmark-pushed bundle costs the
// referrers list and the blob (the list's annotation names the blob), plus
// the tag-schema index on a registry without the referrers API.
func TestBundlesRoundTrips(t *testing.T) {
	want := map[ocitest.Kind][3]int64{ // referrers, manifests, blobs
		ocitest.GGCR:         {1, 0, 1},
		ocitest.Distribution: {1, 1, 1},
	}
	for _, k := range ocitest.Kinds {
		t.Run(string(k), func(t *testing.T) {
			reg := ocitest.Start(t, k, ocitest.Options{})
			reg.PushImage(t, "app:v1", ocitest.Options{})
			ct := &ocitest.CountingTransport{}
			c := client(t, oci.Options{Transport: ct})
			ctx := context.Background()
			im, err := c.Resolve(ctx, parse(t, reg.Ref("app:v1")))
			if err != nil {
				t.Fatal(err)
			}
			d, err := c.PushBundle(ctx, oci.Push{Subject: im, Bundle: []byte(`{"b":1}`), Content: oci.ContentDSSE, PredicateType: oci.CosignSignPredicateType})
			if err != nil {
				t.Fatal(err)
			}
			if d.Annotations[oci.AnnotationBundleDigest] == "" {
				t.Fatalf("no %s annotation: %v", oci.AnnotationBundleDigest, d.Annotations)
			}
			ct.Reset()
			f, err := c.Bundles(ctx, im.Ref)
			if err != nil || len(f.Bundles) != 1 || string(f.Bundles[0].Data) != `{"b":1}` {
				t.Fatalf("found %+v, %v", f, err)
			}
			got := [3]int64{ct.Referrers.Load(), ct.Manifests.Load(), ct.Blobs.Load()}
			if got != want[k] || ct.Total.Load() != got[0]+got[1]+got[2] {
				t.Errorf("%s; want referrers, manifests, blobs %v", ct, want[k])
			}
		})
	}
}

// TestSilentRegistry: a registry that accepts the request and never
// answers is a network error after the response timeout, not a hang.
func TestSilentRegistry(t *testing.T) {
	stop := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { <-stop }))
	defer srv.Close()
	defer close(stop)
	ref := parse(t, "oci://"+strings.TrimPrefix(srv.URL, "http://")+"/app:v1")
	start := time.Now()
	_, err := oci.New(oci.Options{AllowInsecure: true, ResponseTimeout: 200 * time.Millisecond}).Resolve(context.Background(), ref)
	if !errors.Is(err, oci.ErrNetwork) {
		t.Fatalf("err %v, want ErrNetwork", err)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("took %v", d)
	}
}
