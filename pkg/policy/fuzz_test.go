package policy_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/hallmark-dev/hallmark/pkg/policy"
	"github.com/hallmark-dev/hallmark/pkg/verify"
)

// seedPolicies are the policy files of testdata and the policies of the
// CLI scripts (testdata/script/policy_*.txtar sections named *.yaml).
func seedPolicies(tb testing.TB) map[string][]byte {
	tb.Helper()
	out := map[string][]byte{}
	files, _ := filepath.Glob(filepath.Join("testdata", "*.yaml"))
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			tb.Fatal(err)
		}
		out[f] = data
	}
	scripts, _ := filepath.Glob(filepath.Join("..", "..", "testdata", "script", "policy_*.txtar"))
	section := regexp.MustCompile(`(?m)^-- (\S+\.yaml) --\n`)
	for _, s := range scripts {
		data, err := os.ReadFile(s)
		if err != nil {
			tb.Fatal(err)
		}
		idx := section.FindAllSubmatchIndex(data, -1)
		for i, m := range idx {
			end := len(data)
			if i+1 < len(idx) {
				end = idx[i+1][0]
			}
			out[s+":"+string(data[m[2]:m[3]])] = data[m[1]:end]
		}
	}
	if len(files) < 3 || len(out) < 8 {
		tb.Fatalf("only %d seed policies (%d in testdata): the seeds were not found", len(out), len(files))
	}
	return out
}

// FuzzParse: any input is a policy or an Errors of *Error, never a panic;
// a policy that parses evaluates over nothing without a panic and fails.
func FuzzParse(f *testing.F) {
	for _, data := range seedPolicies(f) {
		f.Add(data)
	}
	f.Add([]byte("version: 1\nsigners: {a: &x {issuer: i}}\n"))
	f.Add([]byte("[[[[[[[[[[[[[["))
	dir := f.TempDir() // empty: no key file a policy names exists
	f.Fuzz(func(t *testing.T, data []byte) {
		ctx := context.Background()
		p, err := policy.Parse(ctx, data, policy.Options{File: "fuzz.yaml", Dir: dir})
		if err != nil {
			var es policy.Errors
			if !errors.As(err, &es) || len(es) == 0 || !errors.Is(err, policy.ErrPolicy) {
				t.Fatalf("error %T %v is not policy.Errors", err, err)
			}
			return
		}
		rep, err := p.Evaluate(ctx, policy.Input{Artifacts: []policy.Artifact{{Name: "a", Digests: []verify.Digest{{Algorithm: "sha256", Value: "00"}}}}})
		if err != nil {
			t.Fatal(err)
		}
		if rep.Passed {
			t.Fatalf("a policy passed with no attestation at all: %+v", rep.Outcomes)
		}
	})
}

// FuzzCompileRule: any expression compiles or is a *CELError.
func FuzzCompileRule(f *testing.F) {
	n := 0
	for name, data := range seedPolicies(f) {
		p, err := policy.Parse(context.Background(), data, policy.Options{File: name, Dir: filepath.Dir(name)})
		if err != nil {
			continue
		}
		for _, ap := range p.Artifacts {
			for _, r := range ap.Attestations {
				for _, rule := range r.Rules {
					f.Add(rule.CEL)
					n++
				}
			}
		}
		for _, s := range p.Steps {
			for _, rule := range s.Rules {
				f.Add(rule.CEL)
				n++
			}
		}
	}
	if n < 5 {
		f.Fatalf("only %d CEL rules seeded: the seeds were not found", n)
	}
	f.Add(`[1,2,3].map(x, [x, x]).map(y, [y, y]).map(z, [z, z]).size() > 0`)
	f.Add(`"a".matches("(")`)
	f.Fuzz(func(t *testing.T, expr string) {
		err := policy.CompileRule(expr)
		var ce *policy.CELError
		if err != nil && !errors.As(err, &ce) {
			t.Fatalf("error %T %v is no *CELError", err, err)
		}
	})
}
