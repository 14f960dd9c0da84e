//go:build !unix

package atomicfile_test

import "io/fs"

// created is the mode a new file asked to have perm gets: there is no umask.
func created(perm fs.FileMode) fs.FileMode { return perm }
