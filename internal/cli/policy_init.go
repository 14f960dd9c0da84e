package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path"
	"regexp"
	"slices"
	"strings"
	"unicode"

	"github.com/sigstore/sigstore-go/pkg/bundle"
	"github.com/sigstore/sigstore-go/pkg/root"
	"github.com/spf13/cobra"

	"github.com/hallmark-dev/hallmark/internal/atomicfile"
	"github.com/hallmark-dev/hallmark/internal/source"
	"github.com/hallmark-dev/hallmark/internal/termtext"
	"github.com/hallmark-dev/hallmark/pkg/attest"
	"github.com/hallmark-dev/hallmark/pkg/policy"
	"github.com/hallmark-dev/hallmark/pkg/verify"
)

type policyInitOptions struct {
	from    []string
	outFile string
	trust   trustFlags
}

func (a *app) policyInitCommand() *cobra.Command {
	o := &policyInitOptions{}
	cmd := &cobra.Command{
		Use:   "init --from BUNDLE [--from BUNDLE]... [--output-file policy.yaml]",
		Short: "Write a starting policy that pins the signers and attestations of bundles",
		Long: `Write a starting policy from attestation bundles: each distinct signer
(identity, issuer, GitHub repository, workflow and ref, exactly as seen), each
predicate type per subject, and the in-toto links as steps whose materials and
products are pinned by name, chained with MATCH where one step's products are
the next one's materials. Every bundle is verified first (any signer, under
--trusted-root or the default roots): nothing unverified is pinned.

The policy (YAML) is written to standard output, or to --output-file FILE
(atomically: never a partial file), with comments saying what to review: it
accepts exactly what the bundles show, and later releases (another tag,
another file name) need the pins widened. --output json writes instead
{"schemaVersion", "policy" (the YAML text), "learned" (the bundles pinned),
"skipped" (bundle and reason)}. Key-signed bundles and plain signatures are
skipped with a warning.`,
		Example: `  hallmark policy init --from build.link.sigstore.json --from app.pkg.provenance.sigstore.json --output-file policy.yaml
  hallmark policy lint policy.yaml
  hallmark verify --policy policy.yaml --bundle-dir bundles/ app.pkg`,
		Args: cobra.NoArgs,
		RunE: a.runE(func(cmd *cobra.Command, _ []string) error {
			return a.runPolicyInit(cmd.Context(), o)
		}),
	}
	cmd.Flags().StringArrayVar(&o.from, "from", nil, "an attestation bundle `FILE` (or JSONL of bundles) to learn from; repeatable")
	cmd.Flags().StringVar(&o.outFile, "output-file", "", "write the policy to `FILE` (atomically) instead of standard output")
	o.trust.bind(cmd.Flags())
	_ = cmd.MarkFlagRequired("from")
	return cmd
}

// policyInitReport is policy init --output json.
type policyInitReport struct {
	SchemaVersion string `json:"schemaVersion"`
	// Policy is the policy written, as YAML text.
	Policy  string              `json:"policy"`
	Learned []string            `json:"learned"`
	Skipped []policyInitSkipped `json:"skipped"`
}

type policyInitSkipped struct {
	Bundle string `json:"bundle"`
	Reason string `json:"reason"`
}

// observed is one verified attestation.
type observed struct {
	origin string
	res    *verify.Result
	signer string // the name given to its signer
	link   *observedLink
}

type observedLink struct {
	name                string
	materials, products map[string]map[string]string
}

func (a *app) runPolicyInit(ctx context.Context, o *policyInitOptions) error {
	if o.outFile != "" {
		if err := atomicfile.CheckTarget(o.outFile); err != nil {
			return usageError(fmt.Errorf("--output-file: %w", err), "name a new or regular file with --output-file FILE")
		}
		if err := checkOutputDir("--output-file", o.outFile); err != nil {
			return err
		}
		if err := refuseInputAsOutput("--output-file", o.outFile, append(inputsOf(o.from), o.trust.trustedRoot...)...); err != nil {
			return err
		}
	}
	rep := policyInitReport{SchemaVersion: "1", Learned: []string{}, Skipped: []policyInitSkipped{}}
	skip := func(origin, reason, hint string) {
		a.warnf("%s: %s: skipped%s", termtext.Quote(origin), reason, hint)
		rep.Skipped = append(rep.Skipped, policyInitSkipped{Bundle: origin, Reason: reason})
	}
	var bundles []*source.Bundle
	for _, p := range o.from {
		bs, err := source.ReadFile(ctx, p)
		if err != nil {
			return bundleSourceError(err, "--from")
		}
		bundles = append(bundles, bs...)
	}
	roots, err := a.loadTrusts(ctx, &o.trust)
	if err != nil {
		return err
	}
	tms := make([]root.TrustedMaterial, len(roots))
	for i, r := range roots {
		tms[i] = r.Trusted
	}
	v, err := verify.NewWithRoots(tms, verify.Policy{Identity: &verify.Identity{SANRegexp: ".*", IssuerRegexp: ".*"}})
	if err != nil {
		return err
	}
	var obs []*observed
	for _, b := range bundles {
		if b.Bundle.GetDsseEnvelope() == nil {
			skip(b.Origin, "a plain signature, not an attestation", " (add an artifacts entry with predicateType: signature by hand)")
			continue
		}
		if vc, err := b.Bundle.VerificationContent(); err == nil && vc.Certificate() == nil {
			skip(b.Origin, "signed with a key", " (add a signer with key: FILE.pub by hand)")
			continue
		}
		var res *verify.Result
		b.Exclusive(func(sb *bundle.Bundle) { res, err = v.Verify(ctx, sb, verify.StatementOnly(b.Origin)) })
		if err != nil {
			if verify.IsRejected(err) {
				a.errorf("%s does not verify: %s", termtext.Quote(b.Origin), failureMessage(err))
				return errReported{ExitRejected}
			}
			return err
		}
		if res.Statement == nil || res.Signer == nil {
			skip(b.Origin, "no in-toto statement", "")
			continue
		}
		rep.Learned = append(rep.Learned, b.Origin)
		ob := &observed{origin: b.Origin, res: res}
		if res.Statement.PredicateType == attest.TypeLink {
			ob.link = readLink(res.Statement)
		}
		obs = append(obs, ob)
	}
	if len(obs) == 0 {
		return usageError(errors.New("no attestation to learn from"), "pass DSSE attestation bundles with --from")
	}
	text := initPolicy(obs, o.from)
	// The policy written must be one verify reads: check it, as a test would.
	if _, err := policy.Parse(ctx, text, policy.Options{File: "generated"}); err != nil {
		return fmt.Errorf("internal error: the generated policy does not parse: %w", err)
	}
	if a.output == "json" {
		rep.Policy = string(text)
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetIndent("", "  ")
		if err := enc.Encode(rep); err != nil {
			return err
		}
		text = buf.Bytes()
	}
	if o.outFile == "" {
		_, err := a.stdio.Out.Write(text)
		return err
	}
	if err := atomicfile.Write(o.outFile, text, 0o644); err != nil {
		return err
	}
	a.verbosef("wrote %s", termtext.Quote(o.outFile))
	return nil
}

func readLink(st *verify.Statement) *observedLink {
	var p struct {
		Name      string `json:"name"`
		Materials []struct {
			Name   string            `json:"name"`
			URI    string            `json:"uri"`
			Digest map[string]string `json:"digest"`
		} `json:"materials"`
	}
	l := &observedLink{materials: map[string]map[string]string{}, products: map[string]map[string]string{}}
	if json.Unmarshal(st.Predicate, &p) == nil {
		l.name = p.Name
		for _, m := range p.Materials {
			n := m.Name
			if n == "" {
				n = m.URI
			}
			l.materials[n] = m.Digest
		}
	}
	for _, s := range st.Subjects {
		l.products[s.Name] = s.Digest
	}
	return l
}

// yq quotes a YAML scalar (JSON strings are YAML).
func yq(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

var notName = lazyRegexp(`[^A-Za-z0-9._-]+`)

// signerKey is what makes two signers one.
func signerKey(s *verify.Signer) string {
	k := s.SAN + "\x00" + s.Issuer
	if g := s.GitHub; g != nil {
		k += "\x00" + g.SourceRepository + "\x00" + g.SignerWorkflow + "\x00" + g.SourceRef + "\x00" + g.RunnerEnvironment
	}
	return k
}

// signerBaseName names a signer after its identity.
func signerBaseName(s *verify.Signer) string {
	n := s.SAN
	if g := s.GitHub; g != nil && g.SignerWorkflow != "" {
		wf, _, _ := strings.Cut(g.SignerWorkflow, "@")
		n = path.Base(path.Dir(path.Dir(path.Dir(wf)))) + "-" + strings.TrimSuffix(strings.TrimSuffix(path.Base(wf), ".yml"), ".yaml")
	} else if local, _, ok := strings.Cut(n, "@"); ok && !strings.Contains(local, "/") {
		n = local
	} else {
		n = path.Base(n)
	}
	n = strings.Trim(notName().ReplaceAllString(n, "-"), "-.")
	if !validName(n) { // n holds only [A-Za-z0-9._-] here: this checks its first byte
		n = "signer"
	}
	return n
}

// initPolicy renders the starting policy.
func initPolicy(obs []*observed, from []string) []byte {
	var b bytes.Buffer
	w := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	w("# A starting policy written by 'hallmark policy init' from %d attestations\n", len(obs))
	names := make([]string, len(from))
	for i, f := range from {
		names[i] = termtext.Line(f) // a newline in a name would end the comment
	}
	w("# (%s).\n", strings.Join(names, ", "))
	w("# It pins exactly what those bundles show. REVIEW every entry marked REVIEW:\n")
	w("# widen what must change between releases (tags, file names), and keep\n")
	w("# what must not (issuers, repositories, workflows). Check it with\n")
	w("# 'hallmark policy lint', use it with 'hallmark verify --policy'.\n")
	w("version: 1\n")

	// Signers, in order of first appearance.
	keys := map[string]string{}
	used := map[string]bool{}
	w("signers:\n")
	for _, o := range obs {
		s := o.res.Signer
		k := signerKey(s)
		if name, ok := keys[k]; ok {
			o.signer = name
			continue
		}
		name := signerBaseName(s)
		for i := 2; used[name]; i++ {
			name = fmt.Sprintf("%s-%d", signerBaseName(s), i)
		}
		used[name], keys[k], o.signer = true, name, name
		w("  %s:\n", name)
		w("    # seen signing %s\n", termtext.Line(o.origin))
		w("    issuer: %s\n", yq(s.Issuer))
		if g := s.GitHub; g != nil && g.SourceRepository != "" {
			w("    # REVIEW: the exact workflow identity, ref included; a pattern such as\n")
			w("    # sanPattern: %s accepts later tags\n", yq(regexp.QuoteMeta(strings.SplitN(s.SAN, "@", 2)[0])+"@refs/tags/v.*"))
			w("    san: %s\n", yq(s.SAN))
			w("    github:\n")
			w("      repository: %s\n", yq(g.SourceRepository))
			if wf, _, _ := strings.Cut(g.SignerWorkflow, "@"); wf != "" {
				if _, err := verify.ParseSignerWorkflow(wf); err == nil {
					w("      workflow: %s\n", yq(wf))
				}
			}
			if g.SourceRef != "" {
				w("      # REVIEW: the ref seen; refs/tags/v* accepts every version tag\n")
				w("      ref: %s\n", yq(globQuote(g.SourceRef)))
			}
			if g.RunnerEnvironment == verify.RunnerGitHubHosted || g.RunnerEnvironment == "self-hosted" {
				w("      runnerEnvironment: %s\n", yq(g.RunnerEnvironment))
			}
		} else {
			w("    san: %s\n", yq(s.SAN))
		}
	}

	steps, rest := chainSteps(obs)
	// Attestations that are not steps: per subject name, per predicate type.
	type req struct {
		ptype   string
		signers []string
	}
	bySubject := map[string][]*req{}
	var subjects []string
	for _, o := range rest {
		for _, s := range o.res.Statement.Subjects {
			if s.Name == "" {
				continue
			}
			if _, ok := bySubject[s.Name]; !ok {
				subjects = append(subjects, s.Name)
			}
			var r *req
			for _, x := range bySubject[s.Name] {
				if x.ptype == o.res.Statement.PredicateType {
					r = x
				}
			}
			if r == nil {
				r = &req{ptype: o.res.Statement.PredicateType}
				bySubject[s.Name] = append(bySubject[s.Name], r)
			}
			if !slices.Contains(r.signers, o.signer) {
				r.signers = append(r.signers, o.signer)
			}
		}
	}
	if len(subjects) > 0 {
		w("artifacts:\n")
		for _, name := range subjects {
			w("  # REVIEW: the subject name seen; a glob (\"*.tar.gz\") covers later versions\n")
			w("  - name: %s\n", yq(globQuote(name)))
			w("    attestations:\n")
			for _, r := range bySubject[name] {
				ptype := r.ptype
				if n := attest.ShortName(ptype); n != "" && n != "spdxjson" {
					ptype = n
				}
				w("      - predicateType: %s\n", yq(ptype))
				if len(r.signers) > 1 {
					w("        # REVIEW: one of the signers seen suffices; \"%d of [...]\" would require them all\n", len(r.signers))
				} else {
					w("        # REVIEW: name more signers, and raise the threshold, if more must sign\n")
				}
				w("        signers: %s\n", yq(fmt.Sprintf("1 of [%s]", strings.Join(r.signers, ", "))))
				if ptype == "slsaprovenance1" {
					w("        # REVIEW: add rules over the provenance, e.g.\n")
					w("        # rules:\n")
					w("        #   - name: tagged\n")
					w("        #     cel: predicate.buildDefinition.externalParameters.workflow.ref.startsWith(\"refs/tags/\")\n")
				}
			}
		}
	}
	if len(steps) > 0 {
		w("# The build steps (in-toto links), in order: each step's materials and\n")
		w("# products are pinned by name; MATCH ties a step to the one that made its\n")
		w("# inputs. REVIEW the ALLOW lines: they name the files seen.\n")
		w("steps:\n")
		products := map[string]*observed{}
		for _, st := range steps {
			w("  - name: %s\n", yq(st.link.name))
			w("    signers: %s\n", yq(fmt.Sprintf("1 of [%s]", st.signer)))
			w("    materials:\n")
			for _, m := range sortedMapKeys(st.link.materials) {
				if from := products[m]; from != nil && policy.SameDigest(from.link.products[m], st.link.materials[m]) {
					w("      - %s\n", yq("MATCH "+fnQuote(m)+" WITH products FROM "+from.link.name))
				} else {
					w("      - %s\n", yq("ALLOW "+fnQuote(m)))
				}
			}
			w("      - \"DISALLOW *\"\n")
			w("    products:\n")
			for _, p := range sortedMapKeys(st.link.products) {
				w("      - %s\n", yq("ALLOW "+fnQuote(p)))
				products[p] = st
			}
			w("      - \"DISALLOW *\"\n")
		}
	}
	return b.Bytes()
}

// chainSteps orders the links into a chain (each step but the last feeds a
// later one: its products are a later step's materials, same digest); the
// links that do not chain, and every other attestation, are returned apart.
func chainSteps(obs []*observed) (steps, rest []*observed) {
	var links []*observed
	seen := map[string]bool{}
	for _, o := range obs {
		if o.link == nil || o.link.name == "" || seen[o.link.name] || !validName(o.link.name) {
			rest = append(rest, o)
			continue
		}
		seen[o.link.name] = true
		links = append(links, o)
	}
	feeds := func(a, b *observed) bool {
		for n, d := range a.link.products {
			if m, ok := b.link.materials[n]; ok && policy.SameDigest(d, m) {
				return true
			}
		}
		return false
	}
	// Topological order, stable.
	var order []*observed
	placed := map[*observed]bool{}
	for len(order) < len(links) {
		progress := false
		for _, l := range links {
			if placed[l] {
				continue
			}
			ready := true
			for _, m := range links {
				if m != l && !placed[m] && feeds(m, l) {
					ready = false
				}
			}
			if ready {
				order, placed[l], progress = append(order, l), true, true
			}
		}
		if !progress { // a cycle: keep the rest as they came
			for _, l := range links {
				if !placed[l] {
					order, placed[l] = append(order, l), true
				}
			}
		}
	}
	// Drop links that feed no later step, except the last, until stable.
	for changed := true; changed; {
		changed = false
		for i := 0; i < len(order)-1; i++ {
			ok := false
			for _, later := range order[i+1:] {
				ok = ok || feeds(order[i], later)
			}
			if !ok {
				rest = append(rest, order[i])
				order = slices.Delete(order, i, i+1)
				changed = true
				break
			}
		}
	}
	return order, rest
}

var validStepName = lazyRegexp(`^[A-Za-z0-9][A-Za-z0-9._-]*$`)

func validName(s string) bool { return validStepName().MatchString(s) }

func sortedMapKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// globQuote escapes a name for a doublestar glob (artifacts[].name, ref).
func globQuote(s string) string {
	var b strings.Builder
	for _, r := range s {
		if strings.ContainsRune(`*?[]{}\`, r) {
			b.WriteRune('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// fnQuote makes a name an in-toto pattern matching only itself: fnmatch
// has no escape, but a one-character class does it.
func fnQuote(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch r {
		case '*', '?', '[':
			b.WriteString("[" + string(r) + "]")
		default:
			if unicode.IsSpace(r) {
				b.WriteString("?") // a rule is split into words at any space
				continue
			}
			b.WriteRune(r)
		}
	}
	return b.String()
}
