package attest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	cdx "github.com/CycloneDX/cyclonedx-go"
	linkv0 "github.com/in-toto/attestation/go/predicates/link/v0"
	provenancev1 "github.com/in-toto/attestation/go/predicates/provenance/v1"
	releasev0 "github.com/in-toto/attestation/go/predicates/release/v0"
	vsav1 "github.com/in-toto/attestation/go/predicates/vsa/v1"
	vulnsv02 "github.com/in-toto/attestation/go/predicates/vulns/v02"
	spdxjson "github.com/spdx/tools-golang/json"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/structpb"
)

// known reports whether uri is a predicate type Validate checks.
func known(uri string) bool { return ShortName(uri) != "" }

// ReadPredicate checks data as a predicate of type typ (a short name or a
// URI) and returns it, with the predicate-type URI to record: for SPDX the
// document's own version decides (https://spdx.dev/Document/v2.2, v2.3,
// v3.0). Known types are validated: a predicate that is not a JSON object,
// or not that predicate's shape, is a *PredicateError naming the field.
// Other types need only be a JSON object.
func ReadPredicate(typ string, data []byte) (*structpb.Struct, string, error) {
	uri, ok := PredicateType(typ)
	if !ok {
		return nil, "", fmt.Errorf("%w: %q", ErrType, typ)
	}
	if len(data) > MaxDocumentSize {
		return nil, "", fieldErr(uri, "", fmt.Errorf("larger than %d bytes", MaxDocumentSize))
	}
	var doc map[string]any
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if err := dec.Decode(&doc); err != nil || doc == nil {
		if err == nil {
			err = errNotJSON
		}
		return nil, "", fieldErr(uri, "", fmt.Errorf("not a JSON object: %w", err))
	}
	if dec.More() {
		return nil, "", fieldErr(uri, "", errors.New("not a JSON object: data after the object"))
	}
	uri, err := validate(uri, data, doc)
	if err != nil {
		return nil, "", err
	}
	st := &structpb.Struct{}
	if err := protojson.Unmarshal(data, st); err != nil {
		return nil, "", fieldErr(uri, "", err)
	}
	return st, uri, nil
}

// Validate checks data as a predicate of type typ; see ReadPredicate.
func Validate(typ string, data []byte) error {
	_, _, err := ReadPredicate(typ, data)
	return err
}

// lenient reads a predicate into its in-toto Go type: unknown fields are
// allowed (predicates may be extended), wrong types are not.
var lenient = protojson.UnmarshalOptions{DiscardUnknown: true}

func validate(uri string, data []byte, doc map[string]any) (string, error) {
	switch ShortName(uri) {
	case "slsaprovenance1":
		return uri, validateSLSA(uri, data, doc)
	case "spdxjson":
		return validateSPDX(uri, data, doc)
	case "cyclonedx":
		return uri, validateCycloneDX(uri, data, doc)
	case "vuln":
		return uri, validateProto(uri, data, doc, &vulnsv02.Vulns{}, "scanner.uri")
	case "openvex":
		return uri, validateOpenVEX(uri, doc)
	case "link":
		return uri, validateProto(uri, data, doc, &linkv0.Link{}, "name")
	case "release":
		return uri, validateProto(uri, data, doc, &releasev0.Release{}, "purl")
	case "vsa":
		if err := validateProto(uri, data, doc, &vsav1.VerificationSummary{}, "verifier.id", "resourceUri", "verificationResult"); err != nil {
			return uri, err
		}
		if r := str(doc, "verificationResult"); r != "PASSED" && r != "FAILED" {
			return uri, fieldErr(uri, "verificationResult", fmt.Errorf("%q is not PASSED or FAILED", r))
		}
	}
	return uri, nil
}

// lookup follows a dotted path of object keys.
func lookup(doc map[string]any, path string) (any, bool) {
	var cur any = doc
	for _, k := range strings.Split(path, ".") {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil, false
		}
		if cur, ok = m[k]; !ok {
			return nil, false
		}
	}
	return cur, true
}

func str(doc map[string]any, path string) string {
	v, _ := lookup(doc, path)
	s, _ := v.(string)
	return s
}

// require checks that each path is a non-empty string.
func require(uri string, doc map[string]any, paths ...string) error {
	for _, p := range paths {
		v, ok := lookup(doc, p)
		if !ok {
			return fieldErr(uri, p, errMissing)
		}
		s, isStr := v.(string)
		if !isStr {
			return fieldErr(uri, p, fmt.Errorf("not a string"))
		}
		if s == "" {
			return fieldErr(uri, p, errMissing)
		}
	}
	return nil
}

// validateProto checks required fields by name, then the whole predicate
// against its in-toto Go type.
func validateProto(uri string, data []byte, doc map[string]any, m proto.Message, required ...string) error {
	if err := require(uri, doc, required...); err != nil {
		return err
	}
	if err := lenient.Unmarshal(data, m); err != nil {
		return fieldErr(uri, "", protoErr(err))
	}
	return nil
}

// protoErr drops protojson's "proto: " prefix; its message names the field.
func protoErr(err error) error {
	return errors.New(strings.TrimPrefix(strings.ReplaceAll(err.Error(), "\u00a0", " "), "proto: "))
}

func validateSLSA(uri string, data []byte, doc map[string]any) error {
	if err := require(uri, doc, "buildDefinition.buildType", "runDetails.builder.id"); err != nil {
		return err
	}
	p := &provenancev1.Provenance{}
	if err := lenient.Unmarshal(data, p); err != nil {
		return fieldErr(uri, "", protoErr(err))
	}
	if err := p.Validate(); err != nil {
		field := ""
		switch {
		case errors.Is(err, provenancev1.ErrExternalParamsRequired):
			field = "buildDefinition.externalParameters"
		case errors.Is(err, provenancev1.ErrBuildTypeRequired):
			field = "buildDefinition.buildType"
		case errors.Is(err, provenancev1.ErrBuilderIdRequired):
			field = "runDetails.builder.id"
		}
		if field != "" {
			return fieldErr(uri, field, errMissing)
		}
		return fieldErr(uri, "", err)
	}
	return nil
}

// SPDX 3 documents are JSON-LD; spdx/tools-golang reads SPDX 2 only, so
// an SPDX 3 document is checked for its context and graph.
const spdx3Context = "https://spdx.org/rdf/3."

func validateSPDX(uri string, data []byte, doc map[string]any) (string, error) {
	if ctx, ok := doc["@context"]; ok {
		c, _ := ctx.(string)
		if !strings.HasPrefix(c, spdx3Context) {
			return uri, fieldErr(uri, "@context", fmt.Errorf("%q is not an SPDX 3 context (%s...)", c, spdx3Context))
		}
		if g, ok := doc["@graph"].([]any); !ok || len(g) == 0 {
			return uri, fieldErr(uri, "@graph", errMissing)
		}
		return spdxPrefix + "/v3.0", nil
	}
	if err := require(uri, doc, "spdxVersion", "SPDXID", "name"); err != nil {
		return uri, err
	}
	v := str(doc, "spdxVersion")
	minor, ok := strings.CutPrefix(v, "SPDX-2.")
	if !ok || (minor != "1" && minor != "2" && minor != "3") {
		return uri, fieldErr(uri, "spdxVersion", fmt.Errorf("%q is not SPDX-2.1, SPDX-2.2 or SPDX-2.3", v))
	}
	if _, err := spdxjson.Read(bytes.NewReader(data)); err != nil {
		return uri, fieldErr(uri, "", err)
	}
	return spdxPrefix + "/v2." + minor, nil
}

func validateCycloneDX(uri string, data []byte, doc map[string]any) error {
	if err := require(uri, doc, "bomFormat", "specVersion"); err != nil {
		return err
	}
	if f := str(doc, "bomFormat"); f != "CycloneDX" {
		return fieldErr(uri, "bomFormat", fmt.Errorf("%q is not CycloneDX", f))
	}
	var bom cdx.BOM
	if err := cdx.NewBOMDecoder(bytes.NewReader(data), cdx.BOMFileFormatJSON).Decode(&bom); err != nil {
		return fieldErr(uri, "", err)
	}
	if bom.SpecVersion < cdx.SpecVersion1_0 || bom.SpecVersion > cdx.SpecVersion1_7 {
		return fieldErr(uri, "specVersion", fmt.Errorf("%q is not a CycloneDX version", str(doc, "specVersion")))
	}
	return nil
}

func validateOpenVEX(uri string, doc map[string]any) error {
	if err := require(uri, doc, "@context"); err != nil {
		return err
	}
	if c := str(doc, "@context"); !strings.HasPrefix(c, "https://openvex.dev/ns") {
		return fieldErr(uri, "@context", fmt.Errorf("%q is not an OpenVEX context (https://openvex.dev/ns...)", c))
	}
	sts, ok := doc["statements"].([]any)
	if !ok {
		return fieldErr(uri, "statements", errMissing)
	}
	for i, s := range sts {
		m, ok := s.(map[string]any)
		if !ok {
			return fieldErr(uri, fmt.Sprintf("statements[%d]", i), errNotJSON)
		}
		if err := require(uri, m, "status"); err != nil {
			var pe *PredicateError
			errors.As(err, &pe)
			pe.Field = fmt.Sprintf("statements[%d].%s", i, pe.Field)
			return pe
		}
	}
	return nil
}
