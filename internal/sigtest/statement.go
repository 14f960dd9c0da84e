package sigtest

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
)

// InTotoStatementV1 is the _type of in-toto v1 statements.
const InTotoStatementV1 = "https://in-toto.io/Statement/v1"

// Statement returns an in-toto v1 statement (JSON) whose only subject is
// name with the SHA-256 digest of artifact. predicate may be any value that
// encodes to a JSON object; nil gives an empty object.
func Statement(name string, artifact []byte, predicateType string, predicate any) ([]byte, error) {
	if predicate == nil {
		predicate = map[string]any{}
	}
	digest := sha256.Sum256(artifact)
	st := struct {
		Type          string    `json:"_type"`
		Subject       []subject `json:"subject"`
		PredicateType string    `json:"predicateType"`
		Predicate     any       `json:"predicate"`
	}{
		Type:          InTotoStatementV1,
		Subject:       []subject{{Name: name, Digest: map[string]string{"sha256": hex.EncodeToString(digest[:])}}},
		PredicateType: predicateType,
		Predicate:     predicate,
	}
	b, err := json.Marshal(st)
	if err != nil {
		return nil, fmt.Errorf("sigtest: encoding statement: %w", err)
	}
	return b, nil
}

// subject is an in-toto resource descriptor with a name and digests.
type subject struct {
	Name   string            `json:"name"`
	Digest map[string]string `json:"digest"`
}
