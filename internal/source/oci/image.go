package oci

import (
	"bytes"
	"context"
	"fmt"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// Descriptor is an OCI content descriptor: what a manifest is known by.
type Descriptor struct {
	MediaType    string            `json:"mediaType"`
	Digest       string            `json:"digest"`
	Size         int64             `json:"size"`
	ArtifactType string            `json:"artifactType,omitempty"`
	Annotations  map[string]string `json:"annotations,omitempty"`
	// Platform is os/arch[/variant] of an index's entry.
	Platform string `json:"platform,omitempty"`
}

// Image is a resolved reference: its manifest descriptor and, for an image
// index, the manifests it lists.
type Image struct {
	// Ref is the reference by digest (Ref.Digest is the manifest digest).
	Ref Reference
	// Given is the reference as given (by tag or by digest).
	Given      Reference
	Descriptor Descriptor
	// Manifests are an index's entries (nil for an image manifest).
	Manifests []Descriptor
}

// IsIndex reports whether the image is an image index (or a Docker
// manifest list): a multi-platform image.
func (im *Image) IsIndex() bool {
	mt := types.MediaType(im.Descriptor.MediaType)
	return mt == types.OCIImageIndex || mt == types.DockerManifestList
}

// Resolve fetches the manifest ref names, once: a tag is resolved to the
// digest it points at now, and that digest is what is signed or verified.
// A reference by digest is checked against the manifest's bytes.
func (c *Client) Resolve(ctx context.Context, ref Reference) (*Image, error) {
	p, err := c.puller(ctx, ref)
	if err != nil {
		return nil, err
	}
	d, err := p.Get(ctx, ref.ref)
	if err != nil {
		return nil, wrap("resolving", ref.Arg, err)
	}
	im := &Image{Given: ref, Ref: ref.WithDigest(d.Digest.String()), Descriptor: Descriptor{
		MediaType: string(d.MediaType), Digest: d.Digest.String(), Size: d.Size,
	}}
	if ref.Digest != "" && ref.Digest != im.Descriptor.Digest {
		return nil, errf("resolving", ref, ErrRegistry, "the registry served a manifest of digest %s", im.Descriptor.Digest)
	}
	switch types.MediaType(d.MediaType) {
	case types.OCIManifestSchema1, types.DockerManifestSchema2:
		if _, err := v1.ParseManifest(bytes.NewReader(d.Manifest)); err != nil {
			return nil, errf("resolving", ref, ErrRegistry, "malformed image manifest: %v", err)
		}
	case types.OCIImageIndex, types.DockerManifestList:
	default:
		return nil, errf("resolving", ref, ErrRegistry, "the registry served a document of media type %q, not an image manifest or index", d.MediaType)
	}
	if im.IsIndex() {
		ix, err := v1.ParseIndexManifest(bytes.NewReader(d.Manifest))
		if err != nil {
			return nil, errf("resolving", ref, ErrRegistry, "malformed image index: %v", err)
		}
		for _, m := range ix.Manifests {
			im.Manifests = append(im.Manifests, Descriptor{
				MediaType: string(m.MediaType), Digest: m.Digest.String(), Size: m.Size,
				ArtifactType: m.ArtifactType, Annotations: m.Annotations, Platform: platformString(m.Platform),
			})
		}
	}
	return im, nil
}

func platformString(p *v1.Platform) string {
	if p == nil {
		return ""
	}
	s := p.OS + "/" + p.Architecture
	if p.Variant != "" {
		s += "/" + p.Variant
	}
	return s
}

// Platforms are an index's platform manifests: those matching platform
// (os/arch, or os/arch/variant; "" for every platform), without the
// attestation manifests BuildKit lists as platform unknown/unknown.
func (im *Image) Platforms(platform string) ([]Descriptor, error) {
	if !im.IsIndex() {
		return nil, fmt.Errorf("%s is an image manifest (%s), not an index: it has no platforms", im.Ref.Arg, im.Descriptor.MediaType)
	}
	var out []Descriptor
	var seen []string
	for _, m := range im.Manifests {
		if m.Platform == "" || m.Platform == "unknown/unknown" || m.Annotations["vnd.docker.reference.type"] == "attestation-manifest" {
			continue
		}
		seen = append(seen, m.Platform)
		if platform == "" || m.Platform == platform || (strings.Count(platform, "/") == 1 && strings.HasPrefix(m.Platform, platform+"/")) {
			out = append(out, m)
		}
	}
	if len(out) == 0 {
		if platform == "" {
			return nil, fmt.Errorf("the index %s lists no platform manifest", im.Ref.Arg)
		}
		return nil, fmt.Errorf("the index %s has no manifest for platform %q (it has: %s)", im.Ref.Arg, platform, strings.Join(seen, ", "))
	}
	return out, nil
}
