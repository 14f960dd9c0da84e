package cli

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/cyberphone/json-canonicalization/go/src/webpki.org/jsoncanonicalizer"
	intotov1 "github.com/in-toto/attestation/go/v1"
	"github.com/sigstore/sigstore-go/pkg/bundle"
	"github.com/spf13/cobra"

	"github.com/hallmark-dev/hallmark/internal/atomicfile"
	"github.com/hallmark-dev/hallmark/internal/extract"
	"github.com/hallmark-dev/hallmark/internal/keys"
	"github.com/hallmark-dev/hallmark/internal/source"
	"github.com/hallmark-dev/hallmark/internal/termtext"
	"github.com/hallmark-dev/hallmark/pkg/attest"
	"github.com/hallmark-dev/hallmark/pkg/scan"
	"github.com/hallmark-dev/hallmark/pkg/sign"
	"github.com/hallmark-dev/hallmark/pkg/verify"
	"github.com/hallmark-dev/hallmark/pkg/vulngate"
)

// gateOptions are verify's flags of the scan gate (--max-age, --fail-on,
// --vex) and of the verification summary (--vsa and its signing flags).
type gateOptions struct {
	maxAge   string
	maxAgeAt string
	failOn   string
	vexFiles []string

	vsaPath        string
	vsaResourceURI string
	vsaSign        signFlags
}

// signingFlagNames are the flags bindSigning binds, but the key.
var signingFlagNames = []string{"identity-token", "oidc-issuer", "oidc-client-id", "oidc-device-flow", "oidc-disable-ambient-providers",
	"signing-config", "fulcio-url", "rekor-url", "rekor-version", "timestamp-url", "tlog-upload", "timestamp"}

func (g *gateOptions) bind(cmd *cobra.Command) {
	f := cmd.Flags()
	f.StringVar(&g.maxAge, "max-age", "", "with --type vuln: the newest scan attestation must be younger than `AGE` by its verified timestamp (a Go duration, or with d or w: 7d, 2w, 1d12h)")
	f.StringVar(&g.maxAgeAt, "max-age-at", "", "measure --max-age at `TIME` (RFC 3339) instead of now; not before now, so it only makes the gate stricter")
	f.StringVar(&g.failOn, "fail-on", "", "with --type vuln: reject findings at or above `LEVEL` (low, medium, high or critical; default any) that no --vex statement covers")
	f.StringArrayVar(&g.vexFiles, "vex", nil, "with --type vuln: an OpenVEX `FILE` whose not_affected and fixed statements about the artifact (by its sha-256) cover findings (repeatable)")
	f.StringVar(&g.vsaPath, "vsa", "", "write a signed SLSA verification summary of this verify (PASSED or FAILED) to the bundle `OUT`; one ARTIFACT, or with --policy one summary per artifact (several: JSONL)")
	f.StringVar(&g.vsaResourceURI, "vsa-resource-uri", "", "the summary's resourceUri, the artifact as its consumers know it (a `URI`; default pkg:generic/NAME?checksum=sha256:HEX)")
	g.vsaSign.bindSigning(cmd, "vsa-key", "sign the --vsa summary with this PEM private key `FILE` instead of keyless")
	prefixUsage(cmd, "with --vsa: ", signingFlagNames...)
}

// prefixUsage says in the help which flags belong to another: sign's
// flags, bound on a command that signs only on request.
func prefixUsage(cmd *cobra.Command, prefix string, names ...string) {
	for _, n := range names {
		if fl := cmd.Flags().Lookup(n); fl != nil {
			fl.Usage = prefix + fl.Usage
		}
	}
}

// gate reports whether a scan-gate flag was given.
func (g *gateOptions) gate() bool {
	return g.maxAge != "" || g.maxAgeAt != "" || g.failOn != "" || len(g.vexFiles) > 0
}

// active reports whether verify runs through runVerifyGate: a gate or a
// summary was asked for (or a flag of one, to be refused there).
func (g *gateOptions) active(cmd *cobra.Command) bool {
	return g.gate() || g.vsaPath != "" || changedFlag(cmd, append([]string{"vsa-key", "vsa-resource-uri"}, signingFlagNames...)...) != ""
}

// changedFlag names the first of the flags that was given.
func changedFlag(cmd *cobra.Command, names ...string) string {
	for _, n := range names {
		if fl := cmd.Flags().Lookup(n); fl != nil && fl.Changed {
			return "--" + n
		}
	}
	return ""
}

// ageRE is a duration with leading weeks and days (2w, 7d, 1d12h).
var ageRE = lazyRegexp(`^(?:(\d+)w)?(?:(\d+)d)?(.*)$`)

// parseAge reads --max-age: a Go duration (36h, 90m), optionally led by
// weeks and days (7d, 2w, 1w2d, 1d12h30m). It must be positive.
func parseAge(s string) (time.Duration, error) {
	m := ageRE().FindStringSubmatch(strings.TrimSpace(s))
	if m == nil || s == "" {
		return 0, fmt.Errorf("%q is not a duration", s)
	}
	var d time.Duration
	for i, unit := range []time.Duration{7 * 24 * time.Hour, 24 * time.Hour} {
		if m[i+1] == "" {
			continue
		}
		n, err := strconv.ParseInt(m[i+1], 10, 64)
		if err != nil || n > int64(100*365*24*time.Hour/unit) {
			return 0, fmt.Errorf("%q is too long", s)
		}
		d += time.Duration(n) * unit
	}
	if rest := m[3]; rest != "" {
		r, err := time.ParseDuration(rest)
		if err != nil {
			return 0, fmt.Errorf("%q is not a duration", s)
		}
		if r < 0 {
			return 0, fmt.Errorf("%q is negative", s)
		}
		d += r
	} else if m[1] == "" && m[2] == "" {
		return 0, fmt.Errorf("%q is not a duration", s)
	}
	if d <= 0 {
		return 0, fmt.Errorf("%q is not a positive duration", s)
	}
	return d, nil
}

// gateRun is what runVerifyGate decided before verifying.
type gateRun struct {
	policy vulngate.Policy
	now    time.Time
	vsa    *sign.Signer
	vexSum []string // sha256 of each --vex file, for the summary's policy
}

// runVerifyGate verifies with the scan gate (--type vuln --max-age
// --fail-on --vex) and/or writes a verification summary (--vsa). Bundles
// come from --bundle and --bundle-dir, or ARTIFACT.sigstore.json.
func (a *app) runVerifyGate(ctx context.Context, cmd *cobra.Command, o *verifyOptions, args []string) error {
	g := &o.vuln
	run, err := a.checkGate(ctx, cmd, o, args)
	if err != nil {
		return err
	}
	ix := source.NewIndex()
	var all []*source.Bundle
	add := func(bs []*source.Bundle) { ix.Add(bs...); all = append(all, bs...) }
	read := map[string]bool{}
	for _, p := range o.sources.bundles {
		if read[p] {
			continue
		}
		read[p] = true
		bs, err := source.ReadFile(ctx, p)
		if err != nil {
			return bundleSourceError(err, "--bundle")
		}
		add(bs)
	}
	if o.sources.bundleDir != "" {
		bs, err := source.ReadDir(ctx, o.sources.bundleDir)
		if err != nil {
			return bundleSourceError(err, "--bundle-dir")
		}
		add(bs)
	}
	firstBundle := firstBundleFile(&o.sources)
	if len(o.sources.bundles) == 0 && o.sources.bundleDir == "" {
		for _, arg := range args {
			if arg == "-" || verify.IsDigest(arg) {
				return usageError(fmt.Errorf("artifact %q has no default bundle path", arg), "name its bundles with --bundle FILE or --bundle-dir DIR")
			}
			p := arg + ".sigstore.json"
			bs, err := source.ReadFile(ctx, p)
			if err != nil {
				return withHint(fmt.Errorf("reading bundle: %w", err), "name the bundle with --bundle FILE if it is not ARTIFACT.sigstore.json")
			}
			add(bs)
			firstBundle = p
		}
	}
	targets, err := a.targets(ctx, args, ix)
	if err != nil {
		return err
	}
	v, err := a.verifier(ctx, o, firstBundle)
	if err != nil {
		return err
	}
	a.nameBundles = true
	outs := make([]verify.Outcome, len(targets))
	decisions := make([]*vulngate.Decision, len(targets))
	for i, t := range targets {
		if !g.gate() {
			outs[i] = verifyTarget(ctx, v, ix, t, nil)
			continue
		}
		outs[i], decisions[i] = gateTarget(ctx, v, ix, t, run.policy, run.now)
	}
	var vsaRep *vsaReport
	if g.vsaPath != "" {
		if code := exitCode(outs[0].Err); code == ExitOK || code == ExitRejected {
			if vsaRep, err = a.writeVSA(ctx, o, run, targets[0], outs[0], decisions[0], ix); err != nil {
				return err
			}
		}
	}
	if !g.gate() {
		if a.output == "json" && vsaRep != nil {
			return a.reportGate(outs, decisions, vsaRep)
		}
		return a.reportVerify(outs)
	}
	return a.reportGate(outs, decisions, vsaRep)
}

// checkGate checks the gate and summary flags, reads the VEX documents and
// makes the summary's signer, before anything is verified.
func (a *app) checkGate(ctx context.Context, cmd *cobra.Command, o *verifyOptions, args []string) (*gateRun, error) {
	g := &o.vuln
	run := &gateRun{now: time.Now()}
	if g.vsaPath == "" {
		if _, err := a.checkVSA(ctx, cmd, o, args, false); err != nil {
			return nil, err
		}
	}
	what := "--vsa"
	if g.gate() {
		what = "--max-age, --fail-on and --vex"
	}
	switch {
	case o.preset.name != "" || len(o.preset.bottleURLs) > 0:
		return nil, usageError(fmt.Errorf("%s do not apply to --preset", what))
	case o.cosign.signaturePath != "":
		return nil, usageError(fmt.Errorf("%s read bundles, not a detached --signature", what), "verify a Sigstore bundle with --bundle FILE")
	case o.sources.from != "":
		return nil, usageError(fmt.Errorf("%s read bundles from --bundle and --bundle-dir, not --from", what),
			"download the attestations first with 'hallmark download', then pass --bundle-dir DIR")
	}
	if g.gate() {
		if t := o.attestation.predicateType; t == "" {
			o.attestation.predicateType = "vuln"
		} else if uri, _ := attest.PredicateType(t); uri != attest.TypeVuln {
			return nil, usageError(fmt.Errorf("--max-age, --fail-on and --vex gate on scan attestations, but --type is %q", t), "pass --type vuln, or drop the gate flags")
		}
		if g.maxAge != "" {
			d, err := parseAge(g.maxAge)
			if err != nil {
				return nil, usageError(fmt.Errorf("--max-age: %w", err), "write it as a Go duration or with d (days) or w (weeks): 1h, 36h, 7d, 2w")
			}
			run.policy.MaxAge = d
		}
		if g.failOn != "" {
			l, ok := scan.ParseLevel(g.failOn)
			if !ok {
				return nil, usageError(fmt.Errorf("--fail-on must be low, medium, high or critical, not %q", g.failOn))
			}
			run.policy.FailOn = l
		}
		if g.maxAgeAt != "" {
			if g.maxAge == "" {
				return nil, usageError(errors.New("--max-age-at needs --max-age"))
			}
			at, err := time.Parse(time.RFC3339, g.maxAgeAt)
			if err != nil {
				return nil, usageError(fmt.Errorf("--max-age-at %q is not an RFC 3339 time", g.maxAgeAt), "write it like 2026-12-09T08:00:00Z")
			}
			if at.Before(run.now) {
				return nil, usageError(fmt.Errorf("--max-age-at %s is before now (%s): it may only move the clock forward", at.UTC().Format(time.RFC3339), run.now.UTC().Format(time.RFC3339)),
					"drop --max-age-at to measure the age now")
			}
			run.now = at
		}
		for _, p := range g.vexFiles {
			data, err := extract.ReadFile(ctx, p, extract.DefaultMaxFileSize)
			if err != nil {
				return nil, withHint(fmt.Errorf("--vex: reading VEX document: %w", err), "check the path given to --vex: a regular file of OpenVEX JSON")
			}
			doc, err := scan.ParseVEX(p, data)
			if err != nil {
				return nil, withHint(err, "--vex takes OpenVEX JSON documents (https://openvex.dev)")
			}
			run.policy.VEX = append(run.policy.VEX, doc)
			sum := sha256.Sum256(data)
			run.vexSum = append(run.vexSum, hex.EncodeToString(sum[:]))
		}
	}
	s, err := a.checkVSA(ctx, cmd, o, args, false)
	if err != nil {
		return nil, err
	}
	run.vsa = s
	return run, nil
}

// checkVSA checks the summary's flags (--vsa and its signing flags) and
// makes its signer, before anything is verified: nil when no summary is
// asked for. verify by flags (one ARTIFACT) and verify --policy (many:
// one summary per artifact) share it.
func (a *app) checkVSA(ctx context.Context, cmd *cobra.Command, o *verifyOptions, args []string, many bool) (*sign.Signer, error) {
	g := &o.vuln
	if g.vsaPath == "" {
		if n := changedFlag(cmd, append([]string{"vsa-key", "vsa-resource-uri"}, signingFlagNames...)...); n != "" {
			return nil, usageError(fmt.Errorf("%s is a flag of --vsa", n), "add --vsa OUT to write a signed verification summary, or drop "+n)
		}
		return nil, nil
	}
	switch {
	case len(args) != 1 && !many:
		return nil, usageError(fmt.Errorf("--vsa summarises the verification of one ARTIFACT, but %d were given", len(args)), "run verify once per artifact")
	case len(args) > 1 && g.vsaResourceURI != "":
		return nil, usageError(fmt.Errorf("--vsa-resource-uri names one artifact, but %d were given", len(args)), "drop --vsa-resource-uri (each summary names its artifact pkg:generic/NAME?checksum=...), or verify one artifact")
	}
	for _, arg := range args {
		if g.vsaResourceURI == "" && (arg == "-" || verify.IsDigest(arg)) {
			return nil, usageError(errors.New("--vsa of an artifact given by digest or on standard input needs --vsa-resource-uri URI"), "verify it alone with --vsa-resource-uri URI")
		}
	}
	if g.vsaResourceURI != "" {
		if u, err := url.Parse(g.vsaResourceURI); err != nil || !u.IsAbs() {
			return nil, usageError(fmt.Errorf("--vsa-resource-uri %q is not an absolute URI", g.vsaResourceURI), "for example pkg:npm/app@1.0.0 or https://example.com/app.tgz")
		}
	}
	if err := atomicfile.CheckTarget(g.vsaPath); err != nil {
		return nil, usageError(fmt.Errorf("--vsa: %w", err), "name a new or regular file with --vsa OUT")
	}
	inputs := inputsOf(args, o.keyPath, o.policy.path, o.policy.bundle, o.policy.key, g.vsaSign.keyPath, g.vsaSign.signingConfig)
	inputs = append(append(append(inputs, o.sources.bundles...), g.vexFiles...), o.trust.trustedRoot...)
	if len(o.sources.bundles) == 0 && o.sources.bundleDir == "" {
		for _, arg := range args {
			inputs = append(inputs, arg+".sigstore.json") // the default bundle
		}
	}
	if err := checkOutputDir("--vsa", g.vsaPath); err != nil {
		return nil, err
	}
	if err := refuseInputAsOutput("--vsa", g.vsaPath, inputs...); err != nil {
		return nil, err
	}
	g.vsaSign.trust = o.trust
	s, _, err := a.newSigner(ctx, &g.vsaSign)
	if err != nil {
		return nil, err
	}
	return s, nil
}

// gateTarget verifies every bundle that covers t and lets the gate decide
// on the verified ones.
func gateTarget(ctx context.Context, v *verify.Verifier, ix *source.Index, t target, p vulngate.Policy, now time.Time) (verify.Outcome, *vulngate.Decision) {
	seen := map[*source.Bundle]bool{}
	var verified []*verify.Result
	var refused []verify.Refusal
	var atts []vulngate.Attestation
	for _, d := range t.digests {
		for _, b := range ix.Lookup(d) {
			if seen[b] {
				continue
			}
			seen[b] = true
			var res *verify.Result
			var err error
			b.Exclusive(func(sb *bundle.Bundle) { res, err = v.Verify(ctx, sb, t.artifact()) })
			res.Artifact, res.Bundle = t.arg, b.Origin
			if err != nil && !verify.IsRejected(err) {
				res.Refused = refused
				return verify.Outcome{Result: res, Err: err}, nil
			}
			if err != nil {
				refused = append(refused, verify.Refusal{Bundle: b.Origin, Error: verify.FailureOf(err)})
				continue
			}
			rep, derr := vulngate.DecodePredicate(res.Statement.Predicate)
			if derr != nil {
				refused = append(refused, verify.Refusal{Bundle: b.Origin, Error: &verify.Failure{Kind: "rejected", Cause: "vuln-predicate", Message: derr.Error()}})
				continue
			}
			verified = append(verified, res)
			atts = append(atts, vulngate.Attestation{Bundle: b.Origin, Timestamps: res.Timestamps, Report: rep})
		}
	}
	if len(verified) == 0 {
		// The standard "no attestation" rejection, with why each bundle
		// was refused.
		out := verifyTarget(ctx, v, ix, t, nil)
		return out, nil
	}
	d := vulngate.Evaluate(p, now, artifactOf(t), atts)
	used := verified[0]
	for _, r := range verified {
		if r.Bundle == d.Bundle {
			used = r
		}
	}
	used.Refused = refused
	if d.Passed {
		return verify.Outcome{Result: used}, d
	}
	msgs := make([]string, len(d.Reasons))
	for i, r := range d.Reasons {
		msgs[i] = r.Message
	}
	used.Error = &verify.Failure{Kind: "rejected", Cause: "vuln-gate", Message: "the scan gate refused it: " + strings.Join(msgs, "; ")}
	return verify.Outcome{Result: used, Err: &cliError{code: ExitRejected, err: d.Err()}}, d
}

// artifactOf is t as the gate sees it: its name and digests.
func artifactOf(t target) vulngate.Artifact {
	art := vulngate.Artifact{Name: t.arg, Digests: map[string]string{}}
	for _, d := range t.digests {
		art.Digests[d.Algorithm] = d.Value
	}
	return art
}

// gateReport is verify's JSON with the scan gate's decisions and the
// summary written.
type gateReport struct {
	verify.Report
	VulnGate []*vulngate.Decision `json:"vulnGate,omitempty"`
	VSA      *vsaReport           `json:"vsa,omitempty"`
}

// reportGate prints verify's results with the gate's decisions, and
// returns the worst exit code as an already-reported error.
func (a *app) reportGate(outs []verify.Outcome, ds []*vulngate.Decision, vsa *vsaReport) error {
	worst := ExitOK
	rep := gateReport{Report: verify.Report{SchemaVersion: verify.SchemaVersion}, VSA: vsa}
	for i, o := range outs {
		rep.Results = append(rep.Results, o.Result)
		d := ds[i]
		if d != nil {
			rep.VulnGate = append(rep.VulnGate, d)
		}
		worst = max(worst, exitCode(o.Err))
		switch {
		case o.Err == nil:
			if a.output == "text" {
				fmt.Fprintf(a.stdio.Out, "OK %s: %s%s\n", termtext.Quote(o.Result.Artifact), describeSigner(o.Result), a.fromBundle(o.Result))
				printStatement(a.stdio.Out, o.Result)
				if d != nil {
					printDecision(a.stdio.Out, d)
				}
			}
			a.printDetails(o.Result)
		case d == nil:
			a.printFailure(o.Result, o.Err)
		default:
			a.printGateFailure(o.Result, d)
		}
	}
	if a.output == "json" {
		if err := a.printJSON(rep); err != nil {
			return err
		}
	}
	if worst == ExitOK {
		return nil
	}
	return errReported{worst}
}

// printDecision is the text of a gate that passed.
func printDecision(w io.Writer, d *vulngate.Decision) {
	age := ""
	if d.Timestamp != nil {
		age = fmt.Sprintf(", timestamp %s (%s), %s old", d.Timestamp.Time.UTC().Format(time.RFC3339), d.Timestamp.Kind, time.Duration(d.Age).Round(time.Second))
		if d.MaxAge > 0 {
			age += fmt.Sprintf(" (max %s)", time.Duration(d.MaxAge))
		}
	}
	fmt.Fprintf(w, "  scan: %d %s, none %s that VEX does not cover%s\n", d.Findings, plural(d.Findings, "finding", "findings"), levelText(d.FailOn), age)
	for _, c := range d.Covered {
		fmt.Fprintf(w, "  covered: %s %s %s by %s (%s, statement %d)\n", shown(c.Finding.ID), c.Finding.Level, packageText(c.Finding.Package),
			shown(c.VEX.Source), shown(c.VEX.Status), c.VEX.Statement)
	}
}

func levelText(l scan.Level) string {
	if l == scan.LevelUnknown || l == "" {
		return "of any severity"
	}
	return "at or above " + string(l)
}

func packageText(p vulngate.Package) string {
	s := shown(p.Name) + " " + shown(p.Version)
	if p.Ecosystem != "" {
		s += " (" + shown(p.Ecosystem) + ")"
	}
	return s
}

// printGateFailure explains a refusal of the gate: each reason, with the
// age expected and actual, and each offending finding.
func (a *app) printGateFailure(r *verify.Result, d *vulngate.Decision) {
	name := termtext.Quote(r.Artifact)
	for _, reason := range d.Reasons {
		switch reason.Cause {
		case "too-old", "future-timestamp":
			if reason.Cause == "too-old" {
				a.errorf("%s: the newest scan attestation %s is too old", name, termtext.Quote(d.Bundle))
			} else {
				a.errorf("%s: the newest scan attestation %s has a verified time in the future: is the clock right?", name, termtext.Quote(d.Bundle))
			}
			fmt.Fprintf(a.stdio.Err, "hallmark:   age  expected younger than %s\n", time.Duration(d.MaxAge))
			by := d.Timestamp.Kind
			if d.Timestamp.URI != "" {
				by += " " + termtext.Quote(d.Timestamp.URI)
			}
			fmt.Fprintf(a.stdio.Err, "hallmark:        actual   %s (timestamp %s (%s), measured at %s)\n", time.Duration(d.Age).Round(time.Second),
				d.Timestamp.Time.UTC().Format(time.RFC3339), by, d.Now.Format(time.RFC3339))
		case "findings":
			a.errorf("%s: %s", name, reason.Message)
			for _, f := range d.Offending {
				fmt.Fprintf(a.stdio.Err, "hallmark:   %s  %s  %s\n", shown(f.ID), f.Level, packageText(f.Package))
			}
		default:
			a.errorf("%s: %s", name, reason.Message)
		}
	}
	for _, reason := range d.Reasons {
		switch reason.Cause {
		case "too-old":
			a.hintf("scan again and sign the result: hallmark scan --attest ...")
		case "findings":
			a.hintf("upgrade the packages, or pass --vex FILE with an OpenVEX statement (not_affected or fixed) whose product has the artifact's sha-256 in hashes")
		case "no-timestamp":
			a.hintf("sign scan results with a transparency log or a timestamp authority (keyless does; with --key, drop --timestamp=false)")
		}
	}
}

// vsaFlagsPolicyURI names the policy of a verify made by flags alone; its
// digest is that of the effective policy's canonical JSON.
const vsaFlagsPolicyURI = "https://github.com/hallmark-dev/hallmark/verify-flags/v1"

// vsaReport is what --output json says of the summary written.
type vsaReport struct {
	Bundle             string         `json:"bundle"`
	Artifact           string         `json:"artifact"`
	VerificationResult string         `json:"verificationResult"`
	VerifiedLevels     []string       `json:"verifiedLevels"`
	PolicyURI          string         `json:"policyUri"`
	PolicyDigest       string         `json:"policyDigest"`
	EffectivePolicy    map[string]any `json:"effectivePolicy,omitempty"`
	Inputs             []string       `json:"inputAttestations"`
}

// writeVSA signs and writes the SLSA verification summary of one
// artifact's verification (out, and the gate's decision when there is
// one).
func (a *app) writeVSA(ctx context.Context, o *verifyOptions, run *gateRun, t target, out verify.Outcome, d *vulngate.Decision, ix *source.Index) (*vsaReport, error) {
	policy, err := effectivePolicy(o, run)
	if err != nil {
		return nil, err
	}
	ref, err := flagsPolicyRef(policy)
	if err != nil {
		return nil, err
	}
	passed := out.Err == nil
	var inputs []*source.Bundle
	seen := map[*source.Bundle]bool{}
	for _, dg := range t.digests {
		for _, b := range ix.Lookup(dg) {
			if seen[b] {
				continue
			}
			seen[b] = true
			if !passed || b.Origin == out.Result.Bundle {
				inputs = append(inputs, b)
			}
		}
	}
	var levels []string
	if passed {
		levels = slsaLevels(out.Result)
	}
	v, err := a.signVSA(ctx, run.vsa, vsaInput{target: t, resourceURI: o.vuln.vsaResourceURI, policy: ref, inputs: inputs, passed: passed, levels: levels, effective: policy})
	if err != nil {
		return nil, err
	}
	reps, err := a.writeVSAs(ctx, o.vuln.vsaPath, []*signedVSA{v})
	if err != nil {
		return nil, err
	}
	return reps[0], nil
}

// vsaInput is one summary to sign: verify by flags (writeVSA) and verify
// --policy (writePolicyVSA) each say what was verified, and how.
type vsaInput struct {
	target      target
	resourceURI string
	policy      attest.ResourceRef
	inputs      []*source.Bundle
	passed      bool
	levels      []string
	effective   map[string]any
}

// signedVSA is a summary signed, not yet written.
type signedVSA struct {
	rep    *vsaReport
	st     *intotov1.Statement
	res    *sign.Result
	bundle []byte
}

// signVSA makes and signs the summary of in; writeVSAs writes it.
func (a *app) signVSA(ctx context.Context, s *sign.Signer, in vsaInput) (*signedVSA, error) {
	t := in.target
	name := t.arg
	if !verify.IsDigest(name) && name != "-" {
		name = utf8Name(filepath.Base(name))
	}
	uri := in.resourceURI
	if uri == "" {
		uri = "pkg:generic/" + url.PathEscape(name) + "?checksum=" + t.digest.Algorithm + ":" + t.digest.Value
	}
	sum := attest.VerificationSummary{
		VerifierID:      "https://github.com/hallmark-dev/hallmark",
		VerifierVersion: map[string]string{"hallmark": buildVersion().Version},
		TimeVerified:    time.Now(),
		ResourceURI:     uri,
		Policy:          attest.ResourceRef{URI: utf8Name(in.policy.URI), Digest: in.policy.Digest},
		Passed:          in.passed,
		VerifiedLevels:  in.levels,
	}
	rep := &vsaReport{Artifact: t.arg, PolicyURI: in.policy.URI, PolicyDigest: "sha256:" + in.policy.Digest["sha256"], EffectivePolicy: in.effective, Inputs: []string{}}
	for _, b := range in.inputs {
		h := sha256.Sum256(b.Raw)
		sum.Inputs = append(sum.Inputs, attest.ResourceRef{URI: utf8Name(b.Origin), Digest: map[string]string{"sha256": hex.EncodeToString(h[:])}})
		rep.Inputs = append(rep.Inputs, b.Origin)
	}
	pred, err := sum.Predicate()
	if err != nil {
		return nil, err
	}
	st, err := attest.NewStatement([]*intotov1.ResourceDescriptor{{Name: name, Digest: map[string]string{t.digest.Algorithm: t.digest.Value}}}, attest.TypeVSA, pred)
	if err != nil {
		return nil, err
	}
	data, err := attest.MarshalStatement(st)
	if err != nil {
		return nil, err
	}
	r, bundleJSON, err := s.Sign(ctx, sign.Job{Path: name, Statement: data})
	if err != nil {
		return nil, attestError(fmt.Errorf("signing the verification summary: %w", err))
	}
	rep.VerificationResult, rep.VerifiedLevels = attest.VSAFailed, []string{attest.VSAFailed}
	if in.passed {
		rep.VerificationResult, rep.VerifiedLevels = attest.VSAPassed, in.levels
		if len(in.levels) == 0 {
			rep.VerifiedLevels = []string{attest.SLSABuildLevel0}
		}
	}
	return &signedVSA{rep: rep, st: st, res: r, bundle: bundleJSON}, nil
}

// writeVSAs writes the summaries to path, atomically: one as a bundle,
// several as JSONL, one bundle a line in order (verify reads either, and
// picks an artifact's summary by its digest). Each is then named on
// stderr, a JSONL one as PATH:LINE.
func (a *app) writeVSAs(ctx context.Context, path string, vs []*signedVSA) ([]*vsaReport, error) {
	data := vs[0].bundle
	if len(vs) > 1 {
		var buf bytes.Buffer
		for _, v := range vs {
			if err := json.Compact(&buf, v.bundle); err != nil {
				return nil, err
			}
			buf.WriteByte('\n')
		}
		data = buf.Bytes()
	}
	if err := ctx.Err(); err != nil {
		return nil, err // nothing is written once the caller gave up
	}
	if err := sign.WriteBundle(path, data); err != nil {
		return nil, err
	}
	reps := make([]*vsaReport, len(vs))
	for i, v := range vs {
		v.rep.Bundle = path
		if len(vs) > 1 {
			v.rep.Bundle = fmt.Sprintf("%s:%d", path, i+1)
		}
		v.res.Bundle = v.rep.Bundle
		a.diag("", "verification summary (%s, %s): %s", v.rep.VerificationResult, strings.Join(v.rep.VerifiedLevels, ", "), attestLine(v.st, v.res))
		reps[i] = v.rep
	}
	return reps, nil
}

// slsaLevels are the SLSA build levels a verified result establishes:
// L1 when it is SLSA provenance (v1 or v0.2) of the artifact; L2 when that
// provenance is of a GitHub Actions build, signed by a Fulcio certificate
// of GitHub's issuer for a GitHub-hosted runner, and checked against the
// certificate (not skipped). L3 needs facts about the build platform's
// isolation that a bundle does not carry, so hallmark never claims it.
func slsaLevels(r *verify.Result) []string {
	if r == nil || r.Statement == nil || r.Statement.Provenance == nil {
		return nil
	}
	p, s := r.Statement.Provenance, r.Signer
	l2 := s != nil && s.Kind == "certificate" && s.Issuer == verify.GitHubIssuer && s.GitHub != nil &&
		s.GitHub.RunnerEnvironment == "github-hosted" &&
		(p.BuildType == attest.BuildTypeGitHub || p.BuildType == verify.BuildTypeGitHubSLSA)
	for _, sc := range r.SkippedChecks {
		if sc.Check == verify.CheckProvenance {
			l2 = false
		}
	}
	if l2 {
		return []string{attest.SLSABuildLevel2}
	}
	return []string{attest.SLSABuildLevel1}
}

// effectivePolicy is the policy the flags made, as data: what a summary's
// policy digest stands for.
func effectivePolicy(o *verifyOptions, run *gateRun) (map[string]any, error) {
	p := map[string]any{
		"policyType":     vsaFlagsPolicyURI,
		"minTlogEntries": o.minTlogEntries,
		"minTimestamps":  o.minTimestamps,
	}
	if o.keyPath != "" {
		pub, err := readKey(o.keyPath)
		if err != nil {
			return nil, err
		}
		fp, err := keys.Fingerprint(pub)
		if err != nil {
			return nil, err
		}
		p["key"] = fp
		if !o.minTimestampsSet {
			p["minTimestamps"] = 0
		}
	} else if o.identityFlagsSet() {
		id, err := o.identityPolicy()
		if err != nil {
			return nil, err
		}
		p["identity"] = id
	}
	for k, v := range map[string]string{"predicateType": o.attestation.predicateType, "builderId": o.attestation.builderID, "releaseTag": o.tag} {
		if v != "" {
			p[k] = v
		}
	}
	for k, v := range map[string]bool{"insecureIgnoreTlog": o.insecureIgnoreTlog, "insecureIgnoreSCT": o.insecureIgnoreSCT,
		"insecureIgnoreProvenance": o.attestation.insecureIgnoreProvenance} {
		if v {
			p[k] = true
		}
	}
	var roots []string
	for _, r := range o.trust.loaded {
		h := sha256.Sum256(r.JSON)
		roots = append(roots, "sha256:"+hex.EncodeToString(h[:]))
	}
	if roots != nil {
		p["trustedRoots"] = roots
	}
	if o.vuln.gate() {
		gate := map[string]any{"failOn": string(run.policy.FailOn)}
		if run.policy.MaxAge > 0 {
			gate["maxAge"] = run.policy.MaxAge.String()
		}
		if len(run.vexSum) > 0 {
			gate["vex"] = run.vexSum
		}
		p["vulnGate"] = gate
	}
	return p, nil
}

// flagsPolicyRef is the summary's policy for a verify by flags: the sha256
// of the effective policy in RFC 8785 canonical JSON.
func flagsPolicyRef(p map[string]any) (attest.ResourceRef, error) {
	data, err := json.Marshal(p)
	if err != nil {
		return attest.ResourceRef{}, err
	}
	canon, err := jsoncanonicalizer.Transform(data)
	if err != nil {
		return attest.ResourceRef{}, err
	}
	h := sha256.Sum256(canon)
	return attest.ResourceRef{URI: vsaFlagsPolicyURI, Digest: map[string]string{"sha256": hex.EncodeToString(h[:])}}, nil
}
