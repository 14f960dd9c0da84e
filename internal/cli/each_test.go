package cli

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
)

func TestEachUntilDone(t *testing.T) {
	t.Run("every call, at most limit at once", func(t *testing.T) {
		var calls, running, peak atomic.Int64
		err := eachUntilDone(context.Background(), 200, 3, func(int) {
			n := running.Add(1)
			for p := peak.Load(); n > p && !peak.CompareAndSwap(p, n); p = peak.Load() {
			}
			calls.Add(1)
			running.Add(-1)
		})
		if err != nil || calls.Load() != 200 || peak.Load() > 3 {
			t.Fatalf("err %v, %d calls (want 200), %d at once (want at most 3)", err, calls.Load(), peak.Load())
		}
	})
	t.Run("nothing started once ctx is done", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		var calls atomic.Int64
		err := eachUntilDone(ctx, 10000, 1, func(i int) {
			if calls.Add(1) == 5 {
				cancel()
			}
		})
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("err %v, want context.Canceled", err)
		}
		if n := calls.Load(); n < 5 || n > 6 {
			t.Fatalf("%d calls after cancelling at the 5th, want 5 (6 at most: one may have been admitted)", n)
		}
	})
}
