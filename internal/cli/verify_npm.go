package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/sigstore/sigstore-go/pkg/root"
	"github.com/spf13/cobra"

	"github.com/hallmark-dev/hallmark/internal/ctxio"
	"github.com/hallmark-dev/hallmark/internal/termtext"
	"github.com/hallmark-dev/hallmark/internal/trust"
	"github.com/hallmark-dev/hallmark/pkg/ecosystem/npm"
	"github.com/hallmark-dev/hallmark/pkg/lock"
	"github.com/hallmark-dev/hallmark/pkg/verify"
)

// npmOptions are verify's --preset npm flags.
type npmOptions struct {
	attestations      string
	attestationsDir   string
	lockfile          string
	packument         string
	keysPath          string
	requireProvenance bool
}

// npmFlagNames are the flags of npmOptions.
var npmFlagNames = []string{"attestations", "attestations-dir", "lockfile", "packument", "npm-keys", "require-provenance"}

func (n *npmOptions) bind(cmd *cobra.Command) {
	f := cmd.Flags()
	f.StringVar(&n.attestations, "attestations", "", "--preset npm: the registry's attestations document `FILE` of the package (<registry>/-/npm/v1/attestations/NAME@VERSION)")
	f.StringVar(&n.attestationsDir, "attestations-dir", "", "--preset npm: a `DIR` of attestations documents, NAME@VERSION.json (@SCOPE/NAME@VERSION.json), as 'hallmark download --preset npm' writes")
	f.StringVar(&n.lockfile, "lockfile", "", "--preset npm: verify every registry package of this package-lock.json `FILE` (lockfileVersion 2 or 3) by its integrity")
	f.StringVar(&n.packument, "packument", "", "--preset npm: also check the registry signature in this packument `FILE` (GET <registry>/NAME)")
	f.StringVar(&n.keysPath, "npm-keys", "", "--preset npm: the registry's keys.json `FILE` (default: Sigstore's TUF repository target "+trust.NPMKeysTarget+", cached)")
	f.BoolVar(&n.requireProvenance, "require-provenance", false, "--preset npm: refuse packages without provenance")
	cmd.MarkFlagsMutuallyExclusive("attestations", "attestations-dir")
	cmd.MarkFlagsMutuallyExclusive("attestations", "lockfile")
	cmd.MarkFlagsMutuallyExclusive("packument", "lockfile")
	for _, n := range []string{"bundle", "bundle-dir", "key", "from", "type", "bottle-url", "signature", "certificate"} {
		for _, m := range npmFlagNames {
			if cmd.Flags().Lookup(n) != nil {
				cmd.MarkFlagsMutuallyExclusive(n, m)
			}
		}
	}
}

// set reports whether any --preset npm flag was given.
func (n *npmOptions) set() bool {
	return n.attestations != "" || n.attestationsDir != "" || n.lockfile != "" || n.packument != "" || n.keysPath != "" || n.requireProvenance
}

// npmArgs is verify's argument rule: --preset npm --lockfile takes none.
func npmArgs(o *verifyOptions) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if o.preset.name == "npm" && o.npm.lockfile != "" {
			if len(args) > 0 {
				return usageError(fmt.Errorf("--lockfile names the packages to verify, but %d artifact(s) were given too", len(args)),
					"verify a lockfile's packages, or the tarballs given, not both")
			}
			return nil
		}
		return cobra.MinimumNArgs(1)(cmd, args)
	}
}

// npmReport is the --preset npm --output json document.
type npmReport struct {
	SchemaVersion string           `json:"schemaVersion"`
	Preset        string           `json:"preset"`
	Pinned        bool             `json:"pinned"`
	Packages      []npmPackageJSON `json:"packages"`
	Skipped       []npm.Skipped    `json:"skipped,omitempty"`
	Summary       *npmSummaryJSON  `json:"summary,omitempty"`
}

// npmPackageJSON is one package of the report: its result and what --lock
// did with it.
type npmPackageJSON struct {
	*npm.Result
	Lock *lock.Change `json:"lock,omitempty"`
}

type npmSummaryJSON struct {
	Packages     int `json:"packages"`
	Verified     int `json:"verified"`
	NoProvenance int `json:"noProvenance"`
	Rejected     int `json:"rejected"`
	Errors       int `json:"errors"`
	Skipped      int `json:"skipped"`
	// Invalid are the skipped entries that were refused (npm.Skipped.Invalid).
	Invalid int `json:"invalid"`
}

// npmJob is one package to verify.
type npmJob struct {
	arg     string // what names it in messages
	pkg     npm.Package
	digest  verify.Digest
	doc     *npm.Document
	docPath string
	err     error // reading the document failed
}

// runVerifyNPM verifies npm packages by their registry attestations:
// one tarball (or its sha512) against --attestations, or a whole lockfile
// against --attestations-dir.
func (a *app) runVerifyNPM(ctx context.Context, o *verifyOptions, args []string) error {
	n := &o.npm
	if o.preset.name != "npm" {
		return usageError(fmt.Errorf("--%s is a flag of --preset npm", firstSetNPMFlag(n)), "add --preset npm")
	}
	if o.identity != "" || o.identityRegexp != "" || o.issuer != "" || o.issuerRegexp != "" {
		return usageError(errors.New("--preset npm pins the provenance's signer with --repo (and --signer-workflow), not --certificate-identity"),
			"pass --repo OWNER/NAME, the repository whose workflow built the package")
	}
	lockMode := n.lockfile != ""
	switch {
	case lockMode && n.attestationsDir == "":
		return usageError(errors.New("--lockfile needs the packages' attestations documents"),
			"fetch them with 'hallmark download --preset npm --lockfile "+termtext.Quote(n.lockfile)+" --dir DIR', then pass --attestations-dir DIR")
	case !lockMode && n.attestations == "":
		return usageError(errors.New("--preset npm needs the package's attestations document"),
			"pass --attestations FILE (the registry serves it at <registry>/-/npm/v1/attestations/NAME@VERSION), or verify a lockfile with --lockfile")
	case !lockMode && len(args) != 1:
		return usageError(fmt.Errorf("--attestations is the document of one package, but %d were given", len(args)),
			"verify one tarball per --attestations, or a lockfile with --lockfile and --attestations-dir")
	}

	var jobs []*npmJob
	var skipped []npm.Skipped
	var err error
	if lockMode {
		jobs, skipped, err = npmLockfileJobs(ctx, n)
	} else {
		jobs, err = npmSingleJob(ctx, n, args[0])
	}
	if err != nil {
		return err
	}

	var id *verify.Identity
	if o.repo != "" || o.signerWorkflow != "" || o.sourceRef != "" || o.sourceDigest != "" || o.trigger != "" || o.gh.set() {
		if o.repo == "" {
			return usageError(errors.New("--preset npm: --signer-workflow and the other identity flags narrow --repo OWNER/NAME, which is missing: alone, they accept any repository's run of the workflow"),
				"pin the repository whose workflow may publish the package with --repo OWNER/NAME")
		}
		if id, err = o.identityPolicy(); err != nil {
			return err
		}
	}
	ls, err := a.openLock(&o.lock)
	if err != nil {
		return err
	}
	// Without --repo, a lock entry stands in for it: the provenance is
	// verified for any signer, and the lock compares every field of the
	// signer (issuer, repository, workflows, ref) with the entry. One
	// package needs --repo or an entry; a lockfile is pinned per package
	// on first use.
	fromLock := false
	if id == nil && !lockMode {
		if _, ok := ls.entry(npm.Ecosystem, jobs[0].pkg.Name); !ok {
			return npmNoPolicyError(jobs[0], ls != nil)
		}
		fromLock = true
	}
	if id == nil && lockMode && ls == nil {
		a.warnf("--lockfile without --repo: each package's provenance is verified, but not pinned to a repository (the output shows each one's); --lock FILE pins each on first use")
	}

	trusted, keys, err := a.npmTrust(ctx, o)
	if err != nil {
		return err
	}
	v, err := npm.New(trusted, keys, npm.Policy{Identity: id, AnySigner: id == nil, RequireProvenance: n.requireProvenance})
	if err != nil {
		return usageError(err)
	}
	var packument *npm.Packument
	if n.packument != "" {
		data, err := ctxio.ReadFile(ctx, n.packument, npm.MaxPackumentSize)
		if err != nil {
			return fmt.Errorf("reading --packument: %w", err)
		}
		if packument, err = npm.ParsePackument(data); err != nil {
			return usageError(fmt.Errorf("--packument %s: %w", termtext.Quote(n.packument), err))
		}
	}

	results := make([]*npm.Result, len(jobs))
	errs := make([]error, len(jobs))
	if err := eachUntilDone(ctx, len(jobs), runtime.GOMAXPROCS(0), func(i int) {
		results[i], errs[i] = verifyNPMJob(ctx, v, keys, packument, jobs[i])
	}); err != nil {
		return err
	}
	changes := lockNPM(ls, jobs, results, errs, fromLock)
	reportErr := a.reportNPM(results, changes, errs, skipped, id != nil || ls != nil, lockMode, n.requireProvenance)
	return a.afterReport(reportErr, ls.save)
}

// lockNPM checks the packages against --lock, in the lockfile's order (so
// are its messages): a verified provenance pins its package's entry or
// must match it; a package without provenance is drift if the lock pinned
// it, unless another version of it in this run has provenance (a lockfile
// holds older versions, published before their package had provenance,
// beside newer ones: --require-provenance refuses those). A refusal
// becomes the package's error, the result marked rejected. fromLock: one
// package whose policy is its entry (no --repo), whose new signer, on
// purpose, is named with --update-lock --repo as on first use.
func lockNPM(ls *lockSession, jobs []*npmJob, results []*npm.Result, errs []error, fromLock bool) []*lock.Change {
	changes := make([]*lock.Change, len(results))
	if ls == nil {
		return changes
	}
	withProvenance := map[string]bool{}
	for _, j := range jobs {
		if j.doc != nil && j.doc.Provenance != nil {
			withProvenance[j.pkg.Name] = true
		}
	}
	for i, r := range results {
		if errs[i] != nil || r == nil {
			continue
		}
		var err error
		switch r.Status {
		case npm.StatusVerified:
			if fromLock {
				if err = ls.drift(npm.Ecosystem, r.Name, r.Signer(), npmUpdateHint(r)); err != nil {
					break
				}
			}
			changes[i], err = ls.record(npm.Ecosystem, r.Name, r.Provenance)
		case npm.StatusNoProvenance, npm.StatusNoDocument:
			if withProvenance[r.Name] {
				if _, ok := ls.entry(npm.Ecosystem, r.Name); ok {
					ls.a.verbosef("lock: %s has no provenance, but another version of %s in the lockfile has: listed, not drift (--require-provenance refuses it)",
						termtext.Quote(r.String()), termtext.Quote(r.Name))
				}
				continue
			}
			changes[i], err = ls.missing(npm.Ecosystem, r.Name)
		}
		if err != nil {
			errs[i] = err
			r.Verified, r.Status, r.Error = false, npm.StatusRejected, verify.FailureOf(err)
		}
	}
	return changes
}

// npmUpdateHint says how to accept a new signer of a package whose policy
// was its lock entry: name its repository, as on first use.
func npmUpdateHint(r *npm.Result) string {
	repo := "OWNER/NAME"
	if s := r.Repository(); strings.HasPrefix(s, "https://github.com/") {
		repo = termtext.Quote(strings.TrimPrefix(s, "https://github.com/"))
	}
	return "if the change is on purpose, name the new repository: run again with --update-lock --repo " + repo
}

func firstSetNPMFlag(n *npmOptions) string {
	for _, f := range []struct {
		name string
		set  bool
	}{{"attestations", n.attestations != ""}, {"attestations-dir", n.attestationsDir != ""}, {"lockfile", n.lockfile != ""},
		{"packument", n.packument != ""}, {"npm-keys", n.keysPath != ""}, {"require-provenance", n.requireProvenance}} {
		if f.set {
			return f.name
		}
	}
	return "attestations"
}

// verifyNPMJob verifies one package, and its registry signature with
// --packument.
func verifyNPMJob(ctx context.Context, v *npm.Verifier, keys npm.Keys, pk *npm.Packument, j *npmJob) (*npm.Result, error) {
	if j.err != nil {
		res := &npm.Result{Ecosystem: npm.Ecosystem, Package: j.pkg, PURL: j.pkg.PURL(), Digest: j.digest, Integrity: npm.Integrity(j.digest),
			Status: npm.StatusError, Document: j.docPath, Error: verify.FailureOf(j.err)}
		if verify.IsRejected(j.err) {
			res.Status = npm.StatusRejected
		}
		return res, j.err
	}
	res, err := v.Verify(ctx, j.pkg, j.digest, j.doc)
	res.Document = j.docPath
	if err != nil || pk == nil {
		return res, err
	}
	sig, err := pk.VerifyRegistrySignature(keys, j.pkg, j.digest, time.Now())
	if err != nil {
		res.Verified, res.Status, res.Error = false, npm.StatusRejected, verify.FailureOf(err)
		if !verify.IsRejected(err) {
			res.Status = npm.StatusError
		}
		return res, err
	}
	res.RegistrySignature = sig
	return res, nil
}

// npmSingleJob reads one tarball (or its sha512) and its document.
func npmSingleJob(ctx context.Context, n *npmOptions, arg string) ([]*npmJob, error) {
	j := &npmJob{arg: arg, docPath: n.attestations}
	var err error
	if verify.IsDigest(arg) || strings.HasPrefix(arg, "sha512-") {
		if j.digest, err = npm.ParseIntegrity(arg); err != nil {
			return nil, usageError(err, "give the tarball, its sha512:<hex> or its npm integrity sha512-<base64>")
		}
	} else {
		f, err := ctxio.OpenRegular(arg)
		if err != nil {
			return nil, withHint(fmt.Errorf("reading tarball: %w", err), fmt.Sprintf("check the path of the tarball %s, or pass its sha512:<hex>", termtext.Quote(arg)))
		}
		defer f.Close()
		if j.digest, err = npm.HashTarball(ctx, ctxio.Reader(ctx, f)); err != nil {
			return nil, fmt.Errorf("reading tarball %s: %w", termtext.Quote(arg), err)
		}
	}
	data, err := ctxio.ReadFile(ctx, n.attestations, npm.MaxDocumentSize)
	if err != nil {
		return nil, fmt.Errorf("reading --attestations: %w", err)
	}
	if j.doc, err = npm.ParseDocument(data); err != nil {
		return nil, &cliError{code: ExitRejected, err: fmt.Errorf("--attestations %s: %w", termtext.Quote(n.attestations), err)}
	}
	if j.pkg, err = j.doc.Package(); err != nil {
		return nil, &cliError{code: ExitRejected, err: fmt.Errorf("--attestations %s: %w", termtext.Quote(n.attestations), err)}
	}
	return []*npmJob{j}, nil
}

// parseLockfile is npm.ParseLockfile given up when ctx ends: decoding a
// lockfile of 100,000 packages is one call that takes seconds under -race,
// and a signal must end the run within a second (the abandoned decode ends
// with the process).
func parseLockfile(ctx context.Context, data []byte) ([]npm.Locked, []npm.Skipped, error) {
	type parsed struct {
		locked  []npm.Locked
		skipped []npm.Skipped
		err     error
	}
	done := make(chan parsed, 1)
	go func() {
		l, s, err := npm.ParseLockfile(data)
		done <- parsed{l, s, err}
	}()
	select {
	case p := <-done:
		return p.locked, p.skipped, p.err
	case <-ctx.Done():
		return nil, nil, ctx.Err()
	}
}

// npmLockfileJobs reads the lockfile and each package's document from
// --attestations-dir; a missing document is a package without provenance.
func npmLockfileJobs(ctx context.Context, n *npmOptions) ([]*npmJob, []npm.Skipped, error) {
	data, err := ctxio.ReadFile(ctx, n.lockfile, npm.MaxLockfileSize)
	if err != nil {
		return nil, nil, fmt.Errorf("reading --lockfile: %w", err)
	}
	locked, skipped, err := parseLockfile(ctx, data)
	if errors.Is(err, context.Canceled) {
		return nil, nil, err
	}
	if err != nil {
		return nil, nil, usageError(fmt.Errorf("--lockfile %s: %w", termtext.Quote(n.lockfile), err))
	}
	if st, err := os.Stat(n.attestationsDir); err != nil || !st.IsDir() {
		return nil, nil, usageError(fmt.Errorf("--attestations-dir %s is not a directory", termtext.Quote(n.attestationsDir)),
			"fetch the documents with 'hallmark download --preset npm --lockfile FILE --dir DIR'")
	}
	// The documents are read inside the directory only: a symbolic link
	// out of it, a named pipe (whose open would wait for a writer) or a
	// device is an error for its package, never followed or waited on.
	root, err := os.OpenRoot(n.attestationsDir)
	if err != nil {
		return nil, nil, fmt.Errorf("reading --attestations-dir: %w", err)
	}
	defer root.Close()
	jobs := make([]*npmJob, len(locked))
	err = eachUntilDone(ctx, len(locked), runtime.GOMAXPROCS(0), func(i int) {
		l := locked[i]
		j := &npmJob{arg: l.String(), pkg: l.Package, digest: l.Digest}
		jobs[i] = j
		name := filepath.FromSlash(l.FileName())
		path := filepath.Join(n.attestationsDir, name)
		data, err := readNPMDocument(ctx, root, name)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			if _, lerr := root.Lstat(name); lerr != nil {
				return // no document: no provenance
			}
			err = errors.New("a symbolic link to nothing")
			fallthrough
		case err != nil:
			j.docPath, j.err = path, withHint(fmt.Errorf("reading %s: %w", termtext.Quote(path), err),
				"--attestations-dir holds regular files NAME@VERSION.json, as 'hallmark download --preset npm' writes them")
			return
		}
		j.docPath = path
		if j.doc, err = npm.ParseDocument(data); err != nil {
			j.err = &verify.RejectedError{Cause: verify.CauseMalformed, Reason: fmt.Sprintf("%s: %v", termtext.Quote(path), err)}
		}
	})
	return jobs, skipped, err
}

// readNPMDocument reads the regular file name inside root, at most
// npm.MaxDocumentSize bytes.
func readNPMDocument(ctx context.Context, root *os.Root, name string) ([]byte, error) {
	f, err := ctxio.OpenRegularIn(root, name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(ctxio.Reader(ctx, f), npm.MaxDocumentSize+1))
	if err != nil {
		return nil, err
	}
	if len(data) > npm.MaxDocumentSize {
		return nil, fmt.Errorf("%w: more than %d bytes", ctxio.ErrTooLarge, npm.MaxDocumentSize)
	}
	return data, nil
}

// npmNoPolicyError is the usage error of a verify without --repo: its
// hint shows the repository the provenance names.
func npmNoPolicyError(j *npmJob, withLock bool) error {
	err := fmt.Errorf("no policy: --preset npm needs the repository whose workflow may publish %s", j.pkg)
	if withLock {
		err = fmt.Errorf("no policy: the lock has no entry for %s, and --preset npm needs the repository whose workflow may publish it", termtext.Quote(j.pkg.Name))
	}
	var hints []string
	var s *verify.Signer
	if j.doc != nil && j.doc.Provenance != nil {
		s = verify.BundleSigner(j.doc.Provenance)
	}
	switch {
	case j.doc == nil || j.doc.Provenance == nil:
		hints = append(hints, "the document has no provenance, so no repository can be pinned; pass --repo OWNER/NAME to require one")
	case s == nil || s.GitHub == nil || s.GitHub.SourceRepository == "":
		hints = append(hints, "pass --repo OWNER/NAME")
	default:
		repo := strings.TrimPrefix(s.GitHub.SourceRepository, "https://github.com/")
		hints = append(hints, fmt.Sprintf("the provenance was signed by %s for the repository %s; if that is the repository you trust to publish %s, pass --repo %s",
			termtext.Quote(s.SAN), termtext.Quote(s.GitHub.SourceRepository), termtext.Quote(j.pkg.Name), termtext.Quote(repo)))
	}
	if withLock {
		hints = append(hints, "the first verify of a package names its repository with --repo, and --lock pins it; later verifies need no --repo")
	}
	return usageError(err, hints...)
}

// npmTrust loads the trust roots and the registry keys: --trusted-root with
// --npm-keys, or both from the TUF cache (refreshed as verify does).
func (a *app) npmTrust(ctx context.Context, o *verifyOptions) ([]root.TrustedMaterial, npm.Keys, error) {
	n := &o.npm
	if o.trust.explicit() && n.keysPath == "" {
		return nil, nil, usageError(errors.New("--trusted-root pins the trust root, but the npm registry's keys come with the TUF repository's"),
			"pass the registry's keys.json too, with --npm-keys FILE (e.g. from a 'hallmark trust update' cache: trust/.../"+trust.NPMKeysTarget+")")
	}
	var tm []root.TrustedMaterial
	if o.trust.explicit() {
		rs, err := a.loadTrusts(ctx, &o.trust)
		if err != nil {
			return nil, nil, err
		}
		for _, r := range rs {
			tm = append(tm, r.Trusted)
		}
	} else {
		r, err := a.loadTrust(ctx, &o.trust)
		if err != nil {
			return nil, nil, err
		}
		tm = append(tm, r.Trusted)
	}
	var raw []byte
	var err error
	from := n.keysPath
	if n.keysPath != "" {
		if raw, err = ctxio.ReadFile(ctx, n.keysPath, npm.MaxKeysSize); err != nil {
			return nil, nil, fmt.Errorf("reading --npm-keys: %w", err)
		}
	} else {
		topts, err := o.trust.options()
		if err != nil {
			return nil, nil, err
		}
		raw, err = trust.NPMKeys(topts)
		if errors.Is(err, trust.ErrNoNPMKeys) && !o.trust.offline {
			// A cache made before hallmark fetched the keys.
			if _, uerr := trust.Update(ctx, topts); uerr != nil {
				return nil, nil, withHint(uerr, "check the network, or pass the registry's keys with --npm-keys FILE")
			}
			raw, err = trust.NPMKeys(topts)
		}
		switch {
		case errors.Is(err, trust.ErrNoNPMKeys):
			return nil, nil, withHint(err, "the TUF repository has no "+trust.NPMKeysTarget+" target (or the cache predates it): run 'hallmark trust update', or pass the registry's keys with --npm-keys FILE")
		case errors.Is(err, trust.ErrBadCache):
			return nil, nil, withHint(err, "run 'hallmark trust update' to fetch the trust root, the npm keys and their TUF metadata again")
		case err != nil:
			return nil, nil, err
		}
		from = trust.NPMKeysTarget + " (TUF cache)"
	}
	keys, err := npm.ParseKeys(raw)
	if err != nil {
		return nil, nil, withHint(fmt.Errorf("npm registry keys %s: %w", termtext.Quote(from), err),
			"--npm-keys takes keys.json as Sigstore's TUF repository publishes it ({\"keys\": [{\"keyId\", \"keyUsage\", \"publicKey\"}]})")
	}
	a.verbosef("npm registry keys: %s (%d)", termtext.Quote(from), len(keys))
	return tm, keys, nil
}

// reportNPM prints one line per package, or the JSON report, and returns
// the worst exit code.
func (a *app) reportNPM(results []*npm.Result, changes []*lock.Change, errs []error, skipped []npm.Skipped, pinned, lockMode, requireProvenance bool) error {
	worst := ExitOK
	sum := &npmSummaryJSON{Packages: len(results), Skipped: len(skipped)}
	q := termtext.Quote
	for i, r := range results {
		err := errs[i]
		switch {
		case err != nil:
			worst = max(worst, exitCode(err))
			if exitCode(err) == ExitRejected {
				sum.Rejected++
			} else {
				sum.Errors++
			}
			a.errorf("%s: %s", q(r.String()), failureMessage(err))
			var rej *verify.RejectedError
			if errors.As(err, &rej) {
				printComparisons(a.stdio.Err, rej.Comparisons)
				if rej.Cause == verify.CauseIdentity && r.Provenance != nil {
					if s := r.Provenance.Signer; s != nil && s.GitHub != nil {
						a.hintf("the provenance was signed by %s for the repository %s", q(s.SAN), q(s.GitHub.SourceRepository))
					}
				}
			}
			for _, h := range hintsOf(err) {
				a.hintf("%s", h)
			}
			if rej != nil && rej.Hint != "" {
				a.hintf("%s", rej.Hint)
			}
		case r.Status == npm.StatusVerified:
			sum.Verified++
			if a.output == "text" {
				s := r.Signer()
				line := fmt.Sprintf("OK %s: provenance signed by %s", q(r.String()), q(s.SAN))
				if repo := r.Repository(); repo != "" {
					line += fmt.Sprintf(" (repository %s)", q(repo))
				}
				line += fmt.Sprintf(", published with registry key %s", q(r.PublishKey.ID))
				if r.RegistrySignature != nil {
					line += ", registry signature verified"
				}
				fmt.Fprintln(a.stdio.Out, line)
			}
			a.verbosef("%s: sha512 %s, document %s", q(r.String()), q(r.Digest.Value), q(r.Document))
		default:
			sum.NoProvenance++
			if a.output == "text" {
				why := "no attestations document"
				if r.Status == npm.StatusNoProvenance {
					why = fmt.Sprintf("published with registry key %s, without provenance", q(r.PublishKey.ID))
				}
				fmt.Fprintf(a.stdio.Out, "NO PROVENANCE %s: %s\n", q(r.String()), why)
			}
		}
	}
	// A lockfile entry npm never writes (a name such as ../../x, a
	// malformed sha512) is refused, not skipped; so is one without a
	// sha512 under --require-provenance: it can have no provenance.
	noSHA512 := 0
	for _, s := range skipped {
		switch {
		case s.Invalid:
			sum.Invalid++
			a.errorf("lockfile entry %s: %s", q(s.Path), s.Reason)
		case s.NoSHA512 && requireProvenance:
			noSHA512++
			a.errorf("lockfile entry %s: %s, so it can have no provenance", q(s.Path), s.Reason)
		}
	}
	if sum.Invalid > 0 {
		worst = max(worst, ExitRejected)
		a.hintf("npm never writes such an entry: the lockfile is damaged or was edited; regenerate it with npm install")
	}
	if noSHA512 > 0 {
		sum.Rejected += noSHA512
		worst = max(worst, ExitRejected)
		a.hintf("--require-provenance refuses a package without a sha512 integrity; update it to a version published with provenance")
	}
	if a.output == "text" && lockMode {
		for _, s := range skipped {
			if !s.Invalid {
				a.verbosef("skipped %s: %s", q(s.Path), s.Reason)
			}
		}
		line := fmt.Sprintf("%d packages: %d verified, %d without provenance, %d rejected, %d could not be verified; %d lockfile entries skipped",
			sum.Packages, sum.Verified, sum.NoProvenance, sum.Rejected, sum.Errors, sum.Skipped)
		if sum.Invalid > 0 {
			line += fmt.Sprintf(", %d of them invalid", sum.Invalid)
		}
		fmt.Fprintln(a.stdio.Out, line)
	}
	if a.output == "json" {
		rep := npmReport{SchemaVersion: verify.SchemaVersion, Preset: "npm", Pinned: pinned, Skipped: skipped}
		rep.Packages = make([]npmPackageJSON, len(results))
		for i, r := range results {
			rep.Packages[i] = npmPackageJSON{Result: r, Lock: changes[i]}
		}
		if lockMode {
			rep.Summary = sum
		}
		if err := a.printJSON(rep); err != nil {
			return err
		}
	}
	if worst == ExitOK {
		return nil
	}
	return errReported{worst}
}
