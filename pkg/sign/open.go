package sign

import (
	"os"

	"github.com/hallmark-dev/hallmark/internal/ctxio"
)

// ErrNotRegular: the file to sign is a FIFO, a device, a directory or a
// socket. Sign signs files: a stream could not be verified again against
// its bundle, and a device may never end.
var ErrNotRegular = ctxio.ErrNotRegular

// openRegular opens path for reading if it is a regular file, never
// waiting on a FIFO (ctxio.OpenRegular).
func openRegular(path string) (*os.File, error) { return ctxio.OpenRegular(path) }
