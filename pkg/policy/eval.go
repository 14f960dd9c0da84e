package policy

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"path"
	"slices"
	"strings"
	"time"

	"github.com/bmatcuk/doublestar/v4"

	"github.com/hallmark-dev/hallmark/pkg/attest"
	"github.com/hallmark-dev/hallmark/pkg/verify"
)

// ReportVersion is the version of the JSON document Report encodes.
const ReportVersion = "1"

// Artifact is an artifact the policy is evaluated for: its name as given
// (a path, or a digest) and its digests.
type Artifact struct {
	Name string `json:"name"`
	// Aliases are other names of the artifact that an artifacts entry's
	// glob may match too (a container image's repository without its tag
	// or digest); outcomes still name the artifact by Name.
	Aliases []string        `json:"aliases,omitempty"`
	Digests []verify.Digest `json:"digests"`
}

// Input is what a policy is evaluated over. Attestations are the results
// of pkg/verify: each bundle verified (signature, certificate chain, log
// and timestamps) by a verify.Verifier; Evaluate never verifies anything
// cryptographic itself, and results that are not Verified are ignored.
// A DSSE bundle may be verified without its artifact (verify.StatementOnly):
// its subjects are compared with the artifacts' digests here.
type Input struct {
	Artifacts    []Artifact
	Attestations []*verify.Result
	// Now is the time CEL rules see as now (zero: the current time).
	Now time.Time
}

// Report is every rule's outcome. Passed is true only when every outcome
// passed and there is at least one.
type Report struct {
	SchemaVersion string    `json:"schemaVersion"`
	Policy        string    `json:"policy,omitempty"`
	Passed        bool      `json:"passed"`
	Outcomes      []Outcome `json:"rules"`
}

// Failed returns the outcomes that did not pass.
func (r *Report) Failed() []Outcome {
	var out []Outcome
	for _, o := range r.Outcomes {
		if !o.Passed {
			out = append(out, o)
		}
	}
	return out
}

// Outcome is one rule checked: its name (a path into the policy, such as
// "steps.build.signers" or "artifacts[0].attestations[0].rules.tagged"),
// what the policy expected and what the attestations hold.
type Outcome struct {
	Rule     string `json:"rule"`
	Artifact string `json:"artifact,omitempty"`
	// PredicateType is the predicate type the rule is about, if any.
	PredicateType string `json:"predicateType,omitempty"`
	Expected      string `json:"expected"`
	Actual        string `json:"actual"`
	Passed        bool   `json:"passed"`
	// Pos is the rule's place in the policy file.
	Pos Pos `json:"position"`
	// Bundles are the attestations the outcome rests on.
	Bundles []string `json:"bundles,omitempty"`
}

// att is one verified attestation with what the rules read from it.
type att struct {
	idx       int // in evaluation.atts
	res       *verify.Result
	signers   []string // the policy signers it satisfies
	identity  string   // the actual signer, for counting distinct ones
	linkName  string
	materials map[string]map[string]string
	products  map[string]map[string]string
	input     map[string]any // CEL activation, built on first use
	inputErr  error
}

// Evaluate checks the attestations against the policy and reports every
// rule's outcome. The error is for a cancelled ctx only: a policy that is
// not met is a Report with Passed false.
func (p *Policy) Evaluate(ctx context.Context, in Input) (*Report, error) {
	now := in.Now
	if now.IsZero() {
		now = time.Now()
	}
	e := &evaluation{p: p, now: now, rep: &Report{SchemaVersion: ReportVersion, Policy: p.File}}
	for _, r := range in.Attestations {
		if r == nil || !r.Verified {
			continue
		}
		e.atts = append(e.atts, p.describe(r))
	}
	slices.SortStableFunc(e.atts, func(a, b *att) int { return cmp.Compare(a.res.Bundle, b.res.Bundle) })
	e.byDigest = map[verify.Digest][]*att{}
	for i, a := range e.atts {
		a.idx = i
		for _, d := range a.digests() {
			if l := e.byDigest[d]; len(l) == 0 || l[len(l)-1] != a {
				e.byDigest[d] = append(l, a)
			}
		}
	}
	for _, a := range in.Artifacts {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		covered := false
		for i, ap := range p.Artifacts {
			if !ap.matches(a.Name) && !slices.ContainsFunc(a.Aliases, ap.matches) {
				continue
			}
			covered = true
			for j, req := range ap.Attestations {
				e.requirement(ctx, fmt.Sprintf("artifacts[%d].attestations[%d]", i, j), a, req)
			}
		}
		if !covered && len(p.Steps) == 0 {
			e.add(Outcome{Rule: "artifacts", Artifact: a.Name, Expected: "an artifacts entry whose name matches the artifact",
				Actual: fmt.Sprintf("no entry matches %q", a.Name)})
		}
	}
	if len(p.Steps) > 0 {
		if err := e.steps(ctx, in.Artifacts); err != nil {
			return nil, err
		}
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	e.rep.Passed = len(e.rep.Outcomes) > 0
	for _, o := range e.rep.Outcomes {
		e.rep.Passed = e.rep.Passed && o.Passed
	}
	if len(e.rep.Outcomes) == 0 {
		e.add(Outcome{Rule: "policy", Expected: "at least one rule checked", Actual: "no artifact was given and the policy has no steps"})
	}
	return e.rep, nil
}

type evaluation struct {
	p        *Policy
	now      time.Time
	atts     []*att
	byDigest map[verify.Digest][]*att // the attestations about each digest, in atts order
	rep      *Report
}

// digests are what the attestation is about: its subjects' digests, or the
// digest a message signature was verified against (lower-case hex).
func (a *att) digests() []verify.Digest {
	if a.res.Statement == nil {
		if a.res.Digest == nil {
			return nil
		}
		return []verify.Digest{{Algorithm: a.res.Digest.Algorithm, Value: strings.ToLower(a.res.Digest.Value)}}
	}
	var out []verify.Digest
	for _, s := range a.res.Statement.Subjects {
		for alg, v := range s.Digest {
			out = append(out, verify.Digest{Algorithm: alg, Value: strings.ToLower(v)})
		}
	}
	return out
}

// about returns the attestations about the artifact (any of its digests),
// each once, in atts order.
func (e *evaluation) about(art Artifact) []*att {
	var out []*att
	seen := map[*att]bool{}
	for _, d := range art.Digests {
		for _, a := range e.byDigest[verify.Digest{Algorithm: d.Algorithm, Value: strings.ToLower(d.Value)}] {
			if !seen[a] {
				seen[a] = true
				out = append(out, a)
			}
		}
	}
	if len(art.Digests) > 1 {
		slices.SortStableFunc(out, func(a, b *att) int {
			return cmp.Compare(a.idx, b.idx)
		})
	}
	return out
}

func (e *evaluation) add(o Outcome) { e.rep.Outcomes = append(e.rep.Outcomes, o) }

// matches reports whether the artifact name (as given) matches the glob;
// a glob without a slash is tried against the base name too.
func (ap *ArtifactPolicy) matches(name string) bool {
	name = strings.ReplaceAll(name, "\\", "/")
	if ok, _ := doublestar.Match(ap.Name, name); ok {
		return true
	}
	if !strings.Contains(ap.Name, "/") {
		ok, _ := doublestar.Match(ap.Name, path.Base(name))
		return ok
	}
	return false
}

// describe reads what the rules need from a verified result.
func (p *Policy) describe(r *verify.Result) *att {
	a := &att{res: r}
	if s := r.Signer; s != nil {
		for _, ps := range p.Signers {
			if ps.Matches(s) {
				a.signers = append(a.signers, ps.Name)
			}
		}
		a.identity = s.Kind + "\x00" + s.SAN + "\x00" + s.Issuer + "\x00" + s.KeyFingerprint
	}
	st := r.Statement
	if st == nil {
		return a
	}
	a.products = map[string]map[string]string{}
	for _, s := range st.Subjects {
		a.products[s.Name] = s.Digest
	}
	switch {
	case st.PredicateType == attest.TypeLink:
		var link struct {
			Name      string `json:"name"`
			Materials []struct {
				Name   string            `json:"name"`
				URI    string            `json:"uri"`
				Digest map[string]string `json:"digest"`
			} `json:"materials"`
		}
		if json.Unmarshal(st.Predicate, &link) == nil {
			a.linkName = link.Name
			a.materials = map[string]map[string]string{}
			for _, m := range link.Materials {
				a.materials[cmp.Or(m.Name, m.URI)] = m.Digest
			}
		}
	case st.PredicateType == attest.TypeSLSAProvenance1:
		var prov struct {
			BuildDefinition struct {
				ResolvedDependencies []struct {
					Name   string            `json:"name"`
					URI    string            `json:"uri"`
					Digest map[string]string `json:"digest"`
				} `json:"resolvedDependencies"`
			} `json:"buildDefinition"`
		}
		if json.Unmarshal(st.Predicate, &prov) == nil {
			a.materials = map[string]map[string]string{}
			for _, m := range prov.BuildDefinition.ResolvedDependencies {
				a.materials[cmp.Or(m.Name, m.URI)] = m.Digest
			}
		}
	case st.PredicateType == verify.PredicateSLSAProvenance02:
		var prov struct {
			Materials []struct {
				URI    string            `json:"uri"`
				Digest map[string]string `json:"digest"`
			} `json:"materials"`
		}
		if json.Unmarshal(st.Predicate, &prov) == nil {
			a.materials = map[string]map[string]string{}
			for _, m := range prov.Materials {
				a.materials[m.URI] = m.Digest
			}
		}
	}
	return a
}

// Matches reports whether a verified signer is this policy signer: the key
// by fingerprint, a keyless identity by SAN, issuer and every GitHub claim
// given.
func (s *Signer) Matches(v *verify.Signer) bool {
	if v == nil {
		return false
	}
	if s.IsKey() {
		return v.Kind == "key" && v.KeyFingerprint == s.KeyFingerprint
	}
	if v.Kind != "certificate" {
		return false
	}
	switch {
	case s.SAN != "" && v.SAN != s.SAN:
		return false
	case s.sanRE != nil && !s.sanRE.MatchString(v.SAN):
		return false
	case s.Issuer != "" && v.Issuer != s.Issuer:
		return false
	case s.issuerRE != nil && !s.issuerRE.MatchString(v.Issuer):
		return false
	}
	g := s.GitHub
	if g == nil {
		return true
	}
	c := v.GitHub
	if c == nil {
		return false
	}
	wf, _, _ := strings.Cut(c.SignerWorkflow, "@")
	switch {
	case g.repositoryURI != "" && c.SourceRepository != g.repositoryURI:
		return false
	case g.workflowURI != "" && wf != g.workflowURI:
		return false
	case g.RunnerEnvironment != "" && c.RunnerEnvironment != g.RunnerEnvironment:
		return false
	case g.Ref != "":
		ok, _ := path.Match(g.Ref, c.SourceRef)
		return ok
	}
	return true
}

func (a *att) predicateType() string {
	if a.res.Statement == nil {
		return PredicateSignature
	}
	return a.res.Statement.PredicateType
}

func typeName(t string) string {
	if n := attest.ShortName(t); n != "" {
		return n
	}
	return t
}

func (e *evaluation) requirement(ctx context.Context, rule string, art Artifact, req *Requirement) {
	var cands []*att
	for _, a := range e.about(art) {
		if a.predicateType() == req.PredicateType || req.PredicateType == PredicateSignature && a.predicateType() == cosignImageSignature {
			cands = append(cands, a)
		}
	}
	none := fmt.Sprintf("no %s attestation covers %s", typeName(req.PredicateType), art.Name)
	if req.PredicateType == PredicateSignature {
		none = "no plain signature covers " + art.Name
	}
	accepted := e.threshold(Outcome{Rule: rule + ".signers", Artifact: art.Name, PredicateType: req.PredicateType, Pos: req.Signers.Pos},
		req.Signers, cands, none)
	e.celRules(ctx, rule+".rules", art.Name, req.PredicateType, req.Rules, accepted, req.Signers)
}

// threshold reports the signers outcome of a requirement or step and
// returns the accepted attestations: those of a named signer.
func (e *evaluation) threshold(o Outcome, t Threshold, cands []*att, none string) []*att {
	o.Expected = thresholdString(t)
	var accepted []*att
	var others []string
	// edges: for each named signer, the distinct actual identities of its
	// attestations; a maximum matching counts distinct signers.
	edges := make([][]string, len(t.Signers))
	for _, a := range cands {
		ok := false
		for i, name := range t.Signers {
			if slices.Contains(a.signers, name) {
				ok = true
				if !slices.Contains(edges[i], a.identity) {
					edges[i] = append(edges[i], a.identity)
				}
			}
		}
		if ok {
			accepted = append(accepted, a)
			o.Bundles = append(o.Bundles, a.res.Bundle)
		} else {
			others = append(others, describeSigner(a.res.Signer))
		}
	}
	n := maxMatching(edges)
	var names []string
	for i, name := range t.Signers {
		if len(edges[i]) > 0 {
			names = append(names, name)
		}
	}
	switch {
	case len(cands) == 0:
		o.Actual = "0: " + none
	case len(names) == 0:
		o.Actual = "0: no attestation of a named signer"
	default:
		o.Actual = fmt.Sprintf("%d of [%s]", n, strings.Join(names, ", "))
	}
	if len(others) > 0 {
		slices.Sort(others)
		others = slices.Compact(others)
		o.Actual += "; also signed by signers not named: " + strings.Join(others, ", ")
	}
	o.Passed = n >= t.N
	e.add(o)
	return accepted
}

func thresholdString(t Threshold) string {
	return fmt.Sprintf("%d of [%s]", t.N, strings.Join(t.Signers, ", "))
}

func describeSigner(s *verify.Signer) string {
	switch {
	case s == nil:
		return "an unknown signer"
	case s.Kind == "key":
		return fmt.Sprintf("key %q", s.KeyFingerprint)
	}
	return fmt.Sprintf("%q (issuer %q)", s.SAN, s.Issuer)
}

// maxMatching is the size of a maximum matching between the named signers
// (left) and actual identities (right): the number of distinct signers,
// where one certificate never counts for two names.
func maxMatching(edges [][]string) int {
	owner := map[string]int{}
	var try func(i int, seen map[string]bool) bool
	try = func(i int, seen map[string]bool) bool {
		for _, id := range edges[i] {
			if seen[id] {
				continue
			}
			seen[id] = true
			if j, taken := owner[id]; !taken || try(j, seen) {
				owner[id] = i
				return true
			}
		}
		return false
	}
	n := 0
	for i := range edges {
		if try(i, map[string]bool{}) {
			n++
		}
	}
	return n
}

// celRules evaluates each rule over every accepted attestation: it passes
// when it is true for all of them (and there is at least one).
func (e *evaluation) celRules(ctx context.Context, prefix, artifact, ptype string, rules []*Rule, accepted []*att, t Threshold) {
	for _, r := range rules {
		o := Outcome{Rule: prefix + "." + r.Name, Artifact: artifact, PredicateType: ptype, Expected: r.CEL, Pos: r.Pos}
		if len(accepted) == 0 {
			o.Actual = fmt.Sprintf("not evaluated: no attestation from %s", thresholdString(t))
			e.add(o)
			continue
		}
		o.Passed = true
		var actual []string
		for _, a := range accepted {
			o.Bundles = append(o.Bundles, a.res.Bundle)
			ok, got := e.evalRule(ctx, r, a)
			o.Passed = o.Passed && ok
			if len(accepted) > 1 && a.res.Bundle != "" {
				got += " (" + a.res.Bundle + ")"
			}
			actual = append(actual, got)
		}
		o.Actual = strings.Join(actual, "; ")
		e.add(o)
	}
}

func (e *evaluation) evalRule(ctx context.Context, r *Rule, a *att) (bool, string) {
	if r.prg == nil {
		return false, "error: the rule did not compile"
	}
	if a.input == nil && a.inputErr == nil {
		a.input, a.inputErr = celInput(a.res, e.now)
	}
	if a.inputErr != nil {
		return false, "error: " + a.inputErr.Error()
	}
	return r.prg.eval(ctx, a.input)
}

// stepResult is what a step's accepted attestation records.
type stepResult struct {
	materials, products map[string]map[string]string
}

func (e *evaluation) steps(ctx context.Context, arts []Artifact) error {
	results := map[string]*stepResult{}
	accepted := map[string][]*att{}
	for _, s := range e.p.Steps {
		var cands []*att
		for _, a := range e.atts {
			if a.predicateType() != s.PredicateType {
				continue
			}
			if s.PredicateType == attest.TypeLink && a.linkName != s.Name {
				continue
			}
			cands = append(cands, a)
		}
		none := fmt.Sprintf("no %s attestation for step %q", typeName(s.PredicateType), s.Name)
		acc := e.threshold(Outcome{Rule: "steps." + s.Name + ".signers", PredicateType: s.PredicateType, Pos: s.Signers.Pos}, s.Signers, cands, none)
		accepted[s.Name] = acc
		if len(acc) == 0 {
			continue
		}
		first := acc[0]
		results[s.Name] = &stepResult{materials: first.materials, products: first.products}
		if len(acc) > 1 {
			o := Outcome{Rule: "steps." + s.Name + ".agreement", PredicateType: s.PredicateType, Pos: s.Pos,
				Expected: "every accepted attestation of the step records the same materials and products", Passed: true}
			var differ []string
			for _, a := range acc {
				o.Bundles = append(o.Bundles, a.res.Bundle)
				if !sameArtifacts(a.materials, first.materials) || !sameArtifacts(a.products, first.products) {
					differ = append(differ, cmp.Or(a.res.Bundle, "an attestation"))
					o.Passed = false
				}
			}
			o.Actual = "they agree"
			if !o.Passed {
				o.Actual = fmt.Sprintf("%s differ from %s", strings.Join(differ, ", "), cmp.Or(first.res.Bundle, "the first"))
			}
			e.add(o)
		}
	}
	for _, s := range e.p.Steps {
		if err := ctx.Err(); err != nil {
			return err
		}
		e.celRules(ctx, "steps."+s.Name+".rules", "", s.PredicateType, s.Rules, accepted[s.Name], s.Signers)
		r := results[s.Name]
		var mats, prods map[string]map[string]string
		if r != nil {
			mats, prods = r.materials, r.products
		}
		e.artifactRules(s, "materials", s.Materials, mats, r != nil, results)
		e.artifactRules(s, "products", s.Products, prods, r != nil, results)
	}
	last := e.p.Steps[len(e.p.Steps)-1]
	for _, a := range arts {
		o := Outcome{Rule: "steps." + last.Name + ".product", Artifact: a.Name, Pos: last.Pos,
			Expected: fmt.Sprintf("the artifact is a product of the last step, %q", last.Name)}
		r := results[last.Name]
		switch {
		case r == nil:
			o.Actual = fmt.Sprintf("not evaluated: step %q has no accepted attestation", last.Name)
		default:
			o.Actual = "the artifact has no digest"
			if len(a.Digests) > 0 {
				o.Actual = fmt.Sprintf("no product of %q has the artifact's digest %s (products: %s)", last.Name, a.Digests[0], names(r.products))
			}
			for _, n := range sortedKeys(r.products) {
				if digestIn(r.products[n], a.Digests) {
					o.Passed, o.Actual = true, fmt.Sprintf("product %q", n)
					break
				}
			}
		}
		e.add(o)
	}
	return nil
}

func digestIn(ds map[string]string, want []verify.Digest) bool {
	for _, d := range want {
		if v, ok := ds[d.Algorithm]; ok && strings.EqualFold(v, d.Value) {
			return true
		}
	}
	return false
}

func names(m map[string]map[string]string) string {
	if len(m) == 0 {
		return "none"
	}
	ks := sortedKeys(m)
	for i, k := range ks {
		ks[i] = fmt.Sprintf("%q", k)
	}
	return strings.Join(ks, ", ")
}

func sameArtifacts(a, b map[string]map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, da := range a {
		db, ok := b[k]
		if !ok || !SameDigest(da, db) {
			return false
		}
	}
	return true
}

// SameDigest reports whether two in-toto digest sets (algorithm to hex)
// name the same content: at least one algorithm in common and no common
// algorithm whose values differ (compared without regard to case).
func SameDigest(a, b map[string]string) bool {
	common := false
	for alg, v := range a {
		if w, ok := b[alg]; ok {
			if !strings.EqualFold(v, w) {
				return false
			}
			common = true
		}
	}
	return common
}

func firstDigest(d map[string]string) string {
	for _, alg := range []string{"sha256", "sha512", "sha384"} {
		if v, ok := d[alg]; ok {
			return alg + ":" + v
		}
	}
	for _, alg := range sortedKeys(d) {
		return alg + ":" + d[alg]
	}
	return "no digest"
}

// artifactRules applies a step's material or product rules in order, as
// in-toto does: each artifact is consumed by the first ALLOW or MATCH that
// takes it; DISALLOW fails on any artifact still unconsumed that it
// matches; REQUIRE needs the name among all the artifacts. Artifacts left
// at the end are allowed (end with DISALLOW * to refuse them). MATCH is
// strict: every artifact its pattern selects must be among the other
// step's products (or materials), under the same name (after the IN
// prefixes) and digest, else the rule fails.
func (e *evaluation) artifactRules(s *Step, kind string, rules []*ArtifactRule, own map[string]map[string]string, ok bool, results map[string]*stepResult) {
	queue := sortedKeys(own)
	for i, r := range rules {
		o := Outcome{Rule: fmt.Sprintf("steps.%s.%s[%d]", s.Name, kind, i), PredicateType: s.PredicateType, Expected: r.Text, Pos: r.Pos}
		if !ok {
			o.Actual = fmt.Sprintf("not evaluated: step %q has no accepted attestation", s.Name)
			e.add(o)
			continue
		}
		switch r.Kind {
		case Allow:
			var taken []string
			queue, taken = take(queue, func(n string) bool { return r.re.MatchString(n) })
			o.Passed, o.Actual = true, "allowed "+list(taken)
		case Disallow:
			var bad []string
			for _, n := range queue {
				if r.re.MatchString(n) {
					bad = append(bad, n)
				}
			}
			o.Passed = len(bad) == 0
			o.Actual = "no artifact left matches"
			if !o.Passed {
				o.Actual = "disallowed " + list(bad)
			}
		case Require:
			_, o.Passed = own[r.Pattern]
			o.Actual = fmt.Sprintf("%s has %s", kind, names(own))
		case Match:
			dst := results[r.From]
			if dst == nil {
				o.Actual = fmt.Sprintf("step %q has no accepted attestation to match against", r.From)
				break
			}
			theirs := dst.products
			if r.With == "materials" {
				theirs = dst.materials
			}
			var problems, matched []string
			queue, matched = take(queue, func(n string) bool {
				rel, ok := strings.CutPrefix(n, r.SrcPrefix+"/")
				if r.SrcPrefix == "" {
					rel, ok = n, true
				}
				if !ok || !r.re.MatchString(rel) {
					return false
				}
				dn := rel
				if r.DstPrefix != "" {
					dn = r.DstPrefix + "/" + rel
				}
				d, found := theirs[dn]
				switch {
				case !found:
					problems = append(problems, fmt.Sprintf("%q is not among the %s of %q (%s)", n, r.With, r.From, names(theirs)))
					return false
				case !SameDigest(own[n], d):
					problems = append(problems, fmt.Sprintf("%q is %s here but %s in the %s of %q", n, firstDigest(own[n]), firstDigest(d), r.With, r.From))
					return false
				}
				return true
			})
			o.Passed = len(problems) == 0
			o.Actual = "matched " + list(matched)
			if !o.Passed {
				o.Actual = strings.Join(problems, "; ")
			}
		}
		e.add(o)
	}
}

// take splits queue into what stays and what f takes.
func take(queue []string, f func(string) bool) (rest, taken []string) {
	for _, n := range queue {
		if f(n) {
			taken = append(taken, n)
		} else {
			rest = append(rest, n)
		}
	}
	return rest, taken
}

func list(ns []string) string {
	if len(ns) == 0 {
		return "nothing"
	}
	q := make([]string, len(ns))
	for i, n := range ns {
		q[i] = fmt.Sprintf("%q", n)
	}
	return strings.Join(q, ", ")
}
