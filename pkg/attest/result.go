package attest

import (
	"github.com/hallmark-dev/hallmark/pkg/sign"
)

// SchemaVersion is the version of the JSON document Report encodes.
const SchemaVersion = "1"

// Report is what `hallmark attest --output json` prints: the statement
// signed and what signing it made.
type Report struct {
	SchemaVersion string `json:"schemaVersion"`
	// PredicateType is the statement's predicate type, and Type its
	// short name ("" for another URI).
	PredicateType string    `json:"predicateType"`
	Type          string    `json:"type,omitempty"`
	Subjects      []Subject `json:"subjects"`
	// Result is the signed bundle, as verified before it was written.
	Result *sign.Result `json:"result"`
}

// Subject is one subject of a statement.
type Subject struct {
	Name   string            `json:"name"`
	Digest map[string]string `json:"digest"`
}
