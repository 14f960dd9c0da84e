package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// BenchmarkColdVerify runs a whole hallmark verify process and sigstore-go's
// example verifier (examples/sigstore-go-verification, from the module cache
// at the version go.mod pins) on the same real public-good bundle, artifact
// and trusted root, alternately, and reports each one's median wall time and
// peak RSS and their ratios, with the quartiles of the per-round wall
// ratios as the spread. Both are built here the same way (static,
// trimmed, stripped), so the ratio compares the programs, not the builds.
func BenchmarkColdVerify(b *testing.B) {
	dir := filepath.Join("..", "..", "..", "shared", "fixtures", "real-bundles")
	bundle := filepath.Join(dir, "b1-conf-happy-v0.3", "bundle.sigstore.json")
	artifact := filepath.Join(dir, "b1-conf-happy-v0.3", "artifact")
	trusted := filepath.Join(dir, "trusted-roots", "public-good.json")
	if _, err := os.Stat(bundle); err != nil {
		b.Skip("../shared not found: the cold verify comparison needs its real public-good bundle")
	}
	hallmark, example, runner := coldBinaries(b)
	const san = "https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/.github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main"
	const iss = "https://token.actions.githubusercontent.com"
	cmds := [2][]string{
		{hallmark, "verify", "--offline", "--trusted-root", trusted, "--bundle", bundle,
			"--certificate-identity", san, "--certificate-oidc-issuer", iss, artifact},
		{example, "-trustedrootJSONpath", trusted, "-artifact", artifact,
			"-expectedSAN", san, "-expectedIssuer", iss, bundle},
	}
	env := append(os.Environ(), "HALLMARK_CACHE_DIR="+b.TempDir())
	var wall [2][]time.Duration
	var rss [2][]int64
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		for k := range cmds {
			k := (k + i) % 2 // alternate which one goes first
			d, maxrss, err := runMeasured(runner, cmds[k], env)
			if err != nil {
				out, _ := exec.Command(cmds[k][0], cmds[k][1:]...).CombinedOutput()
				b.Fatalf("%s: %v\n%s", filepath.Base(cmds[k][0]), err, out)
			}
			wall[k] = append(wall[k], d)
			rss[k] = append(rss[k], maxrss)
		}
	}
	b.StopTimer()
	hw, ew := median(wall[0]), median(wall[1])
	hr, er := median(rss[0]), median(rss[1])
	b.ReportMetric(float64(hw.Microseconds())/1000, "hallmark-ms")
	b.ReportMetric(float64(ew.Microseconds())/1000, "sigstore-go-ms")
	b.ReportMetric(float64(hw)/float64(ew), "wall-ratio")
	// The spread: each round's hallmark run over the example's run of the
	// same round, at the first and third quartile.
	pair := make([]float64, len(wall[0]))
	for i := range pair {
		pair[i] = float64(wall[0][i]) / float64(wall[1][i])
	}
	slices.Sort(pair)
	b.ReportMetric(pair[len(pair)/4], "wall-ratio-p25")
	b.ReportMetric(pair[len(pair)*3/4], "wall-ratio-p75")
	b.ReportMetric(float64(hr)/1024, "hallmark-MiB")
	b.ReportMetric(float64(er)/1024, "sigstore-go-MiB")
	b.ReportMetric(float64(hr)/float64(er), "rss-ratio")
	b.ReportMetric(0, "ns/op") // a process pair per op: the metrics above are the result
}

// runMeasured runs argv with its output discarded and returns its wall time
// and peak RSS in KiB. The peak comes from the small runner (see
// runnerSource), not from wait4 here: Linux carries the exec'ing process's
// high-water mark into the child's ru_maxrss, so a child of this large test
// binary would report this binary's size.
func runMeasured(runner string, argv, env []string) (time.Duration, int64, error) {
	c := exec.Command(runner, argv...)
	c.Env = env
	t0 := time.Now()
	out, err := c.Output()
	d := time.Since(t0)
	if err != nil {
		return 0, 0, err
	}
	kib, err := strconv.ParseInt(strings.TrimSpace(string(out)), 10, 64)
	return d, kib, err
}

// runnerSource runs its arguments as a command with output discarded and
// prints the child's peak RSS in KiB; it fails when the command fails.
const runnerSource = `package main

import (
	"fmt"
	"os"
	"os/exec"
	"syscall"
)

func main() {
	c := exec.Command(os.Args[1], os.Args[2:]...)
	if err := c.Run(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Println(c.ProcessState.SysUsage().(*syscall.Rusage).Maxrss)
}
`

func median[T int64 | time.Duration](xs []T) T {
	s := slices.Clone(xs)
	slices.Sort(s)
	return s[len(s)/2]
}

var cold struct {
	once              sync.Once
	dir               string
	hallmark, example string
	runner            string
	err               error
}

// coldBinaries builds hallmark and sigstore-go's example verifier once per
// test process.
func coldBinaries(b *testing.B) (string, string, string) {
	cold.once.Do(func() {
		dir, err := os.MkdirTemp("", "hallmark-cold-")
		if err != nil {
			cold.err = err
			return
		}
		cold.dir = dir
		cold.hallmark, cold.example = filepath.Join(dir, "hallmark"), filepath.Join(dir, "sigstore-go-verification")
		cold.runner = filepath.Join(dir, "runner")
		src := filepath.Join(dir, "runner.go")
		if cold.err = os.WriteFile(src, []byte(runnerSource), 0o644); cold.err != nil {
			return
		}
		if cold.err = os.WriteFile(filepath.Join(dir, "go.mod"), []byte("module runner\n"), 0o644); cold.err != nil {
			return
		}
		for _, t := range [][2]string{
			{cold.runner, "."},
			{cold.hallmark, "github.com/hallmark-dev/hallmark/cmd/hallmark"},
			{cold.example, "github.com/sigstore/sigstore-go/examples/sigstore-go-verification"},
		} {
			c := exec.Command("go", "build", "-trimpath", "-ldflags=-s -w", "-o", t[0], t[1])
			c.Env = append(os.Environ(), "CGO_ENABLED=0")
			if t[0] == cold.runner {
				c.Dir = dir // its own module, stdlib only
			}
			if out, err := c.CombinedOutput(); err != nil {
				cold.err = &buildError{t[1], err, out}
				return
			}
		}
	})
	if cold.err != nil {
		b.Fatal(cold.err)
	}
	return cold.hallmark, cold.example, cold.runner
}

type buildError struct {
	pkg string
	err error
	out []byte
}

func (e *buildError) Error() string {
	return "building " + e.pkg + ": " + e.err.Error() + "\n" + string(e.out)
}
