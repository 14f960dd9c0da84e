//go:build !unix

package extract

import "os"

// openFlags: there are no FIFOs to guard against outside Unix.
const openFlags = os.O_RDONLY
