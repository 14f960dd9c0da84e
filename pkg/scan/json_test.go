package scan

import (
	"encoding/json"
	"strings"
	"testing"
)

// A path that is not UTF-8 is reported Go-quoted with its exact bytes in
// base64 beside it, and decodes back to the same path.
func TestLocationJSONPath(t *testing.T) {
	for _, tt := range []struct {
		loc  Location
		want string
	}{
		{Location{Path: "app/package-lock.json", Line: 3}, `{"path":"app/package-lock.json","line":3}`},
		{Location{Path: "a&b/\npackage-lock.json"}, `{"path":"a\u0026b/\npackage-lock.json"}`},
		{Location{Path: "app\xfe/package-lock.json"}, `{"path":"\"app\\xfe/package-lock.json\"","pathBytes":"YXBw/i9wYWNrYWdlLWxvY2suanNvbg=="}`},
	} {
		data, err := json.Marshal(Package{Name: "x", Location: tt.loc})
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(data), `"location":`+tt.want) {
			t.Errorf("%q encodes as %s, want location %s", tt.loc.Path, data, tt.want)
		}
		var back Package
		if err := json.Unmarshal(data, &back); err != nil {
			t.Fatal(err)
		}
		if back.Location != tt.loc {
			t.Errorf("%q decodes as %q", tt.loc.Path, back.Location.Path)
		}
	}
}

// The files read and the files that failed carry their paths the same way.
func TestFileJSONPath(t *testing.T) {
	r := Result{Files: []File{{Path: "a\xff/go.mod", Extractor: "go/gomod", Packages: 2}},
		Failures: []FileFailure{{Path: "b\xff/package-lock.json", Reason: "bad JSON"}}}
	data, err := json.Marshal(&r)
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range []string{`"files":[{"path":"\"a\\xff/go.mod\"","extractor":"go/gomod","packages":2,"pathBytes":"Yf8vZ28ubW9k"}]`,
		`"failures":[{"path":"\"b\\xff/package-lock.json\"","reason":"bad JSON","pathBytes":"Yv8vcGFja2FnZS1sb2NrLmpzb24="}]`} {
		if !strings.Contains(string(data), w) {
			t.Errorf("JSON lacks %s: %s", w, data)
		}
	}
	var back Result
	if err := json.Unmarshal(data, &back); err != nil {
		t.Fatal(err)
	}
	if back.Files[0] != r.Files[0] || back.Failures[0] != r.Failures[0] {
		t.Errorf("decoded %+v %+v", back.Files, back.Failures)
	}
}
