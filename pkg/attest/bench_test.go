package attest_test

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"io"
	"os"
	"path/filepath"
	"testing"

	intotov1 "github.com/in-toto/attestation/go/v1"

	"github.com/hallmark-dev/hallmark/internal/keys"
	"github.com/hallmark-dev/hallmark/pkg/attest"
	"github.com/hallmark-dev/hallmark/pkg/sign"
)

var benchSizes = []struct {
	name string
	size int64
}{{"1MiB", 1 << 20}, {"1GiB", 1 << 30}}

// benchFile writes size random bytes to a file in b's temporary directory.
func benchFile(b *testing.B, size int64) string {
	b.Helper()
	p := filepath.Join(b.TempDir(), "art")
	f, err := os.Create(p)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := io.CopyN(f, rand.Reader, size); err != nil {
		b.Fatal(err)
	}
	if err := f.Close(); err != nil {
		b.Fatal(err)
	}
	return p
}

// BenchmarkHashFile is the floor: reading the file and hashing it with
// SHA-256, as a plain loop.
func BenchmarkHashFile(b *testing.B) {
	for _, bs := range benchSizes {
		b.Run(bs.name, func(b *testing.B) {
			p := benchFile(b, bs.size)
			b.SetBytes(bs.size)
			b.ResetTimer()
			for b.Loop() {
				f, err := os.Open(p)
				if err != nil {
					b.Fatal(err)
				}
				h := sha256.New()
				if _, err := io.CopyBuffer(h, f, make([]byte, 1<<20)); err != nil {
					b.Fatal(err)
				}
				f.Close()
			}
		})
	}
}

// BenchmarkAttestKey is what 'hallmark attest --key ... --tlog-upload=false
// --timestamp=false' does for one file: hash it, make and check the
// statement, sign it as DSSE, verify and write the bundle. The goal is
// within 1.1x of BenchmarkHashFile.
func BenchmarkAttestKey(b *testing.B) {
	key, err := keys.GenerateKey(keys.ECDSAP256)
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	s, err := sign.New(ctx, sign.Options{Key: key})
	if err != nil {
		b.Fatal(err)
	}
	pred, _, err := attest.ReadPredicate("slsaprovenance1", []byte(validPredicates["slsaprovenance1"]))
	if err != nil {
		b.Fatal(err)
	}
	for _, bs := range benchSizes {
		b.Run(bs.name, func(b *testing.B) {
			p := benchFile(b, bs.size)
			out := p + ".provenance.sigstore.json"
			b.SetBytes(bs.size)
			b.ResetTimer()
			for b.Loop() {
				rd, err := attest.HashFile(ctx, p, "")
				if err != nil {
					b.Fatal(err)
				}
				st, err := attest.NewStatement([]*intotov1.ResourceDescriptor{rd}, "slsaprovenance1", pred)
				if err != nil {
					b.Fatal(err)
				}
				data, err := attest.MarshalStatement(st)
				if err != nil {
					b.Fatal(err)
				}
				if _, _, err := s.Sign(ctx, sign.Job{Path: p, BundlePath: out, Statement: data}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
