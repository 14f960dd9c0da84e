//go:build !unix

package attest

import "os"

const openNoBlock = 0

// interrupt stops the step's command: this system has no SIGINT to send
// to another process, so it is killed.
func interrupt(p *os.Process) error { return p.Kill() }

func exitCode(ps *os.ProcessState) int { return ps.ExitCode() }
