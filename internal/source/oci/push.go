package oci

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"time"

	godigest "github.com/opencontainers/go-digest"
	"github.com/opencontainers/image-spec/specs-go"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"oras.land/oras-go/v2/content"
	"oras.land/oras-go/v2/errdef"
	"oras.land/oras-go/v2/registry/remote"
)

// The media type and annotations of cosign's BUNDLE_SPEC.
const (
	// BundleMediaType is the artifactType of a bundle's referrer manifest
	// and the media type of its one layer, the bundle JSON.
	BundleMediaType = "application/vnd.dev.sigstore.bundle.v0.3+json"
	// bundleMediaTypePrefix matches every Sigstore bundle media type
	// (v0.3 and the older application/vnd.dev.sigstore.bundle+json;version=...).
	bundleMediaTypePrefix = "application/vnd.dev.sigstore.bundle"
	// AnnotationContent is "message-signature" or "dsse-envelope".
	AnnotationContent = "dev.sigstore.bundle.content"
	// AnnotationPredicateType is the DSSE statement's predicate type.
	AnnotationPredicateType = "dev.sigstore.bundle.predicateType"
	// AnnotationBundleDigest is hallmark's own annotation, the digest of
	// the bundle layer: registries copy a referrer manifest's annotations
	// into the referrers list, so a reader can fetch the bundle blob
	// straight from the list, without the manifest. It is a shortcut, not
	// a claim: the blob is checked against its digest and the bundle
	// verified against the image like any other.
	AnnotationBundleDigest  = "com.github.hallmark-dev.bundle.digest"
	ContentMessageSignature = "message-signature"
	ContentDSSE             = "dsse-envelope"
	// CosignSignPredicateType is the predicate type of cosign v3's image
	// signatures (--new-bundle-format): a DSSE statement whose subject is
	// the manifest digest and whose predicate is empty. hallmark signs
	// images the same way, so that cosign verify accepts them.
	CosignSignPredicateType = "https://sigstore.dev/cosign/sign/v1"
)

// Push describes one bundle to push as a referrer of Subject.
type Push struct {
	// Subject is the manifest the bundle is about.
	Subject *Image
	// Bundle is the bundle JSON.
	Bundle []byte
	// Content is ContentDSSE or ContentMessageSignature; PredicateType the
	// statement's predicate type (DSSE only).
	Content, PredicateType string
	// Created is the creation time annotation (default now).
	Created time.Time
}

// PushBundle uploads the bundle as a blob and a referrer manifest of the
// subject: artifactType and layer media type BundleMediaType, the empty
// config, subject = the image's descriptor, the BUNDLE_SPEC annotations. On
// a registry without the referrers API, oras-go adds the manifest to the
// referrers tag schema index (tag sha256-HEX of the subject). It returns the
// referrer manifest's descriptor.
func (c *Client) PushBundle(ctx context.Context, p Push) (Descriptor, error) {
	ref := p.Subject.Ref
	repo, err := remote.NewRepository(ref.Repository)
	if err != nil {
		return Descriptor{}, errf("pushing a bundle to", ref, ErrReference, "%v", err)
	}
	repo.Client = c.oras
	repo.PlainHTTP = ref.insecure && IsLoopback(ref.Registry)
	// Old referrers indexes are left untagged rather than deleted: deleting
	// needs a permission (and a registry setting) that pushing does not.
	repo.SkipReferrersGC = true

	layer := content.NewDescriptorFromBytes(BundleMediaType, p.Bundle)
	if err := repo.Push(ctx, layer, bytes.NewReader(p.Bundle)); err != nil {
		return Descriptor{}, wrap("pushing a bundle to", ref.Arg, err)
	}
	created := p.Created
	if created.IsZero() {
		created = time.Now()
	}
	ann := map[string]string{
		AnnotationContent:         p.Content,
		ocispec.AnnotationCreated: created.UTC().Format(time.RFC3339),
	}
	if p.PredicateType != "" {
		ann[AnnotationPredicateType] = p.PredicateType
	}
	ann[AnnotationBundleDigest] = layer.Digest.String()
	subject := ocispec.Descriptor{
		MediaType: p.Subject.Descriptor.MediaType,
		Digest:    godigest.Digest(p.Subject.Descriptor.Digest),
		Size:      p.Subject.Descriptor.Size,
	}
	// The manifest is built here rather than by oras.PackManifest: the
	// oras-go root package costs every hallmark start a quarter of a
	// millisecond of package init (its regexps) for this one call.
	config := ocispec.DescriptorEmptyJSON
	config.Data = nil
	if _, done := c.emptyConfig.Load(ref.Repository); !done {
		if err := pushIfAbsent(ctx, repo, config, ocispec.DescriptorEmptyJSON.Data); err != nil {
			return Descriptor{}, wrap("pushing a bundle to", ref.Arg, err)
		}
		c.emptyConfig.Store(ref.Repository, true)
	}
	manifest, err := json.Marshal(ocispec.Manifest{
		Versioned:    specs.Versioned{SchemaVersion: 2},
		MediaType:    ocispec.MediaTypeImageManifest,
		ArtifactType: BundleMediaType,
		Config:       config,
		Layers:       []ocispec.Descriptor{layer},
		Subject:      &subject,
		Annotations:  ann,
	})
	if err != nil {
		return Descriptor{}, err
	}
	m := content.NewDescriptorFromBytes(ocispec.MediaTypeImageManifest, manifest)
	m.ArtifactType, m.Annotations = BundleMediaType, ann
	// oras-go keeps the referrers tag schema index of the subject when the
	// registry does not index the subject itself.
	if err := repo.Push(ctx, m, bytes.NewReader(manifest)); err != nil {
		return Descriptor{}, wrap("pushing a bundle to", ref.Arg, err)
	}
	return Descriptor{MediaType: m.MediaType, Digest: m.Digest.String(), Size: m.Size, ArtifactType: m.ArtifactType, Annotations: m.Annotations}, nil
}

func pushIfAbsent(ctx context.Context, repo *remote.Repository, d ocispec.Descriptor, data []byte) error {
	ok, err := repo.Exists(ctx, d)
	if err != nil || ok {
		return err
	}
	if err := repo.Push(ctx, d, bytes.NewReader(data)); err != nil && !errors.Is(err, errdef.ErrAlreadyExists) {
		return err
	}
	return nil
}
