package policy_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/xeipuuv/gojsonschema"
	"go.yaml.in/yaml/v3"

	"github.com/hallmark-dev/hallmark/pkg/policy"
)

const okHead = `version: 1
signers:
  alice:
    issuer: https://accounts.example.com
    san: alice@example.com
`

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name      string
		text      string
		line, col int
		field     string
		msg       string
	}{
		{"not YAML", "version: 1\nsigners: [\n", 2, 1, "", "not valid YAML"},
		{"unknown top-level field", "version: 1\nsignerz: {}\n", 2, 1, "", `unknown field "signerz"`},
		{"no version", "artifacts: []\n", 1, 1, "version", "missing"},
		{"wrong version", "version: 2\nsteps: [{name: a, signers: [x]}]\n", 1, 10, "version", "unsupported version 2"},
		{"nothing to check", "version: 1\n", 1, 1, "", "neither artifacts nor steps"},
		{"unknown signer field", okHead + "    sun: x\nartifacts: []\n", 6, 5, "signers.alice", `unknown field "sun"`},
		{"key and identity", "version: 1\nsigners:\n  k:\n    key: k.pub\n    san: a\nsteps: []\n", 4, 5, "signers.k", "not both"},
		{"no issuer", "version: 1\nsigners:\n  k:\n    san: a\nsteps: []\n", 4, 5, "signers.k", "needs issuer"},
		{"bad pattern", "version: 1\nsigners:\n  k:\n    issuer: i\n    sanPattern: 'a)|(b'\nsteps: []\n", 5, 17, "signers.k.sanPattern", "bad pattern"},
		{"workflow without repository", "version: 1\nsigners:\n  k:\n    issuer: i\n    san: s\n    github:\n      workflow: o/r/.github/workflows/w.yml\nsteps: []\n", 7, 7, "signers.k.github", "needs github.repository"},
		{"unknown signer in threshold", okHead + "artifacts:\n  - name: '*'\n    attestations:\n      - predicateType: slsaprovenance1\n        signers: \"1 of [alice, bob]\"\n",
			10, 18, "artifacts[0].attestations[0].signers", `unknown signer "bob"`},
		{"threshold too high", okHead + "artifacts:\n  - name: '*'\n    attestations:\n      - predicateType: slsaprovenance1\n        signers: \"2 of [alice]\"\n",
			10, 18, "artifacts[0].attestations[0].signers", "can never be met"},
		{"bad threshold", okHead + "artifacts:\n  - name: '*'\n    attestations:\n      - predicateType: slsaprovenance1\n        signers: \"alice\"\n",
			10, 18, "artifacts[0].attestations[0].signers", `expected "N of [signer, ...]"`},
		{"bad predicate type", okHead + "artifacts:\n  - name: '*'\n    attestations:\n      - predicateType: provenance\n        signers: [alice]\n",
			9, 24, "artifacts[0].attestations[0].predicateType", "neither a known short name"},
		{"CEL syntax error", okHead + "artifacts:\n  - name: '*'\n    attestations:\n      - predicateType: slsaprovenance1\n        signers: [alice]\n        rules:\n          - name: r\n            cel: predicate.x ==\n",
			13, 32, "artifacts[0].attestations[0].rules[0].cel", "CEL: Syntax error"},
		{"CEL undeclared variable", okHead + "artifacts:\n  - name: '*'\n    attestations:\n      - predicateType: slsaprovenance1\n        signers: [alice]\n        rules:\n          - name: r\n            cel: 'predicat.x == 1'\n",
			13, 19, "artifacts[0].attestations[0].rules[0].cel", "undeclared reference to 'predicat'"},
		{"CEL not a bool", okHead + "artifacts:\n  - name: '*'\n    attestations:\n      - predicateType: slsaprovenance1\n        signers: [alice]\n        rules:\n          - name: r\n            cel: predicateType + \"x\"\n",
			13, 18, "artifacts[0].attestations[0].rules[0].cel", "must be a bool"},
		{"CEL in a block", okHead + "artifacts:\n  - name: '*'\n    attestations:\n      - predicateType: slsaprovenance1\n        signers: [alice]\n        rules:\n          - name: r\n            cel: |\n              predicate.x == 1 &&\n              nope\n",
			15, 18, "artifacts[0].attestations[0].rules[0].cel", "undeclared reference to 'nope'"},
		{"MATCH from an unknown step", okHead + "steps:\n  - name: build\n    signers: [alice]\n    materials: [MATCH * WITH products FROM biuld]\n",
			9, 17, "steps[0].materials[0]", `unknown step "biuld"`},
		{"unreachable step", okHead + "steps:\n  - name: lint\n    signers: [alice]\n  - name: build\n    signers: [alice]\n",
			7, 5, "steps[0]", `step "lint" is unreachable`},
		{"bad artifact rule", okHead + "steps:\n  - name: build\n    signers: [alice]\n    products: [CREATE app]\n",
			9, 16, "steps[0].products[0]", "unknown verb"},
		{"MATCH without FROM", okHead + "steps:\n  - name: build\n    signers: [alice]\n    products: [MATCH * WITH products]\n",
			9, 16, "steps[0].products[0]", "expected"},
		{"anchors", "version: 1\nsigners:\n  a: &x {issuer: i, san: s}\n  b: *x\nsteps: []\n", 3, 6, "", "anchors and aliases"},
		{"duplicate field", okHead + "version: 1\nsteps: []\n", 6, 1, "", `field "version" given twice`},
		{"missing key file", "version: 1\nsigners:\n  k:\n    key: nope.pub\nartifacts:\n  - name: '*'\n    attestations: [{predicateType: signature, signers: [k]}]\n",
			4, 10, "signers.k.key", "no such file"},
		{"empty file", "", 1, 1, "", "the policy file is empty"},
		{"only comments and blank lines", "# a policy\n\n   \n# to come\n", 1, 1, "", "the policy file is empty"},
		{"only a document marker", "---\n", 1, 1, "", "the policy file is empty"},
		{"link step with a signature type", okHead + "steps:\n  - name: build\n    signers: [alice]\n    predicateType: signature\n", 9, 20, "steps[0].predicateType", "not a plain signature"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := policy.Parse(context.Background(), []byte(tt.text), policy.Options{File: "p.yaml", Dir: t.TempDir()})
			if !errors.Is(err, policy.ErrPolicy) {
				t.Fatalf("error %v does not wrap ErrPolicy", err)
			}
			var pe *policy.Error
			if !errors.As(err, &pe) {
				t.Fatalf("error %T %v is no *policy.Error", err, err)
			}
			if pe.Line != tt.line || pe.Column != tt.col || pe.Field != tt.field || !strings.Contains(pe.Msg, tt.msg) {
				t.Errorf("got %d:%d %q %q\nwant %d:%d %q containing %q", pe.Line, pe.Column, pe.Field, pe.Msg, tt.line, tt.col, tt.field, tt.msg)
			}
			if !strings.HasPrefix(err.Error(), "p.yaml:") {
				t.Errorf("message %q does not name the file", err)
			}
		})
	}
}

// TestParseEchoesLittle: a problem quotes at most the start of a long
// value (a policy file of one 1 MiB line, or /etc/passwd, is one scalar),
// and a file of thousands of problems reports the first ones, then how
// many more there are.
func TestParseEchoesLittle(t *testing.T) {
	long := strings.Repeat("x", 100_000)
	_, err := policy.Parse(context.Background(), []byte(long), policy.Options{File: "p.yaml"})
	var pe *policy.Error
	if !errors.As(err, &pe) || !strings.Contains(pe.Msg, "expected a mapping") {
		t.Fatalf("got %v", err)
	}
	if len(pe.Msg) > 200 || !strings.Contains(pe.Msg, `"xxxx`) || !strings.Contains(pe.Msg, "100000 bytes") {
		t.Errorf("message of %d bytes: %.300q", len(pe.Msg), pe.Msg)
	}

	var b strings.Builder
	b.WriteString("version: 1\n")
	for i := range 10_000 {
		fmt.Fprintf(&b, "k%d: 1\n", i)
	}
	_, err = policy.Parse(context.Background(), []byte(b.String()), policy.Options{File: "p.yaml"})
	var es policy.Errors
	if !errors.As(err, &es) {
		t.Fatalf("got %v", err)
	}
	if len(es) != policy.MaxProblems+1 {
		t.Fatalf("%d problems reported, want %d and a last one saying how many more", len(es), policy.MaxProblems+1)
	}
	if first := es[0]; first.Line != 2 || !strings.Contains(first.Msg, `unknown field "k0"`) {
		t.Errorf("first problem %v", first)
	}
	last := es[len(es)-1]
	if want := fmt.Sprintf("and %d more problems", 10_000-policy.MaxProblems); !strings.Contains(last.Msg, want) || last.Line != policy.MaxProblems+2 {
		t.Errorf("last problem %v, want line %d saying %q", last, policy.MaxProblems+2, want)
	}
	if !errors.Is(err, policy.ErrPolicy) {
		t.Errorf("%v is no ErrPolicy", err)
	}
}

// TestParseCollectsAll: every problem of a file is reported, in order.
func TestParseCollectsAll(t *testing.T) {
	text := "version: 1\nsigners:\n  a: {issuer: i, san: s, x: 1}\nsteps:\n  - name: b\n    signers: \"1 of [nobody]\"\n    y: 2\n"
	_, err := policy.Parse(context.Background(), []byte(text), policy.Options{})
	var es policy.Errors
	if !errors.As(err, &es) || len(es) != 3 || es[0].Line != 3 || es[1].Line != 6 || es[2].Line != 7 {
		t.Fatalf("got %v", err)
	}
}

func TestParseArtifactRule(t *testing.T) {
	tests := []struct {
		text string
		want policy.ArtifactRule
		err  bool
	}{
		{text: "ALLOW src/*", want: policy.ArtifactRule{Kind: policy.Allow, Pattern: "src/*"}},
		{text: "disallow *", want: policy.ArtifactRule{Kind: policy.Disallow, Pattern: "*"}},
		{text: "REQUIRE app.pkg", want: policy.ArtifactRule{Kind: policy.Require, Pattern: "app.pkg"}},
		{text: "MATCH * WITH products FROM build", want: policy.ArtifactRule{Kind: policy.Match, Pattern: "*", With: "products", From: "build"}},
		{text: "MATCH *.go IN src WITH materials IN vendor/src FROM fetch",
			want: policy.ArtifactRule{Kind: policy.Match, Pattern: "*.go", SrcPrefix: "src", With: "materials", DstPrefix: "vendor/src", From: "fetch"}},
		{text: "MATCH * WITH products", err: true},
		{text: "MATCH * WITH things FROM x", err: true},
		{text: "MATCH * IN WITH products FROM x", err: true},
		{text: "ALLOW", err: true},
		{text: "ALLOW a b", err: true},
		{text: "ALLOW [abc", err: true},
		{text: "CREATE x", err: true},
	}
	for _, tt := range tests {
		r, err := policy.ParseArtifactRule(tt.text)
		if tt.err {
			if err == nil {
				t.Errorf("%q: no error", tt.text)
			}
			continue
		}
		if err != nil {
			t.Errorf("%q: %v", tt.text, err)
			continue
		}
		if r.Kind != tt.want.Kind || r.Pattern != tt.want.Pattern || r.SrcPrefix != tt.want.SrcPrefix || r.With != tt.want.With ||
			r.DstPrefix != tt.want.DstPrefix || r.From != tt.want.From {
			t.Errorf("%q: got %+v", tt.text, r)
		}
	}
}

// TestSchema: the shipped schema accepts every good policy of testdata and
// refuses what the parser refuses for its shape.
func TestSchema(t *testing.T) {
	s, err := gojsonschema.NewSchema(gojsonschema.NewBytesLoader(policy.Schema()))
	if err != nil {
		t.Fatal(err)
	}
	check := func(text string) bool {
		var v any
		if err := yaml.Unmarshal([]byte(text), &v); err != nil {
			t.Fatal(err)
		}
		res, err := s.Validate(gojsonschema.NewGoLoader(v))
		if err != nil {
			t.Fatal(err)
		}
		return res.Valid()
	}
	files, _ := filepath.Glob("testdata/*.yaml")
	if len(files) < 3 {
		t.Fatalf("only %d testdata policies", len(files))
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if !check(string(data)) {
			t.Errorf("%s: refused by the schema", f)
		}
	}
	for _, bad := range []string{
		"version: 1\nsteps: [{name: a, signers: [x], extra: 1}]\n",
		"version: 2\nsteps: []\n",
		"version: 1\n",
		"version: 1\nsigners: {a: {key: k, san: s}}\nsteps: []\n",
		"version: 1\nsteps: [{name: a, signers: [x], products: [CREATE x]}]\n",
	} {
		if check(bad) {
			t.Errorf("the schema accepts %q", bad)
		}
	}
}

func TestCompileRule(t *testing.T) {
	tests := []struct {
		expr      string
		line, col int
		msg       string
	}{
		{expr: `predicate.buildDefinition.buildType == "x"`},
		{expr: `now - timestamps[0].time < duration("1h")`},
		{expr: `subject.exists(s, s.digest.sha256 == "ab")`},
		{expr: `signer.github.ref.startsWith("refs/tags/") && signer.issuer != ""`},
		{expr: `predicateType == 1`, line: 1, col: 15, msg: "no matching overload"},
		{expr: `predicat.x`, line: 1, col: 1, msg: "undeclared reference"},
		{expr: "true &&\n  nope", line: 2, col: 3, msg: "undeclared reference to 'nope'"},
		{expr: `now`, line: 1, col: 1, msg: "must be a bool"},
		{expr: `(`, line: 1, col: 2, msg: "Syntax error"},
	}
	for _, tt := range tests {
		err := policy.CompileRule(tt.expr)
		if tt.msg == "" {
			if err != nil {
				t.Errorf("%q: %v", tt.expr, err)
			}
			continue
		}
		var ce *policy.CELError
		if !errors.As(err, &ce) || !errors.Is(err, policy.ErrPolicy) {
			t.Errorf("%q: error %T %v is no *CELError", tt.expr, err, err)
			continue
		}
		if ce.Line != tt.line || ce.Column != tt.col || !strings.Contains(ce.Msg, tt.msg) {
			t.Errorf("%q: got %d:%d %q, want %d:%d %q", tt.expr, ce.Line, ce.Column, ce.Msg, tt.line, tt.col, tt.msg)
		}
	}
}
