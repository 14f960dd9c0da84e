package oci

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"golang.org/x/sync/errgroup"

	"github.com/hallmark-dev/hallmark/pkg/verify"
)

// MaxBundleSize bounds a bundle blob read from a registry.
const MaxBundleSize = verify.MaxBundleSize

// MaxReferrers bounds the referrers of one manifest that are fetched.
const MaxReferrers = 256

// Found is what refers to one manifest.
type Found struct {
	// Subject is the manifest digest looked up.
	Subject string
	// Bundles are the Sigstore bundles, in the referrers list's order.
	Bundles []Fetched
	// Skipped are the referrers that are not usable bundles, with why.
	Skipped []Skipped
}

// Fetched is one bundle read from a referrer.
type Fetched struct {
	// Referrer is the referrer manifest's descriptor (from the list).
	Referrer Descriptor
	// Origin names it for people: REPO@sha256:... of the referrer manifest.
	Origin string
	// Data is the bundle JSON, unverified.
	Data []byte
}

// Skipped is a referrer that was not read as a bundle.
type Skipped struct {
	Origin string
	Reason string
}

// ErrNotBundle: a referrer manifest is not a Sigstore bundle's, or not of
// the subject it was listed for.
var ErrNotBundle = errors.New("not a Sigstore bundle referrer")

// Bundles lists the referrers of the manifest ref names by digest (the
// referrers API, else the referrers tag schema) and fetches the Sigstore
// bundles among them: for each, its manifest and its bundle blob, both
// checked against their digests by go-containerregistry.
func (c *Client) Bundles(ctx context.Context, ref Reference) (*Found, error) {
	if ref.Digest == "" {
		return nil, errf("listing referrers of", ref, ErrReference, "a referrers lookup needs a digest; resolve the tag first")
	}
	p, err := c.puller(ctx, ref)
	if err != nil {
		return nil, err
	}
	d, ok := ref.ref.(name.Digest)
	if !ok {
		return nil, errf("listing referrers of", ref, ErrReference, "not a digest reference")
	}
	ix, err := remote.Referrers(d, remote.Reuse(p), remote.WithContext(ctx))
	if err != nil {
		return nil, wrap("listing referrers of", ref.Arg, err)
	}
	im, err := ix.IndexManifest()
	if err != nil {
		return nil, wrap("listing referrers of", ref.Arg, err)
	}
	found := &Found{Subject: ref.Digest}
	var cands []Descriptor
	for _, m := range im.Manifests {
		desc := Descriptor{MediaType: string(m.MediaType), Digest: m.Digest.String(), Size: m.Size, ArtifactType: m.ArtifactType, Annotations: m.Annotations}
		origin := ref.Repository + "@" + desc.Digest
		if !maybeBundle(m.ArtifactType) {
			found.Skipped = append(found.Skipped, Skipped{Origin: origin, Reason: fmt.Sprintf("artifact type %q is not a Sigstore bundle", m.ArtifactType)})
			continue
		}
		if len(cands) == MaxReferrers {
			found.Skipped = append(found.Skipped, Skipped{Origin: origin, Reason: fmt.Sprintf("more than %d bundle referrers: not read", MaxReferrers)})
			continue
		}
		cands = append(cands, desc)
	}
	out := make([]*Fetched, len(cands))
	skipped := make([]*Skipped, len(cands))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(4)
	var mu sync.Mutex
	var fatal error
	for i, desc := range cands {
		g.Go(func() error {
			f, err := c.fetchBundle(gctx, p, ref, desc)
			switch {
			case err == nil:
				out[i] = f
			case errors.Is(err, ErrNotBundle), errors.Is(err, ErrNotFound), errors.Is(err, ErrRegistry):
				skipped[i] = &Skipped{Origin: ref.Repository + "@" + desc.Digest, Reason: err.Error()}
			default:
				mu.Lock()
				fatal = err
				mu.Unlock()
				return err
			}
			return nil
		})
	}
	_ = g.Wait()
	if fatal != nil {
		return nil, fatal
	}
	for i := range cands {
		if out[i] != nil {
			found.Bundles = append(found.Bundles, *out[i])
		}
		if skipped[i] != nil {
			found.Skipped = append(found.Skipped, *skipped[i])
		}
	}
	return found, nil
}

// maybeBundle reports whether a referrers list entry of this artifact type
// may be a bundle: a Sigstore bundle type, or none or the empty config's
// media type, which registries that take the artifact type from the config
// (go-containerregistry's pkg/registry) or from nowhere list; the manifest
// decides for those.
func maybeBundle(artifactType string) bool {
	return strings.HasPrefix(artifactType, bundleMediaTypePrefix) || artifactType == "" || artifactType == emptyMediaType
}

const emptyMediaType = "application/vnd.oci.empty.v1+json"

// fetchBundle reads one referrer's bundle: its manifest, then the bundle
// blob the manifest names; or, when the list entry carries hallmark's
// AnnotationBundleDigest, the blob straight away (the manifest only if
// that blob is missing).
func (c *Client) fetchBundle(ctx context.Context, p *remote.Puller, subject Reference, desc Descriptor) (*Fetched, error) {
	origin := subject.Repository + "@" + desc.Digest
	if d := desc.Annotations[AnnotationBundleDigest]; maybeBundle(desc.ArtifactType) && isSHA256(d) {
		data, err := c.fetchBlob(ctx, p, subject, origin, d)
		if err == nil || !errors.Is(err, ErrNotFound) {
			if err != nil {
				return nil, err
			}
			return &Fetched{Referrer: desc, Origin: origin, Data: data}, nil
		}
	}
	md, err := p.Get(ctx, subject.ref.Context().Digest(desc.Digest))
	if err != nil {
		return nil, wrap("fetching referrer", origin, err)
	}
	layer, err := SelectBundle(md.Manifest, subject.Digest)
	if err != nil {
		return nil, err
	}
	data, err := c.fetchBlob(ctx, p, subject, origin, layer.Digest)
	if err != nil {
		return nil, err
	}
	return &Fetched{Referrer: desc, Origin: origin, Data: data}, nil
}

func isSHA256(d string) bool {
	hex, ok := strings.CutPrefix(d, "sha256:")
	return ok && len(hex) == 64 && strings.Trim(hex, "0123456789abcdef") == ""
}

// fetchBlob reads the bundle blob of digest d, at most MaxBundleSize bytes,
// checked against d by go-containerregistry as it is read.
func (c *Client) fetchBlob(ctx context.Context, p *remote.Puller, subject Reference, origin, d string) ([]byte, error) {
	l, err := p.Layer(ctx, subject.ref.Context().Digest(d))
	if err != nil {
		return nil, wrap("fetching bundle", origin, err)
	}
	rc, err := l.Compressed()
	if err != nil {
		return nil, wrap("fetching bundle", origin, err)
	}
	defer rc.Close()
	data, err := io.ReadAll(io.LimitReader(rc, MaxBundleSize+1))
	if err != nil {
		return nil, wrap("fetching bundle", origin, err)
	}
	if len(data) > MaxBundleSize {
		return nil, fmt.Errorf("%w: bundle blob %s is larger than %d bytes", ErrNotBundle, d, MaxBundleSize)
	}
	return data, nil
}

// referrerManifest is the part of an OCI image manifest SelectBundle reads.
type referrerManifest struct {
	MediaType    string `json:"mediaType"`
	ArtifactType string `json:"artifactType"`
	Config       struct {
		MediaType string `json:"mediaType"`
	} `json:"config"`
	Layers  []Descriptor `json:"layers"`
	Subject *Descriptor  `json:"subject"`
}

// SelectBundle reads a referrer manifest (untrusted registry data) and
// returns the descriptor of its bundle layer. The manifest must be an OCI
// image manifest whose subject is the manifest digest subject, whose
// artifactType (or, for older writers, config media type) is a Sigstore
// bundle's, with exactly one layer of a Sigstore bundle media type. Any
// other manifest is ErrNotBundle.
func SelectBundle(manifest []byte, subject string) (Descriptor, error) {
	var m referrerManifest
	if err := json.Unmarshal(manifest, &m); err != nil {
		return Descriptor{}, fmt.Errorf("%w: malformed manifest: %v", ErrNotBundle, err)
	}
	if m.MediaType != "" && m.MediaType != "application/vnd.oci.image.manifest.v1+json" {
		return Descriptor{}, fmt.Errorf("%w: manifest media type %q", ErrNotBundle, m.MediaType)
	}
	if m.Subject == nil {
		return Descriptor{}, fmt.Errorf("%w: the manifest has no subject", ErrNotBundle)
	}
	if m.Subject.Digest != subject {
		return Descriptor{}, fmt.Errorf("%w: its subject is %q, not %s", ErrNotBundle, m.Subject.Digest, subject)
	}
	if !strings.HasPrefix(m.ArtifactType, bundleMediaTypePrefix) && !strings.HasPrefix(m.Config.MediaType, bundleMediaTypePrefix) {
		return Descriptor{}, fmt.Errorf("%w: artifact type %q", ErrNotBundle, m.ArtifactType)
	}
	var found []Descriptor
	for _, l := range m.Layers {
		if strings.HasPrefix(l.MediaType, bundleMediaTypePrefix) {
			found = append(found, l)
		}
	}
	if len(found) != 1 {
		return Descriptor{}, fmt.Errorf("%w: %d bundle layers (want 1)", ErrNotBundle, len(found))
	}
	l := found[0]
	if !isSHA256(l.Digest) {
		return Descriptor{}, fmt.Errorf("%w: layer digest %q", ErrNotBundle, l.Digest)
	}
	if l.Size < 0 || l.Size > MaxBundleSize {
		return Descriptor{}, fmt.Errorf("%w: layer size %d (at most %d)", ErrNotBundle, l.Size, MaxBundleSize)
	}
	return l, nil
}
