package cli

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/sigstore/sigstore-go/pkg/bundle"
	"golang.org/x/sync/errgroup"

	"github.com/hallmark-dev/hallmark/internal/source"
	"github.com/hallmark-dev/hallmark/internal/source/oci"
	"github.com/hallmark-dev/hallmark/pkg/verify"
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
	c, err := a.ociClient(&o.oci)
	if err != nil {
		return err
	}
	targets, err := a.ociTargets(ctx, c, &o.oci, args, false)
	if err != nil {
		return err
	}
	found := make([]*oci.Found, len(targets))
	legacy := make([][]string, len(targets))
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
				// Only when nothing else is there: say that the image
				// has cosign v2 signatures hallmark does not read.
				legacy[i], _ = c.Legacy(gctx, t.image.Ref)
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
			outs[i] = verifyImage(vctx, v, t, found[i], legacy[i])
			return nil
		})
	}
	_ = vg.Wait()
	a.nameBundles = true
	return a.reportVerify(outs)
}

// verifyImage tries the bundles that refer to one manifest, those that
// claim to cover its digest first, until one verifies.
func verifyImage(ctx context.Context, v *verify.Verifier, t ociTarget, f *oci.Found, legacy []string) verify.Outcome {
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
	var detail string
	switch {
	case tried == 1:
		detail = "the one Sigstore bundle that refers to it was refused: " + refused[len(refused)-1].Error.Message
	case tried > 1:
		detail = fmt.Sprintf("the %d Sigstore bundles that refer to it were refused", tried)
	case len(f.Bundles) > 0:
		detail = fmt.Sprintf("the %d Sigstore bundles that refer to it are malformed", len(f.Bundles))
	default:
		detail = "no Sigstore bundle refers to it"
		if n := len(f.Skipped); n > 0 {
			detail += fmt.Sprintf(" (%d other referrers)", n)
		}
	}
	if len(legacy) > 0 {
		detail += "; it has cosign v2 legacy tags (" + strings.Join(legacy, ", ") + "), which hallmark does not read: re-sign with cosign sign --new-bundle-format or hallmark sign"
	}
	rej := &verify.RejectedError{Cause: verify.CauseNoAttestation, Reason: fmt.Sprintf("no signature for %s: %s", digest, detail)}
	res := &verify.Result{Artifact: t.name, Digest: &digest}
	if tried == 1 {
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
