package verify_test

import (
	"encoding/base64"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/hallmark-dev/hallmark/pkg/attest"
	"github.com/hallmark-dev/hallmark/pkg/verify"
)

// FuzzDecodeStatement feeds arbitrary predicates of the types verify
// summarises (SLSA v1 and v0.2 provenance, in-toto links) to the decoder:
// no panic; an error is a rejection; a decoded provenance or link is there.
func FuzzDecodeStatement(f *testing.F) {
	seeds := 0
	add := func(typ string, predicate []byte) {
		f.Add(typ, predicate)
		seeds++
	}
	for _, p := range []any{githubProvenance(), edit(func(p map[string]any) { workflowOf(p)["ref"] = 7 })} {
		data, err := json.Marshal(p)
		if err != nil {
			f.Fatal(err)
		}
		add(attest.TypeSLSAProvenance1, data)
	}
	add(attest.TypeLink, []byte(`{"name":"build","command":["make"],"materials":[{"name":"a","digest":{"sha256":"00"}}],"byproducts":{"return-value":1}}`))
	add(verify.PredicateSLSAProvenance02, []byte(`{"builder":{"id":"b"},"invocation":{"configSource":{"uri":"git+https://x/y@refs/heads/main","digest":{"sha1":"ab"}}}}`))
	if seeds != 4 {
		f.Fatalf("%d built-in seeds, want 4", seeds)
	}
	// Real provenance, when the shared fixtures are here.
	paths, _ := filepath.Glob(filepath.Join("..", "..", "..", "shared", "fixtures", "real-bundles", "*", "bundle.sigstore.json"))
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		var b struct {
			DSSE struct{ Payload string } `json:"dsseEnvelope"`
		}
		if json.Unmarshal(data, &b) != nil || b.DSSE.Payload == "" {
			continue
		}
		raw, err := base64.StdEncoding.DecodeString(b.DSSE.Payload)
		if err != nil {
			f.Fatal(err)
		}
		var st struct {
			PredicateType string          `json:"predicateType"`
			Predicate     json.RawMessage `json:"predicate"`
		}
		if err := json.Unmarshal(raw, &st); err != nil {
			f.Fatal(err)
		}
		add(st.PredicateType, st.Predicate)
	}
	f.Fuzz(func(t *testing.T, typ string, predicate []byte) {
		st := &verify.Statement{PredicateType: typ, Predicate: predicate}
		err := verify.DecodeStatement(st)
		if err != nil {
			if !verify.IsRejected(err) {
				t.Fatalf("not a rejection: %v", err)
			}
			return
		}
		if len(predicate) == 0 {
			return
		}
		switch typ {
		case attest.TypeSLSAProvenance1, verify.PredicateSLSAProvenance02:
			if st.Provenance == nil {
				t.Fatal("decoded provenance without a summary")
			}
		case attest.TypeLink:
			if st.Link == nil {
				t.Fatal("decoded link without a summary")
			}
		}
	})
}
