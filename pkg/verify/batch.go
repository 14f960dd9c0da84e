package verify

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"sync"

	"github.com/sigstore/sigstore-go/pkg/bundle"
)

// Job is one artifact and the path of its bundle.
type Job struct {
	Artifact   Artifact
	BundlePath string
}

// Outcome is a Job's result and error, as Verify returns them.
type Outcome struct {
	Result *Result
	Err    error
}

// MaxBundleSize bounds how much of a bundle file is read (bundles carrying
// large SBOM attestations reach tens of MiB).
const MaxBundleSize = 256 << 20

// VerifyAll verifies the jobs on all cores over this one Verifier (so the
// trust material is parsed once) and returns the outcomes in job order.
// Reading and parsing each bundle happens in the workers too.
func (v *Verifier) VerifyAll(ctx context.Context, jobs []Job) []Outcome {
	out := make([]Outcome, len(jobs))
	next := make(chan int)
	var wg sync.WaitGroup
	for range min(runtime.GOMAXPROCS(0), len(jobs)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				out[i] = v.verifyJob(ctx, jobs[i])
			}
		}()
	}
	for i := range jobs {
		next <- i
	}
	close(next)
	wg.Wait()
	return out
}

func (v *Verifier) verifyJob(ctx context.Context, j Job) Outcome {
	fail := func(err error) Outcome {
		return Outcome{&Result{Artifact: j.Artifact.Name, Bundle: j.BundlePath, Error: FailureOf(err)}, err}
	}
	b, err := ReadBundle(j.BundlePath)
	if err != nil {
		return fail(err)
	}
	res, err := v.Verify(ctx, b, j.Artifact)
	res.Bundle = j.BundlePath
	return Outcome{res, err}
}

// ReadBundle reads and parses a bundle file. A missing or unreadable file is
// an ordinary error; a bundle that does not parse, or is larger than
// MaxBundleSize, is a *RejectedError.
func ReadBundle(path string) (*bundle.Bundle, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("reading bundle: %w", err)
	}
	if st.Size() > MaxBundleSize {
		return nil, reject(CauseMalformed, nil, "bundle %s is %d bytes, more than the %d a bundle may have", path, st.Size(), MaxBundleSize)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading bundle: %w", err)
	}
	return ParseBundle(data)
}
