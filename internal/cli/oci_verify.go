package cli

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/sigstore/sigstore-go/pkg/bundle"
	"golang.org/x/sync/errgroup"

	"github.com/hallmark-dev/hallmark/internal/source"
	"github.com/hallmark-dev/hallmark/internal/source/oci"
	"github.com/hallmark-dev/hallmark/pkg/verify"
	"github.com/hallmark-dev/hallmark/pkg/verify/cosignbundle"
)

// ociConcurrency bounds the images looked up at once.
const ociConcurrency = 8

// runVerifyOCI verifies oci:// images: for each manifest, the Sigstore
// bundles among its referrers are verified against its digest under the
// policy; it passes when one satisfies it. Nothing found, or everything
// refused, is "no signature for DIGEST" (exit 3), with what was found and
// why it was refused.
func (a *app) runVerifyOCI(ctx context.Context, o *verifyOptions, args []string) error {
	switch {
	case len(o.sources.bundles) > 0 || o.sources.bundleDir != "" || o.sources.from != "":
		return usageError(errors.New("an oci:// image's bundles come from its registry: --bundle, --bundle-dir and --from are for files"),
			"drop them, or verify the image by digest with sha256:HEX and --bundle FILE")
	case o.preset.name != "":
		return usageError(fmt.Errorf("--preset %s verifies bottles, not oci:// images", o.preset.name))
	case o.cosign.signaturePath != "":
		return usageError(errors.New("--signature is for files, not oci:// images"))
	}
	if hasOCI, err := ociArgs(args); err != nil {
		return err
	} else if !hasOCI {
		return usageError(errors.New("--bundle-from-oci reads bundles from the registry of an oci:// image, and no image was given"),
			"name the image as oci://REGISTRY/REPO[:TAG|@sha256:HEX]")
	}
	// The policy first: a usage error before any request.
	v, err := a.verifier(ctx, o, "")
	if err != nil {
		return err
	}
	vs := verifiers{any: v, signature: v}
	if o.ghDefaultType && o.attestation.predicateType == "" && (o.repo != "" || o.gh.owner != "") {
		// gh's default for --repo and --owner (SLSA provenance) is about
		// attestations; an image signature (cosign's sign/v1 statement)
		// is a signature, and is verified without it. The same flags, so
		// the warnings were given already.
		w := a.stdio.Err
		a.stdio.Err = io.Discard
		o.ghDefaultType = false
		vs.signature, err = a.verifier(ctx, o, "")
		o.ghDefaultType = true
		a.stdio.Err = w
		if err != nil {
			return err
		}
	}
	c, err := a.ociClient(&o.oci)
	if err != nil {
		return err
	}
	targets, err := a.ociTargets(ctx, c, &o.oci, args, false)
	if err != nil {
		return err
	}
	found := make([]*oci.Found, len(targets))
	legacy := make([][]oci.LegacySignature, len(targets))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(ociConcurrency)
	for i, t := range targets {
		g.Go(func() error {
			f, err := c.Bundles(gctx, t.image.Ref)
			if err != nil {
				return err
			}
			found[i] = f
			if len(f.Bundles) == 0 {
				// Only when no Sigstore bundle refers to the image:
				// cosign v2's legacy signature and attestation tags.
				if legacy[i], err = c.LegacySignatures(gctx, t.image.Ref); err != nil {
					return err
				}
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return ociError(err, &o.oci)
	}
	outs := make([]verify.Outcome, len(targets))
	vg, vctx := errgroup.WithContext(ctx)
	vg.SetLimit(ociConcurrency)
	for i, t := range targets {
		vg.Go(func() error {
			outs[i] = verifyImage(vctx, vs, t, found[i], legacy[i])
			return nil
		})
	}
	_ = vg.Wait()
	a.nameBundles = true
	return a.reportVerify(outs)
}

// verifyImage tries the bundles that refer to one manifest, those that
// claim to cover its digest first, until one verifies.
// verifiers are the policy for attestations and, for image signatures
// (statements of cosign's sign/v1 predicate type), the same without gh's
// default predicate type.
type verifiers struct{ any, signature *verify.Verifier }

func (vs verifiers) of(predicateType string) *verify.Verifier {
	if predicateType == oci.CosignSignPredicateType {
		return vs.signature
	}
	return vs.any
}

func verifyImage(ctx context.Context, vs verifiers, t ociTarget, f *oci.Found, legacy []oci.LegacySignature) verify.Outcome {
	alg, hex, _ := strings.Cut(t.image.Ref.Digest, ":")
	digest := verify.Digest{Algorithm: alg, Value: hex}
	var refused []verify.Refusal
	for _, s := range f.Skipped {
		refused = append(refused, verify.Refusal{Bundle: s.Origin, Error: &verify.Failure{Message: s.Reason}})
	}
	var covering, others []*source.Bundle
	for _, fb := range f.Bundles {
		b, err := source.NewBundle(fb.Origin, fb.Data)
		if err != nil {
			refused = append(refused, verify.Refusal{Bundle: fb.Origin, Error: verify.FailureOf(err)})
			continue
		}
		if b.Coverage.Covers(digest) {
			covering = append(covering, b)
		} else {
			others = append(others, b)
		}
	}
	var worst verify.Outcome
	tried := 0
	for _, b := range append(covering, others...) {
		tried++
		art, err := verify.ParseDigest(t.image.Ref.Digest)
		if err != nil {
			return verify.Outcome{Result: &verify.Result{Artifact: t.name}, Err: err}
		}
		art.Name = t.name
		var res *verify.Result
		v := vs.of(b.Coverage.PredicateType)
		b.Exclusive(func(sb *bundle.Bundle) { res, err = v.Verify(ctx, sb, art) })
		res.Artifact, res.Bundle = t.name, b.Origin
		if err == nil {
			res.Refused = refused
			return verify.Outcome{Result: res}
		}
		if !verify.IsRejected(err) {
			res.Refused = refused
			return verify.Outcome{Result: res, Err: err}
		}
		refused = append(refused, verify.Refusal{Bundle: b.Origin, Error: verify.FailureOf(err)})
		if worst.Result == nil {
			worst = verify.Outcome{Result: res, Err: err}
		}
	}
	for _, ls := range legacy {
		tried++
		res, err := verifyLegacy(ctx, vs, t, digest, ls)
		res.Artifact, res.Bundle = t.name, ls.Origin
		if err == nil {
			res.Refused = refused
			return verify.Outcome{Result: res}
		}
		if !verify.IsRejected(err) && !errors.Is(err, oci.ErrPayload) && !errors.Is(err, cosignbundle.ErrMalformed) {
			res.Refused = refused
			return verify.Outcome{Result: res, Err: err}
		}
		refused = append(refused, verify.Refusal{Bundle: ls.Origin, Error: verify.FailureOf(err)})
		if worst.Result == nil {
			worst = verify.Outcome{Result: res, Err: err}
		}
	}
	var detail string
	switch {
	case tried == 1 && len(legacy) == 1:
		detail = "the one cosign v2 legacy signature of it was refused: " + refused[len(refused)-1].Error.Message
	case tried == 1:
		detail = "the one Sigstore bundle that refers to it was refused: " + refused[len(refused)-1].Error.Message
	case tried > 1 && len(legacy) == 0:
		detail = fmt.Sprintf("the %d Sigstore bundles that refer to it were refused", tried)
	case tried > 1:
		detail = fmt.Sprintf("the %d signatures of it in cosign v2's legacy tags were refused", tried)
	case len(f.Bundles) > 0:
		detail = fmt.Sprintf("the %d Sigstore bundles that refer to it are malformed", len(f.Bundles))
	default:
		detail = "no Sigstore bundle refers to it"
		if n := len(f.Skipped); n > 0 {
			detail += fmt.Sprintf(" (%d other referrers)", n)
		}
	}
	rej := &verify.RejectedError{Cause: verify.CauseNoAttestation, Reason: fmt.Sprintf("no signature for %s: %s", digest, detail)}
	res := &verify.Result{Artifact: t.name, Digest: &digest}
	if tried == 1 && worst.Err != nil {
		var one *verify.RejectedError
		if errors.As(worst.Err, &one) {
			rej.Comparisons, rej.Hint = one.Comparisons, one.Hint
		}
		res = worst.Result
	}
	if tried == 0 && rej.Hint == "" {
		rej.Hint = "sign the image with 'hallmark sign oci://...' (or cosign sign --new-bundle-format), or check the reference: a re-pushed tag names a new digest"
	}
	res.Error, res.Refused = verify.FailureOf(rej), refused
	return verify.Outcome{Result: res, Err: rej}
}

// verifyLegacy verifies one layer of cosign v2's legacy tags: a .sig
// layer's signature over its simple-signing payload, which must then name
// the image's digest; a .att layer's DSSE envelope, whose statement must
// have the image as subject, like any attestation.
func verifyLegacy(ctx context.Context, vs verifiers, t ociTarget, digest verify.Digest, ls oci.LegacySignature) (*verify.Result, error) {
	res := &verify.Result{Artifact: t.name, Digest: &digest}
	l, err := cosignbundle.Parse(ls.Legacy)
	if err != nil {
		return res, err
	}
	art, err := verify.ParseDigest(digest.String())
	var signed *cosignbundle.Digest
	if ls.Payload != nil {
		// What was signed is the payload, not the image.
		sum := sha256.Sum256(ls.Payload)
		signed = &cosignbundle.Digest{Algorithm: "sha256", Value: sum[:]}
		art, err = verify.ParseDigest("sha256:" + hex.EncodeToString(sum[:]))
	}
	if err != nil {
		return res, err
	}
	art.Name = t.name
	b, err := l.Bundle(signed)
	if err != nil {
		return res, err
	}
	// A .sig signature is a message signature (gh's default type does not
	// apply to it); a .att attestation is verified as attestations are.
	out, err := vs.any.Verify(ctx, b, art)
	if err != nil {
		return out, err
	}
	if ls.Payload != nil {
		if err := oci.CheckSimpleSigning(ls.Payload, digest.String()); err != nil {
			rej := &verify.RejectedError{Cause: verify.CauseArtifact, Reason: err.Error(), Err: err}
			return out, rej
		}
		out.Digest = &digest
	}
	return out, nil
}
