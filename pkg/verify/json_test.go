package verify

import (
	"encoding/json"
	"strings"
	"testing"
)

// A file name that is not UTF-8 is reported as the text output shows it,
// with its exact bytes beside it, and decodes back to the same name; a
// valid one is encoded as before, with no extra field.
func TestResultJSONNames(t *testing.T) {
	for _, tt := range []struct {
		name     string
		r        Result
		want     []string
		wantNone string
	}{
		{"utf-8", Result{Artifact: "a<b>.txt", Bundle: "a<b>.txt.sigstore.json"},
			[]string{`"artifact":"a\u003cb\u003e.txt"`, `"bundle":"a\u003cb\u003e.txt.sigstore.json"`}, "Bytes"},
		{"newline", Result{Artifact: "a\nOK b", Bundle: "b.json"},
			[]string{`"artifact":"a\nOK b"`}, "Bytes"},
		{"not utf-8", Result{Artifact: "r\xff.txt", Bundle: "r\xff.txt.sigstore.json"},
			[]string{`"artifact":"\"r\\xff.txt\""`, `"artifactBytes":"cv8udHh0"`, `"bundle":"\"r\\xff.txt.sigstore.json\""`, `"bundleBytes":"cv8udHh0LnNpZ3N0b3JlLmpzb24="`}, "\uFFFD"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			data, err := json.Marshal(Report{Results: []*Result{&tt.r}})
			if err != nil {
				t.Fatal(err)
			}
			for _, w := range tt.want {
				if !strings.Contains(string(data), w) {
					t.Errorf("JSON lacks %s: %s", w, data)
				}
			}
			if strings.Contains(string(data), tt.wantNone) {
				t.Errorf("JSON holds %q: %s", tt.wantNone, data)
			}
			var back Report
			if err := json.Unmarshal(data, &back); err != nil {
				t.Fatal(err)
			}
			if got := back.Results[0]; got.Artifact != tt.r.Artifact || got.Bundle != tt.r.Bundle {
				t.Errorf("decoded %q, %q; want %q, %q", got.Artifact, got.Bundle, tt.r.Artifact, tt.r.Bundle)
			}
		})
	}
}

// Any name survives the JSON report exactly.
func FuzzResultJSONNames(f *testing.F) {
	for _, s := range []string{"a.txt", "a\nOK b", "r\xff.txt", "\"r\\xff.txt\"", "\uFFFD", ""} {
		f.Add(s, s+".sigstore.json")
	}
	f.Fuzz(func(t *testing.T, artifact, bundle string) {
		data, err := json.Marshal(&Result{Artifact: artifact, Bundle: bundle})
		if err != nil {
			t.Fatal(err)
		}
		var back Result
		if err := json.Unmarshal(data, &back); err != nil {
			t.Fatalf("%s does not decode: %v", data, err)
		}
		if back.Artifact != artifact || back.Bundle != bundle {
			t.Fatalf("%q, %q came back as %q, %q from %s", artifact, bundle, back.Artifact, back.Bundle, data)
		}
	})
}
