package pypi

import (
	"errors"
	"testing"

	"github.com/hallmark-dev/hallmark/pkg/verify"
)

// The statement rules, each refusal with its cause and error type.
func TestCheckStatement(t *testing.T) {
	const sum = "c9709ce6fd5b67b59b4a28758cf14d3f411803c4b89b6068b1f1a8e4ee94c8ef"
	dist, err := NewDist("pypi_attestation_models-0.0.4a2.tar.gz", sum)
	if err != nil {
		t.Fatal(err)
	}
	subject := func(name, digest string) verify.Subject {
		return verify.Subject{Name: name, Digest: map[string]string{"sha256": digest}}
	}
	st := func(typ, pred string, subs ...verify.Subject) *verify.Statement {
		return &verify.Statement{Type: typ, PredicateType: pred, Subjects: subs}
	}
	good := subject("pypi_attestation_models-0.0.4a2.tar.gz", sum)
	for _, c := range []struct {
		name    string
		st      *verify.Statement
		cause   verify.Cause // "" for accepted
		subject bool         // a *SubjectError
	}{
		{"publish", st(inTotoStatementV1, PublishPredicateType, good), "", false},
		{"slsa", st(inTotoStatementV1, SLSAProvenancePredicateType, good), "", false},
		{"normalised-name", st(inTotoStatementV1, PublishPredicateType, subject("Pypi.Attestation-Models-0.0.4a2.tar.gz", sum)), "", false},
		{"upper-case-digest", st(inTotoStatementV1, PublishPredicateType, subject(good.Name, "C9709CE6FD5B67B59B4A28758CF14D3F411803C4B89B6068B1F1A8E4EE94C8EF")), "", false},
		{"no-statement", nil, verify.CauseNotAttestation, false},
		{"statement-v0.1", st("https://in-toto.io/Statement/v0.1", PublishPredicateType, good), verify.CauseStatement, false},
		{"no-subject", st(inTotoStatementV1, PublishPredicateType), verify.CauseStatement, true},
		{"two-subjects", st(inTotoStatementV1, PublishPredicateType, good, good), verify.CauseStatement, true},
		{"unnamed", st(inTotoStatementV1, PublishPredicateType, subject("", sum)), verify.CauseStatement, true},
		{"not-a-dist", st(inTotoStatementV1, PublishPredicateType, subject("README.md", sum)), verify.CauseStatement, true},
		{"another-version", st(inTotoStatementV1, PublishPredicateType, subject("pypi_attestation_models-0.0.4a3.tar.gz", sum)), verify.CauseStatement, true},
		{"a-wheel", st(inTotoStatementV1, PublishPredicateType, subject("pypi_attestation_models-0.0.4a2-py3-none-any.whl", sum)), verify.CauseStatement, true},
		{"another-digest", st(inTotoStatementV1, PublishPredicateType, subject(good.Name, "00"+sum[2:])), verify.CauseArtifact, true},
		{"sha512-only", st(inTotoStatementV1, PublishPredicateType, verify.Subject{Name: good.Name, Digest: map[string]string{"sha512": "ab"}}), verify.CauseArtifact, true},
		{"slsa-v0.2", st(inTotoStatementV1, "https://slsa.dev/provenance/v0.2", good), verify.CausePredicateType, false},
	} {
		err := checkStatement(c.st, dist)
		if c.cause == "" {
			if err != nil {
				t.Errorf("%s: %v", c.name, err)
			}
			continue
		}
		var rej *verify.RejectedError
		if !errors.As(err, &rej) || rej.Cause != c.cause {
			t.Errorf("%s: want cause %s, got %v", c.name, c.cause, err)
			continue
		}
		var se *SubjectError
		if errors.As(err, &se) != c.subject || errors.Is(err, ErrSubject) != c.subject {
			t.Errorf("%s: SubjectError %v, want %v (%v)", c.name, !c.subject, c.subject, err)
		}
	}
}
