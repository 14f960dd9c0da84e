// Package cli is hallmark's command line: the only package that knows about
// cobra, flags, exit codes and how results are printed. Everything it checks
// or signs is done by the library packages under pkg/.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"
)

// Stdio is where a run reads and writes.
type Stdio struct {
	In       io.Reader
	Out, Err io.Writer
}

// Main runs hallmark with the process's arguments and standard streams and
// returns the exit code. cmd/hallmark's main is os.Exit(cli.Main()).
func Main() int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return Run(ctx, os.Args[1:], Stdio{In: os.Stdin, Out: os.Stdout, Err: os.Stderr})
}

// Run runs hallmark with args (without the program name) and returns the
// exit code. It never calls os.Exit, so tests can run it in-process.
//
// Every write to stdout goes through one checked writer: a result that
// could not be written (a full disk, a closed pipe) is exit 1 in every
// format, never a silent 0.
func Run(ctx context.Context, args []string, stdio Stdio) int {
	out := &checkedWriter{w: stdio.Out}
	stdio.Out = out
	app := newApp(stdio)
	root := app.rootCommand()
	root.SetArgs(args)
	cmd, err := root.ExecuteContextC(ctx)
	code := ExitOK
	if err != nil {
		if _, typed := err.(*cliError); !app.started && !typed {
			// cobra failed before any command ran: flags, arguments, flag
			// groups. cmd is the command it got to, root for an unknown
			// command.
			err = usageError(reword(cmd, err), helpHint(cmd))
		}
		app.report(err)
		code = exitCode(err)
	}
	var reported *outputError
	if out.err != nil && !errors.As(err, &reported) {
		app.report(out.err)
	}
	if out.err != nil && (code == ExitOK || code == ExitRejected) {
		code = ExitError
	}
	return code
}

// helpHint points at the help of the command a usage error is about.
func helpHint(cmd *cobra.Command) string {
	return "run '" + cmd.CommandPath() + " --help' for usage"
}

// report prints an error once, with its hints, unless it was reported
// already.
func (a *app) report(err error) {
	if _, done := err.(errReported); done {
		return
	}
	a.errorf("%v", err)
	for _, h := range hintsOf(err) {
		a.hintf("%s", h)
	}
}

func (a *app) errorf(format string, args ...any) {
	fmt.Fprintf(a.stdio.Err, "hallmark: error: "+format+"\n", args...)
}

func (a *app) hintf(format string, args ...any) {
	fmt.Fprintf(a.stdio.Err, "hallmark: hint: "+format+"\n", args...)
}

func (a *app) warnf(format string, args ...any) {
	fmt.Fprintf(a.stdio.Err, "hallmark: warning: "+format+"\n", args...)
}

func (a *app) verbosef(format string, args ...any) {
	if a.verbose {
		fmt.Fprintf(a.stdio.Err, "hallmark: "+format+"\n", args...)
	}
}
