// Package ctxio reads files that may be FIFOs, pipes or devices (a key
// passed as <(command), /dev/stdin) so that Ctrl-C stops the wait: opening
// a FIFO waits for a writer, and reading a pipe waits for data.
package ctxio

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"time"
)

// ErrTooLarge: the file is larger than the limit given to ReadFile.
var ErrTooLarge = errors.New("file too large")

// ReadFile reads path whole, up to limit bytes, and gives up when ctx ends:
// while a FIFO waits for a writer, or a pipe for data.
func ReadFile(ctx context.Context, path string, limit int64) ([]byte, error) {
	f, err := Open(ctx, path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	defer InterruptOnDone(ctx, f)()
	data, err := io.ReadAll(io.LimitReader(Reader(ctx, f), limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > limit {
		return nil, fmt.Errorf("%w: %s is larger than %d bytes", ErrTooLarge, path, limit)
	}
	return data, nil
}

// Open opens path for reading, giving up when ctx is done: opening a FIFO
// waits for a writer, so a FIFO is opened in a goroutine that is abandoned
// (and closes what it opened) when ctx ends first.
func Open(ctx context.Context, path string) (*os.File, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if st, err := os.Stat(path); err != nil || st.Mode()&fs.ModeNamedPipe == 0 {
		return os.Open(path)
	}
	type opened struct {
		f   *os.File
		err error
	}
	done := make(chan opened, 1)
	go func() {
		f, err := os.Open(path)
		done <- opened{f, err}
	}()
	select {
	case o := <-done:
		return o.f, o.err
	case <-ctx.Done():
		go func() {
			if o := <-done; o.f != nil {
				_ = o.f.Close()
			}
		}()
		return nil, ctx.Err()
	}
}

// InterruptOnDone makes a read of f that is blocked when ctx ends return,
// through f's read deadline: pipes, FIFOs and terminals read through Go's
// poller support it (regular files and devices such as /dev/zero do not
// block, and Reader stops between their reads). The returned function
// undoes it.
func InterruptOnDone(ctx context.Context, f *os.File) (stop func()) {
	cancel := context.AfterFunc(ctx, func() { _ = f.SetReadDeadline(time.Now()) })
	return func() { cancel() }
}

// Reader reads r until ctx is done, then fails with ctx's error, also for a
// read that InterruptOnDone's deadline interrupted.
func Reader(ctx context.Context, r io.Reader) io.Reader { return reader{ctx, r} }

type reader struct {
	ctx context.Context
	r   io.Reader
}

func (c reader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	n, err := c.r.Read(p)
	if err != nil && errors.Is(err, os.ErrDeadlineExceeded) && c.ctx.Err() != nil {
		return n, c.ctx.Err()
	}
	return n, err
}
