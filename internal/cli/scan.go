package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/hallmark-dev/hallmark/internal/atomicfile"
	"github.com/hallmark-dev/hallmark/internal/extract"
	"github.com/hallmark-dev/hallmark/internal/osvdb"
	"github.com/hallmark-dev/hallmark/internal/scanreport"
	"github.com/hallmark-dev/hallmark/internal/termtext"
	"github.com/hallmark-dev/hallmark/pkg/scan"
	"github.com/hallmark-dev/hallmark/pkg/verify"
)

// scanOptions are the scan command's flags.
type scanOptions struct {
	dbDir           string
	apiURL          string
	failOn          string
	noDev           bool
	ignoreFile      string
	vexFiles        []string
	allowIncomplete bool
	outputFile      string
	maxFileSize     extract.Size

	attestation string
	subject     string
	att         verifyOptions
	attest      scanAttestOptions // scan_attest.go
}

// ignoreFileName is the osv-scanner configuration file hallmark honours.
const ignoreFileName = "osv-scanner.toml"

func (a *app) scanCommand() *cobra.Command {
	o := &scanOptions{maxFileSize: extract.DefaultMaxFileSize}
	cmd := &cobra.Command{
		Use:   "scan [flags] [PATH...]",
		Short: "Find known vulnerabilities (OSV) in lockfiles, SBOMs and attested SBOMs",
		Long: `Scan lockfiles, manifests, SBOMs and directories (default: the current one) for
packages with known vulnerabilities in the OSV database: online through the
osv.dev API, or with --offline (or --db DIR) against the local database that
'hallmark db' imports or updates.

Matching follows the OSV schema range by range, per ecosystem version order;
unpinned requirements (>=, ranges) are listed as not checked, never matched
against their floor. Findings of one vulnerability under several ids (CVE,
GHSA, PYSEC, GO) are one finding.

Suppress findings with an osv-scanner.toml ([[IgnoredVulns]] id, ignoreUntil,
reason; found next to a scanned directory, or --ignore-file) or OpenVEX
statements (--vex); suppressed findings stay in every report, marked.

--attestation FILE scans the SBOM inside a Sigstore bundle: the bundle is
verified first, with the same policy flags as 'hallmark verify'.

--attest signs the result as an in-toto vulnerability attestation
(https://in-toto.io/attestation/vulns/v0.2: scanner, database snapshot per
ecosystem, scan start and finish, each finding with its ids, severities and
package), or with -o openvex the OpenVEX document, whose subjects are the
files scanned (by sha256) or --attestation-subject FILE. Signing is keyless
or --key, with the flags of 'hallmark sign'; the bundle goes to --bundle OUT
(default FILE.vuln.sigstore.json for the one FILE scanned), atomically. A
scan that cannot be read in full is not signed; one that cannot be signed
exits 1 and writes no bundle. 'hallmark verify --type vuln --max-age 7d
--fail-on high' gates on it.

--output (-o) picks the report format: text (default), json (the versioned
scan.Result schema), sarif (SARIF 2.1.0, for GitHub code scanning), openvex
(OpenVEX 0.2.0), cyclonedx (a CycloneDX 1.6 VEX BOM) or markdown (a pull
request comment or job summary).

A file that is found but cannot be read (malformed, unreadable) does not
stop the scan: every other file is scanned and reported, the report lists
the file and why, and the scan exits 1 at the end; --allow-incomplete makes
that a warning. A package whose version does not parse in its ecosystem's
scheme is listed as not checked, never matched. The summary counts distinct
vulnerabilities and package instances (one per entry in a file).

Exit codes: 0 no finding at or above --fail-on (default: any finding),
3 findings, 1 could not complete (including a file that could not be read),
2 usage error. No packages found is 0 with a warning.`,
		Example: `  hallmark scan .
  hallmark scan --offline --fail-on high -o sarif --output-file scan.sarif package-lock.json
  hallmark scan --attestation sbom.sigstore.json --repo OWNER/NAME
  hallmark scan --attest --fail-on high package-lock.json   # package-lock.json.vuln.sigstore.json`,
		Annotations: map[string]string{outputFormats: strings.Join(scanreport.Formats, ",")},
		RunE: a.runE(func(cmd *cobra.Command, args []string) error {
			o.att.minTimestampsSet = cmd.Flags().Changed("min-timestamps")
			return a.runScan(cmd.Context(), cmd, o, args)
		}),
	}
	f := cmd.Flags()
	// scan's own --output, bound to the global value, so that its help
	// lists every format scan accepts.
	f.StringVarP(&a.output, "output", "o", "text", "report `FORMAT`: "+orList(scanreport.Formats))
	f.StringVar(&o.dbDir, "db", "", "scan against the local vulnerability database `DIR`, also without --offline (default with --offline: hallmark/osv in the user cache directory)")
	f.StringVar(&o.apiURL, "api-url", "", "OSV API base `URL` (env HALLMARK_OSV_API; default "+osvdb.DefaultAPIURL+")")
	f.StringVar(&o.failOn, "fail-on", "", "exit 3 only for findings at or above `LEVEL`: low, medium, high or critical (default: any finding)")
	f.BoolVar(&o.noDev, "no-dev", false, "leave out packages only used for development (npm dev, Maven test, ...)")
	f.StringVar(&o.ignoreFile, "ignore-file", "", "osv-scanner.toml-style `FILE` of ignored vulnerabilities")
	f.StringArrayVar(&o.vexFiles, "vex", nil, "OpenVEX `FILE` whose not_affected and fixed statements suppress findings (repeatable)")
	f.BoolVar(&o.allowIncomplete, "allow-incomplete", false, "warn instead of failing when a file cannot be read or, with --offline, the database lacks a scanned ecosystem")
	f.StringVar(&o.outputFile, "output-file", "", "write the report to `FILE` (atomically) instead of stdout")
	f.Var(&o.maxFileSize, "max-file-size", "largest lockfile, manifest or SBOM read, such as 512MiB or 1GiB; a larger one is a failure of that file")
	f.StringVar(&o.attestation, "attestation", "", "scan the SBOM attested in this Sigstore bundle `FILE` (verified first)")
	f.StringVar(&o.subject, "attestation-subject", "", "with --attestation, the artifact `FILE` the attestation must be about; with --attest, the subject of the signed result")
	o.att.bindPolicy(cmd)
	o.attest.bind(cmd)
	// One --offline for both the vulnerability data and the trust root of
	// --attestation.
	f.Lookup("offline").Usage = "never use the network: the local vulnerability database, and --trusted-root or the cached trust root"
	return cmd
}

func (a *app) runScan(ctx context.Context, cmd *cobra.Command, o *scanOptions, args []string) error {
	min := scan.LevelUnknown
	if o.failOn != "" {
		l, ok := scan.ParseLevel(o.failOn)
		if !ok {
			return usageError(fmt.Errorf("--fail-on must be low, medium, high or critical, not %q", o.failOn))
		}
		min = l
	}
	if o.subject != "" && o.attestation == "" && !o.attest.enabled {
		return usageError(errors.New("--attestation-subject needs --attestation or --attest"))
	}
	if o.attestation == "" && len(args) == 0 {
		args = []string{"."}
	}
	opts := scan.Options{Scanner: scan.Scanner{Name: "hallmark", Version: buildVersion().Version}, AllowIncomplete: o.allowIncomplete}
	if err := a.loadSuppressions(ctx, o, args, &opts); err != nil {
		return err
	}
	plan, err := a.prepareScanAttest(ctx, cmd, o, args)
	if err != nil {
		return err
	}

	pkgs, files, failures, err := a.scanPackages(ctx, o, args)
	if err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		// Files cut short are no failures to report: the scan stops.
		return err
	}
	if len(pkgs) == 0 && len(failures) == 0 {
		a.warnf("no packages found in %s", quoteAll(args, ", "))
	}

	src, closeSrc, err := a.scanSource(o)
	if err != nil {
		return err
	}
	defer closeSrc()
	res, err := scan.Scan(ctx, src, pkgs, opts)
	var missing *scan.MissingEcosystemError
	switch {
	case errors.As(err, &missing):
		return withHint(err, "import or download that data with 'hallmark db import PATH' or 'hallmark db update --ecosystem NAME', or pass --allow-incomplete")
	case errors.Is(err, osvdb.ErrUnreachable):
		return withHint(err, "check the network, or scan with --offline against a local database ('hallmark db update')")
	case err != nil:
		return err
	}
	res.Files, res.Failures = files, failures
	for _, w := range res.Warnings {
		if w.Package != nil {
			a.warnf("%s %s %s: %s", termtext.Quote(w.Package.Ecosystem), termtext.Quote(w.Package.Name), termtext.Quote(w.Package.Version), w.Message)
		} else {
			a.warnf("%s", w.Message)
		}
	}
	for _, u := range res.Unparseable {
		a.warnf("%s: %s %s: %s: not checked", termtext.Quote(orDashPath(u.Package.Location.Path)), termtext.Quote(u.Package.Ecosystem), termtext.Quote(u.Package.Name), u.Reason)
	}
	for _, f := range res.Failures {
		if o.allowIncomplete {
			a.warnf("%s: %s: its packages were not checked", termtext.Quote(f.Path), f.Reason)
		} else {
			a.errorf("%s: %s", termtext.Quote(f.Path), f.Reason)
		}
	}
	if err := a.writeReport(ctx, o, res); err != nil {
		return err
	}
	if n := len(res.Failures); n > 0 && !o.allowIncomplete {
		// The report lists what was read; the scan is still incomplete.
		if a.output != "text" || o.outputFile != "" {
			a.errorf("%s", scanreport.Summary(res))
		}
		return withHint(&cliError{code: ExitError, err: fmt.Errorf("%d %s could not be read: the scan is incomplete", n, plural(n, "file", "files"))},
			"fix or remove the file, or pass --allow-incomplete to accept a scan without it")
	}
	if plan != nil {
		if err := a.signScan(ctx, o, plan, res); err != nil {
			return err
		}
	}
	if n := len(scan.FailOn(res.Findings, min)); n > 0 {
		if a.output != "text" || o.outputFile != "" {
			a.errorf("%s", scanreport.Summary(res))
		}
		return errReported{ExitRejected}
	}
	return nil
}

// scanPackages extracts packages from the paths, or from the attested SBOM,
// and lists the files that were found but could not be read: one bad file
// never hides the others.
func (a *app) scanPackages(ctx context.Context, o *scanOptions, args []string) ([]scan.Package, []scan.File, []scan.FileFailure, error) {
	eo := extract.Options{NoDev: o.noDev, MaxFileSize: o.maxFileSize}
	var pkgs []scan.Package
	if o.attestation != "" {
		p, err := a.attestedPackages(ctx, o, eo)
		if err != nil {
			return nil, nil, nil, err
		}
		pkgs = append(pkgs, p...)
		if len(args) == 0 {
			return pkgs, nil, nil, nil
		}
	}
	// Files that could not be read are in res.Failures; an error stops the
	// scan: a file named explicitly that is no lockfile, a path that does
	// not exist, a cancelled context.
	res, fatal := extract.Extract(ctx, args, eo)
	if fatal != nil {
		if errors.Is(fatal, extract.ErrUnknownFormat) {
			return nil, nil, nil, withHint(fatal, "scan takes lockfiles, manifests, SBOMs or directories; 'hallmark scan --help' lists them")
		}
		if errors.Is(fatal, fs.ErrNotExist) {
			return nil, nil, nil, withHint(fatal, "check the path: scan takes lockfiles, manifests, SBOMs or directories (default .)")
		}
		return nil, nil, nil, fatal
	}
	for _, w := range res.Warnings {
		a.warnf("%s", w)
	}
	for _, f := range res.Files {
		a.verbosef("read %s (%s): %d packages", termtext.Quote(f.Path), f.Extractor, f.Packages)
	}
	return append(pkgs, res.Packages...), res.Files, res.Failures, nil
}

func orDashPath(p string) string {
	if p == "" {
		return "-"
	}
	return p
}

// attestedPackages verifies the attestation bundle and extracts the SBOM of
// its predicate.
func (a *app) attestedPackages(ctx context.Context, o *scanOptions, eo extract.Options) ([]scan.Package, error) {
	v, err := a.verifier(ctx, &o.att, o.attestation)
	if err != nil {
		return nil, err
	}
	b, err := verify.ReadBundle(o.attestation)
	if err != nil {
		return nil, a.attestationError(&verify.Result{Artifact: o.attestation}, err)
	}
	art := verify.StatementOnly(o.attestation)
	if o.subject != "" {
		art = verify.FileArtifact(o.subject)
	}
	res, err := v.Verify(ctx, b, art)
	if err != nil {
		res.Artifact = o.attestation
		return nil, a.attestationError(res, err)
	}
	if o.subject == "" {
		a.warnf("%s: the attestation's signature and signer verified, but not that it describes your artifact; pass --attestation-subject FILE to check that", termtext.Quote(o.attestation))
	}
	st := res.Statement
	hint := sbomHint(st.PredicateType)
	if hint == "" {
		return nil, &cliError{code: ExitRejected, err: fmt.Errorf("%s: the attestation's predicate type is %q, not an SPDX or CycloneDX SBOM", termtext.Quote(o.attestation), st.PredicateType)}
	}
	ex, err := extract.ExtractSBOM(ctx, o.attestation, st.Predicate, hint, eo)
	if err != nil {
		return nil, fmt.Errorf("reading the attested SBOM: %w", err)
	}
	a.verbosef("%s: %s SBOM signed by %s with %d packages", termtext.Quote(o.attestation), hint, describeSigner(res), len(ex.Packages))
	return ex.Packages, nil
}

// attestationError reports a bundle that did not verify the way verify
// does (with its comparisons and hints) and keeps the exit code.
func (a *app) attestationError(r *verify.Result, err error) error {
	a.printFailure(r, err)
	return errReported{exitCode(err)}
}

// sbomHint names the SBOM format of an in-toto predicate type.
func sbomHint(predicateType string) string {
	switch {
	case strings.HasPrefix(predicateType, "https://spdx.dev/Document"):
		return "spdx"
	case strings.HasPrefix(predicateType, "https://cyclonedx.org/bom"):
		return "cyclonedx"
	}
	return ""
}

// scanSource opens the local database (--offline) or the osv.dev client.
func (a *app) scanSource(o *scanOptions) (scan.Source, func(), error) {
	if !o.att.trust.offline && o.dbDir == "" {
		return &osvdb.Client{BaseURL: firstNonEmpty(o.apiURL, os.Getenv("HALLMARK_OSV_API"))}, func() {}, nil
	}
	dir, err := dbDir(o.dbDir)
	if err != nil {
		return nil, nil, err
	}
	db, err := osvdb.Open(dir)
	if errors.Is(err, osvdb.ErrNoDatabase) {
		return nil, nil, withHint(fmt.Errorf("--offline: %w", err),
			"create it with 'hallmark db update' (online) or 'hallmark db import PATH' (from osv.dev exports), or pass --db DIR")
	}
	if err != nil {
		return nil, nil, err
	}
	return db, func() { _ = db.Close() }, nil
}

// orList renders choices as "a, b or c".
func orList(choices []string) string {
	if len(choices) < 2 {
		return strings.Join(choices, "")
	}
	return strings.Join(choices[:len(choices)-1], ", ") + " or " + choices[len(choices)-1]
}

func dbDir(flag string) (string, error) {
	if flag != "" {
		return flag, nil
	}
	return osvdb.DefaultDir()
}

// loadSuppressions reads the ignore file (given, or osv-scanner.toml next
// to a scanned directory) and the VEX documents, as lockfiles are read: a
// named pipe is refused, never waited on, a link out of the project is
// refused, and the size is bounded (a scanned pull request may carry them).
func (a *app) loadSuppressions(ctx context.Context, o *scanOptions, args []string, opts *scan.Options) error {
	path := o.ignoreFile
	if path == "" {
		for _, arg := range args {
			if st, err := os.Stat(arg); err == nil && st.IsDir() {
				if p := filepath.Join(arg, ignoreFileName); fileExists(p) {
					path = p
					a.verbosef("using ignore file %s", termtext.Quote(p))
					break
				}
			}
		}
	}
	if path != "" {
		data, err := extract.ReadFile(ctx, path, o.maxFileSize)
		if err != nil {
			return fmt.Errorf("reading ignore file: %w", err)
		}
		if opts.Ignore, err = scan.ParseIgnoreFile(path, data); err != nil {
			return withHint(err, "the ignore file follows osv-scanner.toml: [[IgnoredVulns]] entries with id, ignoreUntil and reason")
		}
	}
	for _, p := range o.vexFiles {
		data, err := extract.ReadFile(ctx, p, o.maxFileSize)
		if err != nil {
			return fmt.Errorf("reading VEX document: %w", err)
		}
		doc, err := scan.ParseVEX(p, data)
		if err != nil {
			return withHint(err, "--vex takes OpenVEX JSON documents (https://openvex.dev)")
		}
		opts.VEX = append(opts.VEX, doc)
	}
	return nil
}

func fileExists(p string) bool {
	st, err := os.Stat(p)
	return err == nil && !st.IsDir()
}

// writeReport renders the result to stdout or, atomically, to a file.
func (a *app) writeReport(ctx context.Context, o *scanOptions, res *scan.Result) error {
	var ro scanreport.Options
	if wd, err := os.Getwd(); err == nil {
		// The paths in res are relative to the working directory.
		ro.SourceRoot = wd
	}
	// Rendering a huge report stops with ctx, and then --output-file is
	// left as it was.
	render := func(w io.Writer) error { return scanreport.RenderWith(ctxWriter{ctx, w}, a.output, res, ro) }
	if o.outputFile == "" {
		return render(a.stdio.Out)
	}
	if err := atomicfile.WriteFrom(o.outputFile, 0o644, render); err != nil {
		return fmt.Errorf("writing %s: %w", o.outputFile, err)
	}
	a.verbosef("wrote %s", termtext.Quote(o.outputFile))
	return nil
}

// quoteAll renders untrusted values for a terminal line and joins them.
func quoteAll(vals []string, sep string) string {
	out := make([]string, len(vals))
	for i, v := range vals {
		out[i] = termtext.Quote(v)
	}
	return strings.Join(out, sep)
}
