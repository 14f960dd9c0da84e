package verify_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hallmark-dev/hallmark/pkg/verify"
)

// The read itself is bounded: a stream that never ends (and that stat says
// is 0 bytes) stops at the limit, as a malformed bundle.
func TestReadBoundedStopsAtLimit(t *testing.T) {
	if _, err := os.Stat("/dev/zero"); err != nil {
		t.Skip("no /dev/zero here")
	}
	// /dev/zero is refused at its first byte; a stream of spaces and then
	// "{" is not, so the limit has to stop it: /dev/zero cannot be used
	// for that, a FIFO fed with JSON-looking data can.
	_, err := verify.ReadBounded(context.Background(), "/dev/zero", 1<<20)
	var rej *verify.RejectedError
	if !errors.As(err, &rej) || rej.Cause != verify.CauseMalformed || !strings.Contains(err.Error(), "not JSON") {
		t.Errorf("/dev/zero: err = %v, want a malformed-bundle rejection", err)
	}

	fifo := mkfifo(t)
	w, err := os.OpenFile(fifo, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		chunk := []byte("{" + strings.Repeat(" ", 64<<10))
		for {
			select {
			case <-stop:
				return
			default:
			}
			if _, err := w.Write(chunk); err != nil {
				return
			}
			chunk = chunk[1:]
			if len(chunk) == 0 {
				chunk = []byte(strings.Repeat(" ", 64<<10))
			}
		}
	}()
	const limit = 1 << 20
	_, err = verify.ReadBounded(context.Background(), fifo, limit)
	if !errors.As(err, &rej) || rej.Cause != verify.CauseMalformed || !strings.Contains(err.Error(), "larger than 1048576 bytes") {
		t.Errorf("endless FIFO: err = %v, want a too-large rejection", err)
	}
}

// Reading a bundle from a FIFO gives up when ctx is cancelled: while no
// writer has opened it, and while a writer holds it open without writing.
func TestReadBundleContextCancelOnFIFO(t *testing.T) {
	for _, withWriter := range []bool{false, true} {
		name := map[bool]string{false: "no writer", true: "silent writer"}[withWriter]
		t.Run(name, func(t *testing.T) {
			fifo := mkfifo(t)
			if withWriter {
				w, err := os.OpenFile(fifo, os.O_RDWR, 0) // opens without a reader
				if err != nil {
					t.Fatal(err)
				}
				defer w.Close()
			}
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan error, 1)
			go func() {
				_, err := verify.ReadBundleContext(ctx, fifo)
				done <- err
			}()
			// Give the read time to block (in open, or in read): if it
			// has not yet, the test still checks the early exit.
			time.Sleep(20 * time.Millisecond)
			cancel()
			err := <-done
			var be *verify.BundleError
			if !errors.Is(err, context.Canceled) || !errors.As(err, &be) || be.Path != fifo || verify.IsRejected(err) {
				t.Errorf("err = %v, want a BundleError for %s wrapping context.Canceled", err, fifo)
			}
		})
	}
}

// The artifact is read under ctx too.
func TestVerifyArtifactFIFOCancel(t *testing.T) {
	w := getWorld(t)
	v := mustVerifier(t, w.tm, demoPolicy())
	fifo := mkfifo(t)
	wr, err := os.OpenFile(fifo, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer wr.Close()
	b, err := verify.ParseBundle(w.bundles["blob"])
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := v.Verify(ctx, b, verify.FileArtifact(fifo))
		done <- err
	}()
	time.Sleep(20 * time.Millisecond) // let the read block, as above
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) || verify.IsRejected(err) {
		t.Errorf("err = %v, want context.Canceled, not a rejection", err)
	}
}

func mkfifo(t *testing.T) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "fifo")
	if err := syscall.Mkfifo(p, 0o600); err != nil {
		t.Skipf("no FIFOs here: %v", err)
	}
	return p
}
