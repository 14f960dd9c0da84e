package policy

import (
	"errors"
	"fmt"
	"strings"
)

// ErrPolicy is wrapped by every error that says a policy file is unusable:
// check for it with errors.Is, and for the place with errors.As on *Error.
var ErrPolicy = errors.New("invalid policy")

// Error is one problem of a policy file, at a line and column (1-based;
// 0 when the problem concerns the whole file, such as YAML that does not
// parse at all). Field is the dotted path of the value, e.g.
// "steps[1].materials[0]".
type Error struct {
	File   string `json:"file,omitempty"`
	Line   int    `json:"line"`
	Column int    `json:"column"`
	Field  string `json:"field,omitempty"`
	Msg    string `json:"message"`
}

func (e *Error) Error() string {
	var b strings.Builder
	if e.File != "" {
		b.WriteString(e.File)
		b.WriteString(":")
	}
	if e.Line > 0 {
		fmt.Fprintf(&b, "%d:%d:", e.Line, e.Column)
	}
	if b.Len() > 0 {
		b.WriteString(" ")
	}
	if e.Field != "" {
		b.WriteString(e.Field)
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// Unwrap makes every *Error an ErrPolicy.
func (e *Error) Unwrap() error { return ErrPolicy }

// Errors is every problem found in one policy file, in file order. It
// unwraps to each *Error, so errors.As(err, &e) finds the first.
type Errors []*Error

func (es Errors) Error() string {
	parts := make([]string, len(es))
	for i, e := range es {
		parts[i] = e.Error()
	}
	return strings.Join(parts, "\n")
}

// Unwrap returns the problems, for errors.Is and errors.As.
func (es Errors) Unwrap() []error {
	out := make([]error, len(es))
	for i, e := range es {
		out[i] = e
	}
	return out
}
