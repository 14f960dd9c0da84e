package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"

	intotov1 "github.com/in-toto/attestation/go/v1"
	"google.golang.org/protobuf/types/known/structpb"

	"github.com/hallmark-dev/hallmark/internal/source/oci"
	"github.com/hallmark-dev/hallmark/pkg/attest"
	"github.com/hallmark-dev/hallmark/pkg/sign"
)

// checkOCISign is the command line's consistency for signing images.
func checkOCISign(f *ociFlags, bundlePath string, nArgs int) error {
	if f.noPush && bundlePath == "" {
		return usageError(errors.New("--no-push pushes nothing, and without --bundle OUT the bundle would go nowhere"), "add --bundle OUT, or drop --no-push")
	}
	if bundlePath != "" && (nArgs > 1 || f.recursive || f.platform != "") {
		return usageError(errors.New("--bundle names the bundle of one image manifest, but several are signed"),
			"drop --bundle: each bundle is pushed to the registry as a referrer of its image")
	}
	if bundlePath == "-" {
		return usageError(errors.New("--bundle - is not supported for oci:// images"), "write the bundle to a file with --bundle OUT")
	}
	if bundlePath != "" {
		return checkBundleTarget(bundlePath)
	}
	return nil
}

// runSignOCI signs oci:// images: each manifest digest (a tag resolved
// once) is signed as cosign v3 signs images, and the bundle pushed as a
// referrer of the manifest.
func (a *app) runSignOCI(ctx context.Context, o *signOptions, args []string) error {
	if o.inToto {
		return usageError(errors.New("--in-toto signs statement files; an oci:// image is signed as an image"), "to attest an image, use 'hallmark attest --type T --predicate FILE oci://...'")
	}
	if err := checkOCISign(&o.oci, o.bundlePath, len(args)); err != nil {
		return err
	}
	c, err := a.ociClient(&o.oci)
	if err != nil {
		return err
	}
	targets, err := a.ociTargets(ctx, c, &o.oci, args, true)
	if err != nil {
		return err
	}
	s, _, err := a.newSigner(ctx, &o.signFlags)
	if err != nil {
		return err
	}
	sts := make([]*intotov1.Statement, len(targets))
	for i, t := range targets {
		if sts[i], err = imageStatement(t, oci.CosignSignPredicateType, nil); err != nil {
			return err
		}
	}
	return a.signAndPush(ctx, s, c, &o.oci, o.bundlePath, targets, sts, false)
}

// runAttestOCI attests oci:// images: one statement per manifest, its
// subject the manifest digest, pushed as a referrer.
func (a *app) runAttestOCI(ctx context.Context, o *attestOptions, args []string) error {
	switch {
	case o.statementPath != "":
		return usageError(errors.New("--statement signs a ready statement; an oci:// image's statement is made here"), "pass --predicate FILE --type T, or --provenance")
	case len(o.subjects) > 0 || o.subjectName != "" || len(o.digests) > 0:
		return usageError(errors.New("--subject, --subject-name and --digest are for files; an oci:// image's subject is its manifest digest"))
	case o.predicatePath != "" && o.predicateType == "":
		return usageError(errors.New("--predicate needs --type, the predicate's type"), "pass --type NAME or --type URI; 'hallmark attest --help' lists the names")
	}
	if o.predicateType != "" {
		if _, ok := attest.PredicateType(o.predicateType); !ok {
			return usageError(fmt.Errorf("--type %q is neither a known type nor an absolute URI", o.predicateType),
				"use one of "+strings.Join(typeNames(), ", ")+", or a URI such as https://example.com/my-predicate/v1")
		}
	}
	if err := checkOCISign(&o.oci, o.bundlePath, len(args)); err != nil {
		return err
	}
	var predicate *structpb.Struct
	predicateType := o.predicateType
	var err error
	if o.predicatePath != "" {
		if predicate, predicateType, err = a.readPredicate(o.predicatePath, o.predicateType); err != nil {
			return err
		}
	}
	provEnv := attest.ProvenanceOptions{Env: os.Environ()}
	if o.provenance {
		if predicate, err = ciProvenance(provEnv, ""); err != nil {
			return err
		}
		predicateType = attest.TypeSLSAProvenance1
	}
	c, err := a.ociClient(&o.oci)
	if err != nil {
		return err
	}
	targets, err := a.ociTargets(ctx, c, &o.oci, args, true)
	if err != nil {
		return err
	}
	s, token, err := a.newSigner(ctx, &o.signFlags)
	if err != nil {
		return err
	}
	if o.provenance && token != "" {
		if predicate, err = ciProvenance(provEnv, token); err != nil {
			return err
		}
	}
	sts := make([]*intotov1.Statement, len(targets))
	for i, t := range targets {
		if sts[i], err = imageStatement(t, predicateType, predicate); err != nil {
			return usageError(err)
		}
	}
	return a.signAndPush(ctx, s, c, &o.oci, o.bundlePath, targets, sts, true)
}

// signAndPush signs one statement per target, pushes each bundle as a
// referrer of its manifest (unless --no-push) and reports.
func (a *app) signAndPush(ctx context.Context, s *sign.Signer, c *oci.Client, f *ociFlags, bundlePath string,
	targets []ociTarget, sts []*intotov1.Statement, attestation bool) error {
	jobs := make([]sign.Job, len(targets))
	for i, t := range targets {
		data, err := attest.MarshalStatement(sts[i])
		if err != nil {
			return err
		}
		jobs[i] = sign.Job{Path: t.image.Ref.Arg, Statement: data, BundlePath: bundlePath}
	}
	outs, err := s.SignAll(ctx, jobs)
	if err != nil {
		return signError(err)
	}
	report := sign.Report{SchemaVersion: sign.SchemaVersion}
	failed := false
	for i, out := range outs {
		if out.Err == nil && !f.noPush {
			d, err := c.PushBundle(ctx, oci.Push{Subject: targets[i].image, Bundle: out.BundleJSON,
				Content: oci.ContentDSSE, PredicateType: sts[i].GetPredicateType()})
			if err != nil {
				out.Err = ociError(err, f)
				out.Result.Error = err.Error()
			} else {
				pushed := targets[i].image.Ref.Repository + "@" + d.Digest
				if out.Result.Bundle != "" {
					out.Result.Bundle += " and " + pushed
				} else {
					out.Result.Bundle = pushed
				}
			}
		}
		out.Result.Artifact = targets[i].name
		report.Results = append(report.Results, out.Result)
		if out.Err != nil {
			failed = true
			a.errorf("%s: %v", targets[i].name, out.Err)
			for _, h := range hintsOf(out.Err) {
				a.hintf("%s", h)
			}
			if errors.Is(out.Err, sign.ErrBadBundle) {
				a.hintf("this is a fault of the Sigstore services (or of a trusted root that does not match them), not of the image")
			}
			continue
		}
		if a.output == "text" {
			if attestation {
				fmt.Fprintf(a.stdio.Out, "%s\n", attestLine(sts[i], out.Result))
			} else {
				fmt.Fprintf(a.stdio.Out, "%s\n", signLine(out.Result))
			}
		}
	}
	if a.output == "json" {
		if err := a.printJSON(report); err != nil {
			return err
		}
	}
	if failed {
		return errReported{ExitError}
	}
	return nil
}
