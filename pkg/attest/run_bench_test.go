package attest

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"testing"
)

// materials1000 is a tree of 1,000 small files in 10 directories.
func materials1000(b *testing.B) string {
	b.Helper()
	files := map[string]string{}
	for i := range 1000 {
		files[fmt.Sprintf("src/d%d/f%03d.txt", i%10, i)] = fmt.Sprintf("material %d\n", i)
	}
	return runnerTree(b, files)
}

// BenchmarkHash1000Materials is the cost of finding and hashing 1,000
// small materials; BenchmarkRunStep1000Materials adds running `true` and
// recording the step. The budget: the difference under 100 ms.
func BenchmarkHash1000Materials(b *testing.B) {
	root := materials1000(b)
	ctx := context.Background()
	for b.Loop() {
		files, err := collectGlobs(root, []string{"src/**"}, true)
		if err != nil {
			b.Fatal(err)
		}
		rds, err := hashFiles(ctx, files)
		if err != nil || len(rds) != 1000 {
			b.Fatal(len(rds), err)
		}
	}
}

func BenchmarkRunStep1000Materials(b *testing.B) {
	if _, err := exec.LookPath("true"); err != nil {
		b.Skip("no true here")
	}
	root := materials1000(b)
	ctx := context.Background()
	o := StepOptions{
		Name: "bench", Materials: []string{"src/**"}, Command: []string{"true"}, Dir: root,
		Env: []string{"PATH=" + os.Getenv("PATH"), "GITHUB_ACTIONS=true", "GITHUB_TOKEN=ghs_bench_token"},
	}
	for b.Loop() {
		res, err := RunStep(ctx, o)
		if err != nil || res.ExitCode != 0 {
			b.Fatal(err)
		}
	}
}
