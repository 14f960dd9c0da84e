package attest

import (
	"errors"
	"fmt"
)

// Errors for errors.Is.
var (
	// ErrPredicate: a predicate is not valid for its type. Every
	// *PredicateError wraps it.
	ErrPredicate = errors.New("invalid predicate")
	// ErrStatement: a document is not a valid in-toto Statement v1.
	ErrStatement = errors.New("invalid in-toto statement")
	// ErrSubject: a subject (NAME=ALG:HEX, or a digest) is malformed.
	ErrSubject = errors.New("invalid subject")
	// ErrType: a predicate type is neither a known short name nor an
	// absolute URI.
	ErrType = errors.New("unknown predicate type")
)

// PredicateError says which field of a predicate is wrong.
type PredicateError struct {
	// Type is the predicate type the predicate was checked against.
	Type string
	// Field is the JSON path of the offending field ("" for the whole
	// document: not JSON, not an object).
	Field string
	// Err says what is wrong with it.
	Err error
}

func (e *PredicateError) Error() string {
	name := ShortName(e.Type)
	if name == "" {
		name = e.Type
	}
	if e.Field == "" {
		return fmt.Sprintf("the %s predicate is invalid: %v", name, e.Err)
	}
	return fmt.Sprintf("the %s predicate is invalid: %s: %v", name, e.Field, e.Err)
}

func (e *PredicateError) Unwrap() []error { return []error{ErrPredicate, e.Err} }

// errMissing and errType are the usual field problems.
var (
	errMissing = errors.New("missing or empty")
	errNotJSON = errors.New("not a JSON object")
)

func fieldErr(typ, field string, err error) error {
	return &PredicateError{Type: typ, Field: field, Err: err}
}
