package cli

import (
	"fmt"
	"io"
)

// outputError is a failed write to stdout: the result did not reach the
// reader, so the command could not complete (exit 1), whatever it found.
type outputError struct{ err error }

func (e *outputError) Error() string { return fmt.Sprintf("writing the output: %v", e.err) }
func (e *outputError) Unwrap() error { return e.err }

// checkedWriter remembers the first error of the writer it wraps and fails
// every later write with it, so commands may print with fmt.Fprintf and
// ignore its result: Run checks the writer once, after the command.
type checkedWriter struct {
	w   io.Writer
	err error
}

func (c *checkedWriter) Write(p []byte) (int, error) {
	if c.err != nil {
		return 0, c.err
	}
	n, err := c.w.Write(p)
	if err == nil && n < len(p) {
		err = io.ErrShortWrite
	}
	if err != nil {
		c.err = &outputError{err}
	}
	return n, c.err
}
