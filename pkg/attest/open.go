package attest

import (
	"fmt"
	"os"
)

// OpenRegular opens the file at path for reading, following symbolic
// links, and refuses (with ErrNotRegularFile) anything but a regular file:
// a pipe nobody writes would block the read forever, a device such as
// /dev/zero would never end, and a directory has no content to hash. A
// pipe is opened without blocking, so the refusal is immediate.
func OpenRegular(path string) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|openNonBlock, 0)
	if err != nil {
		return nil, err
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		f.Close()
		what := "a " + fi.Mode().Type().String()
		switch {
		case fi.IsDir():
			what = "a directory"
		case fi.Mode()&os.ModeNamedPipe != 0:
			what = "a named pipe"
		case fi.Mode()&os.ModeDevice != 0:
			what = "a device"
		case fi.Mode()&os.ModeSocket != 0:
			what = "a socket"
		}
		return nil, fmt.Errorf("%w: %q is %s", ErrNotRegularFile, path, what)
	}
	return f, nil
}
