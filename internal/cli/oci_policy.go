package cli

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"

	"golang.org/x/sync/errgroup"

	"github.com/hallmark-dev/hallmark/internal/source"
	"github.com/hallmark-dev/hallmark/internal/source/oci"
	"github.com/hallmark-dev/hallmark/internal/termtext"
	"github.com/hallmark-dev/hallmark/pkg/policy"
	"github.com/hallmark-dev/hallmark/pkg/verify"
	"github.com/hallmark-dev/hallmark/pkg/verify/cosignbundle"
)

// verify --policy POLICY oci://REF...: each image is resolved to its
// manifest digest once; its bundles are the Sigstore bundles among its
// referrers, the layers of cosign v2's legacy sha256-HEX.sig and .att tags
// and any --bundle/--bundle-dir; each bundle is verified once under the
// policy's verifiers, and the policy is evaluated with the images as its
// artifacts. An image is named by the reference as given, its repository
// (oci://REGISTRY/REPO) an alias: an artifacts entry's glob may match
// either.

// policyImage is what the registry held for one image, in verify --policy
// --output json ("images").
type policyImage struct {
	Name   string `json:"name"`
	Digest string `json:"digest"`
	// Bundles are the Sigstore bundles among its referrers; Legacy the
	// layers of cosign v2's legacy signature and attestation tags;
	// OtherReferrers the referrers that are not bundles.
	Bundles        int `json:"bundles"`
	Legacy         int `json:"legacySignatures"`
	OtherReferrers int `json:"otherReferrers,omitempty"`
	// Attestations counts the verified attestations about its digest,
	// from anywhere (the registry or --bundle).
	Attestations int `json:"attestations"`
	// Error is "no signature for DIGEST: ..." when none verified.
	Error string `json:"error,omitempty"`
}

// policyOCIArgs checks, before the policy and its trust are loaded, the
// arguments of verify --policy: oci:// images (true) or files, not both;
// the registry flags only with images.
func policyOCIArgs(o *verifyOptions, args []string) (bool, error) {
	isOCI, err := ociArgs(args)
	switch {
	case err != nil:
		return false, err
	case isOCI:
		return true, nil
	case o.oci.bundleFromOCI:
		return false, usageError(errors.New("--bundle-from-oci reads bundles from the registry of an oci:// image, and no image was given"),
			"name the image as oci://REGISTRY/REPO[:TAG|@sha256:HEX]")
	}
	return false, o.oci.onlyForImages()
}

// imageTarget is one manifest the policy is evaluated for.
type imageTarget struct {
	ociTarget
	art    policy.Artifact
	digest verify.Digest
	found  *oci.Found
	legacy []oci.LegacySignature
}

// runVerifyPolicyOCI is verify --policy over oci:// images, once the
// policy and its verifiers are ready.
func (a *app) runVerifyPolicyOCI(ctx context.Context, o *verifyOptions, pol *policy.Policy, vs *policy.Verifiers, args []string) error {
	local, err := readBundleFiles(ctx, o.sources.bundles, o.sources.bundleDir)
	if err != nil {
		return err
	}
	c, err := a.ociClient(&o.oci)
	if err != nil {
		return err
	}
	ts, err := a.ociTargets(ctx, c, &o.oci, args, false)
	if err != nil {
		return err
	}
	images := policyImageTargets(ts)
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(ociConcurrency)
	for _, im := range images {
		g.Go(func() error {
			f, err := c.Bundles(gctx, im.image.Ref)
			if err != nil {
				return err
			}
			im.found = f
			// Always, unlike verify without --policy: a policy may need
			// a legacy .sig signature and a provenance referrer both.
			im.legacy, err = c.LegacySignatures(gctx, im.image.Ref)
			return err
		})
	}
	if err := g.Wait(); err != nil {
		return ociError(err, &o.oci)
	}

	bundles := local
	var refused []verify.Refusal
	targets := make([]target, len(images))
	for i, im := range images {
		for _, fb := range im.found.Bundles {
			b, err := source.NewBundle(fb.Origin, fb.Data)
			if err != nil {
				refused = append(refused, verify.Refusal{Bundle: fb.Origin, Error: verify.FailureOf(err)})
				continue
			}
			bundles = append(bundles, b)
		}
		targets[i] = im.target()
	}
	results, rs, err := verifyForPolicy(ctx, vs, bundles, targets)
	if err != nil {
		return err
	}
	refused = append(refused, rs...)
	lres, lref, err := verifyLegacyForPolicy(ctx, vs, images)
	if err != nil {
		return err
	}
	results, refused = append(results, lres...), append(refused, lref...)

	in := policy.Input{Attestations: results}
	report := &policyVerifyReport{Refused: refused, Attestations: attestationsOf(results)}
	for _, im := range images {
		in.Artifacts = append(in.Artifacts, im.art)
		report.Images = append(report.Images, im.summary(results))
	}
	rep, err := pol.Evaluate(ctx, in)
	if err != nil {
		return err
	}
	report.Report, report.Artifacts = rep, in.Artifacts
	err = a.reportPolicy(report)
	if rep.Passed {
		return err
	}
	hint := false
	for i, pi := range report.Images {
		if pi.Error == "" {
			continue
		}
		fmt.Fprintf(a.stdio.Err, "hallmark:   %s: %s\n", termtext.Quote(pi.Name), termtext.Line(pi.Error))
		hint = hint || images[i].tried() == 0
	}
	if hint {
		a.hintf("sign the image with 'hallmark sign oci://...' and attest it with 'hallmark attest ... oci://...' (or cosign v3), or check the reference: a re-pushed tag names a new digest")
	}
	return err
}

// policyImageTargets names each manifest for the policy: the reference as
// given, with its repository as an alias; a platform manifest (--platform,
// --recursive) by its digest and platform, with the reference given and the
// repository as aliases.
func policyImageTargets(ts []ociTarget) []*imageTarget {
	var out []*imageTarget
	var given string
	for _, t := range ts {
		it := &imageTarget{ociTarget: t}
		alg, hex, _ := strings.Cut(t.image.Ref.Digest, ":")
		it.digest = verify.Digest{Algorithm: alg, Value: strings.ToLower(hex)}
		var aliases []string
		if t.image.Descriptor.Platform == "" {
			given = t.image.Given.Arg
			it.art.Name = given
		} else {
			it.art.Name = t.name
			aliases = append(aliases, given)
		}
		if repo := repositoryOf(given); repo != it.art.Name {
			aliases = append(aliases, repo)
		}
		it.art.Aliases = aliases
		it.art.Digests = []verify.Digest{it.digest}
		out = append(out, it)
	}
	return out
}

// repositoryOf is oci://REGISTRY/REPO of oci://REGISTRY/REPO[:TAG][@DIGEST],
// as given (not normalised: docker.io stays docker.io).
func repositoryOf(ref string) string {
	ref, _, _ = strings.Cut(ref, "@")
	slash := strings.LastIndex(ref, "/")
	if i := strings.IndexByte(ref[slash+1:], ':'); i >= 0 {
		ref = ref[:slash+1+i]
	}
	return ref
}

// target is the image as verifyForPolicy's artifact: its manifest digest,
// for message signatures over it.
func (im *imageTarget) target() target {
	name, d := im.art.Name, im.digest
	return target{arg: name, digest: d, digests: []verify.Digest{d}, artifact: func() verify.Artifact {
		art, _ := verify.ParseDigest(d.String())
		art.Name = name
		return art
	}}
}

// tried counts the signatures the registry held for the image.
func (im *imageTarget) tried() int { return len(im.found.Bundles) + len(im.legacy) }

// summary says what was found for the image and, when no verified
// attestation is about its digest, why, cosign's way: "no signature for
// DIGEST".
func (im *imageTarget) summary(results []*verify.Result) policyImage {
	pi := policyImage{Name: im.art.Name, Digest: im.digest.String(), Bundles: len(im.found.Bundles), Legacy: len(im.legacy), OtherReferrers: len(im.found.Skipped)}
	for _, r := range results {
		if about(r, im.digest) {
			pi.Attestations++
		}
	}
	if pi.Attestations > 0 {
		return pi
	}
	var detail string
	switch n := im.tried(); {
	case n == 0:
		detail = "no Sigstore bundle refers to it and cosign v2's legacy tags hold no signature of it"
		if pi.OtherReferrers > 0 {
			detail += fmt.Sprintf(" (%d other referrers)", pi.OtherReferrers)
		}
	case n == 1:
		detail = "the one signature found for it was refused or is about another digest"
	default:
		detail = fmt.Sprintf("the %d signatures found for it were refused or are about other digests", n)
	}
	pi.Error = fmt.Sprintf("no signature for %s: %s", im.digest, detail)
	return pi
}

// about reports whether a verified result is about digest d: a statement
// with d among its subjects' digests, or a message signature over d.
func about(r *verify.Result, d verify.Digest) bool {
	if r.Statement == nil {
		return r.Digest != nil && r.Digest.Algorithm == d.Algorithm && strings.EqualFold(r.Digest.Value, d.Value)
	}
	return slices.ContainsFunc(r.Statement.Subjects, func(s verify.Subject) bool { return strings.EqualFold(s.Digest[d.Algorithm], d.Value) })
}

// verifyLegacyForPolicy verifies the layers of cosign v2's legacy tags
// under the policy's verifiers: a .att layer as an attestation (its
// subjects are the policy's to compare), a .sig layer as a signature of its
// simple-signing payload, which must then name the image's digest; it
// then counts as a plain signature of the image.
func verifyLegacyForPolicy(ctx context.Context, vs *policy.Verifiers, images []*imageTarget) ([]*verify.Result, []verify.Refusal, error) {
	type job struct {
		im *imageTarget
		ls oci.LegacySignature
	}
	var jobs []job
	for _, im := range images {
		for _, ls := range im.legacy {
			jobs = append(jobs, job{im, ls})
		}
	}
	results := make([]*verify.Result, len(jobs))
	errs := make([]error, len(jobs))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(ociConcurrency)
	for i, j := range jobs {
		g.Go(func() error {
			results[i], errs[i] = verifyLegacyLayer(gctx, vs, j.im, j.ls)
			return nil
		})
	}
	_ = g.Wait()
	var ok []*verify.Result
	var refused []verify.Refusal
	for i, err := range errs {
		switch {
		case err == nil:
			results[i].Bundle = jobs[i].ls.Origin
			ok = append(ok, results[i])
		case verify.IsRejected(err), errors.Is(err, oci.ErrPayload), errors.Is(err, cosignbundle.ErrMalformed):
			refused = append(refused, verify.Refusal{Bundle: jobs[i].ls.Origin, Error: verify.FailureOf(err)})
		default:
			return nil, nil, err
		}
	}
	if err := ctx.Err(); err != nil {
		return nil, nil, err
	}
	return ok, refused, nil
}

func verifyLegacyLayer(ctx context.Context, vs *policy.Verifiers, im *imageTarget, ls oci.LegacySignature) (*verify.Result, error) {
	l, err := cosignbundle.Parse(ls.Legacy)
	if err != nil {
		return nil, err
	}
	art := verify.StatementOnly(ls.Origin)
	var signed *cosignbundle.Digest
	if ls.Payload != nil {
		// What was signed is the payload, not the image.
		sum := sha256.Sum256(ls.Payload)
		signed = &cosignbundle.Digest{Algorithm: "sha256", Value: sum[:]}
		if art, err = verify.ParseDigest("sha256:" + hex.EncodeToString(sum[:])); err != nil {
			return nil, err
		}
		art.Name = im.art.Name
	}
	b, err := l.Bundle(signed)
	if err != nil {
		return nil, err
	}
	res, err := vs.Verify(ctx, b, art)
	if err != nil || ls.Payload == nil {
		return res, err
	}
	if err := oci.CheckSimpleSigning(ls.Payload, im.digest.String()); err != nil {
		return res, &verify.RejectedError{Cause: verify.CauseArtifact, Reason: err.Error(), Err: err}
	}
	d := im.digest
	res.Digest = &d
	return res, nil
}

// readBundleFiles reads the --bundle files (a JSONL file counts as many;
// each file once) and the --bundle-dir directory when one is set: a policy's
// bundles, or what adds to an image's registry bundles.
func readBundleFiles(ctx context.Context, files []string, dir string) ([]*source.Bundle, error) {
	var out []*source.Bundle
	read := map[string]bool{}
	for _, p := range files {
		if read[p] {
			continue
		}
		read[p] = true
		bs, err := source.ReadFile(ctx, p)
		if err != nil {
			return nil, bundleSourceError(err, "--bundle")
		}
		out = append(out, bs...)
	}
	if dir != "" {
		bs, err := source.ReadDir(ctx, dir)
		if err != nil {
			return nil, bundleSourceError(err, "--bundle-dir")
		}
		out = append(out, bs...)
	}
	return out, nil
}
