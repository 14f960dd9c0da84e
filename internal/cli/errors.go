package cli

import (
	"errors"

	"github.com/hallmark-dev/hallmark/internal/osvdb"
	"github.com/hallmark-dev/hallmark/pkg/verify"
)

// Exit codes, the same in every output format.
const (
	ExitOK       = 0 // done, everything verified
	ExitError    = 1 // could not complete: IO, network, unreadable trust root
	ExitUsage    = 2 // the command line is wrong
	ExitRejected = 3 // checked and rejected
)

// cliError carries an exit code and hints with an error.
type cliError struct {
	code  int
	err   error
	hints []string
}

func (e *cliError) Error() string { return e.err.Error() }
func (e *cliError) Unwrap() error { return e.err }

// usageError is a command-line mistake (exit 2).
func usageError(err error, hints ...string) error {
	return &cliError{code: ExitUsage, err: err, hints: hints}
}

// withHint attaches hints to err, keeping its exit code.
func withHint(err error, hints ...string) error {
	return &cliError{code: exitCode(err), err: err, hints: hints}
}

// addHints attaches hints to err after those it carries already, keeping
// its exit code.
func addHints(err error, hints ...string) error {
	return &cliError{code: exitCode(err), err: err, hints: append(hintsOf(err), hints...)}
}

// errReported means the failures were already printed (one per artifact);
// only the exit code is left to give.
type errReported struct{ code int }

func (e errReported) Error() string { return "reported" }

// exitCode maps an error to the documented exit code.
func exitCode(err error) int {
	var ce *cliError
	var rep errReported
	switch {
	case err == nil:
		return ExitOK
	case errors.As(err, &rep):
		return rep.code
	case errors.As(err, &ce):
		return ce.code
	case verify.IsRejected(err):
		return ExitRejected
	case errors.Is(err, verify.ErrPolicy):
		return ExitUsage
	}
	return ExitError
}

func hintsOf(err error) []string {
	var ce *cliError
	if errors.As(err, &ce) {
		return ce.hints
	}
	if errors.Is(err, osvdb.ErrDamaged) {
		return []string{"import it again: 'hallmark db import PATH' or 'hallmark db update' replaces the damaged file"}
	}
	return nil
}
