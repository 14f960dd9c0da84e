package cli

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/sigstore/sigstore-go/pkg/bundle"
	"github.com/sigstore/sigstore-go/pkg/root"
	"github.com/spf13/cobra"

	"github.com/hallmark-dev/hallmark/internal/source"
	"github.com/hallmark-dev/hallmark/internal/termtext"
	"github.com/hallmark-dev/hallmark/pkg/ecosystem/homebrew"
	"github.com/hallmark-dev/hallmark/pkg/verify"
)

// presetOptions are verify's --preset flags.
type presetOptions struct {
	name       string
	bottleURLs []string
}

func (p *presetOptions) bind(cmd *cobra.Command) {
	f := cmd.Flags()
	f.StringVar(&p.name, "preset", "", "verify with an ecosystem's rules: homebrew-core, or homebrew with --repo OWNER/TAP (Homebrew bottles); "+
		"npm (tarballs or a lockfile, with --attestations or --attestations-dir, --repo OWNER/NAME); pypi (PEP 740, --provenance, --publisher)")
	f.StringArrayVar(&p.bottleURLs, "bottle-url", nil, "the `URL` a bottle was downloaded from, for its backfill attestation (one per bottle, in order)")
	for _, n := range []string{"key", "certificate-identity", "certificate-identity-regexp", "certificate-oidc-issuer",
		"certificate-oidc-issuer-regexp", "owner", "signer-repo"} { // --signer-workflow: see runVerifyPreset
		cmd.MarkFlagsMutuallyExclusive("preset", n)
	}
}

// bottleCandidate is one bundle that may vouch for a bottle.
type bottleCandidate struct {
	origin string
	bundle *bundle.Bundle
}

// bottleOutcome is the JSON shape of one bottle under --preset (see the
// manual): the verdict, or the reason and message of the failure.
type bottleOutcome struct {
	Bottle   string            `json:"bottle"`
	Digest   *verify.Digest    `json:"digest,omitempty"`
	Verified bool              `json:"verified"`
	Reason   homebrew.Reason   `json:"reason"`
	Message  string            `json:"message,omitempty"`
	Verdict  *homebrew.Verdict `json:"verdict,omitempty"`
	err      error
}

// bottleReport is the --preset --output json document.
type bottleReport struct {
	SchemaVersion string          `json:"schemaVersion"`
	Preset        homebrew.Preset `json:"preset"`
	Bottles       []bottleOutcome `json:"bottles"`
}

// runVerifyPreset verifies Homebrew bottles by attestation.rb's rules.
func (a *app) runVerifyPreset(ctx context.Context, o *verifyOptions, args []string) error {
	preset, err := homebrew.Lookup(o.preset.name, o.repo)
	if err != nil {
		return usageError(fmt.Errorf("--preset %q: %s", o.preset.name, strings.TrimPrefix(err.Error(), verify.ErrPolicy.Error()+": ")),
			"--preset homebrew-core verifies homebrew-core bottles; --preset homebrew --repo OWNER/TAP a tap's")
	}
	if o.sourceRef != "" || o.sourceDigest != "" || o.trigger != "" || o.gh.set() || o.signerWorkflow != "" {
		return usageError(errors.New("--preset sets the whole policy: it takes no other identity flag"),
			"drop the identity flags, or verify without --preset")
	}
	if n := len(o.preset.bottleURLs); n > 0 && n != len(args) {
		return usageError(fmt.Errorf("%d --bottle-url for %d bottles: give one per bottle, in the order of the bottles", n, len(args)))
	}
	bottles := make([]homebrew.Bottle, len(args))
	for i, arg := range args {
		b, err := homebrew.ParseBottle(filepath.Base(arg))
		if err != nil {
			return usageError(fmt.Errorf("%s: %w", termtext.Quote(arg), err), "a bottle keeps the file name brew gave it, such as jq--1.7.1.arm64_sonoma.bottle.tar.gz")
		}
		if len(o.preset.bottleURLs) > 0 {
			b.URL = o.preset.bottleURLs[i]
		}
		bottles[i] = b
	}
	rs, err := a.loadTrusts(ctx, &o.trust)
	if err != nil {
		return err
	}
	var tm []root.TrustedMaterial
	for _, r := range rs {
		tm = append(tm, r.Trusted)
	}
	own, err := verify.NewWithRoots(tm, preset.Policy())
	if err != nil {
		return usageError(err)
	}
	back, err := verify.NewWithRoots(tm, homebrew.BackfillPolicy())
	if err != nil {
		return usageError(err)
	}
	digests := make([]verify.Digest, len(args))
	for i, arg := range args {
		if digests[i], err = fileDigest(ctx, arg); err != nil {
			return withHint(err, fmt.Sprintf("check the path of the bottle %s", termtext.Quote(arg)))
		}
	}
	cands, fetchErr, err := presetCandidates(ctx, o, preset, digests)
	if err != nil {
		return err
	}
	report := bottleReport{SchemaVersion: verify.SchemaVersion, Preset: preset}
	worst := ExitOK
	ls, err := a.openLock(&o.lock)
	if err != nil {
		return err
	}
	for i, arg := range args {
		out := verifyBottle(ctx, preset, bottles[i], digests[i], own, back, cands, fetchErr[digests[i]])
		if _, lerr := ls.record("homebrew", bottles[i].Name, verdictResult(out)); lerr != nil {
			out = bottleOutcome{Digest: out.Digest, Reason: reasonLockDrift, Message: failureMessage(lerr), err: lerr}
		}
		out.Bottle = arg
		report.Bottles = append(report.Bottles, out)
		if out.err != nil {
			worst = max(worst, exitCode(out.err))
			a.errorf("%s: %s", termtext.Quote(arg), out.Message)
			a.printLockFailure(out.err)
			continue
		}
		if a.output == "text" {
			a.printBottle(arg, out.Verdict)
		}
	}
	if a.output == "json" {
		if err := a.printJSON(report); err != nil {
			return err
		}
	}
	if err := ls.save(); err != nil {
		a.report(err)
		worst = max(worst, exitCode(err))
	}
	if worst == ExitOK {
		return nil
	}
	return errReported{worst}
}

// printBottle is the text line of a verified bottle: formula, version,
// the run that built it and when.
func (a *app) printBottle(arg string, v *homebrew.Verdict) {
	how := "built by"
	if v.Backfill {
		how = "backfilled by"
	}
	fmt.Fprintf(a.stdio.Out, "OK %s: formula %s %s (%s), %s %s at %s\n", termtext.Quote(arg), termtext.Quote(v.Bottle.Name),
		termtext.Quote(v.Bottle.Version), termtext.Quote(v.Bottle.Tag), how, termtext.Quote(firstNonEmpty(v.Run, v.Workflow)), v.Time.UTC().Format(time.RFC3339))
	a.verbosef("%s: workflow %s, repository %s, subject %s", termtext.Quote(arg), termtext.Quote(v.Workflow),
		termtext.Quote(v.Repository), termtext.Quote(v.Subject))
}

// verifyBottle verifies every candidate of the bottle's digest under the
// preset's policy (and, for the backfill, BackfillPolicy) and lets
// homebrew.Check decide.
func verifyBottle(ctx context.Context, p homebrew.Preset, b homebrew.Bottle, d verify.Digest, own, back *verify.Verifier,
	cands func(verify.Digest) []bottleCandidate, fetchErr error) bottleOutcome {
	fail := func(err error) bottleOutcome {
		return bottleOutcome{Digest: &d, Reason: homebrew.ReasonOf(err), Message: err.Error(), err: err}
	}
	art, err := verify.ParseDigest(d.String())
	if err != nil {
		return fail(err)
	}
	var ownEv, backEv homebrew.Evidence
	for _, c := range cands(d) {
		res, err := own.Verify(ctx, c.bundle, art)
		if err == nil {
			ownEv.Verified = append(ownEv.Verified, res)
			continue
		}
		if !verify.IsRejected(err) {
			return fail(err)
		}
		if p.Backfill {
			bres, berr := back.Verify(ctx, c.bundle, art)
			if berr == nil {
				// A backfill attestation: no refusal of the tap's.
				backEv.Verified = append(backEv.Verified, bres)
				continue
			}
			if !verify.IsRejected(berr) {
				return fail(berr)
			}
		}
		ownEv.Refused++
		ownEv.Reasons = append(ownEv.Reasons, bottleRefusal(c.origin, err))
	}
	v, err := homebrew.Check(p, b, d, ownEv, backEv, homebrew.BackfillCutoff)
	if err != nil && fetchErr != nil {
		// Attestations may exist that GitHub did not give: auth, rate
		// limit or network, not "none".
		return fail(fetchErr)
	}
	if err != nil {
		out := fail(&cliError{code: ExitRejected, err: err})
		out.Digest = &d
		return out
	}
	return bottleOutcome{Digest: &d, Verified: true, Reason: homebrew.ReasonVerified, Verdict: v}
}

// bottleRefusal is one refused bundle's part of the bottle's message: why,
// and every policy field that differed, expected vs actual.
func bottleRefusal(origin string, err error) string {
	msg := origin + ": " + failureMessage(err)
	var rej *verify.RejectedError
	if !errors.As(err, &rej) {
		return msg
	}
	var diffs []string
	for _, c := range rej.Comparisons {
		if !c.Match {
			diffs = append(diffs, fmt.Sprintf("%s expected %s, actual %q", c.Field, termtext.Line(c.Expected), c.Actual))
		}
	}
	if len(diffs) == 0 {
		return msg
	}
	return msg + " (" + strings.Join(diffs, "; ") + ")"
}

// fileDigest is the SHA-256 of a bottle file (a regular file: a FIFO
// would block).
func fileDigest(ctx context.Context, path string) (verify.Digest, error) {
	fail := func(err error) (verify.Digest, error) {
		return verify.Digest{}, fmt.Errorf("reading bottle: %w", err)
	}
	f, err := os.Open(path)
	if err != nil {
		return fail(err)
	}
	defer f.Close()
	if st, err := f.Stat(); err != nil || !st.Mode().IsRegular() {
		return fail(fmt.Errorf("%s is not a regular file", termtext.Quote(path)))
	}
	h := sha256.New()
	if _, err := io.Copy(h, bottleReader{ctx, f}); err != nil {
		return fail(err)
	}
	return verify.Digest{Algorithm: "sha256", Value: hex.EncodeToString(h.Sum(nil))}, nil
}

// bottleReader stops reading when ctx is done.
type bottleReader struct {
	ctx context.Context
	r   io.Reader
}

func (c bottleReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}

// presetCandidates gathers the bundles of --bundle (each a bundle or JSONL),
// --bundle-dir and, with --from github, the attestations API of the tap's
// repository (and the backfill's): by digest, with the fetch failures
// other than "none", classified for brew.
func presetCandidates(ctx context.Context, o *verifyOptions, p homebrew.Preset, digests []verify.Digest) (func(verify.Digest) []bottleCandidate, map[verify.Digest]error, error) {
	s := &o.sources
	ix := source.NewIndex()
	for _, path := range s.bundles {
		bs, err := source.ReadFile(ctx, path)
		if err != nil {
			return nil, nil, bundleSourceError(err, "--bundle")
		}
		ix.Add(bs...)
	}
	if s.bundleDir != "" {
		bs, err := source.ReadDir(ctx, s.bundleDir)
		if err != nil {
			return nil, nil, bundleSourceError(err, "--bundle-dir")
		}
		ix.Add(bs...)
	}
	fetchErr := map[verify.Digest]error{}
	switch s.from {
	case "":
	case "github":
		if o.trust.offline {
			return nil, nil, usageError(errors.New("--from github needs the network, and --offline forbids it"),
				"download the attestations first with 'hallmark download', then verify with --bundle-dir DIR --offline")
		}
		scopes := []source.Scope{{Repo: p.Repo}}
		if p.Backfill {
			scopes = append(scopes, source.Scope{Repo: homebrew.BackfillRepo})
		}
		client := githubClient(s.github)
		for _, sc := range scopes {
			for d, f := range client.Fetch(ctx, sc, digests) {
				if f.Err == nil {
					ix.Add(f.Bundles...)
					continue
				}
				if source.ReasonOf(f.Err) != source.ReasonNoAttestation && fetchErr[d] == nil {
					fetchErr[d] = brewFetchError(f.Err)
				}
			}
		}
	default:
		return nil, nil, usageError(fmt.Errorf("--from must be github, not %q", s.from))
	}
	return func(d verify.Digest) []bottleCandidate {
		var out []bottleCandidate
		for _, b := range ix.Lookup(d) {
			out = append(out, bottleCandidate{origin: b.Origin, bundle: b.Bundle})
		}
		return out
	}, fetchErr, nil
}

// brewFetchError wraps a GitHub failure in the homebrew error brew acts on;
// it could not complete (exit 1).
func brewFetchError(err error) error {
	kind := homebrew.ErrNetwork
	switch source.ReasonOf(err) {
	case source.ReasonAuth:
		kind = homebrew.ErrAuth
	case source.ReasonRateLimited:
		kind = homebrew.ErrRateLimit
	}
	return &cliError{code: ExitError, err: fmt.Errorf("%w: %v", kind, err), hints: sourceHints(err)}
}
