package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"

	"github.com/sigstore/sigstore-go/pkg/root"
	"github.com/spf13/cobra"

	"github.com/hallmark-dev/hallmark/internal/ctxio"
	"github.com/hallmark-dev/hallmark/internal/termtext"
	"github.com/hallmark-dev/hallmark/pkg/ecosystem/pypi"
	"github.com/hallmark-dev/hallmark/pkg/lock"
	"github.com/hallmark-dev/hallmark/pkg/verify"
)

// pypiPreset is --preset pypi: PEP 740 attestations of Python
// distributions.
const pypiPreset = "pypi"

// pypiOptions are the flags of --preset pypi.
type pypiOptions struct {
	provenance      []string
	publisher       string
	publisherIssuer string
}

func (p *pypiOptions) bind(cmd *cobra.Command) {
	f := cmd.Flags()
	f.StringArrayVar(&p.provenance, "provenance", nil, "--preset pypi: the PEP 740 provenance or attestation `FILE` of each distribution, in order (default DIST.provenance, DIST.publish.attestation or DIST.attestation)")
	f.StringVar(&p.publisher, "publisher", "", "--preset pypi: the Trusted Publisher, github:OWNER/REPO[/WORKFLOW], gitlab:NAMESPACE/PROJECT[//PATH], google:EMAIL or email:ADDRESS (optional with a --lock entry)")
	f.StringVar(&p.publisherIssuer, "publisher-issuer", "", "--preset pypi: the OIDC issuer `URL` of an email: publisher (required), or instead of a github:, gitlab: or google: publisher's own (a GHE.com tenant's)")
}

// set reports whether any --preset pypi flag was given.
func (p *pypiOptions) set() bool {
	return len(p.provenance) > 0 || p.publisher != "" || p.publisherIssuer != ""
}

// pypiDist is one distribution on the command line and what came of it.
type pypiDist struct {
	arg        string
	dist       pypi.Dist
	provenance string
	doc        *pypi.Document
	publisher  pypi.Publisher
	fromLock   bool
	result     *pypi.Result
	change     *lock.Change
	err        error
}

// pypiOutcome is the JSON shape of one distribution (see the manual).
type pypiOutcome struct {
	Dist       string           `json:"dist"`
	FileName   string           `json:"fileName"`
	Project    string           `json:"project"`
	Version    string           `json:"version"`
	Digest     verify.Digest    `json:"digest"`
	Provenance string           `json:"provenance"`
	Verified   bool             `json:"verified"`
	Publisher  string           `json:"publisher,omitempty"`
	PolicyFrom string           `json:"policyFrom,omitempty"`
	Claimed    *pypi.Publisher  `json:"claimedPublisher,omitempty"`
	Results    []*verify.Result `json:"attestations,omitempty"`
	Lock       *lock.Change     `json:"lock,omitempty"`
	Error      *verify.Failure  `json:"error,omitempty"`
}

type pypiReport struct {
	SchemaVersion string        `json:"schemaVersion"`
	Preset        string        `json:"preset"`
	Dists         []pypiOutcome `json:"dists"`
}

// runVerifyPyPI verifies Python distributions by their PEP 740
// attestations, with pypi-attestations' rules, and the lock.
func (a *app) runVerifyPyPI(ctx context.Context, o *verifyOptions, args []string) error {
	if o.preset.name != pypiPreset {
		return usageError(errors.New("--provenance, --publisher and --publisher-issuer are for --preset pypi"),
			"add --preset pypi, or drop them")
	}
	if o.minTlogEntries < 1 || o.minTimestamps < 1 {
		return usageError(errors.New("--min-tlog-entries and --min-timestamps must be at least 1"),
			"to accept attestations without a log entry, use --insecure-ignore-tlog")
	}
	if o.repo != "" || o.sourceRef != "" || o.sourceDigest != "" || o.trigger != "" || o.gh.set() || len(o.preset.bottleURLs) > 0 {
		return usageError(errors.New("--preset pypi takes the publisher as --publisher: no other identity flag"),
			"drop the identity flags; pass --publisher github:OWNER/REPO[/WORKFLOW] (or gitlab:, google:)")
	}
	if len(o.sources.bundles) > 0 || o.sources.bundleDir != "" || o.sources.from != "" {
		return usageError(errors.New("--preset pypi reads PEP 740 documents with --provenance, not bundles"), "drop --bundle, --bundle-dir and --from")
	}
	if n := len(o.pypi.provenance); n > 0 && n != len(args) {
		return usageError(fmt.Errorf("%d --provenance for %d distributions: give one per distribution, in their order", n, len(args)))
	}
	var pub *pypi.Publisher
	if o.pypi.publisher != "" {
		p, err := pypi.ParsePublisher(o.pypi.publisher)
		if err == nil && (p.Kind == pypi.KindEmail || o.pypi.publisherIssuer != "") {
			p.Issuer = o.pypi.publisherIssuer
			err = p.Validate()
		}
		if err != nil {
			return usageError(fmt.Errorf("--publisher %s: %w", termtext.Quote(o.pypi.publisher), err),
				"github:OWNER/REPO[/WORKFLOW.yml], gitlab:NAMESPACE/PROJECT[//CI-FILE], google:SERVICE-ACCOUNT-EMAIL, or email:ADDRESS with --publisher-issuer URL")
		}
		pub = &p
	} else if o.pypi.publisherIssuer != "" {
		return usageError(errors.New("--publisher-issuer names the issuer of a --publisher: give one"))
	}
	ls, err := a.openLock(&o.lock)
	if err != nil {
		return err
	}
	dists := make([]*pypiDist, len(args))
	for i, arg := range args {
		d := &pypiDist{arg: arg}
		if len(o.pypi.provenance) > 0 {
			d.provenance = o.pypi.provenance[i]
		}
		if err := a.readPyPIDist(ctx, d); err != nil {
			return err
		}
		if err := choosePublisher(d, pub, ls); err != nil {
			return err
		}
		dists[i] = d
	}
	roots, err := a.pypiRoots(ctx, &o.trust)
	if err != nil {
		return err
	}
	base := verify.Policy{MinTlogEntries: o.minTlogEntries, MinTimestamps: o.minTimestamps,
		InsecureIgnoreTlog: o.insecureIgnoreTlog, InsecureIgnoreSCT: o.insecureIgnoreSCT}
	if o.insecureIgnoreTlog {
		a.warnf("--insecure-ignore-tlog: attestations are accepted without proof that the signature was logged")
	}
	if o.insecureIgnoreSCT {
		a.warnf("--insecure-ignore-sct: certificates are accepted without certificate transparency proof")
	}
	verifiers := map[pypi.Publisher]*pypi.Verifier{}
	for _, d := range dists {
		if verifiers[d.publisher] != nil {
			continue
		}
		v, err := pypi.NewVerifier(roots, pypi.Policy{Publisher: d.publisher, Base: base})
		if err != nil {
			return usageError(err)
		}
		verifiers[d.publisher] = v
	}
	var wg sync.WaitGroup
	sem := make(chan struct{}, runtime.GOMAXPROCS(0))
	for _, d := range dists {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			d.result, d.err = pypi.Verify(ctx, verifiers[d.publisher], d.doc, d.dist)
		}()
	}
	wg.Wait()
	// The lock in the order of the arguments, so that its messages are.
	for _, d := range dists {
		name := d.dist.Filename.Project
		switch {
		case d.err == nil:
			d.change, d.err = ls.recordAll(name, d.result.Results)
		case d.doc.Count() == 0:
			if _, lerr := ls.missing("pypi", name); lerr != nil {
				d.err = lerr
			}
		case d.fromLock:
			d.err = ls.lockRefusal(d, d.err)
		}
	}
	saveErr := ls.save()
	return a.reportPyPI(dists, saveErr)
}

// recordAll checks every attestation's signer against the lock: they all
// must match its entry (the first pins it).
func (s *lockSession) recordAll(name string, results []*verify.Result) (*lock.Change, error) {
	var first *lock.Change
	for _, r := range results {
		ch, err := s.record("pypi", name, r)
		if err != nil {
			return nil, err
		}
		if first == nil {
			first = ch
		}
	}
	return first, nil
}

// lockRefusal turns the refusal of a signer under the lock's own entry
// (the lock was the policy) into the drift it is; see policyDrift.
func (s *lockSession) lockRefusal(d *pypiDist, err error) error {
	if d.result == nil || len(d.result.Results) == 0 {
		return err
	}
	signer := d.result.Results[len(d.result.Results)-1].Signer
	hint := "if the change is on purpose, name the new publisher: run again with --update-lock --publisher ..."
	if p, ok := pypi.FromSigner(signer); ok {
		hint = fmt.Sprintf("if the change is on purpose, run again with --update-lock --publisher %s", termtext.Quote(p.String()))
	}
	return s.policyDrift("pypi", d.dist.Filename.Project, signer, err, hint)
}

// readPyPIDist hashes the distribution (or reads NAME@sha256:HEX) and
// parses its provenance; a wrong name or an unreadable document is an
// error before anything is verified.
func (a *app) readPyPIDist(ctx context.Context, d *pypiDist) error {
	if at := strings.LastIndex(d.arg, "@"); at >= 0 && verify.IsDigest(d.arg[at+1:]) {
		name, digest := d.arg[:at], d.arg[at+1:]
		alg, hexd, _ := strings.Cut(digest, ":")
		if !strings.EqualFold(alg, "sha256") {
			return usageError(fmt.Errorf("%s: a distribution is known by its sha256, not %s", termtext.Quote(d.arg), alg))
		}
		dist, err := pypi.NewDist(name, hexd)
		if err != nil {
			return usageError(fmt.Errorf("%s: %w", termtext.Quote(d.arg), err), "give a distribution's digest as FILENAME@sha256:HEX, such as pkg-1.0-py3-none-any.whl@sha256:...")
		}
		d.dist = dist
		if d.provenance == "" {
			return usageError(fmt.Errorf("%s: a distribution given by its digest has no default provenance file", termtext.Quote(d.arg)), "name it with --provenance FILE")
		}
	} else {
		base := filepath.Base(d.arg)
		if _, err := pypi.ParseFilename(base); err != nil {
			return usageError(fmt.Errorf("%s: %w", termtext.Quote(d.arg), err),
				"a distribution keeps the file name PyPI serves it under (NAME-VERSION.tar.gz, or NAME-VERSION-PY-ABI-PLATFORM.whl): the attestation names it")
		}
		f, err := ctxio.OpenRegular(d.arg)
		if err != nil {
			return withHint(fmt.Errorf("reading distribution: %w", err), fmt.Sprintf("check the path of %s; a distribution not at hand is given as FILENAME@sha256:HEX", termtext.Quote(d.arg)))
		}
		dist, err := pypi.ReadDist(ctx, base, ctxio.Reader(ctx, f))
		_ = f.Close()
		if err != nil {
			return err
		}
		d.dist = dist
		if d.provenance == "" {
			d.provenance = defaultProvenance(d.arg)
		}
		if d.provenance == "" {
			return withHint(fmt.Errorf("%s: no provenance file (%s.provenance, .publish.attestation or .attestation)", termtext.Quote(d.arg), termtext.Quote(d.arg)),
				"download it from PyPI's Integrity API (https://pypi.org/integrity/PROJECT/VERSION/FILENAME/provenance) and name it with --provenance FILE")
		}
	}
	data, err := ctxio.ReadFile(ctx, d.provenance, pypi.MaxDocumentSize)
	if err != nil {
		return withHint(fmt.Errorf("reading provenance: %w", err), "--provenance names a PEP 740 provenance object or attestation object")
	}
	doc, err := pypi.Parse(data)
	if err != nil {
		return &cliError{code: ExitRejected, err: fmt.Errorf("%s: %w", termtext.Quote(d.provenance), err)}
	}
	d.doc = doc
	return nil
}

func defaultProvenance(dist string) string {
	for _, ext := range []string{".provenance", ".publish.attestation", ".attestation"} {
		if st, err := os.Stat(dist + ext); err == nil && st.Mode().IsRegular() {
			return dist + ext
		}
	}
	return ""
}

// choosePublisher is the policy of d: --publisher, else the lock's entry
// of the project. Neither is a usage error showing the publisher found,
// for the user to decide: the provenance object's claim is unsigned, and
// the certificate is not verified yet.
func choosePublisher(d *pypiDist, given *pypi.Publisher, ls *lockSession) error {
	if given != nil {
		d.publisher = *given
		return nil
	}
	if e, ok := ls.entry("pypi", d.dist.Filename.Project); ok {
		p, err := publisherOfEntry(e)
		if err != nil {
			return usageError(fmt.Errorf("%s: the lock's entry for %s cannot be a PyPI publisher: %w", termtext.Quote(d.arg), termtext.Quote(e.Name), err),
				"pass --publisher, or fix the entry in the lock file")
		}
		d.publisher, d.fromLock = p, true
		return nil
	}
	err := fmt.Errorf("%s: no publisher: --preset pypi needs the Trusted Publisher whose attestations to accept", termtext.Quote(d.arg))
	var hints []string
	if p, ok := pypi.FromSigner(d.doc.Signer()); ok {
		flag := "--publisher " + p.String()
		if p.Issuer != "" {
			flag += " --publisher-issuer " + p.Issuer
		}
		hints = append(hints, fmt.Sprintf("the attestation's certificate (not verified yet) shows the publisher %s; if that is who publishes %s, pass %s",
			termtext.Quote(p.String()), termtext.Quote(d.dist.Filename.Project), flag))
	}
	if c := d.doc.Claimed(); c != nil {
		hints = append(hints, fmt.Sprintf("the provenance object names the publisher %s, which is not signed: it is never taken for the policy", termtext.Quote(c.String())))
	}
	hints = append(hints, "with --lock FILE the first verify pins the publisher, and later verifies need no --publisher")
	return usageError(err, hints...)
}

// publisherOfEntry turns a lock entry into the PyPI publisher it stands
// for.
func publisherOfEntry(e lock.Entry) (pypi.Publisher, error) {
	var p pypi.Publisher
	switch e.Signer {
	case lock.SignerGitHub, lock.SignerGitLab:
		p.Kind = pypi.KindGitHub
		if e.Signer == lock.SignerGitLab {
			p.Kind = pypi.KindGitLab
		}
		repo, ok := strings.CutPrefix(e.Repository, p.RepositoryURI()) // the forge, and a slash
		if !ok {
			return p, fmt.Errorf("repository %q is not on %s", e.Repository, strings.ToLower(p.Kind))
		}
		if e.Issuer != p.IssuerURI() {
			p.Issuer = e.Issuer
		}
		p.Repository = repo
		p.Workflow = e.Workflow
		if p.Kind == pypi.KindGitHub {
			p.Workflow = strings.TrimPrefix(e.Workflow, ".github/workflows/")
		}
	case lock.SignerIdentity:
		p = pypi.Publisher{Kind: pypi.KindEmail, Email: e.Identity, Issuer: e.Issuer}
		if e.Issuer == pypi.GoogleIssuer {
			p = pypi.Publisher{Kind: pypi.KindGoogle, Email: e.Identity}
		}
	default:
		return p, fmt.Errorf("signer %q", e.Signer)
	}
	return p, p.Validate()
}

// pypiRoots are the --trusted-root files, else the public-good root alone:
// PyPI's attestations are made on the public-good instance.
func (a *app) pypiRoots(ctx context.Context, t *trustFlags) ([]root.TrustedMaterial, error) {
	var tm []root.TrustedMaterial
	if t.explicit() {
		rs, err := a.loadTrusts(ctx, t)
		if err != nil {
			return nil, err
		}
		for _, r := range rs {
			tm = append(tm, r.Trusted)
		}
		return tm, nil
	}
	r, err := a.loadTrust(ctx, t)
	if err != nil {
		return nil, err
	}
	return []root.TrustedMaterial{r.Trusted}, nil
}

// reportPyPI prints each distribution's verdict (text or JSON) and
// returns the worst exit code.
func (a *app) reportPyPI(dists []*pypiDist, saveErr error) error {
	report := pypiReport{SchemaVersion: verify.SchemaVersion, Preset: pypiPreset}
	worst := ExitOK
	for _, d := range dists {
		out := pypiOutcome{Dist: d.arg, FileName: d.dist.Filename.Raw, Project: d.dist.Filename.Project, Version: d.dist.Filename.Version,
			Digest: verify.Digest{Algorithm: "sha256", Value: d.dist.SHA256}, Provenance: d.provenance, Publisher: d.publisher.String(),
			Claimed: d.doc.Claimed(), Lock: d.change, Verified: d.err == nil}
		out.PolicyFrom = "--publisher"
		if d.fromLock {
			out.PolicyFrom = "lock"
		}
		if d.result != nil {
			out.Results = d.result.Results
		}
		report.Dists = append(report.Dists, out)
		if d.err != nil {
			report.Dists[len(report.Dists)-1].Error = verify.FailureOf(d.err)
			worst = max(worst, exitCode(d.err))
			a.printPyPIFailure(d)
			continue
		}
		if a.output == "text" {
			a.printPyPI(d)
		}
	}
	if a.output == "json" {
		if err := a.printJSON(report); err != nil {
			return err
		}
	}
	if saveErr != nil {
		a.report(saveErr)
		worst = max(worst, exitCode(saveErr))
	}
	if worst == ExitOK {
		return nil
	}
	return errReported{worst}
}

func (a *app) printPyPI(d *pypiDist) {
	var types []string
	var signer string
	for _, r := range d.result.Results {
		if r.Statement != nil {
			types = append(types, termtext.Quote(r.Statement.PredicateType))
		}
		if r.Signer != nil && signer == "" {
			signer = r.Signer.SAN
			if gh := r.Signer.GitHub; gh != nil && gh.ConfigWorkflow != "" {
				signer = gh.ConfigWorkflow
			}
		}
	}
	from := ""
	if d.fromLock {
		from = " (the lock's entry)"
	}
	fmt.Fprintf(a.stdio.Out, "OK %s: %s %s published by %s%s: %s, %d attestation(s): %s\n", termtext.Quote(d.arg),
		termtext.Quote(d.dist.Filename.Project), termtext.Quote(d.dist.Filename.Version), termtext.Quote(d.publisher.String()), from,
		termtext.Quote(signer), len(d.result.Results), strings.Join(types, ", "))
	for _, r := range d.result.Results {
		a.printDetails(r)
	}
}

func (a *app) printPyPIFailure(d *pypiDist) {
	err := d.err
	var rej *verify.RejectedError
	switch {
	case errors.As(err, &rej):
		a.errorf("%s: %s", termtext.Quote(d.arg), rej.Message())
		printComparisons(a.stdio.Err, rej.Comparisons)
	default:
		a.errorf("%s: %s", termtext.Quote(d.arg), failureMessage(err))
	}
	for _, h := range hintsOf(err) {
		a.hintf("%s", h)
	}
	if rej != nil {
		if rej.Cause == verify.CauseIdentity {
			if p, ok := pypi.FromSigner(lastSigner(d)); ok {
				flag := "--publisher " + termtext.Quote(p.String())
				if p.Issuer != "" {
					flag += " --publisher-issuer " + termtext.Quote(p.Issuer)
				}
				a.hintf("the certificate shows the publisher %s; if it is the one you trust, pass %s", termtext.Quote(p.String()), flag)
			}
		}
		for _, h := range verifyHints(&verify.Result{}, err) {
			a.hintf("%s", h)
		}
	}
}

func lastSigner(d *pypiDist) *verify.Signer {
	if d.result != nil && len(d.result.Results) > 0 {
		if s := d.result.Results[len(d.result.Results)-1].Signer; s != nil {
			return s
		}
	}
	return d.doc.Signer()
}
