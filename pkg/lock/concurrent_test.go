package lock_test

import (
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"testing"

	"github.com/hallmark-dev/hallmark/pkg/lock"
)

// TestConcurrentSaves: runs that each opened the lock file and pin another
// package, saving at the same time (two verifies writing one lock), lose
// no entry: each either lands or is ErrConflict, never silently dropped.
func TestConcurrentSaves(t *testing.T) {
	path := filepath.Join(t.TempDir(), "hallmark.lock")
	const n = 40
	locks := make([]*lock.Lock, n)
	for i := range locks {
		locks[i] = open(t, path, false)
		e, err := lock.Observe("npm", fmt.Sprintf("pkg-%d", i), ghResult("o/r", ".github/workflows/release.yml", "refs/tags/v1"))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := locks[i].Check(e); err != nil {
			t.Fatal(err)
		}
	}
	saved := make([]error, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i, l := range locks {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			_, saved[i] = l.Save()
		}()
	}
	close(start)
	wg.Wait()
	final := open(t, path, false)
	for i, err := range saved {
		_, ok := final.Entry("npm", fmt.Sprintf("pkg-%d", i))
		switch {
		case err == nil && !ok:
			t.Errorf("pkg-%d: saved without error, but not in the lock file", i)
		case err != nil && !errors.Is(err, lock.ErrConflict):
			t.Errorf("pkg-%d: %v", i, err)
		}
	}
}
