//go:build unix

package ctxio

import "syscall"

// openNonBlock opens a named pipe without waiting for a writer (regular
// files ignore it).
const openNonBlock = syscall.O_NONBLOCK
