package cosignbundle_test

import (
	"testing"

	"github.com/hallmark-dev/hallmark/pkg/verify"
	"github.com/hallmark-dev/hallmark/pkg/verify/cosignbundle"
)

// BenchmarkParseBundle measures reading a keyless legacy bundle and turning
// it into a sigstore-go bundle: the cost the legacy format adds to a
// verification.
func BenchmarkParseBundle(b *testing.B) {
	w := getWorld(b)
	b.ReportAllocs()
	for b.Loop() {
		l, err := cosignbundle.Parse(w.legacy)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := l.Bundle(nil); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkParseSigstoreBundle is the same bundle in Sigstore's format, read
// by verify.ParseBundle: the baseline.
func BenchmarkParseSigstoreBundle(b *testing.B) {
	w := getWorld(b)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := verify.ParseBundle(w.blob); err != nil {
			b.Fatal(err)
		}
	}
}
