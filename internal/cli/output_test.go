package cli

import (
	"bytes"
	"context"
	"errors"
	"io"
	"strings"
	"testing"
)

// failingWriter fails every write after the first n bytes.
type failingWriter struct {
	n         int
	failed    bool
	afterFail int // writes attempted after the first failure
}

var errDiskFull = errors.New("no space left on device")

func (f *failingWriter) Write(p []byte) (int, error) {
	if f.failed {
		f.afterFail++
	}
	if len(p) <= f.n {
		f.n -= len(p)
		return len(p), nil
	}
	n := f.n
	f.n, f.failed = 0, true
	return n, errDiskFull
}

// A result that cannot be written is exit 1, reported once, in text as in
// JSON; the checked writer stops writing after the first failure.
func TestRunFailedWriteIsExit1(t *testing.T) {
	for _, args := range [][]string{{"version"}, {"version", "-o", "json"}, {"--help"}, {"scan", "--help"}} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			out := &failingWriter{n: 10}
			var errOut bytes.Buffer
			code := Run(context.Background(), args, Stdio{In: strings.NewReader(""), Out: out, Err: &errOut})
			if code != ExitError {
				t.Errorf("exit code %d, want %d", code, ExitError)
			}
			want := "hallmark: error: writing the output: no space left on device\n"
			if errOut.String() != want {
				t.Errorf("stderr = %q, want %q", errOut.String(), want)
			}
			if !out.failed {
				t.Fatal("nothing was written")
			}
			if out.afterFail > 0 {
				t.Errorf("%d writes after the first failure, want none", out.afterFail)
			}
		})
	}
}

func TestCheckedWriterShortWrite(t *testing.T) {
	w := &checkedWriter{w: writerFunc(func(p []byte) (int, error) { return len(p) - 1, nil })}
	if _, err := w.Write([]byte("abc")); !errors.Is(err, io.ErrShortWrite) {
		t.Fatalf("short write: err = %v, want io.ErrShortWrite", err)
	}
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }
