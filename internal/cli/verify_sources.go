package cli

import (
	"context"
	"crypto"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"strings"
	"sync"

	"github.com/sigstore/sigstore-go/pkg/bundle"
	"github.com/spf13/cobra"

	"github.com/hallmark-dev/hallmark/internal/source"
	"github.com/hallmark-dev/hallmark/internal/termtext"
	"github.com/hallmark-dev/hallmark/pkg/verify"
)

// sourceOptions say where verify finds bundles beyond ARTIFACT.sigstore.json:
// --bundle (repeatable; a bundle or JSONL of bundles), --bundle-dir and
// --from github.
type sourceOptions struct {
	bundles   []string
	bundleDir string
	from      string
	owner     *string // --owner, bound here unless the policy flags bind it
	github    githubFlags

	// single is the one bundle of the one --bundle, as searched parsed it
	// to count the bundles there: the one-bundle path verifies it rather
	// than reading and parsing the file a second time.
	single *source.Bundle
}

func (s *sourceOptions) bind(cmd *cobra.Command) {
	f := cmd.Flags()
	f.StringArrayVar(&s.bundles, "bundle", nil, "a bundle `FILE`, JSONL of bundles (gh attestation download) or a cosign legacy bundle; repeatable: artifacts are matched by digest (default ARTIFACT.sigstore.json)")
	f.StringVar(&s.bundleDir, "bundle-dir", "", "search the bundles in `DIR` (sha256:<hex>.jsonl and *.sigstore.json files) by artifact digest")
	f.StringVar(&s.from, "from", "", "fetch the attestations of each artifact from `SOURCE`: github (its attestations API, for --repo or --owner)")
	f.StringVar(&s.github.apiURL, "api-url", source.DefaultAPIURL, "GitHub's REST API `URL` for --from github (GitHub Enterprise Server: https://HOST/api/v3)")
	if f.Lookup("owner") == nil {
		s.owner = f.String("owner", "", "with --from github: the GitHub user or organisation `OWNER` whose attestations to fetch")
	}
	cmd.MarkFlagsMutuallyExclusive("bundle", "from")
	cmd.MarkFlagsMutuallyExclusive("bundle-dir", "from")
}

// ownerFlag is --owner's value, wherever it was bound.
func (s *sourceOptions) ownerFlag(cmd *cobra.Command) string {
	if s.owner != nil {
		return *s.owner
	}
	if fl := cmd.Flags().Lookup("owner"); fl != nil {
		return fl.Value.String()
	}
	return ""
}

// searched reports whether verify searches bundles by digest rather than
// pairing each artifact with its one bundle as it always did: several
// --bundle, --bundle-dir, --from, several artifacts with one --bundle, or
// one --bundle holding several bundles (JSONL). A FIFO or unreadable
// --bundle keeps the one-bundle path, which reads it once and explains.
func (s *sourceOptions) searched(ctx context.Context, nArgs int) bool {
	switch {
	case s.bundleDir != "" || s.from != "" || len(s.bundles) > 1:
		return true
	case len(s.bundles) == 1 && nArgs > 1:
		return true
	case len(s.bundles) == 1:
		st, err := os.Stat(s.bundles[0])
		if err != nil || !st.Mode().IsRegular() {
			return false
		}
		bs, err := source.ReadFile(ctx, s.bundles[0])
		var fe *source.FileError
		if errors.As(err, &fe) {
			return fe.Line > 0 // JSONL with a bad line
		}
		if err == nil && len(bs) == 1 {
			s.single = bs[0]
		}
		return err == nil && len(bs) > 1
	}
	return false
}

// target is one artifact argument with the digests it is looked up by.
type target struct {
	arg      string
	artifact func() verify.Artifact // a fresh Artifact for each bundle tried
	digest   verify.Digest          // SHA-256, for the messages and GitHub
	digests  []verify.Digest        // every algorithm the bundles use
}

// runVerifySearched verifies each artifact against the bundles that cover
// its digest: it passes when one of them verifies under the policy, and the
// result names that bundle; otherwise it is rejected with "no attestation
// for DIGEST" and why each candidate was refused.
func (a *app) runVerifySearched(ctx context.Context, cmd *cobra.Command, o *verifyOptions, args []string) error {
	if err := a.lockPolicy(o, args); err != nil {
		return err
	}
	s := &o.sources
	ix := source.NewIndex()
	read := map[string]bool{}
	for _, p := range s.bundles {
		if read[p] {
			continue // the same file twice adds nothing
		}
		read[p] = true
		bs, err := source.ReadFile(ctx, p)
		if err != nil {
			return bundleSourceError(err, "--bundle")
		}
		ix.Add(bs...)
	}
	if s.bundleDir != "" {
		bs, err := source.ReadDir(ctx, s.bundleDir)
		if err != nil {
			return bundleSourceError(err, "--bundle-dir")
		}
		ix.Add(bs...)
	}
	var scope source.Scope
	switch s.from {
	case "":
	case "github":
		var err error
		if scope, err = githubScope(o.repo, s.ownerFlag(cmd)); err != nil {
			return err
		}
		if o.trust.offline {
			return usageError(errors.New("--from github needs the network, and --offline forbids it"),
				"download the attestations first with 'hallmark download', then verify with --bundle-dir DIR --offline")
		}
	default:
		return usageError(fmt.Errorf("--from must be github, not %q", s.from))
	}
	targets, err := a.targets(ctx, args, ix)
	if err != nil {
		return err
	}
	fetchErr := map[verify.Digest]error{}
	if s.from == "github" {
		ds := make([]verify.Digest, len(targets))
		for i, t := range targets {
			ds[i] = t.digest
		}
		for d, f := range githubClient(s.github).Fetch(ctx, scope, ds) {
			if f.Err != nil {
				fetchErr[d] = f.Err
				continue
			}
			ix.Add(f.Bundles...)
		}
	}
	v, err := a.verifier(ctx, o, firstBundleFile(s))
	if err != nil {
		return err
	}
	outs := make([]verify.Outcome, len(targets))
	sem := make(chan struct{}, max(runtime.GOMAXPROCS(0), 2))
	var wg sync.WaitGroup
	for i, t := range targets {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			outs[i] = verifyTarget(ctx, v, ix, t, fetchErr[t.digest])
		}()
	}
	wg.Wait()
	a.nameBundles = true
	outs, saveLock, err := a.lockArtifacts(o, outs)
	if err != nil {
		return err
	}
	return a.afterReport(a.reportVerify(outs), saveLock)
}

// verifyTarget tries the bundles that cover t until one verifies.
func verifyTarget(ctx context.Context, v *verify.Verifier, ix *source.Index, t target, fetchErr error) verify.Outcome {
	var cands []*source.Bundle
	seen := map[*source.Bundle]bool{}
	for _, d := range t.digests {
		for _, b := range ix.Lookup(d) {
			if !seen[b] {
				seen[b] = true
				cands = append(cands, b)
			}
		}
	}
	var refused []verify.Refusal
	var worst verify.Outcome
	for _, b := range cands {
		var res *verify.Result
		var err error
		b.Exclusive(func(sb *bundle.Bundle) { res, err = v.Verify(ctx, sb, t.artifact()) })
		res.Artifact, res.Bundle = t.arg, b.Origin
		if err == nil {
			res.Refused = refused
			return verify.Outcome{Result: res, Err: nil}
		}
		if !verify.IsRejected(err) {
			// Could not complete (the artifact is unreadable, ctx ended):
			// no other bundle would do better.
			res.Refused = refused
			return verify.Outcome{Result: res, Err: err}
		}
		refused = append(refused, verify.Refusal{Bundle: b.Origin, Error: verify.FailureOf(err)})
		if worst.Result == nil {
			worst = verify.Outcome{Result: res, Err: err}
		}
	}
	res := &verify.Result{Artifact: t.arg, Digest: &t.digest}
	if fetchErr != nil && len(cands) == 0 {
		f := verify.FailureOf(fetchErr)
		f.Cause = verify.Cause(source.ReasonOf(fetchErr))
		if f.Cause == verify.CauseNoAttestation {
			where := "GitHub has none"
			var ae *source.APIError
			if errors.As(fetchErr, &ae) && ae.URL != "" {
				where = "GitHub's API has none at " + ae.URL
			}
			rej := verify.NoAttestation(t.digest, where)
			res.Error = verify.FailureOf(rej)
			return verify.Outcome{Result: res, Err: rej}
		}
		res.Error = f
		return verify.Outcome{Result: res, Err: fetchErr}
	}
	var detail string
	switch {
	case len(cands) == 1:
		detail = "the one bundle that covers it was refused: " + refused[0].Error.Message
	case len(cands) > 1:
		detail = fmt.Sprintf("the %d bundles that cover it were refused", len(cands))
	case ix.Len() > 0:
		detail = fmt.Sprintf("none of the %d bundles given covers it", ix.Len())
		if ix.Len() == 1 {
			detail = "the one bundle given does not cover it"
		}
	default:
		detail = "no bundle was given"
	}
	rej := verify.NoAttestation(t.digest, detail)
	if len(cands) == 1 {
		// One candidate: its expected-against-actual is the whole story.
		var one *verify.RejectedError
		if errors.As(worst.Err, &one) {
			rej.Comparisons, rej.Hint = one.Comparisons, one.Hint
		}
		res = worst.Result
	}
	res.Error, res.Refused = verify.FailureOf(rej), refused
	return verify.Outcome{Result: res, Err: rej}
}

// targets hashes each artifact argument once, with every algorithm the
// bundles use (SHA-256 always).
func (a *app) targets(ctx context.Context, args []string, ix *source.Index) ([]target, error) {
	algs := ix.Algorithms()
	var out []target
	seenStdin := false
	for _, arg := range args {
		t := target{arg: arg}
		switch {
		case verify.IsDigest(arg):
			art, err := verify.ParseDigest(arg)
			if err != nil {
				return nil, usageError(err)
			}
			alg, hex, _ := strings.Cut(arg, ":")
			t.digest = verify.Digest{Algorithm: alg, Value: strings.ToLower(hex)}
			t.digests = []verify.Digest{t.digest}
			t.artifact = func() verify.Artifact { return art }
		case arg == "-":
			if seenStdin {
				return nil, usageError(errors.New("standard input (-) can be given only once"))
			}
			seenStdin = true
			ds, err := hashAll(ctx, a.stdio.In, algs)
			if err != nil {
				return nil, fmt.Errorf("reading standard input: %w", err)
			}
			t.digests, t.digest = ds, ds[0]
			t.artifact = func() verify.Artifact {
				art, _ := verify.ParseDigest(t.digest.String())
				art.Name = "-"
				return art
			}
		default:
			f, err := os.Open(arg)
			if err != nil {
				return nil, withHint(fmt.Errorf("reading artifact: %w", err),
					fmt.Sprintf("check the path of the artifact %q; to verify a file that is not at hand, pass its digest as sha256:<hex>", arg))
			}
			ds, err := hashAll(ctx, f, algs)
			_ = f.Close()
			if err != nil {
				return nil, fmt.Errorf("reading artifact %s: %w", arg, err)
			}
			t.digests, t.digest = ds, ds[0]
			path := arg
			t.artifact = func() verify.Artifact { return verify.FileArtifact(path) }
		}
		out = append(out, t)
	}
	return out, nil
}

// hashAll reads r once and returns its digest with SHA-256 first, then
// each other algorithm in algs.
func hashAll(ctx context.Context, r io.Reader, algs []string) ([]verify.Digest, error) {
	names := []string{"sha256"}
	hs := map[string]crypto.Hash{"sha256": crypto.SHA256, "sha384": crypto.SHA384, "sha512": crypto.SHA512}
	for _, alg := range algs {
		if _, ok := hs[alg]; ok && alg != "sha256" {
			names = append(names, alg)
		}
	}
	hashers := make([]io.Writer, len(names))
	sums := make([]interface{ Sum([]byte) []byte }, len(names))
	for i, n := range names {
		h := hs[n].New()
		hashers[i], sums[i] = h, h
	}
	if _, err := io.Copy(io.MultiWriter(hashers...), ctxReader{ctx, r}); err != nil {
		return nil, err
	}
	out := make([]verify.Digest, len(names))
	for i, n := range names {
		out[i] = verify.Digest{Algorithm: n, Value: fmt.Sprintf("%x", sums[i].Sum(nil))}
	}
	return out, nil
}

type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}

// firstBundleFile is a bundle file for the hint of a missing policy.
func firstBundleFile(s *sourceOptions) string {
	if len(s.bundles) > 0 {
		return s.bundles[0]
	}
	return ""
}

// bundleSourceError names the flag of a bundle file that cannot be used.
func bundleSourceError(err error, flag string) error {
	switch {
	case errors.Is(err, source.ErrNotRegular):
		return withHint(err, flag+" reads only regular files: move the FIFO, device or socket out of the directory")
	case errors.Is(err, os.ErrNotExist):
		return withHint(err, "check the path given to "+flag)
	}
	return err
}

// printSourceNotes lists, under a failure, why each bundle tried was
// refused, and what to do when GitHub could not be asked.
func (a *app) printSourceNotes(r *verify.Result, err error) {
	for _, rf := range r.Refused {
		fmt.Fprintf(a.stdio.Err, "hallmark:   refused %s: %s\n", termtext.Quote(rf.Bundle), termtext.Line(rf.Error.Message))
	}
	for _, h := range sourceHints(err) {
		a.hintf("%s", h)
	}
}

// fromBundle names, in a searched verify, the bundle an artifact passed with.
func (a *app) fromBundle(r *verify.Result) string {
	if !a.nameBundles || r.Bundle == "" {
		return ""
	}
	return " [bundle " + termtext.Quote(r.Bundle) + "]"
}
