package cli

import (
	"context"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"strings"

	"github.com/sigstore/sigstore-go/pkg/root"
	"github.com/spf13/cobra"

	"github.com/hallmark-dev/hallmark/internal/ctxio"
	"github.com/hallmark-dev/hallmark/internal/keys"
	"github.com/hallmark-dev/hallmark/internal/termtext"
	"github.com/hallmark-dev/hallmark/pkg/ecosystem/github"
	"github.com/hallmark-dev/hallmark/pkg/verify"
)

// verifyOptions are the verify command's flags, bound in one place.
type verifyOptions struct {
	bundlePath string

	identity, identityRegexp string
	issuer, issuerRegexp     string
	repo, signerWorkflow     string
	sourceRef, sourceDigest  string
	trigger                  string
	tag                      string // verify_release.go
	gh                       ghPolicyFlags
	ghDefaultType            bool          // verify, not scan: --repo/--owner default to SLSA provenance v1 as gh does
	preset                   presetOptions // verify only: see verify_homebrew.go
	oci                      ociFlags      // verify only: oci:// images, see oci.go

	keyPath string

	trust trustFlags

	minTlogEntries, minTimestamps int
	minTimestampsSet              bool // --min-timestamps was given
	insecureIgnoreTlog            bool
	insecureIgnoreSCT             bool

	attestation attestationOptions // verify only: see verify_attest.go
	cosign      cosignFlags        // verify only: --signature, --certificate (verify_cosign.go)
	sources     sourceOptions      // verify only: see verify_sources.go
	pypi        pypiOptions        // verify only: --preset pypi, see verify_pypi.go
	lock        lockFlags          // verify only: --lock, see lock.go
	npm         npmOptions         // verify only: --preset npm, see verify_npm.go
	vuln        gateOptions        // verify only: --max-age, --fail-on, --vex, --vsa (verify_vuln.go)
	policy      policyFileFlags    // verify only: --policy (verify_policy.go)
}

func (a *app) verifyCommand() *cobra.Command {
	return a.verifyCommandWith(&verifyOptions{ghDefaultType: true})
}

// verifyCommandWith binds the verify command's flags into o (the mode
// table test parses flags into its own o).
func (a *app) verifyCommandWith(o *verifyOptions) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "verify [flags] ARTIFACT...",
		Short: "Verify Sigstore bundles of artifacts against a trust root and a policy",
		Long: `Verify that each ARTIFACT was signed as its Sigstore bundle says, by a signer the
policy accepts, and that the signature was logged and timestamped by services
of the trust root.

ARTIFACT is a file, - for standard input, or a digest sha256:<hex>. The bundle
is ARTIFACT.sigstore.json unless --bundle names it. Bundles v0.1 to v0.3 are
read: message signatures, and DSSE envelopes whose in-toto subjects must
include the artifact. So are cosign's legacy bundles (base64Signature, cert,
rekorBundle) and its detached --signature/--certificate files.

--type T (alias --predicate-type) requires an attestation's predicate type,
by name (slsaprovenance1, spdxjson, link...) or URI; --builder-id pins a SLSA
provenance's builder. GitHub Actions provenance must agree with the signing
certificate (repository, ref, workflow, commit, builder).

A keyless bundle needs an identity policy: --certificate-identity (or
--certificate-identity-regexp, always matched against the whole value) and
--certificate-oidc-issuer (or its -regexp), or --repo for GitHub Actions,
narrowed to a reusable workflow by --signer-workflow. A key-signed bundle
needs --key.

gh attestation verify's flags mean what they mean in gh: --owner, --repo,
--signer-repo, --signer-workflow WF[@REF-GLOB], --signer-digest, --source-ref,
--source-digest, --deny-self-hosted-runners, --hostname TENANT.ghe.com, and
the spellings --cert-identity, --cert-identity-regex, --cert-oidc-issuer,
--predicate-type, --custom-trusted-root, --format. With --repo or --owner and
no --type, an attestation must be SLSA provenance v1; --type any lifts it.

--preset homebrew-core (or homebrew --repo OWNER/TAP) verifies Homebrew
bottles by brew's rules; --bottle-url gives a bottle's URL for the backfill.
--preset npm verifies an npm tarball (or its sha512:<hex>, or integrity
sha512-<base64>) against the registry's --attestations document, pinning its
provenance with --repo; --lockfile with --attestations-dir a whole project.
--preset pypi DIST --provenance FILE --publisher github:OWNER/REPO[/WF] verifies
a Python distribution's PEP 740 attestations; --lock FILE pins each package's
signer on first use and refuses a different one later (--update-lock accepts it).

--policy FILE checks every bundle given against a policy file instead (who
signs what, which attestations, CEL rules, an in-toto layout of steps) and
reports every rule that fails; see 'hallmark policy --help'.

Trust comes from --trusted-root (or HALLMARK_TRUSTED_ROOT), else the Sigstore
public-good root kept fresh through TUF and cached; --offline uses only those
files and never touches the network.

Exit codes: 0 all verified, 1 could not complete, 2 usage error, 3 rejected.
Several artifacts are verified in parallel; the exit code is the worst.`,
		Example: `  # a release file signed in GitHub Actions
  hallmark verify --repo hallmark-dev/demo app.tar.gz

  # any identity check, explicit issuer, pinned trust root, no network
  hallmark verify --offline --trusted-root trusted_root.json \
    --certificate-identity alice@example.com \
    --certificate-oidc-issuer https://accounts.example.com app.tar.gz

  # a key-signed file
  hallmark verify --key cosign.pub --bundle app.sigstore.json app.tar.gz

  # a policy file over a build's attestations
  hallmark verify --policy policy.yaml --bundle-dir attestations/ app.pkg`,
		Args: npmArgs(o), // cobra.MinimumNArgs(1), but none with --preset npm --lockfile
		RunE: a.runE(func(cmd *cobra.Command, args []string) error {
			o.minTimestampsSet = cmd.Flags().Changed("min-timestamps")
			mode, err := verifyModeOf(o.modeFacts(cmd, args)) // verify_mode.go
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			switch mode {
			case modePolicy:
				return a.runVerifyPolicy(ctx, cmd, o, args)
			case modeGate:
				return a.runVerifyGate(ctx, cmd, o, args)
			case modeNPM:
				return a.runVerifyNPM(ctx, o, args)
			case modePyPI:
				return a.runVerifyPyPI(ctx, o, args)
			case modePreset:
				return a.runVerifyPreset(ctx, o, args)
			case modeOCI:
				return a.runVerifyOCI(ctx, o, args)
			case modeSearched:
				return a.runVerifySearched(ctx, cmd, o, args)
			}
			if len(o.sources.bundles) == 1 {
				o.bundlePath = o.sources.bundles[0]
			}
			return a.runVerify(ctx, o, args)
		}),
	}
	o.bindPolicy(cmd)
	o.oci.bind(cmd, false)
	o.attestation.bind(cmd)
	o.cosign.bind(cmd)
	o.bindRelease(cmd)
	o.sources.bind(cmd)
	cmd.Flags().StringVar(&a.output, "format", "text", "alias of --output (gh's spelling)")
	o.preset.bind(cmd)
	o.pypi.bind(cmd)
	o.lock.bind(cmd)
	o.npm.bind(cmd)
	o.vuln.bind(cmd)
	o.policy.bind(cmd)
	return cmd
}

// bindPolicy binds the policy and trust flags (shared by verify and by
// scan --attestation) and declares which exclude each other.
func (o *verifyOptions) bindPolicy(cmd *cobra.Command) {
	f := cmd.Flags()
	f.StringVar(&o.identity, "certificate-identity", "", "the signer identity (certificate SAN) that must match exactly")
	f.StringVar(&o.identityRegexp, "certificate-identity-regexp", "", "a pattern the whole signer identity must match")
	f.StringVar(&o.issuer, "certificate-oidc-issuer", "", "the OIDC issuer that must match exactly")
	f.StringVar(&o.issuerRegexp, "certificate-oidc-issuer-regexp", "", "a pattern the whole OIDC issuer must match")
	f.StringVar(&o.repo, "repo", "", "GitHub repository `OWNER/NAME` whose workflow signed (implies the GitHub Actions issuer)")
	f.StringVar(&o.signerWorkflow, "signer-workflow", "", "the workflow that signed, `OWNER/NAME/.github/workflows/F.yml[@REF-GLOB]` (exact path, optional ref glob; narrows --repo or --owner, which it needs)")
	f.StringVar(&o.sourceRef, "source-ref", "", "the git ref the workflow ran on, e.g. refs/tags/v1.2.3")
	f.StringVar(&o.sourceDigest, "source-digest", "", "the git commit the workflow ran on")
	f.StringVar(&o.trigger, "trigger", "", "the event that triggered the workflow, e.g. push")
	f.StringVar(&o.keyPath, "key", "", "verify with this PEM public key `FILE` instead of an identity")
	o.trust.bind(f)
	f.IntVar(&o.minTlogEntries, "min-tlog-entries", 1, "transparency log entries that must verify")
	f.IntVar(&o.minTimestamps, "min-timestamps", 1, "verified timestamps (log or RFC 3161) required")
	f.BoolVar(&o.insecureIgnoreTlog, "insecure-ignore-tlog", false, "accept bundles without a transparency log entry (unsafe)")
	f.BoolVar(&o.insecureIgnoreSCT, "insecure-ignore-sct", false, "accept certificates without a verified SCT (unsafe)")
	cmd.MarkFlagsMutuallyExclusive("certificate-identity", "certificate-identity-regexp")
	cmd.MarkFlagsMutuallyExclusive("certificate-oidc-issuer", "certificate-oidc-issuer-regexp")
	for _, id := range []string{"certificate-identity", "certificate-identity-regexp", "certificate-oidc-issuer",
		"certificate-oidc-issuer-regexp", "repo", "signer-workflow", "source-ref", "source-digest", "trigger"} {
		cmd.MarkFlagsMutuallyExclusive("key", id)
	}
	o.gh.bind(cmd, o)
}

// identityFlagsSet reports whether any keyless policy flag was given.
func (o *verifyOptions) identityFlagsSet() bool {
	return o.identity != "" || o.identityRegexp != "" || o.issuer != "" || o.issuerRegexp != "" ||
		o.repo != "" || o.signerWorkflow != "" || o.sourceRef != "" || o.sourceDigest != "" || o.trigger != "" || o.gh.set()
}

// identityPolicy turns the identity flags into a policy: a pure function.
// --repo pins the source repository and, unless --signer-workflow names the
// workflow that signed, requires the SAN to be a workflow of that repository;
// both imply the GitHub Actions issuer unless one is given.
func (o *verifyOptions) identityPolicy() (*verify.Identity, error) {
	id := &verify.Identity{}
	base, err := o.githubBase()
	if err != nil {
		return nil, err
	}
	if base != nil {
		id = base
	}
	if err := o.signerPolicy(id, base != nil); err != nil {
		return nil, err
	}
	// A pattern must be valid on its own: anchoring wraps it in ^(?:...)$,
	// and an unbalanced one such as "a)|(b" would escape the anchors.
	for _, p := range []struct{ flag, pattern string }{
		{"--certificate-identity-regexp", o.identityRegexp},
		{"--certificate-oidc-issuer-regexp", o.issuerRegexp},
	} {
		if _, err := regexp.Compile(p.pattern); err != nil {
			return nil, usageError(fmt.Errorf("%s %q is not a valid regular expression: %w", p.flag, p.pattern, err),
				"patterns use Go's RE2 syntax and always match the whole value")
		}
	}
	if o.identity != "" || o.identityRegexp != "" {
		id.SAN, id.SANRegexp = o.identity, o.identityRegexp
	}
	if o.issuer != "" || o.issuerRegexp != "" {
		id.Issuer, id.IssuerRegexp = o.issuer, o.issuerRegexp
	}
	id.SourceRef, id.SourceDigest, id.Trigger = o.sourceRef, o.sourceDigest, o.trigger
	return id, nil
}

// signerWorkflowAloneError is errSignerWorkflowAlone with a hint showing
// the source repository found in the bundle.
func signerWorkflowAloneError(ctx context.Context, bundlePath string, err error) error {
	hint := "pin the repository whose build you trust with --repo OWNER/NAME"
	if b, err := verify.ReadBundleContext(ctx, bundlePath); err == nil {
		if s := verify.BundleSigner(b); s != nil && s.GitHub != nil && s.GitHub.SourceRepository != "" {
			repo := strings.TrimPrefix(s.GitHub.SourceRepository, "https://github.com/")
			hint = fmt.Sprintf("the bundle's source repository is %q: if that is the repository whose build you trust, pin it with --repo %s",
				s.GitHub.SourceRepository, termtext.Quote(repo))
		}
	}
	var ce *cliError
	if errors.As(err, &ce) {
		err = ce.err
	}
	return usageError(err, hint)
}

func (a *app) runVerify(ctx context.Context, o *verifyOptions, args []string) error {
	if err := a.lockPolicy(o, args); err != nil {
		return err
	}
	if err := o.cosign.check(o, args); err != nil {
		return err
	}
	jobs, err := o.cosign.jobs(o, args, a.stdio.In)
	if err != nil {
		return err
	}
	v, err := a.verifier(ctx, o, jobs[0].BundlePath)
	if err != nil {
		return err
	}
	results := a.verifyAll(ctx, v, o, args, jobs)
	attestationUsage(results)
	results, saveLock, err := a.lockArtifacts(o, results)
	if err != nil {
		return err
	}
	return a.afterReport(a.reportVerify(results), saveLock)
}

// verifier turns the policy and trust flags into a Verifier, warning about
// unsafe choices; bundlePath is read only for the hint of a missing policy.
func (a *app) verifier(ctx context.Context, o *verifyOptions, bundlePath string) (*verify.Verifier, error) {
	if o.insecureIgnoreTlog {
		a.warnf("--insecure-ignore-tlog: bundles are accepted without proof that the signature was logged")
	}
	if o.insecureIgnoreSCT {
		a.warnf("--insecure-ignore-sct: certificates are accepted without certificate transparency proof")
	}
	if o.attestation.insecureIgnoreProvenance {
		a.warnf("--insecure-ignore-provenance: GitHub Actions provenance is accepted even when its certificate contradicts it")
	}
	if o.minTlogEntries < 1 || o.minTimestamps < 1 {
		return nil, usageError(errors.New("--min-tlog-entries and --min-timestamps must be at least 1"),
			"to accept bundles without a log entry, use --insecure-ignore-tlog")
	}
	policy := verify.Policy{
		MinTlogEntries:     o.minTlogEntries,
		MinTimestamps:      o.minTimestamps,
		InsecureIgnoreTlog: o.insecureIgnoreTlog,
		InsecureIgnoreSCT:  o.insecureIgnoreSCT,
	}
	if err := o.attestation.apply(&policy); err != nil {
		return nil, err
	}
	if o.ghDefaultType && o.attestation.predicateType == "" && (o.repo != "" || o.gh.owner != "") {
		// gh's default; --type any lifts it. Plain signatures have no
		// predicate type and are not affected.
		policy.AttestationPredicateType = ghDefaultPredicateType
	}
	var err error
	switch {
	case o.keyPath != "":
		pub, err := readKey(o.keyPath)
		if err != nil {
			return nil, err
		}
		policy.Key = pub
		if !o.minTimestampsSet {
			// A key-signed bundle's timestamps are checked when present
			// and required only when asked for (see verify.Policy).
			policy.MinTimestamps = 0
		}
	case o.tag != "" || o.repo != "":
		release, err := o.releasePolicy(&policy)
		if err != nil {
			return nil, err
		}
		if release {
			break
		}
		fallthrough
	case o.identityFlagsSet():
		if policy.Identity, err = o.identityPolicy(); err != nil {
			if errors.Is(err, errSignerAlone) {
				return nil, signerWorkflowAloneError(ctx, bundlePath, err)
			}
			return nil, err
		}
		if err := checkIdentityComplete(policy.Identity); err != nil {
			return nil, err
		}
	default:
		return nil, a.noPolicyError(bundlePath)
	}
	var tm []root.TrustedMaterial
	if policy.Key == nil || !o.insecureIgnoreTlog || o.trust.explicit() {
		rs, err := a.loadTrusts(ctx, &o.trust)
		if err != nil {
			if policy.Key != nil && !o.insecureIgnoreTlog {
				// The root is needed only for the log entry (and any
				// timestamps); a key-signed bundle made without a log
				// needs no root at all.
				return nil, addHints(fmt.Errorf("--key: the trust root is needed to verify the bundle's transparency log entry: %w", err),
					"a key-signed bundle made without a transparency log (--tlog-upload=false) verifies without any trust root with --insecure-ignore-tlog")
			}
			return nil, err
		}
		for _, r := range rs {
			tm = append(tm, r.Trusted)
		}
	}
	v, err := verify.NewWithRoots(tm, policy)
	if err != nil {
		return nil, usageError(err)
	}
	return v, nil
}

// checkIdentityComplete insists on both halves of a keyless identity.
func checkIdentityComplete(id *verify.Identity) error {
	if id.SAN == "" && id.SANRegexp == "" {
		return usageError(errors.New("no signer identity given"),
			"pass --certificate-identity (or --certificate-identity-regexp), or --repo OWNER/NAME for GitHub Actions")
	}
	if id.Issuer == "" && id.IssuerRegexp == "" {
		return usageError(errors.New("no OIDC issuer given"),
			"pass --certificate-oidc-issuer (or --certificate-oidc-issuer-regexp)")
	}
	return nil
}

// noPolicyError is the usage error of a verify without a policy; its hint
// shows the signer found in the bundle, so the user can decide to trust it.
func (a *app) noPolicyError(bundlePath string) error {
	err := errors.New("no policy: verify needs the signer's identity and issuer (keyless) or --key")
	b, rerr := verify.ReadBundle(bundlePath)
	if rerr != nil {
		return usageError(err, "pass --certificate-identity and --certificate-oidc-issuer, --repo OWNER/NAME, or --key FILE")
	}
	if s := verify.BundleSigner(b); s != nil {
		return usageError(err, fmt.Sprintf("the bundle was signed by %q with issuer %q; if you trust that signer, pass --certificate-identity %q --certificate-oidc-issuer %q",
			s.SAN, s.Issuer, s.SAN, s.Issuer))
	}
	return usageError(err, "the bundle is signed with a key: pass --key FILE with the signer's public key")
}

// jobs pairs each artifact argument with its bundle.
func (o *verifyOptions) jobs(args []string, stdin io.Reader) ([]verify.Job, error) {
	if o.bundlePath != "" && len(args) > 1 {
		return nil, usageError(errors.New("--bundle names the bundle of one artifact, but several were given"),
			"drop --bundle to use ARTIFACT.sigstore.json for each artifact")
	}
	var jobs []verify.Job
	seenStdin := false
	for _, arg := range args {
		var j verify.Job
		switch {
		case arg == "-":
			if seenStdin {
				return nil, usageError(errors.New("standard input (-) can be given only once"))
			}
			seenStdin = true
			j.Artifact = verify.ReaderArtifact("-", stdin)
		case verify.IsDigest(arg):
			art, err := verify.ParseDigest(arg)
			if err != nil {
				return nil, usageError(err)
			}
			j.Artifact = art
		default:
			j.Artifact = verify.FileArtifact(arg)
			j.BundlePath = arg + ".sigstore.json"
		}
		if o.bundlePath != "" {
			j.BundlePath = o.bundlePath
			if b := o.sources.single; b != nil && len(o.sources.bundles) == 1 && o.sources.bundles[0] == o.bundlePath {
				j.Bundle = b.Bundle // parsed once, by searched
			}
		}
		if j.BundlePath == "" {
			return nil, usageError(fmt.Errorf("artifact %q has no default bundle path", arg), "name its bundle with --bundle FILE")
		}
		jobs = append(jobs, j)
	}
	return jobs, nil
}

func readKey(path string) (any, error) {
	data, err := ctxio.ReadFile(context.Background(), path, maxKeyFile)
	if err != nil {
		return nil, fmt.Errorf("reading key: %w", err)
	}
	return parseKey(path, data)
}

// maxKeyFile bounds the read of a public key file: a PEM key is a few kB,
// and --key /dev/zero must not be read until memory runs out.
const maxKeyFile = 1 << 20

// parseKey parses the PEM public key read from path.
func parseKey(path string, data []byte) (any, error) {
	if block, _ := pem.Decode(data); block != nil && strings.Contains(block.Type, "CERTIFICATE") {
		return nil, withHint(fmt.Errorf("key %s is a certificate (PEM %q), not a public key", path, block.Type),
			"--key takes a PEM public key (-----BEGIN PUBLIC KEY-----); a certificate-signed bundle is verified with --certificate-identity and --certificate-oidc-issuer")
	}
	pub, err := keys.ParsePublicKeyPEM(data)
	if err != nil {
		return nil, withHint(fmt.Errorf("key %s: %w", path, err), "--key takes a PEM public key (-----BEGIN PUBLIC KEY-----), such as cosign.pub")
	}
	return pub, nil
}

// reportVerify prints the results and returns the worst exit code as an
// already-reported error.
func (a *app) reportVerify(outs []verify.Outcome) error {
	worst := ExitOK
	report := verify.Report{SchemaVersion: verify.SchemaVersion}
	for _, o := range outs {
		report.Results = append(report.Results, o.Result)
		if o.Err == nil {
			if a.output == "text" {
				fmt.Fprintf(a.stdio.Out, "OK %s: %s%s\n", termtext.Quote(o.Result.Artifact), describeSigner(o.Result), a.fromBundle(o.Result))
				printStatement(a.stdio.Out, o.Result)
			}
			a.printDetails(o.Result)
			continue
		}
		worst = max(worst, exitCode(o.Err))
		a.printFailure(o.Result, o.Err)
	}
	if a.output == "json" {
		if err := a.printJSON(report); err != nil {
			return err
		}
	}
	if worst == ExitOK {
		return nil
	}
	return errReported{worst}
}

// describeSigner is the one-line summary of who signed.
func describeSigner(r *verify.Result) string {
	s := r.Signer
	var b strings.Builder
	switch {
	case s == nil:
		b.WriteString("verified")
	case s.Kind == "key":
		fmt.Fprintf(&b, "signed with key %s (%s)", termtext.Quote(s.KeyFingerprint), termtext.Quote(s.KeyType))
	default:
		if s.Issuer == "" {
			fmt.Fprintf(&b, "signed by %s (no OIDC issuer)", termtext.Quote(s.SAN))
		} else {
			fmt.Fprintf(&b, "signed by %s (issuer %s)", termtext.Quote(s.SAN), termtext.Quote(s.Issuer))
		}
	}
	if r.Statement != nil && r.Statement.PredicateType != "" {
		fmt.Fprintf(&b, ", predicate %s", termtext.Quote(r.Statement.PredicateType))
	}
	return b.String()
}

// printDetails shows, with --verbose, the evidence behind a verification.
func (a *app) printDetails(r *verify.Result) {
	if !a.verbose {
		return
	}
	q, name := termtext.Quote, termtext.Quote(r.Artifact)
	if r.Digest != nil {
		a.verbosef("%s: digest %s", name, q(r.Digest.String()))
	}
	if s := r.Signer; s != nil && s.GitHub != nil {
		a.verbosef("%s: repository %s ref %s commit %s trigger %s workflow %s", name,
			q(s.GitHub.SourceRepository), q(s.GitHub.SourceRef), q(s.GitHub.SourceDigest), q(s.GitHub.Trigger), q(s.GitHub.SignerWorkflow))
	}
	for _, t := range r.TlogEntries {
		a.verbosef("%s: Rekor v%d entry %d in log %s", name, t.RekorVersion, t.Index, q(t.LogID))
	}
	for _, t := range r.Timestamps {
		a.verbosef("%s: %s timestamp %s %s", name, t.Kind, t.Time.Format("2006-01-02T15:04:05Z"), q(t.URI))
	}
	a.printSkipped(r)
}

// printSkipped names, with --verbose, the checks that were not made.
func (a *app) printSkipped(r *verify.Result) {
	for _, s := range r.SkippedChecks {
		a.verbosef("%s: not checked: %s: %s", termtext.Quote(r.Artifact), s.Check, s.Reason)
	}
}

// printFailure explains one rejection or error on stderr. A bundle that
// cannot be read or parsed is named by its path, not by the artifact's.
func (a *app) printFailure(r *verify.Result, err error) {
	var be *verify.BundleError
	if errors.As(err, &be) {
		a.errorf("%s", failureMessage(err))
	} else {
		a.errorf("%s: %s", termtext.Quote(r.Artifact), failureMessage(err))
	}
	var rej *verify.RejectedError
	if errors.As(err, &rej) {
		printComparisons(a.stdio.Err, rej.Comparisons)
	}
	a.printSourceNotes(r, err)
	for _, h := range verifyHints(r, err) {
		a.hintf("%s", h)
	}
	if a.verbose {
		a.printSkipped(r)
	}
}

func failureMessage(err error) string {
	var be *verify.BundleError
	var rej *verify.RejectedError
	switch {
	case errors.As(err, &be) && errors.As(err, &rej):
		return termtext.Quote(be.Path) + ": " + rej.Message()
	case errors.As(err, &rej):
		return rej.Message()
	case errors.As(err, &be):
		return "reading bundle " + termtext.Quote(be.Path) + ": " + verify.FailureOf(be.Err).Message
	}
	return verify.FailureOf(err).Message
}

// printComparisons lays out expected against actual, field by field.
func printComparisons(w io.Writer, cs []verify.Comparison) {
	width := 0
	for _, c := range cs {
		width = max(width, len(c.Field))
	}
	for _, c := range cs {
		if c.Match {
			fmt.Fprintf(w, "hallmark:   %-*s  ok       %q\n", width, c.Field, c.Actual)
			continue
		}
		// Expected describes the policy, and may name values of the
		// bundle (the statement's subjects): one line, escaped.
		fmt.Fprintf(w, "hallmark:   %-*s  expected %s\n", width, c.Field, termtext.Line(c.Expected))
		fmt.Fprintf(w, "hallmark:   %-*s  actual   %q\n", width, "", c.Actual)
	}
}

// verifyHints suggests a fix for a rejection, from its cause.
func verifyHints(r *verify.Result, err error) []string {
	var rej *verify.RejectedError
	if !errors.As(err, &rej) {
		var be *verify.BundleError
		switch {
		case !errors.Is(err, os.ErrNotExist):
		case errors.As(err, &be):
			return []string{"name the bundle with --bundle FILE if it is not ARTIFACT.sigstore.json"}
		default:
			return []string{fmt.Sprintf("check the path of the artifact %q; to verify a file that is not at hand, pass its digest as sha256:<hex>", r.Artifact)}
		}
		return nil
	}
	if rej.Hint != "" {
		return []string{rej.Hint}
	}
	switch rej.Cause {
	case verify.CauseNotAttestation:
		return []string{notAttestationHint}
	case verify.CauseIdentity:
		if !signerMismatch(rej.Comparisons) {
			// Only GitHub claims differ: the comparisons show them, and
			// another --certificate-identity would not help.
			return nil
		}
		return identityHints(r.Signer)
	case verify.CauseUnknownLog, verify.CauseCertificate:
		return []string{"if the bundle comes from another Sigstore instance (such as staging or a private one), pass its trusted_root.json with --trusted-root"}
	case verify.CauseCertTime:
		return []string{"a short-lived certificate is valid only with a timestamp (RFC 3161 or a log's integrated time) inside its lifetime, and this bundle has none"}
	case verify.CauseRekorV2TSA:
		return []string{"Rekor v2 bundles need a timestamp authority: pass a trusted root that lists the instance's TSA with --trusted-root"}
	case verify.CauseTlogTimeIgnored:
		return []string{"drop --insecure-ignore-tlog to verify the log entry and use its time, or verify a bundle that carries an RFC 3161 timestamp"}
	case verify.CauseTlog:
		if len(r.TlogEntries) == 0 {
			return []string{"if the bundle was made without a transparency log on purpose (--tlog-upload=false), pass --insecure-ignore-tlog"}
		}
	case verify.CauseSignerKind:
		if r.Signer == nil || r.Signer.Kind != "key" {
			return []string{"a key-signed bundle is verified with --key FILE; a certificate-signed one with --certificate-identity and --certificate-oidc-issuer"}
		}
	}
	return nil
}

// signerMismatch reports whether the identity (SAN) or the issuer failed the
// policy, as opposed to only the other claims.
func signerMismatch(cs []verify.Comparison) bool {
	for _, c := range cs {
		if !c.Match && (c.Field == "identity (SAN)" || c.Field == "issuer" || c.Field == "signer workflow") {
			return true
		}
	}
	return len(cs) == 0
}

// identityHints suggests the flags that accept the signer that was found,
// pointing at --signer-workflow for reusable workflows.
func identityHints(s *verify.Signer) []string {
	if s == nil || s.Kind != "certificate" {
		return nil
	}
	if gh := s.GitHub; gh != nil && gh.SignerWorkflow != "" && gh.SourceRepository != "" &&
		!strings.HasPrefix(gh.SignerWorkflow, gh.SourceRepository+"/") {
		wf, _, _ := strings.Cut(strings.TrimPrefix(gh.SignerWorkflow, "https://github.com/"), "@")
		repo := strings.TrimPrefix(gh.SourceRepository, "https://github.com/")
		return []string{fmt.Sprintf("the certificate was issued to the reusable workflow %s, run for %s; to accept it, pass --repo %s --signer-workflow %s",
			termtext.Quote(gh.SignerWorkflow), termtext.Quote(gh.SourceRepository), termtext.Quote(repo), termtext.Quote(wf))}
	}
	if s.SAN == github.ReleaseSigner && s.Issuer == "" {
		return []string{"this is a GitHub release attestation, signed by GitHub itself: verify it with --type release --repo OWNER/NAME (and --tag TAG)"}
	}
	return []string{fmt.Sprintf("the bundle was signed by %q with issuer %q; if you trust that signer, pass --certificate-identity %q --certificate-oidc-issuer %q",
		s.SAN, s.Issuer, s.SAN, s.Issuer)}
}
