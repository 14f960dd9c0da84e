package cli

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/hallmark-dev/hallmark/internal/source/oci/ocitest"
)

const benchImages = 200

// ociBench is a registry with benchImages images and a key pair.
type ociBench struct {
	reg      *ocitest.Registry
	refs     []string // by digest
	key, pub string
}

func newOCIBench(b *testing.B, kind ocitest.Kind) *ociBench {
	b.Helper()
	dir := b.TempDir()
	if err := os.Setenv("DOCKER_CONFIG", dir); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { os.Unsetenv("DOCKER_CONFIG") })
	ob := &ociBench{reg: ocitest.Start(b, kind, ocitest.Options{})}
	ob.key, ob.pub = writeKeyPair(b, dir, "bench")
	for i := range benchImages {
		d := ob.reg.PushImage(b, fmt.Sprintf("app%d:v1", i%10), ocitest.Options{})
		ob.refs = append(ob.refs, ob.reg.Ref(fmt.Sprintf("app%d@%s", i%10, d)))
	}
	return ob
}

func (ob *ociBench) run(b *testing.B, args ...string) {
	b.Helper()
	var out, errb bytes.Buffer
	if code := Run(context.Background(), args, Stdio{In: strings.NewReader(""), Out: &out, Err: &errb}); code != 0 {
		b.Fatalf("exit %d\n%s", code, errb.String())
	}
	if n := strings.Count(out.String(), "\n"); n != benchImages {
		b.Fatalf("%d lines of output, want %d:\n%s", n, benchImages, errb.String())
	}
}

func (ob *ociBench) sign(b *testing.B) {
	ob.run(b, append([]string{"sign", "--key", ob.key, "--tlog-upload=false", "--timestamp=false", "--allow-insecure-registry"}, ob.refs...)...)
}

// BenchmarkOCISign200 signs 200 images in one call (a key, no Sigstore
// service) and pushes 200 referrers: signatures/s and the registry's
// requests per image.
func BenchmarkOCISign200(b *testing.B) {
	for _, kind := range ocitest.Kinds {
		b.Run(string(kind), func(b *testing.B) {
			ob := newOCIBench(b, kind)
			ob.reg.Requests.Store(0)
			b.ResetTimer()
			start := time.Now()
			for range b.N {
				ob.sign(b)
			}
			b.StopTimer()
			n := float64(b.N * benchImages)
			b.ReportMetric(n/time.Since(start).Seconds(), "signatures/s")
			b.ReportMetric(float64(ob.reg.Requests.Load())/n, "requests/image")
		})
	}
}

// BenchmarkOCIVerify200 verifies 200 signed images by digest in one call:
// signatures/s and the registry's requests per image (a referrers list, the
// referrer manifest and the bundle blob; the referrers tag schema costs one
// more on a registry without the referrers API).
func BenchmarkOCIVerify200(b *testing.B) {
	for _, kind := range ocitest.Kinds {
		b.Run(string(kind), func(b *testing.B) {
			ob := newOCIBench(b, kind)
			ob.sign(b)
			ob.reg.Requests.Store(0)
			b.ResetTimer()
			start := time.Now()
			for range b.N {
				ob.run(b, append([]string{"verify", "--key", ob.pub, "--insecure-ignore-tlog", "--allow-insecure-registry"}, ob.refs...)...)
			}
			b.StopTimer()
			n := float64(b.N * benchImages)
			b.ReportMetric(n/time.Since(start).Seconds(), "signatures/s")
			b.ReportMetric(float64(ob.reg.Requests.Load())/n, "requests/image")
		})
	}
}
