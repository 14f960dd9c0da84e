package scan

import (
	"bytes"
	"encoding/json"

	"github.com/hallmark-dev/hallmark/internal/termtext"
)

// locationJSON is a Location as JSON carries it: a path that is not valid
// UTF-8 is in Path Go-quoted, as the text report shows it, and its exact
// bytes are in PathBytes, base64-encoded.
type locationJSON struct {
	plainLocation
	PathBytes []byte `json:"pathBytes,omitempty"`
}

type plainLocation Location

// MarshalJSON encodes the location; encoding/json alone would replace the
// bytes of a file name that are not UTF-8 by U+FFFD, silently.
func (l Location) MarshalJSON() ([]byte, error) {
	out := locationJSON{plainLocation: plainLocation(l)}
	out.Path, out.PathBytes = termtext.JSONName(l.Path)
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false) // the report's encoder decides
	if err := enc.Encode(out); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}

// UnmarshalJSON decodes what MarshalJSON encodes, exact paths included.
func (l *Location) UnmarshalJSON(data []byte) error {
	var in locationJSON
	if err := json.Unmarshal(data, &in); err != nil {
		return err
	}
	*l = Location(in.plainLocation)
	if in.PathBytes != nil {
		l.Path = string(in.PathBytes)
	}
	return nil
}
