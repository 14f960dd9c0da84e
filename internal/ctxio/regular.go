package ctxio

import (
	"errors"
	"fmt"
	"os"
)

// ErrNotRegular: a file that must be a regular file is a directory, a
// named pipe, a device or a socket.
var ErrNotRegular = errors.New("not a regular file")

// OpenRegular opens path for reading, following symbolic links, and refuses
// (with ErrNotRegular) anything but a regular file. It never waits: a named
// pipe is opened without blocking (no writer needed) and then refused, and
// the check is made on the opened file, so a file swapped for a pipe after
// a check cannot make it block either.
func OpenRegular(path string) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|openNonBlock, 0)
	if err != nil {
		return nil, err
	}
	return checkRegular(f, path)
}

// OpenRegularIn is OpenRegular for name inside root: a symbolic link that
// leads out of root is an error too (os.Root's).
func OpenRegularIn(root *os.Root, name string) (*os.File, error) {
	f, err := root.OpenFile(name, os.O_RDONLY|openNonBlock, 0)
	if err != nil {
		return nil, err
	}
	return checkRegular(f, name)
}

func checkRegular(f *os.File, path string) (*os.File, error) {
	fi, err := f.Stat()
	if err != nil {
		_ = f.Close()
		return nil, err
	}
	if m := fi.Mode(); !m.IsRegular() {
		_ = f.Close()
		what := "a " + m.Type().String()
		switch {
		case m.IsDir():
			what = "a directory"
		case m&os.ModeNamedPipe != 0:
			what = "a named pipe"
		case m&os.ModeDevice != 0:
			what = "a device"
		case m&os.ModeSocket != 0:
			what = "a socket"
		}
		return nil, fmt.Errorf("%w: %q is %s", ErrNotRegular, path, what)
	}
	return f, nil
}
