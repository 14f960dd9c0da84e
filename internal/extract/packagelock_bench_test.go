package extract

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// cpuTime is the CPU time this process has used, so that benchmarks on a
// busy machine can report it beside the wall time.
func cpuTime(tb testing.TB) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		tb.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// loop runs op b.N times and reports its CPU time per op (cpu-ms/op) and
// per package (cpu-us/pkg): flat across sizes when the cost is linear.
func loop(b *testing.B, pkgs int, op func()) {
	start, n := cpuTime(b), 0
	for b.Loop() {
		op()
		n++
	}
	cpu := float64(cpuTime(b)-start) / float64(n)
	b.ReportMetric(cpu/float64(time.Millisecond), "cpu-ms/op")
	b.ReportMetric(cpu/float64(time.Microsecond)/float64(pkgs), "cpu-us/pkg")
}

// synthLock writes a deterministic lockfile v3 of n packages shaped like
// npm's: one entry of ~10 lines per package, a fifth of them installed a
// second time, nested under another package, and some dev or optional.
func synthLock(n int) []byte {
	var b bytes.Buffer
	b.WriteString("{\n  \"name\": \"synthetic\",\n  \"version\": \"1.0.0\",\n  \"lockfileVersion\": 3,\n  \"requires\": true,\n  \"packages\": {\n")
	b.WriteString("    \"\": {\n      \"name\": \"synthetic\",\n      \"version\": \"1.0.0\",\n      \"dependencies\": {\n        \"pkg-0\": \"^1.0.0\"\n      }\n    }")
	entry := func(path, name string, major, i int) {
		fmt.Fprintf(&b, ",\n    %q: {\n", path)
		fmt.Fprintf(&b, "      \"version\": \"%d.%d.%d\",\n", major, i%10, i%7)
		fmt.Fprintf(&b, "      \"resolved\": \"https://registry.npmjs.org/%s/-/%s-%d.%d.%d.tgz\",\n", name, name, major, i%10, i%7)
		fmt.Fprintf(&b, "      \"integrity\": \"sha512-%064x\",\n", i*2654435761)
		switch i % 9 {
		case 3:
			b.WriteString("      \"dev\": true,\n")
		case 5:
			b.WriteString("      \"optional\": true,\n")
		}
		fmt.Fprintf(&b, "      \"dependencies\": {\n        \"pkg-%d\": \"^1.0.0\",\n        \"pkg-%d\": \"~2.1.0\"\n      }\n    }", (i+1)%n, (i*7+3)%n)
	}
	for i := range n {
		if i%5 == 4 {
			name := fmt.Sprintf("pkg-%d", i-1)
			entry(fmt.Sprintf("node_modules/pkg-%d/node_modules/%s", i-2, name), name, 2, i-1)
			continue
		}
		name := fmt.Sprintf("pkg-%d", i)
		entry("node_modules/"+name, name, 1, i)
	}
	b.WriteString("\n  }\n}\n")
	return b.Bytes()
}

var lockSizes = []struct {
	name string
	n    int
}{{"1k", 1000}, {"5k", 5000}, {"10k", 10000}, {"40k", 40000}}

// BenchmarkPackageLock is `hallmark scan`'s extraction of a package-lock.json
// of 1k to 40k packages, end to end: a walk of a directory holding it.
func BenchmarkPackageLock(b *testing.B) {
	for _, size := range lockSizes {
		b.Run(size.name, func(b *testing.B) {
			dir := b.TempDir()
			lock := synthLock(size.n)
			if err := os.WriteFile(filepath.Join(dir, "package-lock.json"), lock, 0o644); err != nil {
				b.Fatal(err)
			}
			b.SetBytes(int64(len(lock)))
			b.ReportAllocs()
			loop(b, size.n, func() {
				res, err := Extract(context.Background(), []string{dir}, Options{})
				if err != nil {
					b.Fatal(err)
				}
				if len(res.Packages) != size.n {
					b.Fatalf("%d packages, want %d", len(res.Packages), size.n)
				}
			})
		})
	}
}

// BenchmarkPackageLockScalibr is osv-scalibr's own extractor on the same
// lockfiles, for comparison. It is quadratic: 10k (~12 s of CPU) runs only
// with HALLMARK_BENCH_SCALIBR_10K=1, 40k never.
func BenchmarkPackageLockScalibr(b *testing.B) {
	for _, size := range lockSizes[:3] {
		b.Run(size.name, func(b *testing.B) {
			if size.n > 5000 && os.Getenv("HALLMARK_BENCH_SCALIBR_10K") == "" {
				b.Skip("set HALLMARK_BENCH_SCALIBR_10K=1 to wait for osv-scalibr on 10k packages")
			}
			lock := synthLock(size.n)
			b.SetBytes(int64(len(lock)))
			b.ReportAllocs()
			loop(b, size.n, func() {
				pkgs, err := scalibrPackageLock(b, lock)
				if err != nil {
					b.Fatal(err)
				}
				if len(pkgs) != size.n {
					b.Fatalf("%d packages, want %d", len(pkgs), size.n)
				}
			})
		})
	}
}
