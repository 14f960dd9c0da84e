package sign_test

import (
	"context"
	"crypto"
	"crypto/rand"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/hallmark-dev/hallmark/internal/keys"
	"github.com/hallmark-dev/hallmark/pkg/sign"
	"github.com/hallmark-dev/hallmark/pkg/verify"
)

func TestMain(m *testing.M) {
	code := m.Run()
	if benchDir != "" {
		_ = os.RemoveAll(benchDir)
	}
	os.Exit(code)
}

var (
	benchMu    sync.Mutex
	benchDir   string
	benchFiles = map[int64]string{}
)

// benchFile returns a file of size random bytes, made once per run.
func benchFile(b *testing.B, size int64) string {
	b.Helper()
	benchMu.Lock()
	defer benchMu.Unlock()
	if p, ok := benchFiles[size]; ok {
		return p
	}
	if benchDir == "" {
		d, err := os.MkdirTemp("", "hallmark-sign-bench-")
		if err != nil {
			b.Fatal(err)
		}
		benchDir = d
	}
	p := filepath.Join(benchDir, fmt.Sprintf("art-%d", size))
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
	benchFiles[size] = p
	return p
}

var benchSizes = []struct {
	name string
	size int64
}{{"1MiB", 1 << 20}, {"1GiB", 1 << 30}}

// BenchmarkSignKey signs a file with an ECDSA P-256 key, no services: the
// bundle is verified and written. The goal is within 1.1x of
// BenchmarkHashFile of the same file.
func BenchmarkSignKey(b *testing.B) {
	key, err := keys.GenerateKey(keys.ECDSAP256)
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	s, err := sign.New(ctx, sign.Options{Key: key})
	if err != nil {
		b.Fatal(err)
	}
	for _, bs := range benchSizes {
		b.Run(bs.name, func(b *testing.B) {
			if bs.size > 1<<20 && testing.Short() {
				b.Skip("1 GiB only without -short")
			}
			art := benchFile(b, bs.size)
			out := filepath.Join(b.TempDir(), "bundle.json")
			b.SetBytes(bs.size)
			b.ResetTimer()
			for b.Loop() {
				if _, _, err := s.Sign(ctx, sign.Job{Path: art, BundlePath: out}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	// Without the bundle write (an fsync'd atomic rename), which dominates
	// small files.
	b.Run("1MiB-nowrite", func(b *testing.B) {
		art := benchFile(b, 1<<20)
		b.SetBytes(1 << 20)
		b.ResetTimer()
		for b.Loop() {
			if _, _, err := s.Sign(ctx, sign.Job{Path: art}); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkHashFile is the floor: SHA-256 of the same file, streamed.
func BenchmarkHashFile(b *testing.B) {
	ctx := context.Background()
	for _, bs := range benchSizes {
		b.Run(bs.name, func(b *testing.B) {
			if bs.size > 1<<20 && testing.Short() {
				b.Skip("1 GiB only without -short")
			}
			art := benchFile(b, bs.size)
			b.SetBytes(bs.size)
			b.ResetTimer()
			for b.Loop() {
				f, err := os.Open(art)
				if err != nil {
					b.Fatal(err)
				}
				if _, err := verify.HashReader(ctx, f, crypto.SHA256); err != nil {
					b.Fatal(err)
				}
				f.Close()
			}
		})
	}
}
