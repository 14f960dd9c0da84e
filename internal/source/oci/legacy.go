package oci

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// The annotations of cosign v2's legacy signature layers.
const (
	annotationSignature   = "dev.cosignproject.cosign/signature"
	annotationCertificate = "dev.sigstore.cosign/certificate"
	annotationRekorBundle = "dev.sigstore.cosign/bundle"
	// simpleSigningType is the critical.type of cosign's signed payload.
	simpleSigningType = "cosign container image signature"
)

// maxLegacyLayers bounds the layers of one legacy tag that are read.
const maxLegacyLayers = 64

// LegacySignature is one layer of cosign v2's legacy sha256-HEX.sig or
// .att tag, turned into cosign's legacy bundle JSON (base64Signature, cert,
// rekorBundle), which package cosignbundle reads.
type LegacySignature struct {
	// Origin names it: REPO:sha256-HEX.sig#N (N the layer, from 1).
	Origin string
	// Legacy is the cosign legacy bundle JSON.
	Legacy []byte
	// Payload is a .sig layer's simple-signing payload, which is what was
	// signed (CheckSimpleSigning says which image it names); nil for a
	// .att layer, whose signature is a DSSE envelope about the image.
	Payload []byte
}

// LegacySignatures reads cosign v2's legacy tags of the manifest ref names
// by digest: sha256-HEX.sig (signatures of a simple-signing payload) and
// sha256-HEX.att (DSSE attestations). A tag that does not exist adds
// nothing; a layer that is not a signature is skipped.
func (c *Client) LegacySignatures(ctx context.Context, ref Reference) ([]LegacySignature, error) {
	if ref.Digest == "" {
		return nil, errf("reading legacy cosign tags of", ref, ErrReference, "a digest is needed")
	}
	p, err := c.puller(ctx, ref)
	if err != nil {
		return nil, err
	}
	var out []LegacySignature
	for _, suffix := range []string{".sig", ".att"} {
		tag := strings.Replace(ref.Digest, ":", "-", 1) + suffix
		origin := ref.Repository + ":" + tag
		d, err := p.Get(ctx, ref.ref.Context().Tag(tag))
		if errors.Is(wrap("", "", err), ErrNotFound) {
			continue
		}
		if err != nil {
			return out, wrap("reading", origin, err)
		}
		m, err := v1.ParseManifest(bytes.NewReader(d.Manifest))
		if err != nil {
			continue // not an image manifest: not cosign's
		}
		for i, l := range m.Layers {
			if i == maxLegacyLayers {
				break
			}
			data, err := c.fetchBlob(ctx, p, ref, origin, l.Digest.String())
			if errors.Is(err, ErrNotBundle) || errors.Is(err, ErrNotFound) {
				continue
			}
			if err != nil {
				return out, err
			}
			ls, ok := legacyLayer(l.Annotations, data, suffix == ".att")
			if !ok {
				continue
			}
			ls.Origin = fmt.Sprintf("%s#%d", origin, i+1)
			out = append(out, ls)
		}
	}
	return out, nil
}

// legacyLayer turns one legacy layer (its annotations and blob) into
// cosign's legacy bundle JSON.
func legacyLayer(ann map[string]string, blob []byte, attestation bool) (LegacySignature, bool) {
	lj := struct {
		Base64Signature string          `json:"base64Signature"`
		Cert            string          `json:"cert,omitempty"`
		RekorBundle     json.RawMessage `json:"rekorBundle,omitempty"`
	}{}
	var ls LegacySignature
	if attestation {
		// The blob is the DSSE envelope; cosignbundle reads an envelope
		// given as the signature.
		lj.Base64Signature = base64.StdEncoding.EncodeToString(blob)
	} else {
		sig, ok := ann[annotationSignature]
		if !ok || sig == "" {
			return ls, false
		}
		lj.Base64Signature = sig
		ls.Payload = blob
	}
	if cert := ann[annotationCertificate]; cert != "" {
		lj.Cert = base64.StdEncoding.EncodeToString([]byte(cert))
	}
	if rb := ann[annotationRekorBundle]; rb != "" {
		if !json.Valid([]byte(rb)) {
			return ls, false
		}
		lj.RekorBundle = json.RawMessage(rb)
	}
	data, err := json.Marshal(lj)
	if err != nil {
		return ls, false
	}
	ls.Legacy = data
	return ls, true
}

// ErrPayload: a legacy signature's simple-signing payload does not name
// the image.
var ErrPayload = errors.New("the signed payload is not about this image")

// CheckSimpleSigning reads cosign's simple-signing payload (untrusted until
// its signature is verified, and even then only what it says counts) and
// checks that it is a container image signature of the manifest digest.
func CheckSimpleSigning(payload []byte, digest string) error {
	var p struct {
		Critical struct {
			Image struct {
				Digest string `json:"docker-manifest-digest"`
			} `json:"image"`
			Type string `json:"type"`
		} `json:"critical"`
	}
	if err := json.Unmarshal(payload, &p); err != nil {
		return fmt.Errorf("%w: malformed payload: %v", ErrPayload, err)
	}
	if !strings.EqualFold(p.Critical.Type, simpleSigningType) {
		return fmt.Errorf("%w: its type is %q, not %q", ErrPayload, p.Critical.Type, simpleSigningType)
	}
	if p.Critical.Image.Digest != digest {
		return fmt.Errorf("%w: it names the image %q, not %s", ErrPayload, p.Critical.Image.Digest, digest)
	}
	return nil
}
