package cli

import (
	"context"
	"errors"
	"io"
	"os"
	"os/signal"
	"sync"
	"syscall"
)

// InterruptedError is the cause of the context Main gives a run when Ctrl-C
// (SIGINT) or SIGTERM arrives.
type InterruptedError struct{ Signal os.Signal }

func (e *InterruptedError) Error() string {
	switch e.Signal {
	case os.Interrupt:
		return "interrupted (SIGINT)"
	case syscall.SIGTERM:
		return "interrupted (SIGTERM)"
	}
	return "interrupted (" + e.Signal.String() + ")"
}

// signalContext is cancelled, with an *InterruptedError as its cause, by
// the first SIGINT or SIGTERM. After that first signal hallmark stops
// catching them: a second one ends the process at once, the usual way out
// of a program that does not stop.
func signalContext() context.Context {
	ctx, cancel := context.WithCancelCause(context.Background())
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	go func() {
		s := <-sigs
		cancel(&InterruptedError{Signal: s})
		signal.Stop(sigs)
	}()
	return ctx
}

// interruption is the error a run ends with once ctx is done, whatever the
// command returned (cmdErr): its own errors then only say that reads,
// hashes and requests were cut short. It is exit 1, like any run that could
// not complete. Hints that cmdErr attached with interruptHint (the database
// is unchanged) are kept.
func interruption(ctx context.Context, cmdErr error) error {
	var hints []string
	var ih *interruptHints
	if errors.As(cmdErr, &ih) {
		hints = ih.hints
	}
	cause := context.Cause(ctx)
	var ie *InterruptedError
	switch {
	case errors.As(cause, &ie):
		return &cliError{code: ExitError, err: ie, hints: hints}
	case errors.Is(cause, context.Canceled):
		return &cliError{code: ExitError, err: errors.New("interrupted"), hints: hints}
	}
	return &cliError{code: ExitError, err: &interruptedBy{cause}, hints: hints}
}

// interruptHint attaches hints to err that still hold when the run is
// interrupted, and are then printed after the interruption.
func interruptHint(err error, hints ...string) error {
	return &interruptHints{err: err, hints: hints}
}

type interruptHints struct {
	err   error
	hints []string
}

func (e *interruptHints) Error() string { return e.err.Error() }
func (e *interruptHints) Unwrap() error { return e.err }

// interruptedBy is a run stopped by a context that ended for another
// reason than a signal (a deadline of a caller of Run).
type interruptedBy struct{ cause error }

func (e *interruptedBy) Error() string { return "interrupted: " + e.cause.Error() }
func (e *interruptedBy) Unwrap() error { return e.cause }

// quietAfter drops what is written to w once ctx is done: after Ctrl-C, a
// command's reports of the reads it abandoned ("context canceled") and any
// partial result are noise; the run ends with the one line that says it was
// interrupted. The writes still succeed, so nothing reports them as failed.
type quietAfter struct {
	ctx context.Context
	w   io.Writer
}

func (q quietAfter) Write(p []byte) (int, error) {
	if q.ctx.Err() != nil {
		return len(p), nil
	}
	return q.w.Write(p)
}

// ctxWriter fails every write once ctx is done: an output file being
// written when Ctrl-C comes is abandoned (atomically: the old one stays).
type ctxWriter struct {
	ctx context.Context
	w   io.Writer
}

func (c ctxWriter) Write(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.w.Write(p)
}

// eachUntilDone calls fn(i) for every i in [0, n), on at most limit
// goroutines at once, and starts no more calls once ctx is done (a Ctrl-C
// with thousands of packages or bundles queued). It returns when every call
// it started has returned, with ctx's error if ctx ended: some calls were
// then never made.
func eachUntilDone(ctx context.Context, n, limit int, fn func(i int)) error {
	sem := make(chan struct{}, max(limit, 1))
	var wg sync.WaitGroup
loop:
	for i := range n {
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
			break loop
		}
		if ctx.Err() != nil {
			<-sem
			break
		}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			fn(i)
		}()
	}
	wg.Wait()
	return ctx.Err()
}
