package main

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"
)

// cpythonCase is one line of ../shared/conformance/data/cpython-release/manifest.tsv.
type cpythonCase struct {
	bundle, identity, issuer, digest string
}

// cpythonCases reads the manifest's passing cases, or skips without ../shared.
func cpythonCases(b *testing.B) []cpythonCase {
	dir := filepath.Join("..", "..", "..", "shared", "conformance", "data", "cpython-release")
	f, err := os.Open(filepath.Join(dir, "manifest.tsv"))
	if err != nil {
		b.Skip("../shared not found: the many-digests benchmark needs its real CPython bundles")
	}
	defer f.Close()
	var cases []cpythonCase
	col := map[string]int{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "#") || line == "" {
			continue
		}
		fields := strings.Split(line, "\t")
		if len(col) == 0 {
			for i, name := range fields {
				col[name] = i
			}
			continue
		}
		if fields[col["expect"]] != "pass" {
			continue
		}
		cases = append(cases, cpythonCase{
			bundle:   filepath.Join(dir, fields[col["bundle"]]),
			identity: fields[col["identity"]],
			issuer:   fields[col["issuer"]],
			digest:   fields[col["digest"]],
		})
	}
	if err := sc.Err(); err != nil {
		b.Fatal(err)
	}
	if len(cases) != 81 {
		b.Fatalf("the manifest lists %d passing cases, want the 81 CPython releases", len(cases))
	}
	return cases
}

// alternation is an RE2 pattern matching exactly one of values.
func alternation(values []string) string {
	seen := map[string]bool{}
	var qs []string
	for _, v := range values {
		if !seen[v] {
			seen[v] = true
			qs = append(qs, regexp.QuoteMeta(v))
		}
	}
	sort.Strings(qs)
	return strings.Join(qs, "|")
}

// BenchmarkManyDigests verifies the 81 real CPython release bundles
// (digest-only) in ONE hallmark verify call, all --bundle flags searched by
// digest, against a loop of 81 calls of one bundle each, and reports the
// wall time of each and their ratio (goal: the loop takes 5 times as long).
func BenchmarkManyDigests(b *testing.B) {
	cases := cpythonCases(b)
	trusted := filepath.Join("..", "..", "..", "shared", "fixtures", "real-bundles", "trusted-roots", "public-good.json")
	hallmark := manyBinary(b)
	env := append(os.Environ(), "HALLMARK_CACHE_DIR="+b.TempDir())
	var ids, issuers []string
	for _, c := range cases {
		ids, issuers = append(ids, c.identity), append(issuers, c.issuer)
	}
	one := []string{"verify", "--offline", "--trusted-root", trusted,
		"--certificate-identity-regexp", alternation(ids), "--certificate-oidc-issuer-regexp", alternation(issuers)}
	for _, c := range cases {
		one = append(one, "--bundle", c.bundle)
	}
	for _, c := range cases {
		one = append(one, c.digest)
	}
	// run returns the wall time and the CPU time (user + system) of one
	// call, which a loaded machine disturbs less.
	run := func(want int, args []string) (time.Duration, time.Duration) {
		cmd := exec.Command(hallmark, args...)
		cmd.Env = env
		t0 := time.Now()
		out, err := cmd.CombinedOutput()
		d := time.Since(t0)
		if err != nil {
			b.Fatalf("hallmark %s: %v\n%s", strings.Join(args[:4], " "), err, out)
		}
		if n := strings.Count("\n"+string(out), "\nOK "); n != want {
			b.Fatalf("hallmark verified %d artifacts, want %d:\n%s", n, want, out)
		}
		return d, cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
	}
	var single, loop, singleCPU, loopCPU []time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		w, c := run(len(cases), one)
		single, singleCPU = append(single, w), append(singleCPU, c)
		var total, totalCPU time.Duration
		for _, c := range cases {
			w, cpu := run(1, []string{"verify", "--offline", "--trusted-root", trusted,
				"--certificate-identity", c.identity, "--certificate-oidc-issuer", c.issuer, "--bundle", c.bundle, c.digest})
			total, totalCPU = total+w, totalCPU+cpu
		}
		loop, loopCPU = append(loop, total), append(loopCPU, totalCPU)
	}
	b.StopTimer()
	s, l := median(single), median(loop)
	b.ReportMetric(float64(s.Microseconds())/1000, "one-call-ms")
	b.ReportMetric(float64(l.Microseconds())/1000, "81-calls-ms")
	b.ReportMetric(float64(len(cases))/s.Seconds(), "one-call-bundles/s")
	b.ReportMetric(float64(len(cases))/l.Seconds(), "81-calls-bundles/s")
	b.ReportMetric(float64(l)/float64(s), "speedup")
	b.ReportMetric(float64(median(loopCPU))/float64(median(singleCPU)), "cpu-speedup")
	b.ReportMetric(0, "ns/op") // the metrics above are the result
}

var many struct {
	once     sync.Once
	hallmark string
	err      error
}

// manyBinary builds hallmark once per test process, as make build does.
func manyBinary(b *testing.B) string {
	many.once.Do(func() {
		dir, err := os.MkdirTemp("", "hallmark-many-")
		if err != nil {
			many.err = err
			return
		}
		many.hallmark = filepath.Join(dir, "hallmark")
		c := exec.Command("go", "build", "-trimpath", "-ldflags=-s -w", "-o", many.hallmark, "github.com/hallmark-dev/hallmark/cmd/hallmark")
		c.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := c.CombinedOutput(); err != nil {
			many.err = &buildError{"cmd/hallmark", err, out}
		}
	})
	if many.err != nil {
		b.Fatal(many.err)
	}
	return many.hallmark
}
