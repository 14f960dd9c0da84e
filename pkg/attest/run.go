package attest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"time"
	"unicode/utf8"

	linkv0 "github.com/in-toto/attestation/go/predicates/link/v0"
	intotov1 "github.com/in-toto/attestation/go/v1"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/types/known/structpb"
)

// Errors of RunStep, wrapped with what they concern; check them with
// errors.Is. The globs' and the hashing's errors are in glob.go and
// run_hash.go.
var (
	// ErrStepOptions: StepOptions that cannot describe a step (no name,
	// no command).
	ErrStepOptions = errors.New("invalid step")
	// ErrStepStart: the command could not be started (not found, not
	// executable); it wraps the system's error, e.g. exec.ErrNotFound.
	ErrStepStart = errors.New("the step's command could not be started")
	// ErrStepInterrupted: the context ended while the step ran; a running
	// command was interrupted, and nothing is recorded.
	ErrStepInterrupted = errors.New("the step was interrupted")
)

// linkPredicateType is the in-toto link predicate's type URI.
const linkPredicateType = "https://in-toto.io/attestation/link/v0.3"

// LinkByproductExitCode is the key of the command's exit code in a step
// link's byproducts: "return-value", the in-toto specification's name.
const LinkByproductExitCode = "return-value"

// stepGracePeriod is how long an interrupted step's command has to exit
// after SIGINT before it is killed.
var stepGracePeriod = 3 * time.Second

// StepOptions describe one build step to run and record.
type StepOptions struct {
	Name                string   // the step name (link predicate "name")
	Materials, Products []string // file or directory globs, ** allowed, relative to Dir
	Command             []string // the command and its arguments
	Dir                 string   // working directory ("" = current)
	Env                 []string // the environment, as os.Environ() (nil = os.Environ())
	RecordEnv           []string // names to record on purpose (--env), besides the CI/git ones
	Stdin               io.Reader
	Stdout, Stderr      io.Writer // streamed, never buffered
}

// StepResult is the recorded step: a statement whose subjects are the
// products and whose predicate is an in-toto link v0.3 (name, command,
// materials, byproducts {exit code}, environment).
//
// A step that made no product (none asked for, or a failed command that
// left none) has a statement with no subject, which in-toto does not
// accept: the caller decides what to say.
type StepResult struct {
	Statement *intotov1.Statement // github.com/in-toto/attestation/go/v1
	ExitCode  int
}

// RunStep hashes the materials, runs the command with o's standard
// streams passed straight through, hashes the products, and returns the
// step's in-toto statement, whatever the command's exit code (it is in
// the link's byproducts, under LinkByproductExitCode, and in the result).
//
// Globs use github.com/bmatcuk/doublestar/v4's syntax with '/' as the
// separator (`*`, `?`, `[a-z]`, `{a,b}`, `**` for any number of
// directories); a glob that matches a directory matches everything under
// it, and "." is the whole of o.Dir. Absolute globs and globs leading out
// of o.Dir with ".." are refused (ErrGlobBadPattern). Only regular files
// are recorded, named relative to o.Dir with forward slashes.
//
// A material glob that matches nothing is an error (ErrGlobNoMatch naming
// it) and the command is not run; a product glob that matches nothing is
// an error only when the command succeeded. A file that cannot be read or
// that changes while it is hashed fails the step (ErrFileChanged), as does
// a matched symbolic link leading outside o.Dir (ErrSymlinkOutside).
//
// A command that cannot be started is an error (ErrStepStart), not an
// exit code. When ctx ends while the command runs, the command gets SIGINT,
// then SIGKILL after a grace period (3 s), and RunStep returns
// ErrStepInterrupted. The command is looked up in the PATH of the current
// process.
//
// The environment recorded is described in env.go: git, CI variables and
// o.RecordEnv, never a secret-looking variable. The value of every
// secret-looking variable is replaced by "[redacted]" wherever it appears
// in the record, the command's arguments included.
//
// On error the result is nil.
func RunStep(ctx context.Context, o StepOptions) (*StepResult, error) {
	if o.Name == "" {
		return nil, fmt.Errorf("%w: the step needs a name", ErrStepOptions)
	}
	if len(o.Command) == 0 || o.Command[0] == "" {
		return nil, fmt.Errorf("%w: step %q has no command", ErrStepOptions, o.Name)
	}
	for _, a := range append([]string{o.Name}, o.Command...) {
		if !utf8.ValidString(a) {
			return nil, fmt.Errorf("%w: %q is not valid UTF-8, which an in-toto statement cannot hold", ErrStepOptions, a)
		}
	}
	env := o.Env
	if env == nil {
		env = os.Environ()
	}
	root, err := stepRoot(o.Dir)
	if err != nil {
		return nil, err
	}
	matFiles, err := collectGlobs(root, o.Materials, true)
	if err != nil {
		return nil, fmt.Errorf("materials: %w", err)
	}
	materials, err := hashFiles(ctx, matFiles)
	if err != nil {
		return nil, stepHashError(ctx, "materials", err)
	}
	environ := environment(root, env, o.RecordEnv)

	code, err := runCommand(ctx, o, env)
	if err != nil {
		return nil, err
	}

	prodFiles, err := collectGlobs(root, o.Products, code == 0)
	if err != nil {
		return nil, fmt.Errorf("products: %w", err)
	}
	products, err := hashFiles(ctx, prodFiles)
	if err != nil {
		return nil, stepHashError(ctx, "products", err)
	}
	st, err := linkStatement(o, env, code, materials, products, environ)
	if err != nil {
		return nil, err
	}
	return &StepResult{Statement: st, ExitCode: code}, nil
}

// stepHashError says what hashing the materials or products failed of:
// an interruption, or the files.
func stepHashError(ctx context.Context, what string, err error) error {
	if ctx.Err() != nil {
		return fmt.Errorf("%w while hashing the %s: %w", ErrStepInterrupted, what, context.Cause(ctx))
	}
	return fmt.Errorf("%s: %w", what, err)
}

// stepRoot is the step's directory, absolute, symbolic links resolved.
func stepRoot(dir string) (string, error) {
	if dir == "" {
		dir = "."
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", fmt.Errorf("%w: directory %q: %w", ErrStepOptions, dir, err)
	}
	root, err := filepath.EvalSymlinks(abs)
	if err != nil {
		return "", fmt.Errorf("%w: directory %q: %w", ErrStepOptions, dir, err)
	}
	return root, nil
}

// runCommand runs the step's command and returns its exit code.
func runCommand(ctx context.Context, o StepOptions, env []string) (int, error) {
	if ctx.Err() != nil {
		return 0, fmt.Errorf("%w: %w", ErrStepInterrupted, context.Cause(ctx))
	}
	cmd := exec.CommandContext(ctx, o.Command[0], o.Command[1:]...)
	cmd.Dir = o.Dir
	cmd.Env = env
	cmd.Stdin, cmd.Stdout, cmd.Stderr = o.Stdin, o.Stdout, o.Stderr
	cmd.Cancel = func() error { return interrupt(cmd.Process) }
	// After the grace period an interrupted command is killed; and once
	// the command has exited, a process it left holding its output cannot
	// keep the step waiting longer than that.
	cmd.WaitDelay = stepGracePeriod
	if err := cmd.Start(); err != nil {
		var ee *exec.Error
		if errors.As(err, &ee) {
			err = ee.Err // it names the command again
		}
		return 0, fmt.Errorf("%w: %q: %w", ErrStepStart, o.Command[0], err)
	}
	err := cmd.Wait()
	if ctx.Err() != nil {
		return 0, fmt.Errorf("%w: %w", ErrStepInterrupted, context.Cause(ctx))
	}
	if cmd.ProcessState == nil {
		return 0, fmt.Errorf("step %q: %w", o.Name, err)
	}
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) && !errors.Is(err, exec.ErrWaitDelay) {
		// The command ran, but its input or output could not be copied.
		return 0, fmt.Errorf("step %q: %w", o.Name, err)
	}
	return exitCode(cmd.ProcessState), nil
}

// linkStatement builds the step's statement with the in-toto attestation
// types.
func linkStatement(o StepOptions, env []string, code int, materials, products []*intotov1.ResourceDescriptor, environ map[string]any) (*intotov1.Statement, error) {
	secrets := secretValues(env)
	command := make([]string, len(o.Command))
	for i, a := range o.Command {
		command[i] = redact(a, secrets)
	}
	byproducts, err := structpb.NewStruct(map[string]any{LinkByproductExitCode: code})
	if err != nil {
		return nil, err
	}
	envStruct, err := structpb.NewStruct(environ)
	if err != nil {
		return nil, fmt.Errorf("step %q: recording the environment: %w", o.Name, err)
	}
	link := &linkv0.Link{
		Name:        o.Name,
		Command:     command,
		Materials:   materials,
		Byproducts:  byproducts,
		Environment: envStruct,
	}
	js, err := protojson.Marshal(link)
	if err != nil {
		return nil, fmt.Errorf("step %q: %w", o.Name, err)
	}
	pred := &structpb.Struct{}
	if err := protojson.Unmarshal(js, pred); err != nil {
		return nil, fmt.Errorf("step %q: %w", o.Name, err)
	}
	return &intotov1.Statement{
		Type:          intotov1.StatementTypeUri,
		Subject:       products,
		PredicateType: linkPredicateType,
		Predicate:     pred,
	}, nil
}
