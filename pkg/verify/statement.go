package verify

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
)

// StatementRule constrains the verified in-toto statement. Empty fields are
// not checked. It applies to DSSE attestations only: a message signature
// has no statement and is rejected under a rule.
type StatementRule struct {
	// PredicateTypes: the predicate type must be one of them.
	PredicateTypes []string `json:"predicateTypes,omitempty"`
	// PredicateRepository must equal the predicate's "repository" field
	// (OWNER/NAME in GitHub release attestations).
	PredicateRepository string `json:"predicateRepository,omitempty"`
	// PredicateTag must equal the predicate's "tag" field.
	PredicateTag string `json:"predicateTag,omitempty"`
	// SubjectURIPrefix: some subject's uri (or name) must start with it,
	// e.g. pkg:github/OWNER/NAME@ (or the whole purl with a tag).
	SubjectURIPrefix string `json:"subjectURIPrefix,omitempty"`
	// SubjectURIExact: when set, that prefix must be the whole value.
	SubjectURIExact bool `json:"subjectURIExact,omitempty"`
}

func (r *StatementRule) validate() error {
	if r.SubjectURIExact && r.SubjectURIPrefix == "" {
		return policyErr("an exact subject URI needs the URI")
	}
	return nil
}

// check applies the rule to the verified statement payload.
func (r *StatementRule) check(st *Statement, payload []byte) error {
	if st == nil {
		return reject(CauseStatement, nil, "the bundle holds a message signature, not an attestation: the statement policy cannot apply")
	}
	var out []Comparison
	if len(r.PredicateTypes) > 0 {
		out = append(out, Comparison{Field: "predicate type", Expected: quoteAll(r.PredicateTypes),
			Actual: st.PredicateType, Match: slices.Contains(r.PredicateTypes, st.PredicateType)})
	}
	var pred struct {
		Repository *string `json:"repository"`
		Tag        *string `json:"tag"`
	}
	_ = json.Unmarshal(st.Predicate, &pred) // absent fields fail below
	field := func(name, want string, got *string) {
		if want == "" {
			return
		}
		actual := "(absent)"
		if got != nil {
			actual = *got
		}
		out = append(out, Comparison{Field: name, Expected: fmt.Sprintf("%q", want), Actual: actual, Match: got != nil && *got == want})
	}
	field("predicate.repository", r.PredicateRepository, pred.Repository)
	field("predicate.tag", r.PredicateTag, pred.Tag)
	if r.SubjectURIPrefix != "" {
		var hdr struct {
			Subject []struct {
				Name string `json:"name"`
				URI  string `json:"uri"`
			} `json:"subject"`
		}
		_ = json.Unmarshal(payload, &hdr) // it parsed in summarize
		var names []string
		ok := false
		for _, s := range hdr.Subject {
			for _, n := range []string{s.URI, s.Name} {
				if n == "" {
					continue
				}
				names = append(names, n)
				if n == r.SubjectURIPrefix || (!r.SubjectURIExact && strings.HasPrefix(n, r.SubjectURIPrefix)) {
					ok = true
				}
			}
		}
		want := fmt.Sprintf("%q", r.SubjectURIPrefix)
		if !r.SubjectURIExact {
			want = fmt.Sprintf("starting with %q", r.SubjectURIPrefix)
		}
		out = append(out, Comparison{Field: "subject", Expected: want, Actual: strings.Join(first(names, 3), ", "), Match: ok})
	}
	for _, c := range out {
		if !c.Match {
			return &RejectedError{Cause: CauseStatement, Reason: "the attestation does not match the statement policy", Comparisons: out}
		}
	}
	return nil
}

func first(s []string, n int) []string {
	if len(s) > n {
		return append(s[:n:n], fmt.Sprintf("... (%d in all)", len(s)))
	}
	return s
}

func quoteAll(s []string) string {
	q := make([]string, len(s))
	for i, v := range s {
		q[i] = fmt.Sprintf("%q", v)
	}
	return "one of " + strings.Join(q, ", ")
}
