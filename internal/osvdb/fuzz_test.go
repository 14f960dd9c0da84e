package osvdb

import (
	"encoding/json"
	"testing"
)

// FuzzPrepare feeds import's record reader (JSON and YAML, as found in
// exports and advisory directories): never a panic.
func FuzzPrepare(f *testing.F) {
	seeds := []struct {
		name string
		data string
	}{
		{"A-1.json", `{"id":"A-1","modified":"2026-01-01T00:00:00Z","affected":[{"package":{"ecosystem":"npm","name":"@s/p","purl":"pkg:npm/%40s/p"},"ranges":[{"type":"SEMVER","events":[{"introduced":"0"},{"fixed":"1.0.0"}]}]}]}`},
		{"P-1.yaml", "id: PYSEC-1\nmodified: 2024-01-01T00:00:00Z\naffected:\n- package:\n    ecosystem: PyPI\n    name: Foo.Bar\n  versions: [\"1.0\"]\n"},
		{"D-1.json", `{"id":"D-1","modified":"2026-01-01T00:00:00Z","affected":[{"package":{"ecosystem":"Debian:11","name":"openssl"}}]}`},
		{"x.json", `{"title":"not a record"}`},
	}
	for _, s := range seeds {
		f.Add(s.name, []byte(s.data), "")
		f.Add(s.name, []byte(s.data), "npm")
	}
	if len(seeds) < 4 {
		f.Fatal("seeds missing")
	}
	f.Fuzz(func(t *testing.T, name string, data []byte, eco string) {
		w := newWorker()
		p, err := w.prepare(source{path: name, ecosystem: eco, origin: name}, name, data, nil)
		if err != nil || p.warn != "" {
			return
		}
		if p.id == "" || len(p.blob) == 0 || len(p.names) == 0 {
			t.Fatalf("prepared record without id, blob or names: %+v", p)
		}
		raw, err := decodeBlob(p.blob)
		if err != nil {
			t.Fatalf("stored record does not decode: %v", err)
		}
		if !json.Valid(raw) {
			t.Fatalf("stored record %s is not JSON: %s", p.id, raw)
		}
	})
}
