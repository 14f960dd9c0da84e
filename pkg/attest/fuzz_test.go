package attest_test

import (
	"encoding/base64"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"google.golang.org/protobuf/encoding/protojson"

	"github.com/hallmark-dev/hallmark/pkg/attest"
)

// realStatements are the in-toto statements of the real DSSE bundles in
// ../shared (absent: none, and the fuzzers say so).
func realStatements(tb testing.TB) [][]byte {
	tb.Helper()
	paths, _ := filepath.Glob(filepath.Join("..", "..", "..", "shared", "fixtures", "real-bundles", "*", "bundle.sigstore.json"))
	more, _ := filepath.Glob(filepath.Join("..", "..", "..", "shared", "fixtures", "ecosystems", "*", "*.sigstore.json"))
	var out [][]byte
	for _, p := range append(paths, more...) {
		data, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		var b struct {
			DsseEnvelope *struct{ Payload string } `json:"dsseEnvelope"`
		}
		if json.Unmarshal(data, &b) != nil || b.DsseEnvelope == nil {
			continue
		}
		if st, err := base64.StdEncoding.DecodeString(b.DsseEnvelope.Payload); err == nil {
			out = append(out, st)
		}
	}
	if len(out) == 0 {
		tb.Logf("no real statements in ../shared: seeding from the built-in predicates only")
	}
	return out
}

func FuzzParseStatement(f *testing.F) {
	seeds := 0
	for _, st := range realStatements(f) {
		f.Add(st)
		seeds++
	}
	for name, p := range validPredicates {
		uri, _ := attest.PredicateType(name)
		f.Add([]byte(`{"_type":"https://in-toto.io/Statement/v1","subject":[{"name":"a","digest":{"sha256":"` +
			"2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae" + `"}}],"predicateType":"` + uri + `","predicate":` + p + `}`))
		seeds++
	}
	if seeds < len(validPredicates) {
		f.Fatalf("only %d seeds", seeds)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		st, err := attest.ParseStatement(data)
		if err != nil {
			return
		}
		out, err := attest.MarshalStatement(st)
		if err != nil {
			t.Fatalf("a parsed statement does not marshal: %v", err)
		}
		if _, err := attest.ParseStatement(out); err != nil {
			t.Fatalf("a marshalled statement does not parse again: %v\n%s", err, out)
		}
	})
}

func FuzzReadPredicate(f *testing.F) {
	names := []string{}
	for _, kt := range attest.Types() {
		names = append(names, kt.Name)
	}
	seeds := 0
	for i, name := range names {
		if p, ok := validPredicates[name]; ok {
			f.Add(uint8(i), []byte(p))
			seeds++
		}
	}
	for _, st := range realStatements(f) {
		var s struct {
			PredicateType string          `json:"predicateType"`
			Predicate     json.RawMessage `json:"predicate"`
		}
		if json.Unmarshal(st, &s) != nil {
			continue
		}
		for i, name := range names {
			if attest.ShortName(s.PredicateType) == name {
				f.Add(uint8(i), []byte(s.Predicate))
				seeds++
			}
		}
	}
	if seeds < len(names) {
		f.Fatalf("%d seeds for %d types: a known type has no seed", seeds, len(names))
	}
	f.Fuzz(func(t *testing.T, which uint8, data []byte) {
		name := names[int(which)%len(names)]
		p, uri, err := attest.ReadPredicate(name, data)
		if err != nil {
			return
		}
		// What was accepted is accepted again, as the same type.
		again, err := protojson.Marshal(p)
		if err != nil {
			t.Fatal(err)
		}
		if _, uri2, err := attest.ReadPredicate(uri, again); err != nil || uri2 != uri {
			t.Fatalf("%s: accepted once, then %q, %v\n%s", name, uri2, err, again)
		}
	})
}
