package cli

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	intotov1 "github.com/in-toto/attestation/go/v1"
	"github.com/spf13/cobra"
	"google.golang.org/protobuf/types/known/structpb"

	"github.com/hallmark-dev/hallmark/internal/scanreport"
	"github.com/hallmark-dev/hallmark/internal/termtext"
	"github.com/hallmark-dev/hallmark/pkg/attest"
	"github.com/hallmark-dev/hallmark/pkg/scan"
	"github.com/hallmark-dev/hallmark/pkg/sign"
	"github.com/hallmark-dev/hallmark/pkg/vulngate"
)

// scanAttestOptions are scan's --attest flags: the bundle and the signing
// flags of 'hallmark attest' (--key and the trust flags are scan's own,
// shared with --attestation).
type scanAttestOptions struct {
	enabled    bool
	bundlePath string
	sign       signFlags
}

func (o *scanAttestOptions) bind(cmd *cobra.Command) {
	f := cmd.Flags()
	f.BoolVar(&o.enabled, "attest", false, "sign the scan result as an in-toto vulnerability attestation (with -o openvex: the OpenVEX document)")
	f.StringVar(&o.bundlePath, "bundle", "", "with --attest, write the bundle to `OUT` (default FILE.vuln.sigstore.json, or FILE.openvex.sigstore.json, for the one FILE scanned)")
	o.sign.bindSigning(cmd, "key", "")
	prefixUsage(cmd, "with --attest: ", signingFlagNames...)
	f.Lookup("key").Usage = "with --attest, sign with this PEM private key `FILE` instead of keyless; with --attestation alone, verify the bundle with this public key"
}

// scanAttestPlan is what --attest will sign, decided before the scan.
type scanAttestPlan struct {
	signer        *sign.Signer
	bundlePath    string
	predicateType string
	// started is when the scan began (extraction included).
	started time.Time
}

// prepareScanAttest checks the --attest flags and makes the signer before
// anything is scanned, so that a wrong key, password or token costs no
// scan. It returns nil without --attest.
func (a *app) prepareScanAttest(ctx context.Context, cmd *cobra.Command, o *scanOptions, args []string) (*scanAttestPlan, error) {
	at := &o.attest
	if !at.enabled {
		if n := changedFlag(cmd, append([]string{"bundle"}, signingFlagNames...)...); n != "" {
			return nil, usageError(fmt.Errorf("%s is a flag of --attest", n), "add --attest to sign the scan result, or drop "+n)
		}
		return nil, nil
	}
	plan := &scanAttestPlan{predicateType: vulngate.PredicateType, bundlePath: at.bundlePath, started: time.Now()}
	kind := "vuln"
	if a.output == "openvex" {
		plan.predicateType, kind = attest.TypeOpenVEX, "openvex"
	}
	if o.attestation != "" && o.subject == "" {
		return nil, usageError(errors.New("--attest with --attestation needs --attestation-subject FILE: the artifact the signed result is about"),
			"pass --attestation-subject FILE, the artifact the attested SBOM describes")
	}
	if o.attestation != "" && o.att.keyPath != "" && !o.att.identityFlagsSet() {
		return nil, usageError(errors.New("with --attest, --key is the key that signs the scan result, so --attestation needs an identity policy"),
			"verify the attested SBOM with --certificate-identity and --certificate-oidc-issuer (or --repo), or scan its SBOM file and attest that")
	}
	if plan.bundlePath == "-" {
		return nil, usageError(errors.New("--bundle - is not possible with scan: standard output carries the report"), "write the bundle to a file with --bundle OUT")
	}
	if plan.bundlePath == "" {
		name := o.subject
		if name == "" && len(args) == 1 {
			if st, err := os.Stat(args[0]); err == nil && st.Mode().IsRegular() {
				name = args[0]
			}
		}
		if name == "" {
			return nil, usageError(errors.New("--attest needs --bundle OUT when it scans a directory or several files"),
				"pass --bundle OUT, or --attestation-subject FILE to attest the result about one artifact (bundle FILE."+kind+".sigstore.json)")
		}
		plan.bundlePath = name + "." + kind + ".sigstore.json"
	}
	if err := checkBundleTarget(plan.bundlePath); err != nil {
		return nil, err
	}
	inputs := inputsOf(args, o.att.keyPath, o.ignoreFile, o.attestation, o.subject, at.sign.signingConfig)
	inputs = append(append(inputs, o.vexFiles...), o.att.trust.trustedRoot...)
	if err := checkOutputDir("--bundle", plan.bundlePath); err != nil {
		return nil, err
	}
	if err := refuseInputAsOutput("--bundle", plan.bundlePath, inputs...); err != nil {
		return nil, err
	}
	at.sign.keyPath, at.sign.trust = o.att.keyPath, o.att.trust
	// --key signs; it verifies nothing.
	o.att.keyPath = ""
	s, _, err := a.newSigner(ctx, &at.sign)
	if err != nil {
		return nil, err
	}
	plan.signer, plan.started = s, time.Now()
	return plan, nil
}

// signScan signs the scan result (or its OpenVEX document) about the
// scanned files, or --attestation-subject, and writes the bundle
// atomically; a failure leaves no bundle.
func (a *app) signScan(ctx context.Context, o *scanOptions, plan *scanAttestPlan, res *scan.Result) error {
	subjects, err := scanSubjects(ctx, o, res)
	if err != nil {
		return err
	}
	var predicate *structpb.Struct
	if plan.predicateType == attest.TypeOpenVEX {
		var buf bytes.Buffer
		if err := scanreport.RenderWith(&buf, "openvex", res, reportOptions()); err != nil {
			return err
		}
		if predicate, _, err = attest.ReadPredicate(attest.TypeOpenVEX, buf.Bytes()); err != nil {
			return fmt.Errorf("the OpenVEX document: %w", err)
		}
	} else if predicate, err = vulngate.Predicate(res, plan.started); err != nil {
		return err
	}
	st, err := attest.NewStatement(subjects, plan.predicateType, predicate)
	if err != nil {
		return err
	}
	data, err := attest.MarshalStatement(st)
	if err != nil {
		return err
	}
	name := subjects[0].GetName()
	r, _, err := plan.signer.Sign(ctx, sign.Job{Path: name, BundlePath: plan.bundlePath, Statement: data})
	if err != nil {
		return attestError(fmt.Errorf("signing the scan result: %w", err))
	}
	a.diag("", "attested: %s", attestLine(st, r))
	return nil
}

// scanSubjects are the subjects of a signed scan: --attestation-subject,
// else each file the packages were read from, by its path and sha256.
// (A file is hashed after it was scanned; one changed in between is the
// caller's race, as with any tool that reads a file twice.)
func scanSubjects(ctx context.Context, o *scanOptions, res *scan.Result) ([]*intotov1.ResourceDescriptor, error) {
	var files []string
	if o.subject != "" {
		files = []string{o.subject}
	} else {
		for _, f := range res.Files {
			files = append(files, f.Path)
		}
	}
	if len(files) == 0 {
		return nil, withHint(errors.New("--attest: the scan read no file, so the attestation would have no subject"),
			"name the artifact the result is about with --attestation-subject FILE")
	}
	subs := make([]*intotov1.ResourceDescriptor, len(files))
	for i, f := range files {
		// A scanned file is named by its path as the report names it;
		// --attestation-subject by its base name, as attest does.
		n := f
		if o.subject != "" {
			n = ""
		}
		rd, err := attest.HashFile(ctx, f, n, attest.SHA256)
		if errors.Is(err, attest.ErrNotRegularFile) {
			return nil, usageError(fmt.Errorf("--attest: %w", err), "the subject of an attestation is a regular file")
		}
		if err != nil {
			return nil, fmt.Errorf("hashing %s: %w", termtext.Quote(f), err)
		}
		rd.Name = utf8Name(rd.GetName()) // a statement's strings are UTF-8
		subs[i] = rd
	}
	return subs, nil
}

// reportOptions are the renderers' options of a scan run in the working
// directory.
func reportOptions() scanreport.Options {
	var ro scanreport.Options
	if wd, err := os.Getwd(); err == nil {
		// The paths in res are relative to the working directory.
		ro.SourceRoot = wd
	}
	return ro
}
