package policy

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/bmatcuk/doublestar/v4"
	"go.yaml.in/yaml/v3"

	"github.com/hallmark-dev/hallmark/internal/ctxio"
	"github.com/hallmark-dev/hallmark/internal/keys"
	"github.com/hallmark-dev/hallmark/pkg/attest"
	"github.com/hallmark-dev/hallmark/pkg/verify"
)

// MaxSize is the largest policy file Parse accepts.
const MaxSize = 1 << 20

// MaxProblems is how many problems of one policy file Parse reports: the
// first ones in file order, then one more saying how many were left out.
const MaxProblems = 50

// Load reads and parses the policy file at path (relative paths in it are
// resolved against its directory). The error is an Errors (wrapping
// ErrPolicy) when the file is not a valid policy, any other error when it
// could not be read.
func Load(ctx context.Context, file string) (*Policy, error) {
	data, err := ReadFile(ctx, file)
	if err != nil {
		return nil, err
	}
	return Parse(ctx, data, Options{File: file, Dir: filepath.Dir(file)})
}

// ReadFile reads a policy file of at most MaxSize bytes, stopping with ctx
// (the file may be a pipe: --policy <(command)).
func ReadFile(ctx context.Context, file string) ([]byte, error) {
	data, err := ctxio.ReadFile(ctx, file, MaxSize)
	if err != nil {
		return nil, fmt.Errorf("reading policy: %w", err)
	}
	return data, nil
}

// Options say where a policy's text came from.
type Options struct {
	// File names the policy in errors.
	File string
	// Dir is the directory key files and trusted roots named by a
	// relative path are read from ("" = the current directory).
	Dir string
}

// Parse parses and checks a policy: YAML (no anchors or aliases), every
// field known, every value of the right kind, signers defined before use,
// steps named before MATCH ... FROM them, and every CEL rule compiled and
// type-checked. The error is an Errors of every problem found, each with
// its line and column.
func Parse(ctx context.Context, data []byte, o Options) (*Policy, error) {
	d := &decoder{file: o.File}
	if len(data) > MaxSize {
		return nil, Errors{{File: o.File, Msg: fmt.Sprintf("the policy file is larger than %d bytes", MaxSize)}}
	}
	var doc yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(data))
	empty := Errors{{File: o.File, Line: 1, Column: 1, Msg: "the policy file is empty"}}
	if err := dec.Decode(&doc); err != nil {
		if err == io.EOF { // nothing but blanks and comments
			return nil, empty
		}
		return nil, Errors{yamlError(o.File, err)}
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); err != io.EOF {
		return nil, Errors{{File: o.File, Line: extra.Line, Column: extra.Column, Msg: "a policy file holds one YAML document"}}
	}
	if len(doc.Content) != 1 {
		return nil, empty
	}
	root := doc.Content[0]
	if root.Kind == yaml.ScalarNode && root.Tag == "!!null" && root.Value == "" {
		return nil, empty // "---" alone
	}
	if !d.noAliases(root, 0) {
		return nil, d.errs
	}
	p := &Policy{File: o.File, Dir: o.Dir, signers: map[string]*Signer{}}
	d.policy(root, p)
	if root.Kind == yaml.MappingNode {
		d.resolve(ctx, p) // what refers to what, reported with the rest
	}
	if len(d.errs) == 0 {
		d.schema(root, data)
	}
	if len(d.errs) > 0 {
		slices.SortStableFunc(d.errs, func(a, b *Error) int {
			if a.Line != b.Line {
				return a.Line - b.Line
			}
			return a.Column - b.Column
		})
		if n := len(d.errs); n > MaxProblems {
			next := d.errs[MaxProblems]
			d.errs = append(d.errs[:MaxProblems:MaxProblems], &Error{File: o.File, Line: next.Line, Column: next.Column,
				Msg: fmt.Sprintf("and %d more problems from here on (fix the ones above first)", n-MaxProblems)})
		}
		return nil, d.errs
	}
	return p, nil
}

// yamlLine is the "yaml: line N:" of a yaml.v3 syntax error.
var yamlLine = lazyRegexp(`^yaml: line (\d+): `)

func yamlError(file string, err error) *Error {
	msg := err.Error()
	e := &Error{File: file}
	if m := yamlLine().FindStringSubmatch(msg); m != nil {
		e.Line, _ = strconv.Atoi(m[1])
		e.Column = 1
		msg = msg[len(m[0]):]
	}
	e.Msg = "not valid YAML: " + strings.TrimPrefix(msg, "yaml: ")
	return e
}

type decoder struct {
	file string
	errs Errors
}

func (d *decoder) errorf(n *yaml.Node, field, format string, args ...any) {
	e := &Error{File: d.file, Field: field, Msg: fmt.Sprintf(format, args...)}
	if n != nil {
		e.Line, e.Column = n.Line, n.Column
	}
	d.errs = append(d.errs, e)
}

func pos(n *yaml.Node) Pos { return Pos{Line: n.Line, Column: n.Column} }

// noAliases refuses anchors and aliases (a few lines of aliases can stand
// for billions of nodes) and documents nested beyond reason.
func (d *decoder) noAliases(n *yaml.Node, depth int) bool {
	switch {
	case depth > 64:
		d.errorf(n, "", "the document is nested too deeply")
		return false
	case n.Kind == yaml.AliasNode || n.Anchor != "":
		d.errorf(n, "", "YAML anchors and aliases are not allowed in a policy")
		return false
	}
	for _, c := range n.Content {
		if !d.noAliases(c, depth+1) {
			return false
		}
	}
	return true
}

// fields walks a mapping, calling the handler of each key; an unknown key,
// a duplicate or a mapping that is not one is an error.
func (d *decoder) fields(n *yaml.Node, field string, handlers map[string]func(v *yaml.Node, field string)) {
	if n.Kind != yaml.MappingNode {
		d.errorf(n, field, "expected a mapping, found %s", kind(n))
		return
	}
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		sub := join(field, k.Value)
		h, ok := handlers[k.Value]
		switch {
		case k.Kind != yaml.ScalarNode:
			d.errorf(k, field, "a key must be a plain string")
		case !ok:
			d.errorf(k, field, "unknown field %s (known: %s)", quoteShort(k.Value), strings.Join(sortedKeys(handlers), ", "))
		case seen[k.Value]:
			d.errorf(k, field, "field %q given twice", k.Value)
		default:
			seen[k.Value] = true
			h(v, sub)
		}
	}
}

func sortedKeys[V any](m map[string]V) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}

func join(field, key string) string {
	if field == "" {
		return key
	}
	return field + "." + key
}

func kind(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		if n.Tag == "!!null" {
			return "nothing (null)"
		}
		return quoteShort(n.Value)
	}
	return "something else"
}

func (d *decoder) str(n *yaml.Node, field string, dst *string) {
	if n.Kind != yaml.ScalarNode || n.Tag != "!!str" {
		d.errorf(n, field, "expected a string, found %s", kind(n))
		return
	}
	if n.Value == "" {
		d.errorf(n, field, "must not be empty")
		return
	}
	*dst = n.Value
}

func (d *decoder) int(n *yaml.Node, field string, dst *int) {
	v, err := strconv.Atoi(n.Value)
	if n.Kind != yaml.ScalarNode || n.Tag != "!!int" || err != nil {
		d.errorf(n, field, "expected a whole number, found %s", kind(n))
		return
	}
	*dst = v
}

func (d *decoder) list(n *yaml.Node, field string, each func(i int, v *yaml.Node, field string)) {
	if n.Kind != yaml.SequenceNode {
		d.errorf(n, field, "expected a list, found %s", kind(n))
		return
	}
	for i, v := range n.Content {
		each(i, v, fmt.Sprintf("%s[%d]", field, i))
	}
}

func (d *decoder) policy(n *yaml.Node, p *Policy) {
	var versionNode *yaml.Node
	d.fields(n, "", map[string]func(*yaml.Node, string){
		"version": func(v *yaml.Node, f string) { versionNode = v; d.int(v, f, &p.Version) },
		"trust":   func(v *yaml.Node, f string) { d.trust(v, f, &p.Trust) },
		"signers": func(v *yaml.Node, f string) { d.signers(v, f, p) },
		"artifacts": func(v *yaml.Node, f string) {
			d.list(v, f, func(_ int, v *yaml.Node, f string) { p.Artifacts = append(p.Artifacts, d.artifact(v, f)) })
		},
		"steps": func(v *yaml.Node, f string) {
			d.list(v, f, func(_ int, v *yaml.Node, f string) { p.Steps = append(p.Steps, d.step(v, f)) })
		},
	})
	switch {
	case n.Kind != yaml.MappingNode:
	case versionNode == nil:
		d.errorf(n, "version", "missing: a policy starts with \"version: %d\"", Version)
	case p.Version != Version && len(d.errs) == 0:
		d.errorf(versionNode, "version", "unsupported version %d (this hallmark reads version %d)", p.Version, Version)
	}
	if n.Kind == yaml.MappingNode && len(p.Artifacts) == 0 && len(p.Steps) == 0 && len(d.errs) == 0 {
		d.errorf(n, "", "the policy has neither artifacts nor steps: it would accept nothing")
	}
}

func (d *decoder) trust(n *yaml.Node, field string, t *Trust) {
	t.Pos = pos(n)
	d.fields(n, field, map[string]func(*yaml.Node, string){
		"roots": func(v *yaml.Node, f string) {
			d.list(v, f, func(_ int, v *yaml.Node, f string) {
				var s string
				d.str(v, f, &s)
				if s != "" {
					t.Roots = append(t.Roots, s)
				}
			})
		},
		"minTlogEntries": func(v *yaml.Node, f string) { d.int(v, f, &t.MinTlogEntries); d.atLeastOne(v, f, t.MinTlogEntries) },
		"minTimestamps":  func(v *yaml.Node, f string) { d.int(v, f, &t.MinTimestamps); d.atLeastOne(v, f, t.MinTimestamps) },
	})
}

func (d *decoder) atLeastOne(n *yaml.Node, field string, v int) {
	if n.Tag == "!!int" && v < 1 {
		d.errorf(n, field, "must be at least 1")
	}
}

// signerName is what a signer may be called: it appears in "N of [a, b]".
var signerName = lazyRegexp(`^[A-Za-z0-9][A-Za-z0-9._-]*$`)

func (d *decoder) signers(n *yaml.Node, field string, p *Policy) {
	if n.Kind != yaml.MappingNode {
		d.errorf(n, field, "expected a mapping of signer names to signers, found %s", kind(n))
		return
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		f := field + "." + k.Value
		switch {
		case !signerName().MatchString(k.Value):
			d.errorf(k, field, "signer name %s must be letters, digits, '.', '_' or '-'", quoteShort(k.Value))
			continue
		case p.signers[k.Value] != nil:
			d.errorf(k, field, "signer %q defined twice", k.Value)
			continue
		}
		s := &Signer{Name: k.Value, Pos: pos(k)}
		before := len(d.errs)
		d.signer(v, f, s)
		s.invalid = len(d.errs) > before
		p.signers[s.Name] = s
		p.Signers = append(p.Signers, s)
	}
}

func (d *decoder) signer(n *yaml.Node, field string, s *Signer) {
	d.fields(n, field, map[string]func(*yaml.Node, string){
		"issuer": func(v *yaml.Node, f string) { d.str(v, f, &s.Issuer) },
		"issuerPattern": func(v *yaml.Node, f string) {
			d.str(v, f, &s.IssuerPattern)
			s.issuerRE = d.pattern(v, f, s.IssuerPattern)
		},
		"san":        func(v *yaml.Node, f string) { d.str(v, f, &s.SAN) },
		"sanPattern": func(v *yaml.Node, f string) { d.str(v, f, &s.SANPattern); s.sanRE = d.pattern(v, f, s.SANPattern) },
		"github":     func(v *yaml.Node, f string) { s.GitHub = &GitHubClaims{}; d.github(v, f, s.GitHub) },
		"key":        func(v *yaml.Node, f string) { d.str(v, f, &s.KeyFile); s.keyPos = pos(v) },
		"keyPEM":     func(v *yaml.Node, f string) { d.str(v, f, &s.KeyPEM); s.keyPos = pos(v) },
	})
	if n.Kind != yaml.MappingNode {
		return
	}
	keyed := s.KeyFile != "" || s.KeyPEM != ""
	keyless := s.Issuer != "" || s.IssuerPattern != "" || s.SAN != "" || s.SANPattern != "" || s.GitHub != nil
	switch {
	case s.KeyFile != "" && s.KeyPEM != "":
		d.errorf(n, field, "key and keyPEM are mutually exclusive")
	case keyed && keyless:
		d.errorf(n, field, "a signer is a key (key or keyPEM) or a keyless identity (issuer, san, github), not both")
	case keyed:
	case s.SAN != "" && s.SANPattern != "":
		d.errorf(n, field, "san and sanPattern are mutually exclusive")
	case s.Issuer != "" && s.IssuerPattern != "":
		d.errorf(n, field, "issuer and issuerPattern are mutually exclusive")
	case s.SAN == "" && s.SANPattern == "":
		d.errorf(n, field, "a keyless signer needs san or sanPattern (or use key for a public key)")
	case s.Issuer == "" && s.IssuerPattern == "":
		d.errorf(n, field, "a keyless signer needs issuer or issuerPattern")
	}
}

// pattern compiles a user pattern anchored to the whole value. It must be
// valid on its own, so that the anchors wrap all of it.
func (d *decoder) pattern(n *yaml.Node, field, p string) *regexp.Regexp {
	if p == "" {
		return nil
	}
	if _, err := regexp.Compile(p); err != nil {
		d.errorf(n, field, "bad pattern %q: %v", p, err)
		return nil
	}
	return regexp.MustCompile(verify.Anchor(p))
}

func (d *decoder) github(n *yaml.Node, field string, g *GitHubClaims) {
	d.fields(n, field, map[string]func(*yaml.Node, string){
		"repository": func(v *yaml.Node, f string) {
			d.str(v, f, &g.Repository)
			if g.Repository == "" {
				return
			}
			uri := g.Repository
			if !strings.HasPrefix(uri, "https://") {
				uri = "https://" + verify.GitHubHost + "/" + uri
			}
			rest := strings.TrimPrefix(uri, "https://")
			if parts := strings.Split(rest, "/"); len(parts) != 3 || slices.Contains(parts, "") {
				d.errorf(v, f, "repository %q is not OWNER/NAME or https://HOST/OWNER/NAME", g.Repository)
				return
			}
			g.repositoryURI = uri
		},
		"workflow": func(v *yaml.Node, f string) {
			d.str(v, f, &g.Workflow)
			if g.Workflow == "" {
				return
			}
			uri, err := verify.ParseSignerWorkflow(g.Workflow)
			if err != nil {
				d.errorf(v, f, "%s", strings.TrimPrefix(err.Error(), verify.ErrPolicy.Error()+": "))
				return
			}
			g.workflowURI = uri
		},
		"ref": func(v *yaml.Node, f string) {
			d.str(v, f, &g.Ref)
			if _, err := path.Match(g.Ref, ""); err != nil {
				d.errorf(v, f, "bad ref glob %q: %v", g.Ref, err)
			}
		},
		"runnerEnvironment": func(v *yaml.Node, f string) {
			d.str(v, f, &g.RunnerEnvironment)
			if g.RunnerEnvironment != "" && g.RunnerEnvironment != verify.RunnerGitHubHosted && g.RunnerEnvironment != "self-hosted" {
				d.errorf(v, f, "runnerEnvironment is %q or \"self-hosted\", not %q", verify.RunnerGitHubHosted, g.RunnerEnvironment)
			}
		},
	})
	if n.Kind == yaml.MappingNode && g.Workflow != "" && g.Repository == "" {
		// Anyone can call a public reusable workflow: only the source
		// repository says whose build it was.
		d.errorf(n, field, "github.workflow needs github.repository: a reusable workflow's certificate names it whoever called it")
	}
}

func (d *decoder) artifact(n *yaml.Node, field string) *ArtifactPolicy {
	a := &ArtifactPolicy{Pos: pos(n)}
	var seen bool
	d.fields(n, field, map[string]func(*yaml.Node, string){
		"name": func(v *yaml.Node, f string) {
			d.str(v, f, &a.Name)
			if a.Name != "" && !doublestar.ValidatePattern(a.Name) {
				d.errorf(v, f, "bad glob %q", a.Name)
			}
		},
		"attestations": func(v *yaml.Node, f string) {
			seen = true
			d.list(v, f, func(_ int, v *yaml.Node, f string) { a.Attestations = append(a.Attestations, d.requirement(v, f)) })
		},
	})
	if n.Kind == yaml.MappingNode {
		if a.Name == "" && !d.has(n, "name") {
			d.errorf(n, field, "missing name: the glob of the artifact names this entry is for")
		}
		if !seen || len(a.Attestations) == 0 {
			d.errorf(n, field, "missing attestations: at least one predicate type must be required")
		}
	}
	return a
}

// has reports whether mapping n has the key (whatever its value).
func (d *decoder) has(n *yaml.Node, key string) bool {
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return true
		}
	}
	return false
}

func (d *decoder) requirement(n *yaml.Node, field string) *Requirement {
	r := &Requirement{Pos: pos(n)}
	d.fields(n, field, map[string]func(*yaml.Node, string){
		"predicateType": func(v *yaml.Node, f string) { r.PredicateType = d.predicateType(v, f, true) },
		"signers":       func(v *yaml.Node, f string) { r.Signers = d.threshold(v, f) },
		"rules":         func(v *yaml.Node, f string) { r.Rules = d.rules(v, f) },
	})
	if n.Kind == yaml.MappingNode {
		d.need(n, field, "predicateType", "the predicate type that must be present")
		d.need(n, field, "signers", "who must sign, e.g. \"1 of [release]\"")
		if r.PredicateType == PredicateSignature && len(r.Rules) > 0 {
			d.errorf(n, field, "a plain signature has no statement for rules to read")
		}
	}
	return r
}

func (d *decoder) need(n *yaml.Node, field, key, what string) {
	if !d.has(n, key) {
		d.errorf(n, field, "missing %s: %s", key, what)
	}
}

func (d *decoder) predicateType(n *yaml.Node, field string, signatureOK bool) string {
	var s string
	d.str(n, field, &s)
	if s == "" {
		return ""
	}
	if s == PredicateSignature {
		if !signatureOK {
			d.errorf(n, field, "a step is recorded by an attestation, not a plain signature")
			return ""
		}
		return s
	}
	uri, ok := attest.PredicateType(s)
	if !ok {
		d.errorf(n, field, "predicate type %q is neither a known short name (slsaprovenance1, link, vuln, ...) nor an absolute URI", s)
		return ""
	}
	return uri
}

// thresholdText is "N of [a, b, ...]".
var thresholdText = lazyRegexp(`^\s*(\d+)\s+of\s+\[([^\]]*)\]\s*$`)

// threshold reads "N of [a, b]" or a list of signer names (one of them).
func (d *decoder) threshold(n *yaml.Node, field string) Threshold {
	t := Threshold{Pos: pos(n)}
	switch n.Kind {
	case yaml.SequenceNode:
		t.N = 1
		d.list(n, field, func(_ int, v *yaml.Node, f string) {
			var s string
			d.str(v, f, &s)
			if s != "" {
				t.Signers = append(t.Signers, s)
			}
		})
	case yaml.ScalarNode:
		m := thresholdText().FindStringSubmatch(n.Value)
		if m == nil {
			d.errorf(n, field, "expected \"N of [signer, ...]\" or a list of signer names, found %s", kind(n))
			return t
		}
		var err error
		if t.N, err = strconv.Atoi(m[1]); err != nil || t.N < 1 {
			d.errorf(n, field, "the threshold must be at least 1")
		}
		for s := range strings.SplitSeq(m[2], ",") {
			if s = strings.TrimSpace(s); s != "" {
				t.Signers = append(t.Signers, s)
			}
		}
	default:
		d.errorf(n, field, "expected \"N of [signer, ...]\" or a list of signer names, found %s", kind(n))
		return t
	}
	switch {
	case len(t.Signers) == 0:
		d.errorf(n, field, "no signer named")
	case t.N > len(t.Signers):
		d.errorf(n, field, "threshold %d is more than the %d signers named: it can never be met", t.N, len(t.Signers))
	}
	seen := map[string]bool{}
	for _, s := range t.Signers {
		if seen[s] {
			d.errorf(n, field, "signer %q named twice", s)
		}
		seen[s] = true
	}
	return t
}

// ruleName is what a rule may be called: the pattern of signer names.
var ruleName = signerName

func (d *decoder) rules(n *yaml.Node, field string) []*Rule {
	var out []*Rule
	names := map[string]bool{}
	d.list(n, field, func(_ int, v *yaml.Node, f string) {
		r := &Rule{Pos: pos(v)}
		var celNode *yaml.Node
		d.fields(v, f, map[string]func(*yaml.Node, string){
			"name": func(v *yaml.Node, f string) {
				d.str(v, f, &r.Name)
				switch {
				case r.Name == "":
				case !ruleName().MatchString(r.Name):
					d.errorf(v, f, "rule name %q must be letters, digits, '.', '_' or '-'", r.Name)
				case names[r.Name]:
					d.errorf(v, f, "rule %q defined twice here", r.Name)
				}
				names[r.Name] = true
			},
			"cel": func(v *yaml.Node, f string) { celNode = v; d.str(v, f, &r.CEL) },
		})
		if v.Kind == yaml.MappingNode {
			d.need(v, f, "name", "the rule's name, used in every report")
			d.need(v, f, "cel", "the CEL expression that must be true")
		}
		if celNode != nil && r.CEL != "" {
			prg, err := compileRule(r.CEL)
			if err != nil {
				line, col := celPosition(celNode, err)
				d.errs = append(d.errs, &Error{File: d.file, Line: line, Column: col, Field: f + ".cel", Msg: err.Error()})
			}
			r.prg = prg
		}
		out = append(out, r)
	})
	return out
}

func (d *decoder) step(n *yaml.Node, field string) *Step {
	s := &Step{Pos: pos(n), PredicateType: attestLinkType}
	d.fields(n, field, map[string]func(*yaml.Node, string){
		"name": func(v *yaml.Node, f string) {
			d.str(v, f, &s.Name)
			if s.Name != "" && !signerName().MatchString(s.Name) {
				d.errorf(v, f, "step name %q must be letters, digits, '.', '_' or '-'", s.Name)
			}
		},
		"predicateType": func(v *yaml.Node, f string) {
			s.PredicateType = d.predicateType(v, f, false)
			if s.PredicateType != "" && s.PredicateType != attestLinkType && !isProvenance(s.PredicateType) {
				d.errorf(v, f, "a step is an in-toto link (link) or SLSA provenance (slsaprovenance1, slsaprovenance02), not %q", s.PredicateType)
			}
		},
		"signers":   func(v *yaml.Node, f string) { s.Signers = d.threshold(v, f) },
		"materials": func(v *yaml.Node, f string) { s.Materials = d.artifactRules(v, f) },
		"products":  func(v *yaml.Node, f string) { s.Products = d.artifactRules(v, f) },
		"rules":     func(v *yaml.Node, f string) { s.Rules = d.rules(v, f) },
	})
	if n.Kind == yaml.MappingNode {
		d.need(n, field, "name", "the step's name, as its link records it")
		d.need(n, field, "signers", "who must sign, e.g. \"1 of [builder]\"")
	}
	return s
}

func (d *decoder) artifactRules(n *yaml.Node, field string) []*ArtifactRule {
	var out []*ArtifactRule
	d.list(n, field, func(_ int, v *yaml.Node, f string) {
		var text string
		d.str(v, f, &text)
		if text == "" {
			return
		}
		r, err := ParseArtifactRule(text)
		if err != nil {
			d.errorf(v, f, "%v", err)
			return
		}
		r.Pos = pos(v)
		out = append(out, r)
	})
	return out
}

// ParseArtifactRule parses one material or product rule (see ArtifactRule).
// Verbs and the keywords IN, WITH and FROM are case-insensitive.
func ParseArtifactRule(text string) (*ArtifactRule, error) {
	w := strings.Fields(text)
	if len(w) == 0 {
		return nil, fmt.Errorf("empty rule")
	}
	r := &ArtifactRule{Kind: RuleKind(strings.ToUpper(w[0])), Text: text}
	usage := map[RuleKind]string{
		Allow: "ALLOW pattern", Disallow: "DISALLOW pattern", Require: "REQUIRE name",
		Match: "MATCH pattern [IN prefix] WITH products|materials [IN prefix] FROM step",
	}
	u, ok := usage[r.Kind]
	if !ok {
		return nil, fmt.Errorf("rule %q: unknown verb %q (known: ALLOW, DISALLOW, REQUIRE, MATCH)", text, w[0])
	}
	bad := func() error { return fmt.Errorf("rule %q: expected %q", text, u) }
	if r.Kind != Match {
		if len(w) != 2 {
			return nil, bad()
		}
		r.Pattern = w[1]
		if r.Kind == Require {
			return r, nil
		}
		var err error
		if r.re, err = compileFnmatch(r.Pattern); err != nil {
			return nil, fmt.Errorf("rule %q: %v", text, err)
		}
		return r, nil
	}
	// MATCH pattern [IN src] WITH kind [IN dst] FROM step
	if len(w) < 6 {
		return nil, bad()
	}
	r.Pattern = w[1]
	i := 2
	if strings.EqualFold(w[i], "IN") {
		if i+1 >= len(w) {
			return nil, bad()
		}
		r.SrcPrefix, i = w[i+1], i+2
	}
	if i+1 >= len(w) || !strings.EqualFold(w[i], "WITH") {
		return nil, bad()
	}
	r.With, i = strings.ToLower(w[i+1]), i+2
	if r.With != "products" && r.With != "materials" {
		return nil, fmt.Errorf("rule %q: MATCH ... WITH products or materials, not %q", text, w[i-1])
	}
	if i < len(w) && strings.EqualFold(w[i], "IN") {
		if i+1 >= len(w) {
			return nil, bad()
		}
		r.DstPrefix, i = w[i+1], i+2
	}
	if i+2 != len(w) || !strings.EqualFold(w[i], "FROM") {
		return nil, bad()
	}
	r.From = w[i+1]
	var err error
	if r.re, err = compileFnmatch(r.Pattern); err != nil {
		return nil, fmt.Errorf("rule %q: %v", text, err)
	}
	r.SrcPrefix, r.DstPrefix = strings.Trim(r.SrcPrefix, "/"), strings.Trim(r.DstPrefix, "/")
	return r, nil
}

// resolve checks what refers to what (signers, steps), reads the keys and
// resolves relative paths.
func (d *decoder) resolve(ctx context.Context, p *Policy) {
	for _, s := range p.Signers {
		if s.invalid || (s.KeyFile == "" && s.KeyPEM == "") {
			continue
		}
		data := []byte(s.KeyPEM)
		if s.KeyFile != "" {
			if !filepath.IsAbs(s.KeyFile) {
				s.KeyFile = filepath.Join(p.Dir, s.KeyFile)
			}
			var err error
			if data, err = readSmall(ctx, s.KeyFile); err != nil {
				d.errs = append(d.errs, &Error{File: d.file, Line: s.keyPos.Line, Column: s.keyPos.Column, Field: "signers." + s.Name + ".key", Msg: err.Error()})
				continue
			}
		}
		pub, err := keys.ParsePublicKeyPEM(data)
		if err == nil {
			s.KeyFingerprint, err = keys.Fingerprint(pub)
		}
		if err != nil {
			d.errs = append(d.errs, &Error{File: d.file, Line: s.keyPos.Line, Column: s.keyPos.Column, Field: "signers." + s.Name, Msg: "unusable public key: " + err.Error()})
			continue
		}
		s.PublicKey = pub
	}
	for i, r := range p.Trust.Roots {
		if r != RootPublicGood && r != RootGitHub && !filepath.IsAbs(r) {
			p.Trust.Roots[i] = filepath.Join(p.Dir, r)
		}
	}
	checkSigners := func(t Threshold, field string) {
		for _, name := range t.Signers {
			if p.signers[name] == nil {
				d.errs = append(d.errs, &Error{File: d.file, Line: t.Pos.Line, Column: t.Pos.Column, Field: field,
					Msg: fmt.Sprintf("unknown signer %q (defined: %s)", name, strings.Join(p.signerNames(), ", "))})
			}
		}
	}
	for i, a := range p.Artifacts {
		for j, r := range a.Attestations {
			checkSigners(r.Signers, fmt.Sprintf("artifacts[%d].attestations[%d].signers", i, j))
			p.hasCEL = p.hasCEL || len(r.Rules) > 0
		}
	}
	steps := map[string]int{}
	for i, s := range p.Steps {
		if j, dup := steps[s.Name]; dup {
			d.errs = append(d.errs, &Error{File: d.file, Line: s.Pos.Line, Column: s.Pos.Column, Field: fmt.Sprintf("steps[%d].name", i),
				Msg: fmt.Sprintf("step %q defined twice (also steps[%d])", s.Name, j)})
		}
		steps[s.Name] = i
		checkSigners(s.Signers, fmt.Sprintf("steps[%d].signers", i))
		p.hasCEL = p.hasCEL || len(s.Rules) > 0
	}
	// MATCH ... FROM a step that exists (itself or another), and every step
	// but the last feeds another: a step nothing matches against is not
	// part of the chain that leads to the artifact.
	used := map[string]bool{}
	for i, s := range p.Steps {
		for kind, rules := range map[string][]*ArtifactRule{"materials": s.Materials, "products": s.Products} {
			for j, r := range rules {
				if r.Kind != Match {
					continue
				}
				if _, ok := steps[r.From]; !ok {
					d.errs = append(d.errs, &Error{File: d.file, Line: r.Pos.Line, Column: r.Pos.Column, Field: fmt.Sprintf("steps[%d].%s[%d]", i, kind, j),
						Msg: fmt.Sprintf("MATCH ... FROM unknown step %q (steps: %s)", r.From, strings.Join(stepNames(p.Steps), ", "))})
					continue
				}
				if r.From != s.Name {
					used[r.From] = true
				}
			}
		}
	}
	for i, s := range p.Steps {
		if i < len(p.Steps)-1 && !used[s.Name] {
			d.errs = append(d.errs, &Error{File: d.file, Line: s.Pos.Line, Column: s.Pos.Column, Field: fmt.Sprintf("steps[%d]", i),
				Msg: fmt.Sprintf("step %q is unreachable: no later step's rules MATCH ... FROM %s, so its products never reach the artifact", s.Name, s.Name)})
		}
	}
}

func readSmall(ctx context.Context, file string) ([]byte, error) {
	return ctxio.ReadFile(ctx, file, 1<<20)
}

func (p *Policy) signerNames() []string {
	out := make([]string, len(p.Signers))
	for i, s := range p.Signers {
		out[i] = s.Name
	}
	if len(out) == 0 {
		return []string{"none"}
	}
	return out
}

func stepNames(steps []*Step) []string {
	out := make([]string, len(steps))
	for i, s := range steps {
		out[i] = s.Name
	}
	return out
}

// Signer returns the signer of that name, or nil.
func (p *Policy) Signer(name string) *Signer { return p.signers[name] }

const attestLinkType = attest.TypeLink

func isProvenance(t string) bool {
	return t == verify.PredicateSLSAProvenance02 || t == attest.TypeSLSAProvenance1
}

// lazyRegexp returns expr compiled the first time it is called: a command
// that never reads a policy file does not pay for its patterns at start-up.
func lazyRegexp(expr string) func() *regexp.Regexp {
	return sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(expr) })
}

// quoteShort quotes v, or only its start when it is long: a message never
// echoes a whole line of a file that is no policy.
func quoteShort(v string) string {
	const max = 40
	if len(v) <= max {
		return fmt.Sprintf("%q", v)
	}
	cut := max
	for cut > 0 && !utf8.RuneStart(v[cut]) {
		cut--
	}
	return fmt.Sprintf("%q... (%d bytes)", v[:cut], len(v))
}
