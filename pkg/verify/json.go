package verify

import (
	"bytes"
	"encoding/json"

	"github.com/hallmark-dev/hallmark/internal/termtext"
)

// resultJSON is a Result as JSON carries it: a name that is not valid
// UTF-8 is in Artifact (Bundle) Go-quoted, as the text output shows it,
// and its exact bytes are in ArtifactBytes (BundleBytes), base64-encoded.
type resultJSON struct {
	plainResult
	ArtifactBytes []byte `json:"artifactBytes,omitempty"`
	BundleBytes   []byte `json:"bundleBytes,omitempty"`
}

type plainResult Result

// MarshalJSON encodes the result; encoding/json alone would replace the
// bytes of a file name that are not UTF-8 by U+FFFD, silently.
func (r Result) MarshalJSON() ([]byte, error) {
	out := resultJSON{plainResult: plainResult(r)}
	out.Artifact, out.ArtifactBytes = termtext.JSONName(r.Artifact)
	out.Bundle, out.BundleBytes = termtext.JSONName(r.Bundle)
	return marshalNoHTMLEscape(out)
}

// UnmarshalJSON decodes what MarshalJSON encodes, exact names included.
func (r *Result) UnmarshalJSON(data []byte) error {
	var in resultJSON
	if err := json.Unmarshal(data, &in); err != nil {
		return err
	}
	*r = Result(in.plainResult)
	if in.ArtifactBytes != nil {
		r.Artifact = string(in.ArtifactBytes)
	}
	if in.BundleBytes != nil {
		r.Bundle = string(in.BundleBytes)
	}
	return nil
}

// marshalNoHTMLEscape is json.Marshal without the escaping of <, > and &,
// as the reports are written.
func marshalNoHTMLEscape(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}
