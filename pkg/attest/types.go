package attest

import (
	"net/url"
	"strings"
)

// The predicate types hallmark knows.
const (
	TypeSLSAProvenance1 = "https://slsa.dev/provenance/v1"
	TypeSPDX            = "https://spdx.dev/Document/v2.3"
	TypeCycloneDX       = "https://cyclonedx.org/bom"
	TypeVuln            = "https://in-toto.io/attestation/vulns/v0.2"
	TypeOpenVEX         = "https://openvex.dev/ns/v0.2.0"
	TypeLink            = "https://in-toto.io/attestation/link/v0.3"
	TypeRelease         = "https://in-toto.io/attestation/release/v0.1"
	TypeVSA             = "https://slsa.dev/verification_summary/v1"
)

// spdxPrefix is shared by every SPDX document predicate type
// (https://spdx.dev/Document, .../v2.2, .../v2.3, .../v3.0...).
const spdxPrefix = "https://spdx.dev/Document"

// KnownType is one row of the predicate-type table.
type KnownType struct {
	// Name is the short name (--type NAME).
	Name string `json:"name"`
	// URI is the predicate type a statement carries.
	URI string `json:"uri"`
	// Description says what the predicate is, in a few words.
	Description string `json:"description"`
}

var knownTypes = []KnownType{
	{"slsaprovenance1", TypeSLSAProvenance1, "SLSA build provenance v1"},
	{"spdxjson", TypeSPDX, "SPDX SBOM, JSON (v2.x; v3 when the document is SPDX 3)"},
	{"cyclonedx", TypeCycloneDX, "CycloneDX SBOM, JSON"},
	{"vuln", TypeVuln, "in-toto vulnerability scan result v0.2"},
	{"openvex", TypeOpenVEX, "OpenVEX document v0.2.0"},
	{"link", TypeLink, "in-toto link v0.3: one recorded build step"},
	{"release", TypeRelease, "in-toto release v0.1"},
	{"vsa", TypeVSA, "SLSA verification summary v1"},
}

// Types returns the table of known predicate types, in a fixed order.
func Types() []KnownType { return append([]KnownType(nil), knownTypes...) }

// PredicateType resolves a short name ("slsaprovenance1", "spdxjson"...)
// or an absolute URI to a predicate-type URI. It reports false for a name
// that is neither.
func PredicateType(name string) (uri string, ok bool) {
	for _, t := range knownTypes {
		if strings.EqualFold(name, t.Name) {
			return t.URI, true
		}
	}
	if u, err := url.Parse(name); err == nil && u.IsAbs() && u.Opaque == "" && u.Host != "" {
		return name, true
	}
	return "", false
}

// ShortName returns the short name of a known predicate-type URI, or ""
// for any other. Every SPDX document type maps to "spdxjson".
func ShortName(uri string) string {
	for _, t := range knownTypes {
		if uri == t.URI {
			return t.Name
		}
	}
	if uri == spdxPrefix || strings.HasPrefix(uri, spdxPrefix+"/") {
		return "spdxjson"
	}
	return ""
}
