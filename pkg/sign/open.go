package sign

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
)

// ErrNotRegular: the file to sign is a FIFO, a device, a directory or a
// socket. Sign signs files: a stream could not be verified again against
// its bundle, and a device may never end.
var ErrNotRegular = errors.New("not a regular file")

// openRegular opens path for reading if it is a regular file. It never
// waits: a FIFO is opened without blocking (no writer needed) and refused,
// and the check is made on the opened file, so a file swapped for a FIFO
// after a check cannot make it block either.
func openRegular(path string) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|openNonBlock, 0)
	if err != nil {
		return nil, err
	}
	st, err := f.Stat()
	if err != nil {
		_ = f.Close()
		return nil, err
	}
	if !st.Mode().IsRegular() {
		_ = f.Close()
		return nil, fmt.Errorf("%w: %s is %s", ErrNotRegular, path, kindOf(st.Mode()))
	}
	return f, nil
}

func kindOf(m fs.FileMode) string {
	switch {
	case m&fs.ModeNamedPipe != 0:
		return "a named pipe (FIFO)"
	case m&fs.ModeCharDevice != 0:
		return "a character device"
	case m&fs.ModeDevice != 0:
		return "a device"
	case m.IsDir():
		return "a directory"
	case m&fs.ModeSocket != 0:
		return "a socket"
	}
	return "not a regular file"
}
