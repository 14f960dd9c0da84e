package cli

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Once the run's context is done, whatever the command returns (here:
// verify's failure to read a bundle, a scan's unreadable file, or nothing
// at all) is reported as one interrupted line, exit 1, and nothing else is
// printed.
func TestRunInterrupted(t *testing.T) {
	dir := t.TempDir()
	art := filepath.Join(dir, "a.txt")
	if err := os.WriteFile(art, []byte("a"), 0o644); err != nil {
		t.Fatal(err)
	}
	deadline, cancelDeadline := context.WithDeadline(context.Background(), time.Now().Add(-time.Second))
	defer cancelDeadline()
	for _, c := range []struct {
		name  string
		cause error
		ctx   context.Context
		want  string
	}{
		{name: "SIGINT", cause: &InterruptedError{Signal: os.Interrupt}, want: "hallmark: error: interrupted (SIGINT)\n"},
		{name: "SIGTERM", cause: &InterruptedError{Signal: syscall.SIGTERM}, want: "hallmark: error: interrupted (SIGTERM)\n"},
		{name: "cancelled", cause: context.Canceled, want: "hallmark: error: interrupted\n"},
		{name: "deadline", ctx: deadline, want: "hallmark: error: interrupted: context deadline exceeded\n"},
	} {
		for _, args := range [][]string{
			{"verify", "--key", filepath.Join(dir, "missing.pub"), "--insecure-ignore-tlog", art},
			{"version"},
		} {
			t.Run(c.name+"/"+args[0], func(t *testing.T) {
				ctx := c.ctx
				if ctx == nil {
					var cancel context.CancelCauseFunc
					ctx, cancel = context.WithCancelCause(context.Background())
					cancel(c.cause)
				}
				var out, errb bytes.Buffer
				code := Run(ctx, args, Stdio{In: strings.NewReader(""), Out: &out, Err: &errb})
				if code != ExitError {
					t.Errorf("exit %d, want %d", code, ExitError)
				}
				if errb.String() != c.want {
					t.Errorf("stderr %q, want %q", errb.String(), c.want)
				}
				if out.Len() != 0 {
					t.Errorf("stdout %q, want nothing after the interruption", out.String())
				}
			})
		}
	}
}

func TestInterruptedErrorIs(t *testing.T) {
	ctx, cancel := context.WithCancelCause(context.Background())
	cancel(&InterruptedError{Signal: os.Interrupt})
	var ie *InterruptedError
	if err := interruption(ctx, nil); !errors.As(err, &ie) || exitCode(err) != ExitError {
		t.Fatalf("interrupted = %v (exit %d), want an *InterruptedError, exit 1", err, exitCode(err))
	}
}
