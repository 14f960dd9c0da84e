package attest

// TEMPORARY, branch attest only: DELETE THIS FILE when the step runner
// (pkg/attest/run.go, another helper's) is merged. It declares the
// runner's API, as agreed, so that `hallmark attest run` compiles; it runs
// nothing.

import (
	"context"
	"errors"
	"io"

	intotov1 "github.com/in-toto/attestation/go/v1"
)

// StepOptions describe one build step to run and record.
type StepOptions struct {
	Name                string
	Materials, Products []string
	Command             []string
	Dir                 string
	Env                 []string
	RecordEnv           []string
	Stdin               io.Reader
	Stdout, Stderr      io.Writer
}

// StepResult is the recorded step.
type StepResult struct {
	Statement *intotov1.Statement
	ExitCode  int
}

// errNoRunner: the runner has not been merged into this branch.
var errNoRunner = errors.New("the step runner (pkg/attest/run.go) is not in this build yet")

// RunStep is the runner's entry point; see the note at the top.
func RunStep(context.Context, StepOptions) (*StepResult, error) { return nil, errNoRunner }
