package npm

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/sigstore/sigstore-go/pkg/bundle"

	"github.com/hallmark-dev/hallmark/pkg/verify"
)

// Bounds on untrusted input.
const (
	// MaxDocumentSize is the largest attestations document read (the
	// registry's are about 15 KB).
	MaxDocumentSize = 4 << 20
	// maxAttestations bounds the entries of a document.
	maxAttestations = 16
)

// Document is the registry's attestations document of one package version.
type Document struct {
	// Publish is the registry's publish attestation.
	Publish *bundle.Bundle
	// Provenance is the SLSA provenance, nil when the package has none.
	Provenance *bundle.Bundle
	// ProvenanceType is the provenance's declared predicate type.
	ProvenanceType string
}

// ErrDocument is wrapped by the errors of a document that does not parse.
var ErrDocument = errors.New("not an npm attestations document")

// ParseDocument reads an attestations document,
// {"attestations": [{"predicateType": ..., "bundle": {...}}, ...]}: one
// publish attestation and at most one SLSA provenance; entries of other
// predicate types are ignored. The predicate types it declares are checked
// against the verified statements later. The error wraps ErrDocument, and
// a bundle that is not one is also a *verify.RejectedError
// (CauseMalformed).
func ParseDocument(data []byte) (*Document, error) {
	if len(data) > MaxDocumentSize {
		return nil, fmt.Errorf("%w: %d bytes, more than %d", ErrDocument, len(data), MaxDocumentSize)
	}
	var raw struct {
		Attestations []struct {
			PredicateType string          `json:"predicateType"`
			Bundle        json.RawMessage `json:"bundle"`
		} `json:"attestations"`
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&raw); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrDocument, err)
	}
	if dec.More() {
		return nil, fmt.Errorf("%w: data after the document", ErrDocument)
	}
	switch n := len(raw.Attestations); {
	case raw.Attestations == nil:
		return nil, fmt.Errorf("%w: no \"attestations\" array", ErrDocument)
	case n > maxAttestations:
		return nil, fmt.Errorf("%w: %d attestations, more than %d", ErrDocument, n, maxAttestations)
	}
	d := &Document{}
	for i, a := range raw.Attestations {
		var slot **bundle.Bundle
		switch a.PredicateType {
		case PublishPredicateType:
			slot = &d.Publish
		case ProvenanceV1, ProvenanceV02:
			slot = &d.Provenance
			d.ProvenanceType = a.PredicateType
		default:
			continue
		}
		if *slot != nil {
			return nil, fmt.Errorf("%w: attestation %d: a second %s attestation", ErrDocument, i+1, a.PredicateType)
		}
		if len(a.Bundle) == 0 || bytes.Equal(a.Bundle, []byte("null")) {
			return nil, fmt.Errorf("%w: attestation %d (%s) has no bundle", ErrDocument, i+1, a.PredicateType)
		}
		b, err := verify.ParseBundle(a.Bundle)
		if err != nil {
			return nil, fmt.Errorf("%w: attestation %d (%s): %w", ErrDocument, i+1, a.PredicateType, err)
		}
		*slot = b
	}
	if d.Publish == nil {
		return nil, fmt.Errorf("%w: no publish attestation (%s)", ErrDocument, PublishPredicateType)
	}
	return d, nil
}

// Package is the package the publish attestation's predicate names, read
// without verifying anything: for a caller that has a tarball and its
// document but not the package's name. Verify then checks that the
// verified statements name it, with the tarball's digest.
func (d *Document) Package() (Package, error) {
	env := d.Publish.GetDsseEnvelope()
	if env == nil {
		return Package{}, fmt.Errorf("%w: the publish attestation has no DSSE envelope", ErrDocument)
	}
	var st struct {
		Predicate struct {
			Name    string `json:"name"`
			Version string `json:"version"`
		} `json:"predicate"`
	}
	if err := json.Unmarshal(env.GetPayload(), &st); err != nil {
		return Package{}, fmt.Errorf("%w: the publish statement does not parse: %v", ErrDocument, err)
	}
	return ParsePackage(st.Predicate.Name, st.Predicate.Version)
}
