package osvdb

import (
	"encoding/json"

	"github.com/hallmark-dev/hallmark/internal/termtext"
)

// ecosystemInfoJSON is an EcosystemInfo as JSON carries it: an origin
// that is not valid UTF-8 (a file name) is in Origin Go-quoted, as the text
// output shows it, and its exact bytes are in OriginBytes, base64-encoded.
type ecosystemInfoJSON struct {
	plainEcosystemInfo
	OriginBytes []byte `json:"originBytes,omitempty"`
}

type plainEcosystemInfo EcosystemInfo

// MarshalJSON encodes the info; encoding/json alone would replace the
// bytes of a file name that are not UTF-8 by U+FFFD, silently.
func (e EcosystemInfo) MarshalJSON() ([]byte, error) {
	out := ecosystemInfoJSON{plainEcosystemInfo: plainEcosystemInfo(e)}
	out.Origin, out.OriginBytes = termtext.JSONName(e.Origin)
	return termtext.MarshalJSON(out)
}

// UnmarshalJSON decodes what MarshalJSON encodes, exact origins included.
func (e *EcosystemInfo) UnmarshalJSON(data []byte) error {
	var in ecosystemInfoJSON
	if err := json.Unmarshal(data, &in); err != nil {
		return err
	}
	*e = EcosystemInfo(in.plainEcosystemInfo)
	e.Origin = termtext.FromJSONName(in.Origin, in.OriginBytes)
	return nil
}
