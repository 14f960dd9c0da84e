package trust

import "time"

// ParseRecord exposes the meta.json parser to the fuzz target.
func ParseRecord(raw []byte) (mirror, tufRoot string, fetchedAt time.Time, err error) {
	r, err := parseRecord(raw)
	return r.Mirror, r.TUFRoot, r.FetchedAt, err
}

// MarshalRecord writes a record as Update does.
func MarshalRecord(mirror, tufRoot string, fetchedAt time.Time) ([]byte, error) {
	return record{Mirror: mirror, TUFRoot: tufRoot, FetchedAt: fetchedAt}.marshal()
}

// ErrNoTUFRoot is the parser's verdict on a record from before tufRootSHA256.
var ErrNoTUFRoot = errNoTUFRoot
