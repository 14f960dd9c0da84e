package cli

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/sigstore/sigstore-go/pkg/bundle"
	"github.com/sigstore/sigstore-go/pkg/root"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/hallmark-dev/hallmark/internal/ctxio"
	"github.com/hallmark-dev/hallmark/internal/source"
	"github.com/hallmark-dev/hallmark/internal/termtext"
	"github.com/hallmark-dev/hallmark/internal/trust"
	"github.com/hallmark-dev/hallmark/pkg/attest"
	"github.com/hallmark-dev/hallmark/pkg/policy"
	"github.com/hallmark-dev/hallmark/pkg/sign"
	"github.com/hallmark-dev/hallmark/pkg/verify"
)

// policyFileFlags are verify's --policy flags: the policy file and, for a
// signed policy, its bundle and who must have signed it.
type policyFileFlags struct {
	path     string
	bundle   string
	identity string
	issuer   string
	key      string
}

func (p *policyFileFlags) bind(cmd *cobra.Command) {
	f := cmd.Flags()
	f.StringVar(&p.path, "policy", "", "verify against the policy `FILE` (YAML: signers, artifacts, steps, trust; see 'hallmark policy schema')")
	f.StringVar(&p.bundle, "policy-bundle", "", "the bundle `FILE` of a signed policy ('hallmark sign POLICY'), verified before the policy is used")
	f.StringVar(&p.identity, "policy-identity", "", "the identity (SAN) that must have signed the policy")
	f.StringVar(&p.issuer, "policy-issuer", "", "the OIDC issuer of --policy-identity")
	f.StringVar(&p.key, "policy-key", "", "the PEM public key `FILE` that must have signed the policy")
	cmd.MarkFlagsMutuallyExclusive("policy-key", "policy-identity")
	cmd.MarkFlagsMutuallyExclusive("policy-key", "policy-issuer")
}

func (p *policyFileFlags) set() bool {
	return p.path != "" || p.bundle != "" || p.identity != "" || p.issuer != "" || p.key != ""
}

// withPolicy reports whether a policy run reads the verify flag name: the
// policy's own flags, where the bundles are, the trust flags, the
// summary's (--vsa and its signing flags) and the output's. Every other
// flag is refused with --policy (its signers, attestations and trust
// thresholds say all of that), so that none is silently ignored: an allow
// list, which a flag added later joins only on purpose.
func withPolicy(name string) bool {
	switch name {
	case "policy", "policy-bundle", "policy-identity", "policy-issuer", "policy-key",
		"bundle", "bundle-dir",
		"trusted-root", "custom-trusted-root", "offline", "tuf-mirror", "tuf-root", "github-tuf-mirror", "github-tuf-root",
		"vsa", "vsa-key", "vsa-resource-uri",
		// oci:// images (oci_policy.go: refused without an image)
		"bundle-from-oci", "registry-username", "registry-password-stdin", "allow-insecure-registry", "platform", "recursive",
		"output", "format", "verbose", "help":
		return true
	}
	return slices.Contains(signingFlagNames, name)
}

// policyVerifyReport is verify --policy --output json: every rule's outcome,
// the artifacts, and the bundles that did not verify.
type policyVerifyReport struct {
	*policy.Report
	Artifacts []policy.Artifact `json:"artifacts"`
	// Attestations are the bundles that verified, the evidence the rules
	// were checked over.
	Attestations []policyAttestation `json:"attestations"`
	Refused      []verify.Refusal    `json:"refused,omitempty"`
	// Images are the oci:// images: what their registries held (oci_policy.go).
	Images []policyImage `json:"images,omitempty"`
	// VSA are the verification summaries written (--vsa), one per
	// artifact.
	VSA []*vsaReport `json:"vsa,omitempty"`
}

type policyAttestation struct {
	Bundle        string         `json:"bundle"`
	PredicateType string         `json:"predicateType,omitempty"`
	Signer        *verify.Signer `json:"signer,omitempty"`
}

func (a *app) runVerifyPolicy(ctx context.Context, cmd *cobra.Command, o *verifyOptions, args []string) error {
	pf := &o.policy
	var other string
	cmd.Flags().Visit(func(fl *pflag.Flag) {
		if other == "" && !withPolicy(fl.Name) {
			other = fl.Name
		}
	})
	if other != "" {
		return usageError(fmt.Errorf("--%s cannot be combined with --policy", other),
			"the policy file says who must sign what; put it there, or drop --policy")
	}
	// oci:// images: their bundles come from the registry (oci_policy.go).
	images, err := policyOCIArgs(o, args)
	if err != nil {
		return err
	}
	switch {
	case pf.path == "":
		return usageError(errors.New("--policy-bundle, --policy-identity, --policy-issuer and --policy-key need --policy FILE"))
	case pf.bundle == "" && (pf.identity != "" || pf.issuer != "" || pf.key != ""):
		return usageError(errors.New("--policy-identity, --policy-issuer and --policy-key say who signed the policy, and need its --policy-bundle"),
			"sign the policy with 'hallmark sign POLICY' and pass --policy-bundle POLICY.sigstore.json")
	case pf.bundle != "" && pf.key == "" && (pf.identity == "" || pf.issuer == ""):
		return usageError(errors.New("--policy-bundle needs who must have signed the policy"),
			"pass --policy-identity and --policy-issuer, or --policy-key FILE")
	}
	if images && o.vuln.vsaPath != "" {
		return usageError(errors.New("--vsa does not summarise oci:// images yet"), "drop --vsa, or verify files with --bundle")
	}
	vsa, err := a.checkVSA(ctx, cmd, o, args, true)
	if err != nil {
		return err
	}
	data, err := policy.ReadFile(ctx, pf.path)
	if err != nil {
		return withHint(err, "check the path given to --policy")
	}
	var cliRoots []*trust.Root
	if pf.bundle != "" {
		if cliRoots, err = a.verifyPolicyBundle(ctx, o, data); err != nil {
			return err
		}
	}
	pol, err := policy.Parse(ctx, data, policy.Options{File: pf.path, Dir: filepath.Dir(pf.path)})
	if err != nil {
		return a.policyErrors(err, "fix the policy; 'hallmark policy lint "+termtext.Quote(pf.path)+"' checks it")
	}
	roots, err := a.policyRoots(ctx, o, pol, cliRoots)
	if err != nil {
		return err
	}
	tms := make([]root.TrustedMaterial, len(roots))
	for i, r := range roots {
		tms[i] = r.Trusted
	}
	vs, err := policy.NewVerifiers(pol, tms)
	if err != nil {
		return usageError(err)
	}
	if images {
		return a.runVerifyPolicyOCI(ctx, o, pol, vs, args)
	}
	bundles, err := a.policyBundles(ctx, o, args)
	if err != nil {
		return err
	}
	ix := source.NewIndex(bundles...)
	targets, err := a.targets(ctx, args, ix)
	if err != nil {
		return err
	}
	results, refused, err := verifyForPolicy(ctx, vs, bundles, targets)
	if err != nil {
		return err
	}
	in := policy.Input{Attestations: results}
	for _, t := range targets {
		in.Artifacts = append(in.Artifacts, policy.Artifact{Name: t.arg, Digests: t.digests})
	}
	rep, err := pol.Evaluate(ctx, in)
	if err != nil {
		return err
	}
	pr := &policyVerifyReport{Report: rep, Artifacts: in.Artifacts, Refused: refused, Attestations: attestationsOf(results)}
	if vsa != nil {
		if pr.VSA, err = a.writePolicyVSAs(ctx, o, vsa, data, targets, rep, results, bundles); err != nil {
			return err
		}
	}
	return a.reportPolicy(pr)
}

// writePolicyVSAs signs a verification summary of the policy run for each
// artifact and writes them to --vsa OUT (one bundle, or JSONL for several):
// the policy is the file's path and the sha256 of the very bytes verified
// (--policy-bundle) and parsed; an artifact PASSED when every rule about it
// and every rule about no artifact in particular (the steps) passed, its
// inputs then being the bundles those rules rest on; otherwise FAILED, its
// inputs every bundle given. The levels are those of the artifact's SLSA
// provenance among its inputs.
func (a *app) writePolicyVSAs(ctx context.Context, o *verifyOptions, s *sign.Signer, data []byte, targets []target, rep *policy.Report,
	results []*verify.Result, bundles []*source.Bundle) ([]*vsaReport, error) {
	sum := sha256.Sum256(data)
	ref := attest.ResourceRef{URI: o.policy.path, Digest: map[string]string{"sha256": hex.EncodeToString(sum[:])}}
	var vs []*signedVSA
	for _, t := range targets {
		in := vsaInput{target: t, resourceURI: o.vuln.vsaResourceURI, policy: ref, passed: true}
		used := map[string]bool{}
		own := 0 // the rules about this artifact: never PASSED on none
		for _, oc := range rep.Outcomes {
			if oc.Artifact != "" && oc.Artifact != t.arg {
				continue
			}
			if oc.Artifact != "" {
				own++
			}
			in.passed = in.passed && oc.Passed
			for _, b := range oc.Bundles {
				used[b] = true
			}
		}
		in.passed = in.passed && own > 0 && (rep.Passed || len(targets) > 1)
		seen := map[string]bool{}
		for _, b := range bundles {
			if seen[b.Origin] || in.passed && !used[b.Origin] {
				continue
			}
			seen[b.Origin] = true
			in.inputs = append(in.inputs, b)
		}
		if in.passed {
			for _, r := range results {
				if !used[r.Bundle] || !aboutDigest(r.Statement, t.digests) {
					continue
				}
				if l := slsaLevels(r); len(l) > 0 && (len(in.levels) == 0 || l[0] > in.levels[0]) {
					in.levels = l
				}
			}
		}
		v, err := a.signVSA(ctx, s, in)
		if err != nil {
			return nil, err
		}
		vs = append(vs, v)
	}
	return a.writeVSAs(ctx, o.vuln.vsaPath, vs)
}

// aboutDigest reports whether one of the statement's subjects has one of
// the digests.
func aboutDigest(st *verify.Statement, ds []verify.Digest) bool {
	if st == nil {
		return false
	}
	for _, sub := range st.Subjects {
		for _, d := range ds {
			if v, ok := sub.Digest[d.Algorithm]; ok && strings.EqualFold(v, d.Value) {
				return true
			}
		}
	}
	return false
}

func attestationsOf(rs []*verify.Result) []policyAttestation {
	out := make([]policyAttestation, 0, len(rs))
	for _, r := range rs {
		pa := policyAttestation{Bundle: r.Bundle, Signer: r.Signer, PredicateType: policy.PredicateSignature}
		if r.Statement != nil {
			pa.PredicateType = r.Statement.PredicateType
		}
		out = append(out, pa)
	}
	return out
}

// policyErrors prints each problem of a policy on its own line (file,
// line and column first) and returns exit 2; any other error is returned
// as it is.
func (a *app) policyErrors(err error, hint string) error {
	var es policy.Errors
	if !errors.As(err, &es) {
		return err
	}
	for _, e := range es {
		a.errorf("%s", e.Error())
	}
	a.hintf("%s", hint)
	return errReported{ExitUsage}
}

// verifyPolicyBundle verifies the policy's bytes (the very bytes then
// parsed) against --policy-bundle, under the command line's trust (the
// policy's own trust section is not trusted before it verifies). A bundle
// that does not verify is exit 3. It returns the roots it loaded.
func (a *app) verifyPolicyBundle(ctx context.Context, o *verifyOptions, data []byte) ([]*trust.Root, error) {
	pf := &o.policy
	vp := verify.Policy{}
	if pf.key != "" {
		// Read with ctx: --policy-key <(command) waits on a pipe.
		data, err := ctxio.ReadFile(ctx, pf.key, maxKeyFile)
		if err != nil {
			return nil, withHint(fmt.Errorf("--policy-key: reading key: %w", err), "check the path given to --policy-key: a PEM public key file")
		}
		pub, err := parseKey(pf.key, data)
		if err != nil {
			return nil, err
		}
		vp.Key = pub
	} else {
		vp.Identity = &verify.Identity{SAN: pf.identity, Issuer: pf.issuer}
	}
	roots, err := a.loadTrusts(ctx, &o.trust)
	if err != nil {
		return nil, err
	}
	tms := make([]root.TrustedMaterial, len(roots))
	for i, r := range roots {
		tms[i] = r.Trusted
	}
	v, err := verify.NewWithRoots(tms, vp)
	if err != nil {
		return nil, usageError(err)
	}
	b, err := verify.ReadBundleContext(ctx, pf.bundle)
	if err != nil {
		var be *verify.BundleError
		if errors.As(err, &be) && !verify.IsRejected(err) {
			return nil, withHint(fmt.Errorf("--policy-bundle: %w", err), "check the path given to --policy-bundle")
		}
		a.errorf("policy %s: its bundle %s is not a bundle: %s", termtext.Quote(pf.path), termtext.Quote(pf.bundle), failureMessage(err))
		return nil, errReported{ExitRejected}
	}
	res, err := v.Verify(ctx, b, verify.ReaderArtifact(pf.path, bytes.NewReader(data)))
	if err != nil {
		if !verify.IsRejected(err) {
			return nil, err
		}
		a.errorf("policy %s: its bundle %s does not verify: %s", termtext.Quote(pf.path), termtext.Quote(pf.bundle), failureMessage(err))
		var rej *verify.RejectedError
		if errors.As(err, &rej) {
			printComparisons(a.stdio.Err, rej.Comparisons)
		}
		a.hintf("the policy is used only once its bundle verifies under --policy-identity/--policy-issuer or --policy-key")
		return nil, errReported{ExitRejected}
	}
	a.verbosef("policy %s: %s", termtext.Quote(pf.path), describeSigner(res))
	return roots, nil
}

// policyRoots loads the trust roots, once: --trusted-root (or
// HALLMARK_TRUSTED_ROOT) when given, else the policy's trust.roots, else
// verify's default roots.
func (a *app) policyRoots(ctx context.Context, o *verifyOptions, pol *policy.Policy, loaded []*trust.Root) ([]*trust.Root, error) {
	if o.trust.explicit() || len(pol.Trust.Roots) == 0 {
		if loaded != nil {
			return loaded, nil
		}
		return a.loadTrusts(ctx, &o.trust)
	}
	var out []*trust.Root
	var files []string
	for _, r := range pol.Trust.Roots {
		switch r {
		case policy.RootPublicGood:
			root, err := a.loadTrust(ctx, &o.trust)
			if err != nil {
				return nil, err
			}
			out = append(out, root)
		case policy.RootGitHub:
			opts, err := o.trust.options()
			if err == nil {
				opts, err = o.trust.githubOptions(opts)
			}
			if err != nil {
				return nil, err
			}
			root, err := a.loadRoot(ctx, opts)
			if err != nil {
				return nil, fmt.Errorf("GitHub's trust root (%s): %w", trust.GitHubMirror, err)
			}
			out = append(out, root)
		default:
			files = append(files, r)
		}
	}
	if len(files) > 0 {
		// Regular files only: trust.LoadFiles would wait on a named pipe
		// for a writer, through Ctrl-C, and read a device without end.
		for _, f := range files {
			fh, err := ctxio.OpenRegular(f)
			if err != nil {
				return nil, withHint(fmt.Errorf("the policy's trust.roots: %w", err), "trust.roots names trusted_root.json files relative to the policy file")
			}
			_ = fh.Close()
		}
		rs, err := trust.LoadFiles(ctx, files)
		if err != nil {
			return nil, withHint(fmt.Errorf("the policy's trust.roots: %w", err), "trust.roots names trusted_root.json files relative to the policy file")
		}
		out = append(out, rs...)
	}
	return out, nil
}

// policyBundles reads every bundle given: --bundle (repeatable, JSONL counts
// as many) and --bundle-dir; without either, ARTIFACT.sigstore.json of each
// file artifact that has one.
func (a *app) policyBundles(ctx context.Context, o *verifyOptions, args []string) ([]*source.Bundle, error) {
	s := &o.sources
	files := s.bundles
	if len(files) == 0 && s.bundleDir == "" {
		for _, arg := range args {
			if p := arg + ".sigstore.json"; arg != "-" && !verify.IsDigest(arg) {
				if _, err := os.Stat(p); err == nil {
					files = append(files, p)
				}
			}
		}
	}
	out, err := readBundleFiles(ctx, files, s.bundleDir)
	if err != nil {
		return nil, err
	}
	if len(out) == 0 {
		return nil, usageError(errors.New("no bundle to check the policy against"), "pass the bundles with --bundle FILE (repeatable) or --bundle-dir DIR")
	}
	return out, nil
}

// verifyForPolicy verifies every bundle once, concurrently, over the one set
// of verifiers: an attestation without its artifact (its subjects are
// compared by the policy), a message signature against each artifact whose
// digest it covers. Refused bundles are returned apart; an error that is
// no rejection (ctx ended, an unreadable artifact) stops everything.
func verifyForPolicy(ctx context.Context, vs *policy.Verifiers, bundles []*source.Bundle, targets []target) ([]*verify.Result, []verify.Refusal, error) {
	type job struct {
		b   *source.Bundle
		art func() verify.Artifact
	}
	var jobs []job
	for _, b := range bundles {
		if b.Bundle.GetDsseEnvelope() != nil {
			name := b.Origin
			jobs = append(jobs, job{b, func() verify.Artifact { return verify.StatementOnly(name) }})
			continue
		}
		covered := false
		for _, t := range targets {
			if coversAny(b.Coverage, t.digests) {
				jobs = append(jobs, job{b, t.artifact})
				covered = true
			}
		}
		if !covered {
			jobs = append(jobs, job{b: b})
		}
	}
	results := make([]*verify.Result, len(jobs))
	errs := make([]error, len(jobs))
	// Ctrl-C: start no more verifications (thousands may be queued).
	if err := eachUntilDone(ctx, len(jobs), max(runtime.GOMAXPROCS(0), 2), func(i int) {
		j := jobs[i]
		if j.art == nil {
			errs[i] = &verify.RejectedError{Cause: verify.CauseArtifact, Reason: "a message signature over none of the artifacts given"}
			return
		}
		j.b.Exclusive(func(sb *bundle.Bundle) { results[i], errs[i] = vs.Verify(ctx, sb, j.art()) })
	}); err != nil {
		return nil, nil, err // before the results: some were never made
	}
	var ok []*verify.Result
	var refused []verify.Refusal
	for i, err := range errs {
		switch {
		case err == nil:
			results[i].Bundle = jobs[i].b.Origin
			ok = append(ok, results[i])
		case verify.IsRejected(err):
			refused = append(refused, verify.Refusal{Bundle: jobs[i].b.Origin, Error: verify.FailureOf(err)})
		default:
			return nil, nil, err
		}
	}
	return ok, refused, nil
}

func coversAny(c *verify.Coverage, ds []verify.Digest) bool {
	if c == nil {
		return false
	}
	return slices.ContainsFunc(ds, c.Covers)
}

// maxFailuresShown is how many failed rules the text report lists, and
// maxShown how many bytes of a rule's expected or actual: a policy of
// thousands of steps, or a threshold of thousands of signers, would
// otherwise print megabytes; -o json has everything.
const (
	maxFailuresShown = 50
	maxShown         = 1000
)

// shownPart is s, or its first maxShown bytes (at a rune boundary) and how
// many more there are.
func shownPart(s string) string {
	if len(s) <= maxShown {
		return s
	}
	cut := maxShown
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return fmt.Sprintf("%s... (%d more bytes)", s[:cut], len(s)-cut)
}

// reportPolicy prints the outcome: on success one OK line per artifact
// (every rule with --verbose); on failure every failed rule with expected
// against actual, and the bundles refused; exit 3.
func (a *app) reportPolicy(r *policyVerifyReport) error {
	if a.output == "json" {
		if err := a.printJSON(r); err != nil {
			return err
		}
	}
	q := termtext.Quote
	if a.verbose {
		for _, o := range r.Outcomes {
			status := "ok  "
			if !o.Passed {
				status = "FAIL"
			}
			a.verbosef("%s %s: %s", status, o.Rule, termtext.Line(o.Actual))
		}
		for _, rf := range r.Refused {
			a.verbosef("refused %s: %s", q(rf.Bundle), termtext.Line(rf.Error.Message))
		}
	}
	if r.Passed {
		if a.output == "text" {
			for _, art := range r.Artifacts {
				fmt.Fprintf(a.stdio.Out, "OK %s: policy %s, %d rules passed over %d attestations\n", q(art.Name), q(r.Policy), len(r.Outcomes), len(r.Attestations))
			}
		}
		return nil
	}
	failed := r.Failed()
	a.errorf("policy %s rejected: %d of %d rules failed", q(r.Policy), len(failed), len(r.Outcomes))
	more := 0
	if len(failed) > maxFailuresShown && a.output == "text" {
		failed, more = failed[:maxFailuresShown], len(failed)-maxFailuresShown
	}
	for _, o := range failed {
		where := ""
		if o.Pos.Line > 0 {
			where = fmt.Sprintf(" (%s:%d:%d)", r.Policy, o.Pos.Line, o.Pos.Column)
		}
		if o.Artifact != "" {
			where = " for " + o.Artifact + where
		}
		fmt.Fprintf(a.stdio.Err, "hallmark:   %s%s\n", termtext.Line(o.Rule), termtext.Line(where))
		fmt.Fprintf(a.stdio.Err, "hallmark:     expected %s\n", termtext.Line(shownPart(o.Expected)))
		fmt.Fprintf(a.stdio.Err, "hallmark:     actual   %s\n", termtext.Line(shownPart(o.Actual)))
	}
	if more > 0 {
		fmt.Fprintf(a.stdio.Err, "hallmark:   and %d more failed rules ('-o json' lists every rule)\n", more)
	}
	for _, rf := range r.Refused {
		fmt.Fprintf(a.stdio.Err, "hallmark:   refused %s: %s\n", q(rf.Bundle), termtext.Line(rf.Error.Message))
	}
	return errReported{ExitRejected}
}
