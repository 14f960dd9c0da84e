//go:build unix

package extract

import "syscall"

// openFlags open a file without blocking when it turns out to be a named
// pipe (the check that refuses one comes after the open, on the file
// itself, so a file swapped for a FIFO cannot hang the scan).
const openFlags = syscall.O_RDONLY | syscall.O_NONBLOCK
