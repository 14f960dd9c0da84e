// Package pypi verifies PyPI's PEP 740 attestations (the index-hosted
// attestations of https://packaging.python.org/en/latest/specifications/index-hosted-attestations/)
// on top of pkg/verify, with the rules of pypi-attestations:
//
//   - a document is a provenance object ({"version": 1,
//     "attestation_bundles": [{"publisher": ..., "attestations": [...]}]},
//     what PyPI's Integrity API serves) or a single attestation object
//     (*.publish.attestation, *.attestation): see [Parse];
//   - each attestation (certificate, transparency log entries, a DSSE
//     envelope split into statement and signature) is turned into a
//     Sigstore bundle ([Attestation.Bundle]) and verified by pkg/verify
//     against the trust root (the public-good one for PyPI);
//   - its in-toto statement must have exactly one subject, named as the
//     distribution is ([ParseFilename] and [Filename.Equal]: wheel and
//     sdist names are compared parsed and normalised) and carrying the
//     distribution's sha256, and a predicate type PyPI accepts
//     ([PublishPredicateType], [SLSAProvenancePredicateType]);
//   - the signer must be the Trusted Publisher ([Publisher]): a GitHub
//     Actions workflow of a repository (the certificate's Build Config URI,
//     ref not pinned), a GitLab CI/CD pipeline (its "//" path), or a Google
//     Cloud service account.
//
// The publisher a provenance object names is not signed: [Verify] never
// takes it for the policy. It only adds what the certificate must then show
// too, and it is what a caller can show a user who gave no publisher.
package pypi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
)

// The predicate types PyPI accepts in attestations.
const (
	PublishPredicateType        = "https://docs.pypi.org/attestations/publish/v1"
	SLSAProvenancePredicateType = "https://slsa.dev/provenance/v1"
)

// MaxDocumentSize is the largest document Parse reads: PyPI's provenance
// objects are a few kilobytes per attestation.
const MaxDocumentSize = 16 << 20

// ErrMalformed is wrapped by every error of a document that is neither a
// provenance object nor an attestation object.
var ErrMalformed = errors.New("malformed PEP 740 document")

// Attestation is a PEP 740 attestation object.
type Attestation struct {
	Version              int                  `json:"version"`
	VerificationMaterial VerificationMaterial `json:"verification_material"`
	Envelope             Envelope             `json:"envelope"`
}

// VerificationMaterial is an attestation's certificate and log entries.
type VerificationMaterial struct {
	// Certificate is the signing certificate, DER (base64 in JSON).
	Certificate []byte `json:"certificate"`
	// TransparencyEntries are Rekor TransparencyLogEntry messages in
	// protobuf JSON; at least one.
	TransparencyEntries []json.RawMessage `json:"transparency_entries"`
	// Timestamps are RFC 3161 timestamp responses (base64 in JSON), the
	// optional field proposed for Rekor v2 entries, which carry no time
	// (pypa/packaging.python.org#1936, pypi/pypi-attestations#143).
	Timestamps [][]byte `json:"timestamps,omitempty"`
}

// Envelope is a DSSE envelope split apart: the in-toto statement (payload
// type application/vnd.in-toto+json) and its one signature.
type Envelope struct {
	Statement []byte `json:"statement"`
	Signature []byte `json:"signature"`
}

// AttestationBundle is one publisher's attestations in a provenance
// object.
type AttestationBundle struct {
	// Publisher is what the index says published the attestations. It is
	// NOT signed; nil for a lone attestation object.
	Publisher    *Publisher    `json:"publisher,omitempty"`
	Attestations []Attestation `json:"attestations"`
}

// Document is a parsed provenance or attestation object.
type Document struct {
	// Kind is "provenance" or "attestation".
	Kind    string              `json:"kind"`
	Bundles []AttestationBundle `json:"attestationBundles"`
}

// Count is the number of attestations in the document.
func (d *Document) Count() int {
	n := 0
	for _, b := range d.Bundles {
		n += len(b.Attestations)
	}
	return n
}

// Claimed is the first publisher the document names (unsigned), or nil.
func (d *Document) Claimed() *Publisher {
	for _, b := range d.Bundles {
		if b.Publisher != nil {
			return b.Publisher
		}
	}
	return nil
}

func malformed(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrMalformed, fmt.Sprintf(format, args...))
}

// Parse reads a provenance object or a single attestation object. Fields
// it does not know are ignored, as pypi-attestations' models do; the
// version of each object must be 1, and every attestation needs a
// certificate, at least one log entry, a statement and a signature.
func Parse(data []byte) (*Document, error) {
	if len(data) > MaxDocumentSize {
		return nil, malformed("the document is larger than %d bytes", MaxDocumentSize)
	}
	var probe map[string]json.RawMessage
	if err := json.Unmarshal(data, &probe); err != nil {
		return nil, malformed("not a JSON object: %s", jsonError(data, err))
	}
	_, isProvenance := probe["attestation_bundles"]
	_, isAttestation := probe["verification_material"]
	switch {
	case isProvenance && isAttestation:
		return nil, malformed("the object has both attestation_bundles (a provenance object) and verification_material (an attestation object)")
	case isProvenance:
		var p struct {
			Version *int `json:"version"`
			Bundles []struct {
				Publisher    *wirePublisher `json:"publisher"`
				Attestations []Attestation  `json:"attestations"`
			} `json:"attestation_bundles"`
		}
		if err := json.Unmarshal(data, &p); err != nil {
			return nil, malformed("provenance object: %s", jsonError(data, err))
		}
		if p.Version == nil || *p.Version != 1 {
			return nil, malformed("provenance object: version %s, want 1", versionText(p.Version))
		}
		doc := &Document{Kind: "provenance"}
		for i, b := range p.Bundles {
			if b.Publisher == nil {
				return nil, malformed("attestation bundle %d has no publisher", i+1)
			}
			pub, err := b.Publisher.publisher()
			if err != nil {
				return nil, malformed("attestation bundle %d: %v", i+1, err)
			}
			for j := range b.Attestations {
				if err := b.Attestations[j].check(); err != nil {
					return nil, malformed("attestation bundle %d, attestation %d: %v", i+1, j+1, err)
				}
			}
			doc.Bundles = append(doc.Bundles, AttestationBundle{Publisher: &pub, Attestations: b.Attestations})
		}
		return doc, nil
	case isAttestation:
		var a Attestation
		if err := json.Unmarshal(data, &a); err != nil {
			return nil, malformed("attestation object: %s", jsonError(data, err))
		}
		if err := a.check(); err != nil {
			return nil, malformed("attestation object: %v", err)
		}
		return &Document{Kind: "attestation", Bundles: []AttestationBundle{{Attestations: []Attestation{a}}}}, nil
	}
	return nil, malformed("the object has neither attestation_bundles (a provenance object) nor verification_material (an attestation object)")
}

func versionText(v *int) string {
	if v == nil {
		return "missing"
	}
	return fmt.Sprint(*v)
}

func (a *Attestation) check() error {
	switch {
	case a.Version != 1:
		return fmt.Errorf("version %d, want 1", a.Version)
	case len(a.VerificationMaterial.Certificate) == 0:
		return errors.New("no certificate")
	case len(a.VerificationMaterial.TransparencyEntries) == 0:
		return errors.New("no transparency log entry")
	case len(a.Envelope.Statement) == 0:
		return errors.New("no statement")
	case len(a.Envelope.Signature) == 0:
		return errors.New("no signature")
	}
	return nil
}

// jsonError says where JSON went wrong: line and column for a syntax
// error, the field for a type error.
func jsonError(data []byte, err error) string {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		line, col := position(data, syn.Offset)
		return fmt.Sprintf("%s (line %d, column %d)", syn.Error(), line, col)
	case errors.As(err, &typ):
		line, col := position(data, typ.Offset)
		field := typ.Field
		if field == "" {
			field = "the value"
		}
		if typ.Type != nil && typ.Type.Kind() == reflect.Slice && typ.Type.Elem().Kind() == reflect.Uint8 {
			return fmt.Sprintf("%s is not valid base64 (line %d, column %d)", field, line, col)
		}
		return fmt.Sprintf("%s is %s, want %s (line %d, column %d)", field, typ.Value, typ.Type, line, col)
	}
	return err.Error()
}

func position(data []byte, offset int64) (line, col int) {
	offset = min(max(offset, 0), int64(len(data)))
	before := data[:offset]
	line = bytes.Count(before, []byte("\n")) + 1
	col = int(offset) - bytes.LastIndexByte(before, '\n')
	return line, col
}
