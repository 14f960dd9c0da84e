package sign

import (
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
	return termtext.MarshalJSON(out)
}

// UnmarshalJSON decodes what MarshalJSON encodes, exact names included.
func (r *Result) UnmarshalJSON(data []byte) error {
	var in resultJSON
	if err := json.Unmarshal(data, &in); err != nil {
		return err
	}
	*r = Result(in.plainResult)
	r.Artifact = termtext.FromJSONName(in.Artifact, in.ArtifactBytes)
	r.Bundle = termtext.FromJSONName(in.Bundle, in.BundleBytes)
	return nil
}
