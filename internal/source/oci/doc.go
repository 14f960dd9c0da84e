// Package oci is where bundles come from when they live in an OCI registry
// next to a container image (or any OCI artifact): it resolves a reference
// to the manifest digest once, pushes a Sigstore bundle as an OCI 1.1
// referrer of that manifest exactly as cosign's BUNDLE_SPEC lays it out, and
// lists and fetches the Sigstore bundles that refer to a manifest.
//
// It lives under internal/source because, like the bundle files and GitHub's
// attestations API of package source, it only finds bundles: package
// hallmark/pkg/verify verifies them, and nothing read from a registry is
// trusted before that.
//
// The registry protocol is not written here: manifests and referrers are
// pushed with oras-go v2 (which also keeps the referrers tag schema,
// sha256-HEX, on a registry without the referrers API), and everything is
// read with go-containerregistry's remote package (whose Referrers falls
// back to that tag the same way).
//
// # What is read
//
// A referrer is a bundle when its artifactType is a Sigstore bundle media
// type (application/vnd.dev.sigstore.bundle...): its manifest must name the
// image as its subject and hold one bundle layer, whose blob is the bundle
// JSON (at most MaxBundleSize bytes). A referrer hallmark pushed also names
// its bundle blob in an annotation (AnnotationBundleDigest), which
// registries copy into the referrers list: that blob is then fetched without
// the manifest, so a verify costs one referrers list and one blob per image.
// The blob is checked against its digest, and the bundle, like every bundle,
// only counts once pkg/verify has verified it against the image digest; a
// list entry that lies about the blob gains nothing. Other referrers (SBOMs pushed by other
// tools, cosign v2's OCI 1.1 experimental signatures) are listed as skipped.
//
// cosign v2's legacy tags are read too, but only when no Sigstore bundle
// refers to the image (so that they cost nothing otherwise): each layer of
// sha256-HEX.sig (a simple-signing payload, its signature, certificate and
// Rekor bundle in annotations) and of sha256-HEX.att (a DSSE envelope) is
// turned into cosign's legacy bundle JSON for package cosignbundle, which
// makes a Sigstore bundle of it. A .sig signature covers the payload, not
// the image: CheckSimpleSigning then requires the payload to name the
// image's digest.
//
// # Registry access
//
// Credentials come from the Docker config and its credential helpers
// (go-containerregistry's default keychain), or a username and password.
// Plain HTTP is used only for a loopback registry (localhost, 127.0.0.1,
// [::1]) and only when Options.AllowInsecure says so; every other request
// goes over HTTPS, even to the addresses go-containerregistry would
// otherwise talk plain HTTP to (RFC 1918 networks).
package oci
