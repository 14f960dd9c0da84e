package scan

import (
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
	return termtext.MarshalJSON(out)
}

// UnmarshalJSON decodes what MarshalJSON encodes, exact paths included.
func (l *Location) UnmarshalJSON(data []byte) error {
	var in locationJSON
	if err := json.Unmarshal(data, &in); err != nil {
		return err
	}
	*l = Location(in.plainLocation)
	l.Path = termtext.FromJSONName(in.Path, in.PathBytes)
	return nil
}

// fileFailureJSON is a FileFailure as JSON carries it, its path as in
// locationJSON.
type fileFailureJSON struct {
	plainFileFailure
	PathBytes []byte `json:"pathBytes,omitempty"`
}

type plainFileFailure FileFailure

// MarshalJSON encodes the failure, a path that is not UTF-8 as Location
// does.
func (f FileFailure) MarshalJSON() ([]byte, error) {
	out := fileFailureJSON{plainFileFailure: plainFileFailure(f)}
	out.Path, out.PathBytes = termtext.JSONName(f.Path)
	return termtext.MarshalJSON(out)
}

// UnmarshalJSON decodes what MarshalJSON encodes, exact paths included.
func (f *FileFailure) UnmarshalJSON(data []byte) error {
	var in fileFailureJSON
	if err := json.Unmarshal(data, &in); err != nil {
		return err
	}
	*f = FileFailure(in.plainFileFailure)
	f.Path = termtext.FromJSONName(in.Path, in.PathBytes)
	return nil
}

// fileJSON is a File as JSON carries it, its path as in locationJSON.
type fileJSON struct {
	plainFile
	PathBytes []byte `json:"pathBytes,omitempty"`
}

type plainFile File

// MarshalJSON encodes the file, a path that is not UTF-8 as Location does.
func (f File) MarshalJSON() ([]byte, error) {
	out := fileJSON{plainFile: plainFile(f)}
	out.Path, out.PathBytes = termtext.JSONName(f.Path)
	return termtext.MarshalJSON(out)
}

// UnmarshalJSON decodes what MarshalJSON encodes, exact paths included.
func (f *File) UnmarshalJSON(data []byte) error {
	var in fileJSON
	if err := json.Unmarshal(data, &in); err != nil {
		return err
	}
	*f = File(in.plainFile)
	f.Path = termtext.FromJSONName(in.Path, in.PathBytes)
	return nil
}
