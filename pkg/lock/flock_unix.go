//go:build unix

package lock

import (
	"errors"
	"fmt"
	"os"
	"syscall"
	"time"
)

// saveWait bounds how long Save waits for another run writing the same
// directory's lock file.
const saveWait = 5 * time.Second

// lockDir takes an exclusive advisory lock (flock) on dir for the
// read-merge-write of Save: two runs saving the lock file at once would
// otherwise both read the old file, and the second rename would drop the
// first one's entries. The lock is on the directory, which the rename does
// not replace (a lock on the file would be on the inode renamed away). A
// file system without flock is written without it, as before.
func lockDir(dir string) (unlock func(), err error) {
	f, err := os.Open(dir)
	if err != nil {
		return func() {}, nil // Save's own read and write report the problem
	}
	deadline := time.Now().Add(saveWait)
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		switch {
		case err == nil:
			return func() {
				_ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
				_ = f.Close()
			}, nil
		case !errors.Is(err, syscall.EWOULDBLOCK) && !errors.Is(err, syscall.EINTR):
			_ = f.Close()
			return func() {}, nil
		case time.Now().After(deadline):
			_ = f.Close()
			return nil, fmt.Errorf("%w: another run has been writing a lock file in %s for %v; run again", ErrConflict, dir, saveWait)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
