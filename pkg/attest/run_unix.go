//go:build unix

package attest

import (
	"os"
	"syscall"
)

// openNoBlock keeps a pipe that replaced a matched file from blocking the
// open (regular files ignore O_NONBLOCK), and a symbolic link that replaced
// it from being followed: the path opened is always the real one, links
// resolved and checked when the globs were walked.
const openNoBlock = syscall.O_NONBLOCK | syscall.O_NOFOLLOW

// interrupt asks the step's command to stop, as Ctrl-C would.
func interrupt(p *os.Process) error { return p.Signal(os.Interrupt) }

// exitCode is the command's exit code, 128+N when signal N ended it, as
// shells report it.
func exitCode(ps *os.ProcessState) int {
	if ws, ok := ps.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return 128 + int(ws.Signal())
	}
	return ps.ExitCode()
}
