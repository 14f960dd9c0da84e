package osvdb

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

// An origin that is not UTF-8 is reported Go-quoted with its exact bytes
// in base64, and decodes back to the same name; a valid one as before.
func TestEcosystemInfoJSONOrigin(t *testing.T) {
	at := time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)
	for _, tt := range []struct {
		origin, want string
	}{
		{"osv/npm/all.zip", `"origin":"osv/npm/all.zip","importedAt":"2026-10-01T00:00:00Z"}`},
		{"osv\xff/all.zip", `"origin":"\"osv\\xff/all.zip\"","importedAt":"2026-10-01T00:00:00Z","originBytes":"b3N2/y9hbGwuemlw"}`},
	} {
		e := EcosystemInfo{Ecosystem: "npm", Records: 1, Origin: tt.origin, ImportedAt: at}
		data, err := json.Marshal(Status{Path: "db", Ecosystems: []EcosystemInfo{e}})
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(data), tt.want) {
			t.Errorf("%q encodes as %s, want %s", tt.origin, data, tt.want)
		}
		var back Status
		if err := json.Unmarshal(data, &back); err != nil {
			t.Fatal(err)
		}
		if back.Ecosystems[0] != e {
			t.Errorf("%q decodes as %+v", tt.origin, back.Ecosystems[0])
		}
	}
}
