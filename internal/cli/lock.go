package cli

import (
	"errors"
	"fmt"
	"io"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/hallmark-dev/hallmark/internal/termtext"
	"github.com/hallmark-dev/hallmark/pkg/ecosystem/homebrew"
	"github.com/hallmark-dev/hallmark/pkg/lock"
	"github.com/hallmark-dev/hallmark/pkg/verify"
)

// lockFlags are verify's --lock and --update-lock.
type lockFlags struct {
	path   string
	update bool
	// policy: a plain verify took its identity policy from the lock
	// (lockPolicy), so an identity refusal is drift.
	policy bool
}

func (l *lockFlags) bind(cmd *cobra.Command) {
	f := cmd.Flags()
	f.StringVar(&l.path, "lock", "", "the lock `FILE` (hallmark.lock): pin each package's signer on first use, refuse a change later (pypi, npm, homebrew presets, --repo)")
	f.BoolVar(&l.update, "update-lock", false, "accept, and write to --lock, a signer that differs from the lock file's entry")
}

// lockSession is the lock file of one verify run: opened once, checked
// for every package verified (from any goroutine), saved once. A nil
// *lockSession is "no --lock": every method does nothing.
//
// An ecosystem's verify uses it so (see verify_pypi.go):
//
//	ls, err := a.openLock(&o.lock)             // before verifying: a damaged lock is exit 2
//	e, ok := ls.entry("npm", name)             // no identity flags: e.IdentityPolicy() is the policy
//	_, err = ls.record("npm", name, result)    // a verified result: pins, matches, or drift (exit 3)
//	_, err = ls.missing("npm", name)           // no provenance: drift if the lock pinned it
//	err = ls.policyDrift("npm", name, signer, err, hint) // a refusal under the entry's policy
//	err = ls.save()                            // once, after every package
type lockSession struct {
	a *app
	l *lock.Lock
}

// openLock opens --lock, or returns nil without it. A lock file that
// cannot be read is exit 2 with its line, and is never rewritten.
func (a *app) openLock(f *lockFlags) (*lockSession, error) {
	if f.path == "" {
		if f.update {
			return nil, usageError(errors.New("--update-lock needs --lock FILE"), "name the lock file to update with --lock")
		}
		return nil, nil
	}
	l, err := lock.Open(f.path, lock.Options{Update: f.update})
	var pe *lock.ParseError
	switch {
	case errors.As(err, &pe):
		return nil, usageError(err, fmt.Sprintf("fix that line of %s (hallmark does not rewrite a lock file it cannot read), or move it away to pin every package again on first use", termtext.Quote(f.path)))
	case err != nil:
		return nil, withHint(err, "--lock names a regular file, created on the first verify that pins a package")
	}
	return &lockSession{a: a, l: l}, nil
}

// entry is the lock's entry for a package, if any.
func (s *lockSession) entry(ecosystem, name string) (lock.Entry, bool) {
	if s == nil {
		return lock.Entry{}, false
	}
	return s.l.Entry(ecosystem, name)
}

// record checks a verified package against the lock, saying on stderr what
// it pinned or updated; a nil result (the package failed) records nothing. Drift is exit 3: a *cliError wrapping the
// *lock.DriftError, whose old-against-new lines printDrift shows.
func (s *lockSession) record(ecosystem, name string, r *verify.Result) (*lock.Change, error) {
	if s == nil || r == nil {
		return nil, nil
	}
	ch, err := s.l.CheckResult(ecosystem, name, r)
	if err != nil {
		return nil, s.driftError(err)
	}
	s.note(ch)
	return &ch, nil
}

// missing records a package without provenance: drift for a package the
// lock pinned.
func (s *lockSession) missing(ecosystem, name string) (*lock.Change, error) {
	if s == nil {
		return nil, nil
	}
	ch, err := s.l.Missing(ecosystem, name)
	if err != nil {
		return nil, s.driftError(err)
	}
	if ch != nil {
		s.note(*ch)
	}
	return ch, nil
}

func (s *lockSession) driftError(err error) error {
	var d *lock.DriftError
	if !errors.As(err, &d) {
		return err // not keyless: nothing to pin; could not complete
	}
	r := d.Rejection()
	r.Hint = fmt.Sprintf("if the change is on purpose, run again with --update-lock to accept it into %s", termtext.Quote(s.l.Path()))
	return &cliError{code: ExitRejected, err: r}
}

// policyDrift is for a verify whose policy was the lock's entry (no
// identity flags): a refusal of the signer's identity (made after the
// signature, log entry and certificate verified) is the drift it is, old
// against new, exit 3, with hint saying how to accept it (an update names
// the new signer: it is a first use again). Any other error, or a signer
// that agrees with the entry, is returned as is.
func (s *lockSession) policyDrift(ecosystem, name string, signer *verify.Signer, err error, hint string) error {
	var rej *verify.RejectedError
	if s == nil || !errors.As(err, &rej) || rej.Cause != verify.CauseIdentity {
		return err
	}
	if d := s.drift(ecosystem, name, signer, hint); d != nil {
		return d
	}
	return err
}

// drift is the drift, old against new, exit 3 with hint, of a verified
// signer from the package's entry, even with --update-lock (for a verify
// whose policy was the entry: the new signer is named on purpose, as on
// first use); nil without an entry, for a signer that agrees with it or
// one that cannot be locked.
func (s *lockSession) drift(ecosystem, name string, signer *verify.Signer, hint string) error {
	if s == nil {
		return nil
	}
	old, ok := s.entry(ecosystem, name)
	seen, oerr := lock.ObserveSigner(ecosystem, name, signer)
	if !ok || oerr != nil {
		return nil
	}
	diffs := lock.Compare(old, seen)
	if len(diffs) == 0 {
		return nil
	}
	r := (&lock.DriftError{Old: old, New: &seen, Diffs: diffs}).Rejection()
	r.Hint = hint
	return &cliError{code: ExitRejected, err: r}
}

// note says on stderr what the lock did: the first use pins what was
// verified, and says exactly what, since it becomes the policy.
func (s *lockSession) note(ch lock.Change) {
	what := fmt.Sprintf("%s package %s", ch.Entry.Ecosystem, termtext.Quote(ch.Entry.Name))
	switch ch.Kind {
	case lock.Pinned:
		s.a.diag("", "lock: pinned %s to %s (first use, in %s)", what, ch.Entry, termtext.Quote(s.l.Path()))
	case lock.Updated:
		s.a.diag("", "lock: updated %s (--update-lock):", what)
		printDiffs(s.a.stdio.Err, ch.Diffs)
	case lock.Removed:
		s.a.diag("", "lock: removed %s, which has no provenance now (--update-lock)", what)
	}
}

// save writes the lock file once, if anything changed.
func (s *lockSession) save() error {
	if s == nil {
		return nil
	}
	if _, err := s.l.Save(); err != nil {
		var pe *lock.ParseError
		if errors.As(err, &pe) {
			return usageError(err, "another run damaged the lock file meanwhile: nothing was written")
		}
		return err
	}
	return nil
}

// reasonLockDrift is the bottle reason (JSON) of a drift refused.
const reasonLockDrift homebrew.Reason = "lock-drift"

// printLockFailure shows, under a drift's error line, its fields (locked
// against now) and hints; other errors print nothing.
func (a *app) printLockFailure(err error) {
	var d *lock.DriftError
	var rej *verify.RejectedError
	if !errors.As(err, &d) || !errors.As(err, &rej) {
		return
	}
	printComparisons(a.stdio.Err, rej.Comparisons)
	if rej.Hint != "" {
		a.hintf("%s", rej.Hint)
	}
}

func printDiffs(w io.Writer, ds []lock.Diff) {
	width := 0
	for _, d := range ds {
		width = max(width, len(d.Field))
	}
	for _, d := range ds {
		fmt.Fprintf(w, "hallmark:   %-*s  locked %q\n", width, d.Field, d.Old)
		fmt.Fprintf(w, "hallmark:   %-*s  now    %q\n", width, "", d.New)
	}
}

// verdictResult is the verified result of a bottle's verdict, or nil
// (nothing to record) when the bottle failed.
func verdictResult(out bottleOutcome) *verify.Result {
	if out.err != nil || out.Verdict == nil {
		return nil
	}
	return out.Verdict.Result
}

// lockArtifacts checks the artifacts a plain verify accepted against
// --lock, by file name (ecosystem "artifact"): the lock pins the signer
// the policy flags accepted on first use, and refuses another later (a
// drift is the artifact's failure, exit 3). Digests and standard input
// have no name to pin and are left out. save writes the lock once, after
// the report.
func (a *app) lockArtifacts(o *verifyOptions, outs []verify.Outcome) (_ []verify.Outcome, save func() error, _ error) {
	ls, err := a.openLock(&o.lock)
	if err != nil || ls == nil {
		return outs, func() error { return nil }, err
	}
	for i, out := range outs {
		if out.Result == nil || out.Result.Artifact == "-" || verify.IsDigest(out.Result.Artifact) {
			continue
		}
		if out.Err != nil {
			if o.lock.policy {
				outs[i].Err = ls.policyDrift("artifact", filepath.Base(out.Result.Artifact), out.Result.Signer, out.Err,
					"if the change is on purpose, verify it with its identity flags (--repo OWNER/NAME ...) and --update-lock")
			}
			continue
		}
		if out.Result.Signer == nil || out.Result.Signer.Kind != "certificate" {
			continue // a key signature: the key is the pin
		}
		if _, err := ls.record("artifact", filepath.Base(out.Result.Artifact), out.Result); err != nil {
			outs[i].Err = err
			outs[i].Result.Verified, outs[i].Result.Error = false, verify.FailureOf(err)
		}
	}
	return outs, ls.save, nil
}

// lockPolicy makes the lock the policy of a plain verify given --lock and
// no identity flag or --key: every artifact (a file, named as pinned)
// must have an entry, all of one signer, whose identity (SAN pattern and
// issuer, see lock.Entry.IdentityPolicy) the verify then requires; the
// rest of the entry (repository, workflows, ref) is compared after. With
// no entry it stays a verify without a policy: the first use names its
// signer.
func (a *app) lockPolicy(o *verifyOptions, args []string) error {
	if o.lock.path == "" || o.identityFlagsSet() || o.keyPath != "" {
		return nil
	}
	ls, err := a.openLock(&o.lock)
	if err != nil || ls == nil {
		return err
	}
	var pinned *lock.Entry // the signer: an entry without its name
	var first lock.Entry
	for _, arg := range args {
		if arg == "-" || verify.IsDigest(arg) {
			return usageError(fmt.Errorf("--lock is the policy only of files, named as pinned, not %s", termtext.Quote(arg)),
				"pass the identity flags (--repo OWNER/NAME, or --certificate-identity and --certificate-oidc-issuer)")
		}
		e, ok := ls.entry("artifact", filepath.Base(arg))
		if !ok {
			return usageError(fmt.Errorf("%s has no entry in %s, and no policy was given", termtext.Quote(arg), termtext.Quote(o.lock.path)),
				"the first verify of an artifact names its signer (--repo OWNER/NAME, or --certificate-identity and --certificate-oidc-issuer), and --lock pins it")
		}
		signer := e
		signer.Name = ""
		if pinned != nil && *pinned != signer {
			return usageError(errors.New("the artifacts' lock entries name different signers"), "verify them one call each, or pass the identity flags")
		}
		if pinned == nil {
			first = e
		}
		pinned = &signer
	}
	id, err := first.IdentityPolicy()
	if err != nil {
		return err
	}
	o.identity, o.identityRegexp, o.issuer = id.SAN, id.SANRegexp, id.Issuer
	o.lock.policy = true
	a.verbosef("lock: the policy is the lock's entry: %s", first)
	return nil
}

// afterReport runs save once the results are printed, and folds its
// failure into the exit code.
func (a *app) afterReport(reportErr error, save func() error) error {
	serr := save()
	if serr == nil {
		return reportErr
	}
	a.report(serr)
	return errReported{max(exitCode(reportErr), exitCode(serr))}
}
