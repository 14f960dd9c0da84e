package verify

import (
	"bytes"
	"context"
	"errors"
	"io"
	"io/fs"
	"runtime"
	"sync"

	"github.com/sigstore/sigstore-go/pkg/bundle"

	"github.com/hallmark-dev/hallmark/internal/ctxio"
)

// Job is one artifact and its bundle: the file at BundlePath, or Bundle
// when the caller has parsed that file already (then BundlePath only names
// it in the Result and is not read).
type Job struct {
	Artifact   Artifact
	BundlePath string
	Bundle     *bundle.Bundle
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
// Reading and parsing each bundle happens in the workers too. One job (or
// one core) is verified on the calling goroutine: a worker would only hand
// the job to another thread and back.
func (v *Verifier) VerifyAll(ctx context.Context, jobs []Job) []Outcome {
	out := make([]Outcome, len(jobs))
	workers := min(runtime.GOMAXPROCS(0), len(jobs))
	if workers <= 1 {
		for i, j := range jobs {
			out[i] = v.verifyJob(ctx, j)
		}
		return out
	}
	next := make(chan int)
	var wg sync.WaitGroup
	for range workers {
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
	b := j.Bundle
	if b == nil {
		var err error
		if b, err = ReadBundleContext(ctx, j.BundlePath); err != nil {
			return fail(err)
		}
	}
	res, err := v.Verify(ctx, b, j.Artifact)
	res.Bundle = j.BundlePath
	return Outcome{res, err}
}

// ReadBundle reads and parses a bundle file: ReadBundleContext without a
// context.
func ReadBundle(path string) (*bundle.Bundle, error) {
	return ReadBundleContext(context.Background(), path)
}

// ReadBundleContext reads and parses the bundle file at path. It reads at
// most MaxBundleSize bytes whatever the file is (a device or a pipe has no
// size to check beforehand) and gives up when ctx is done, also while it
// waits for a pipe or FIFO. Every error is a *BundleError naming the file:
// it wraps a *RejectedError (CauseMalformed) when the file was read but is no
// bundle, or too large, and the IO error or ctx's error otherwise.
func ReadBundleContext(ctx context.Context, path string) (*bundle.Bundle, error) {
	data, err := readBounded(ctx, path, MaxBundleSize)
	if err == nil {
		var b *bundle.Bundle
		if b, err = ParseBundle(data); err == nil {
			return b, nil
		}
	}
	var pe *fs.PathError
	if errors.As(err, &pe) && pe.Path == path {
		err = pe.Err // the path is in the BundleError
	}
	return nil, &BundleError{Path: path, Err: err}
}

// BundleError is a bundle file that could not be read, or that was read but
// is not a usable bundle (then Err is a *RejectedError).
type BundleError struct {
	Path string
	Err  error
}

func (e *BundleError) Error() string {
	if IsRejected(e.Err) {
		return e.Path + ": " + e.Err.Error()
	}
	return "reading bundle " + e.Path + ": " + e.Err.Error()
}

func (e *BundleError) Unwrap() error { return e.Err }

// readBounded reads the file at path, at most limit bytes, stopping when ctx
// is done. Data that cannot start a JSON object is refused at its first
// bytes, so that /dev/zero and its kind are not read up to the limit.
func readBounded(ctx context.Context, path string, limit int64) ([]byte, error) {
	f, err := ctxio.Open(ctx, path)
	if err != nil {
		return nil, err
	}
	defer func() { _ = f.Close() }()
	defer ctxio.InterruptOnDone(ctx, f)()
	r := io.LimitReader(ctxio.Reader(ctx, f), limit+1)
	var buf bytes.Buffer
	if st, err := f.Stat(); err == nil && st.Mode().IsRegular() && st.Size() <= limit {
		buf.Grow(int(st.Size()) + bytes.MinRead)
	}
	head := make([]byte, 512)
	for buf.Len() == 0 || len(bytes.TrimLeft(buf.Bytes(), " \t\r\n")) == 0 {
		n, err := r.Read(head)
		buf.Write(head[:n])
		if err == io.EOF {
			return buf.Bytes(), nil
		}
		if err != nil {
			return nil, err
		}
		if c := bytes.TrimLeft(buf.Bytes(), " \t\r\n"); len(c) > 0 && c[0] != '{' {
			return nil, reject(CauseMalformed, nil, "malformed bundle: not JSON (it starts with byte %#02x, not '{')", c[0])
		}
	}
	if _, err := buf.ReadFrom(r); err != nil {
		return nil, err
	}
	if int64(buf.Len()) > limit {
		return nil, reject(CauseMalformed, nil, "malformed bundle: larger than %d bytes (%d MiB), the most a bundle may have", limit, limit>>20)
	}
	return buf.Bytes(), nil
}
