package sign

import (
	"encoding/json"
	"strings"
	"testing"
)

// A file name that is not UTF-8 is reported Go-quoted with its exact bytes
// in base64 beside it, and decodes back to the same name.
func TestResultJSONNames(t *testing.T) {
	r := Result{Artifact: "r\xff.txt", Bundle: "ok.json"}
	data, err := json.Marshal(&r)
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range []string{`"artifact":"\"r\\xff.txt\""`, `"artifactBytes":"cv8udHh0"`, `"bundle":"ok.json"`} {
		if !strings.Contains(string(data), w) {
			t.Errorf("JSON lacks %s: %s", w, data)
		}
	}
	if strings.Contains(string(data), "bundleBytes") || strings.Contains(string(data), "\uFFFD") {
		t.Errorf("JSON holds bundleBytes or U+FFFD: %s", data)
	}
	var back Result
	if err := json.Unmarshal(data, &back); err != nil {
		t.Fatal(err)
	}
	if back.Artifact != r.Artifact || back.Bundle != r.Bundle {
		t.Errorf("decoded %q, %q; want %q, %q", back.Artifact, back.Bundle, r.Artifact, r.Bundle)
	}
	plain, err := json.Marshal(&Result{Artifact: "a.txt"})
	if err != nil || string(plain) != `{"artifact":"a.txt"}` {
		t.Errorf("a valid name encodes as %s, %v", plain, err)
	}
}
