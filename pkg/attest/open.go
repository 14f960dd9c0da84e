package attest

import (
	"os"

	"github.com/hallmark-dev/hallmark/internal/ctxio"
)

// OpenRegular opens the file at path for reading, following symbolic
// links, and refuses (with ErrNotRegularFile) anything but a regular file:
// a pipe nobody writes would block the read forever, a device such as
// /dev/zero would never end, and a directory has no content to hash. A
// pipe is opened without blocking, so the refusal is immediate.
func OpenRegular(path string) (*os.File, error) { return ctxio.OpenRegular(path) }
