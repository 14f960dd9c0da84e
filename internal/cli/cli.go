// Package cli is hallmark's command line: the only package that knows about
// cobra, flags, exit codes and how results are printed. Everything it checks
// or signs is done by the library packages under pkg/.
package cli

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"os"
	"strings"
	"sync/atomic"

	"github.com/spf13/cobra"

	"github.com/hallmark-dev/hallmark/internal/termtext"
)

// Stdio is where a run reads and writes.
type Stdio struct {
	In       io.Reader
	Out, Err io.Writer
}

// Main runs hallmark with the process's arguments and standard streams and
// returns the exit code. cmd/hallmark's main is os.Exit(cli.Main()).
//
// Libraries hallmark uses write to the process's stderr on their own
// (sigstore-go prints "Failed to verify signature with default verifier,
// trying compatibility verifier" for P-384 certificates; others use the
// standard logger): Main routes that text to --verbose, or nowhere, so that
// stderr carries hallmark's own messages.
//
// Ctrl-C (SIGINT) and SIGTERM cancel the run's context: every read, hash,
// parse and request stops, no output file is written, and the run ends with
// "hallmark: error: interrupted (SIGINT)", exit 1. A second signal ends the
// process at once.
func Main() int {
	// The handler stays registered until the process exits: unregistering
	// it (signal.Stop) first waits for os/signal's watcher to be
	// scheduled, which on a busy machine costs a cold verify a good
	// millisecond for nothing.
	ctx := signalContext()
	a := newApp(Stdio{In: os.Stdin, Out: os.Stdout, Err: os.Stderr})
	var verbose atomic.Bool
	cobra.OnInitialize(func() { verbose.Store(a.verbose) }) // once the flags are parsed
	var restore func()
	if mayBeVerbose(os.Args[1:]) {
		restore = captureLibraryOutput(a.stdio.Err, &verbose)
	} else {
		restore = discardLibraryOutput()
	}
	code := a.run(ctx, os.Args[1:])
	restore()
	return code
}

// Run runs hallmark with args (without the program name) and returns the
// exit code. It never calls os.Exit, so tests can run it in-process. Once
// ctx is done, output stops and the run ends as interrupted, exit 1, whatever
// the command returns.
//
// Every write to stdout goes through one checked writer: a result that
// could not be written (a full disk, a closed pipe) is exit 1 in every
// format, never a silent 0.
func Run(ctx context.Context, args []string, stdio Stdio) int {
	return newApp(stdio).run(ctx, args)
}

func (a *app) run(ctx context.Context, args []string) int {
	return a.runTree(ctx, args, (*app).rootCommandFor)
}

// runTree is run with the command tree built by tree (tests compare trees).
func (a *app) runTree(ctx context.Context, args []string, tree func(*app, []string) *cobra.Command) int {
	stderr := a.stdio.Err
	a.stdio.Err = quietAfter{ctx, stderr}
	out := &checkedWriter{w: quietAfter{ctx, a.stdio.Out}}
	a.stdio.Out = out
	root := tree(a, args)
	root.SetArgs(args)
	cmd, err := root.ExecuteContextC(ctx)
	if ctx.Err() != nil {
		// Interrupted: whatever the command returned is a consequence.
		a.stdio.Err = stderr
		a.report(interruption(ctx, err))
		return ExitError
	}
	code := ExitOK
	if err != nil {
		if _, typed := err.(*cliError); !a.started && !typed {
			// cobra failed before any command ran: flags, arguments, flag
			// groups. cmd is the command it got to, root for an unknown
			// command.
			err = usageError(reword(cmd, err), helpHint(cmd))
		}
		a.report(err)
		code = exitCode(err)
	}
	var reported *outputError
	if out.err != nil && !errors.As(err, &reported) {
		a.report(out.err)
	}
	if out.err != nil && (code == ExitOK || code == ExitRejected) {
		code = ExitError
	}
	return code
}

// captureLibraryOutput points os.Stderr and the standard logger at a pipe
// whose lines reach out only while verbose is set, as "hallmark: library:
// LINE", and are dropped otherwise. The function it returns restores both
// and returns once every line was handled. Only Main uses it: it changes
// process-wide state.
func captureLibraryOutput(out io.Writer, verbose *atomic.Bool) (restore func()) {
	r, w, err := os.Pipe()
	if err != nil {
		return func() {}
	}
	stderr, logOut := os.Stderr, log.Writer()
	os.Stderr = w
	log.SetOutput(w)
	done := make(chan struct{})
	go func() {
		defer close(done)
		sc := bufio.NewScanner(r)
		sc.Buffer(make([]byte, 0, 4096), 1<<20)
		for sc.Scan() {
			if verbose.Load() {
				fmt.Fprintf(out, "hallmark: library: %s\n", termtext.Line(sc.Text()))
			}
		}
		_, _ = io.Copy(io.Discard, r) // after a line too long to scan
	}()
	return func() {
		os.Stderr = stderr
		log.SetOutput(logOut)
		_ = w.Close()
		<-done
		_ = r.Close()
	}
}

// mayBeVerbose reports whether args could set --verbose (-v): "--verbose"
// or "--verbose=..." before a "--", or a group of short flags with a v in
// it. It errs on the side of yes (a short flag's attached value with a v in
// it counts), since a yes only costs the capture pipe below.
func mayBeVerbose(args []string) bool {
	for _, arg := range args {
		switch {
		case arg == "--":
			return false
		case strings.HasPrefix(arg, "--"):
			if arg == "--verbose" || strings.HasPrefix(arg, "--verbose=") {
				return true
			}
		case strings.HasPrefix(arg, "-") && strings.ContainsRune(arg, 'v'):
			return true
		}
	}
	return false
}

// discardLibraryOutput is captureLibraryOutput for a run without --verbose:
// the libraries' text goes nowhere, so os.Stderr points at the null device
// and the standard logger at io.Discard, with no pipe and no goroutine to
// read it. If the null device cannot be opened, it falls back to the pipe.
func discardLibraryOutput() (restore func()) {
	null, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	if err != nil {
		var off atomic.Bool
		return captureLibraryOutput(io.Discard, &off)
	}
	stderr, logOut := os.Stderr, log.Writer()
	os.Stderr = null
	log.SetOutput(io.Discard)
	return func() {
		os.Stderr = stderr
		log.SetOutput(logOut)
		_ = null.Close()
	}
}

// helpHint points at the help of the command a usage error is about.
func helpHint(cmd *cobra.Command) string {
	return "run '" + cmd.CommandPath() + " --help' for usage"
}

// report prints an error once, with its hints, unless it was reported
// already. Each error of a joined error gets its own line.
func (a *app) report(err error) {
	if _, done := err.(errReported); done {
		return
	}
	for _, line := range errorLines(err) {
		a.errorf("%s", line)
	}
	for _, h := range hintsOf(err) {
		a.hintf("%s", h)
	}
}

// errorLines splits a joined error (errors.Join) into the messages of its
// parts, each to be printed on a line of its own; any other newline in a
// message is part of a value, such as a file name, and is escaped when the
// line is printed.
func errorLines(err error) []string {
	if ce, ok := err.(*cliError); ok {
		return errorLines(ce.err)
	}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		parts := j.Unwrap()
		msgs := make([]string, len(parts))
		for i, p := range parts {
			msgs[i] = p.Error()
		}
		if len(parts) > 0 && strings.Join(msgs, "\n") == err.Error() {
			var lines []string
			for _, p := range parts {
				lines = append(lines, errorLines(p)...)
			}
			return lines
		}
	}
	return []string{err.Error()}
}

// The printers of diagnostics below write exactly one line each: a newline,
// an escape sequence or a bidi control in the message (from a file name, an
// identity, an error of the operating system) is shown escaped, so that no
// value can start a line of its own or move the cursor.

func (a *app) errorf(format string, args ...any) {
	a.diag("error: ", format, args...)
}

func (a *app) hintf(format string, args ...any) {
	a.diag("hint: ", format, args...)
}

func (a *app) warnf(format string, args ...any) {
	a.diag("warning: ", format, args...)
}

func (a *app) verbosef(format string, args ...any) {
	if a.verbose {
		a.diag("", format, args...)
	}
}

func (a *app) diag(kind, format string, args ...any) {
	fmt.Fprintf(a.stdio.Err, "hallmark: %s%s\n", kind, termtext.Line(fmt.Sprintf(format, args...)))
}
