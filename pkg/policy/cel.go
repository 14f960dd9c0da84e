package policy

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"cel.dev/cel-go/cel"
	"cel.dev/cel-go/common/types"
	"cel.dev/cel-go/ext"
	"go.yaml.in/yaml/v3"

	"github.com/hallmark-dev/hallmark/pkg/verify"
)

// The CEL variables a rule sees, one attestation at a time:
//
//	subject        list of {name, digest: {alg: hex}}
//	predicateType  string
//	predicate      the statement's predicate (parsed JSON)
//	signer         {kind, identity, san, issuer, keyFingerprint,
//	                github: {repository, ref, digest, trigger, workflow,
//	                configWorkflow, runInvocation, runnerEnvironment,
//	                owner, workflowDigest}}
//	now            timestamp: the time of the evaluation
//	timestamps     list of {kind: "tlog"|"tsa", uri, time: timestamp},
//	               the verified timestamps of the bundle
//
// A rule must evaluate to a bool; it is given at most celCostLimit units
// of work.
const celCostLimit = 1_000_000

// celEnv is built once, the first time a policy with rules is parsed:
// building it costs milliseconds that verify without a policy never pays.
var celEnv = sync.OnceValues(func() (*cel.Env, error) {
	mapT := cel.MapType(cel.StringType, cel.DynType)
	return cel.NewEnv(
		cel.Variable("subject", cel.ListType(mapT)),
		cel.Variable("predicateType", cel.StringType),
		cel.Variable("predicate", cel.DynType),
		cel.Variable("signer", mapT),
		cel.Variable("now", cel.TimestampType),
		cel.Variable("timestamps", cel.ListType(mapT)),
		ext.Strings(),
		cel.ParserRecursionLimit(100),
		cel.ParserExpressionSizeLimit(16<<10),
	)
})

type celProgram struct {
	prg cel.Program
}

// CELError is a CEL rule that does not compile or type-check: Line and
// Column are its place inside the expression (1-based).
type CELError struct {
	Line, Column int
	Msg          string
}

func (e *CELError) Error() string { return "CEL: " + e.Msg }

// Unwrap makes a CELError an ErrPolicy.
func (e *CELError) Unwrap() error { return ErrPolicy }

// CompileRule compiles and type-checks one CEL rule expression, as Parse
// does for every rule of a policy. The error is a *CELError.
func CompileRule(expr string) error {
	_, err := compileRule(expr)
	return err
}

func compileRule(expr string) (*celProgram, error) {
	env, err := celEnv()
	if err != nil {
		return nil, &CELError{Msg: err.Error()}
	}
	ast, iss := env.Compile(expr)
	if iss != nil && iss.Err() != nil {
		e := &CELError{Msg: iss.Err().Error()}
		if errs := iss.Errors(); len(errs) > 0 {
			e.Msg = errs[0].Message
			if loc := errs[0].Location; loc != nil && loc.Line() > 0 {
				e.Line, e.Column = loc.Line(), loc.Column()+1
			}
		}
		return nil, e
	}
	if t := ast.OutputType(); !t.IsExactType(types.BoolType) && !t.IsExactType(types.DynType) {
		return nil, &CELError{Line: 1, Column: 1, Msg: fmt.Sprintf("a rule must be a bool, and this one is a %s", t)}
	}
	prg, err := env.Program(ast, cel.CostLimit(celCostLimit), cel.InterruptCheckFrequency(100),
		cel.EvalOptions(cel.OptOptimize))
	if err != nil {
		return nil, &CELError{Msg: err.Error()}
	}
	return &celProgram{prg: prg}, nil
}

// celPosition places a CEL error in the policy file: for an expression on
// the line of its key, the column within it; for a block scalar (| or >),
// the line within the block.
func celPosition(n *yaml.Node, err error) (int, int) {
	var ce *CELError
	if !errors.As(err, &ce) || ce.Line == 0 {
		return n.Line, n.Column
	}
	switch n.Style {
	case yaml.LiteralStyle, yaml.FoldedStyle:
		return n.Line + ce.Line, n.Column
	case yaml.DoubleQuotedStyle, yaml.SingleQuotedStyle:
		if ce.Line == 1 {
			return n.Line, n.Column + ce.Column
		}
	default:
		if ce.Line == 1 {
			return n.Line, n.Column + ce.Column - 1
		}
	}
	return n.Line + ce.Line - 1, n.Column
}

// celInput is the activation of one attestation.
func celInput(r *verify.Result, now time.Time) (map[string]any, error) {
	in := map[string]any{
		"subject":       []any{},
		"predicateType": "",
		"predicate":     map[string]any{},
		"signer":        signerValue(r.Signer),
		"now":           now.UTC(),
		"timestamps":    timestampsValue(r.Timestamps),
	}
	if st := r.Statement; st != nil {
		in["predicateType"] = st.PredicateType
		subs := make([]any, len(st.Subjects))
		for i, s := range st.Subjects {
			d := map[string]any{}
			for k, v := range s.Digest {
				d[k] = v
			}
			subs[i] = map[string]any{"name": s.Name, "digest": d}
		}
		in["subject"] = subs
		if len(st.Predicate) > 0 {
			var pred any
			if err := json.Unmarshal(st.Predicate, &pred); err != nil {
				return nil, fmt.Errorf("the predicate is not JSON: %w", err)
			}
			in["predicate"] = pred
		}
	}
	return in, nil
}

func signerValue(s *verify.Signer) map[string]any {
	out := map[string]any{"kind": "", "identity": "", "san": "", "issuer": "", "keyFingerprint": "", "github": map[string]any{}}
	if s == nil {
		return out
	}
	out["kind"], out["san"], out["identity"], out["issuer"], out["keyFingerprint"] = s.Kind, s.SAN, s.SAN, s.Issuer, s.KeyFingerprint
	if s.Kind == "key" {
		out["identity"] = s.KeyFingerprint
	}
	if g := s.GitHub; g != nil {
		out["github"] = map[string]any{
			"repository": g.SourceRepository, "ref": g.SourceRef, "digest": g.SourceDigest, "trigger": g.Trigger,
			"workflow": g.SignerWorkflow, "configWorkflow": g.ConfigWorkflow, "runInvocation": g.RunInvocation,
			"runnerEnvironment": g.RunnerEnvironment, "owner": g.SourceOwner, "workflowDigest": g.SignerDigest,
		}
	}
	return out
}

func timestampsValue(ts []verify.Timestamp) []any {
	out := make([]any, len(ts))
	for i, t := range ts {
		out[i] = map[string]any{"kind": t.Kind, "uri": t.URI, "time": t.Time.UTC()}
	}
	return out
}

// eval runs the rule over one attestation's input: true, or false and what
// it returned instead (false, an error, another type).
func (p *celProgram) eval(ctx context.Context, in map[string]any) (bool, string) {
	out, _, err := p.prg.ContextEval(ctx, in)
	if err != nil {
		msg := err.Error()
		if ctx.Err() != nil {
			msg = ctx.Err().Error()
		}
		return false, "error: " + strings.TrimSpace(msg)
	}
	if b, ok := out.Value().(bool); ok {
		if b {
			return true, "true"
		}
		return false, "false"
	}
	return false, "not a bool: " + shorten(fmt.Sprint(out.Value()), 200)
}

// shorten cuts s to about n bytes (at a rune boundary), saying how much
// was left out.
func shorten(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return fmt.Sprintf("%s... (%d more bytes)", s[:cut], len(s)-cut)
}
