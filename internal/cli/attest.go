package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	intotov1 "github.com/in-toto/attestation/go/v1"
	"github.com/spf13/cobra"
	"golang.org/x/sync/errgroup"
	"google.golang.org/protobuf/types/known/structpb"

	"github.com/hallmark-dev/hallmark/internal/atomicfile"
	"github.com/hallmark-dev/hallmark/internal/oidc"
	"github.com/hallmark-dev/hallmark/internal/termtext"
	"github.com/hallmark-dev/hallmark/pkg/attest"
	"github.com/hallmark-dev/hallmark/pkg/sign"
)

// attestOptions are the attest command's flags.
type attestOptions struct {
	bundlePath    string
	predicatePath string
	predicateType string
	statementPath string
	provenance    bool
	subjects      []string
	subjectName   string
	digests       []string
	oci           ociFlags // oci:// images: oci.go

	signFlags
}

func (a *app) attestCommand() *cobra.Command {
	o := &attestOptions{}
	cmd := &cobra.Command{
		Use:   "attest [flags] FILE...",
		Short: "Sign an in-toto attestation (provenance, SBOM, VEX...) about files",
		Long: `Sign ONE in-toto Statement v1 whose subjects are all the FILEs, with a
predicate of --type, into a Sigstore bundle (a DSSE envelope of payload type
application/vnd.in-toto+json). A subject is named by the file's base name
(--subject-name for one file) and its sha256 digest (add sha512 with --digest
sha512); --subject NAME=ALG:HEX adds one by digest, without the file.

The predicate comes from one of:
  --predicate FILE|- --type T   a predicate document of type T
  --provenance                  SLSA v1 provenance made from the CI environment:
                                on GitHub Actions the shape
                                actions/attest-build-provenance makes, on GitLab
                                CI the GitLab runner's, elsewhere the build type
                                ` + attest.BuildTypeLocal + `,
                                which says no CI system made it
  --statement FILE              a ready statement, signed as it is; FILEs given
                                too must each be one of its subjects (exit 3)

Types (--type takes the name or any absolute predicate-type URI):
` + typeTable() + `
Known types are checked before signing: a predicate that is not JSON or not
that type's shape (SLSA v1 needs buildDefinition.buildType and
runDetails.builder.id; SPDX and CycloneDX are parsed with their Go libraries)
is a usage error naming the field.

The bundle goes to --bundle OUT (- for standard output); with one FILE the
default is FILE.KIND.sigstore.json (app.tgz.provenance.sigstore.json), with
several FILEs --bundle is required. It is verified before it is written, and
written atomically; an OUT that is a directory, a device or a pipe is
refused. FILEs, --predicate and --statement must be regular files (or
links to them): a pipe or a device is refused at once, never waited on. Signing is keyless or --key, with the flags of 'hallmark
sign'.

Exit codes: 0 signed, 1 could not complete, 2 usage error (a bad predicate
too), 3 a FILE is not a subject of --statement.`,
		Example: `  # SLSA provenance of a release, in GitHub Actions (id-token: write)
  hallmark attest --provenance dist/app.tgz
  hallmark verify --repo OWNER/REPO --bundle dist/app.tgz.provenance.sigstore.json dist/app.tgz

  # an SBOM, signed with a key and no services
  hallmark attest --key cosign.key --tlog-upload=false --timestamp=false \
    --type spdxjson --predicate sbom.spdx.json app.tgz
  hallmark verify --key cosign.pub --insecure-ignore-tlog --bundle app.tgz.spdx.sigstore.json app.tgz

  # the same with cosign
  cosign verify-blob-attestation --type slsaprovenance1 --bundle dist/app.tgz.provenance.sigstore.json \
    --certificate-identity-regexp '^https://github.com/OWNER/REPO/' \
    --certificate-oidc-issuer https://token.actions.githubusercontent.com dist/app.tgz`,
		RunE: a.runE(func(cmd *cobra.Command, args []string) error {
			return a.runAttest(cmd.Context(), o, args)
		}),
	}
	f := cmd.Flags()
	f.StringVar(&o.bundlePath, "bundle", "", "write the bundle to `OUT` (- for standard output)")
	f.StringVar(&o.predicatePath, "predicate", "", "the predicate document `FILE` (- for standard input); needs --type")
	f.StringVar(&o.predicateType, "type", "", "the predicate `TYPE`: a name from the table above or an absolute URI")
	f.StringVar(&o.statementPath, "statement", "", "sign this ready in-toto statement `FILE`")
	f.BoolVar(&o.provenance, "provenance", false, "make SLSA v1 provenance from the CI environment")
	f.StringArrayVar(&o.subjects, "subject", nil, "a subject by digest, `NAME=ALG:HEX` (repeatable)")
	f.StringVar(&o.subjectName, "subject-name", "", "the subject `NAME` of the one FILE (default: its base name)")
	f.StringSliceVar(&o.digests, "digest", nil, "also record this digest `ALG` of each FILE: sha512 (sha256 always)")
	o.signFlags.bind(cmd)
	o.oci.bind(cmd, true)
	cmd.AddCommand(a.attestRunCommand())
	cmd.MarkFlagsMutuallyExclusive("predicate", "statement", "provenance")
	cmd.MarkFlagsOneRequired("predicate", "statement", "provenance")
	cmd.MarkFlagsMutuallyExclusive("statement", "type")
	cmd.MarkFlagsMutuallyExclusive("statement", "subject")
	cmd.MarkFlagsMutuallyExclusive("statement", "subject-name")
	cmd.MarkFlagsMutuallyExclusive("statement", "digest")
	return cmd
}

// typeTable renders the predicate-type table for the help.
func typeTable() string {
	var b strings.Builder
	for _, t := range attest.Types() {
		fmt.Fprintf(&b, "  %-16s %s\n", t.Name, t.URI)
	}
	return b.String()
}

// bundleKind is the KIND of the default bundle name FILE.KIND.sigstore.json.
func bundleKind(uri string) string {
	switch n := attest.ShortName(uri); n {
	case "slsaprovenance1":
		return "provenance"
	case "spdxjson":
		return "spdx"
	case "":
		return "attestation"
	default:
		return n
	}
}

func (a *app) runAttest(ctx context.Context, o *attestOptions, args []string) error {
	if isOCI, err := ociArgs(args); err != nil || isOCI {
		if err != nil {
			return err
		}
		return a.runAttestOCI(ctx, o, args)
	}
	if err := o.oci.onlyForImages(); err != nil {
		return err
	}
	if err := o.check(args); err != nil {
		return err
	}
	if o.bundlePath == "-" && a.output == "json" {
		return usageError(errors.New("--bundle - writes the bundle to standard output, which --output json needs for the report"),
			"write the bundle to a file with --bundle OUT, or drop --output json")
	}
	// Everything the user gave is read and checked before any token is
	// looked for or any service contacted.
	var st *intotov1.Statement
	var predicate *structpb.Struct
	predicateType := o.predicateType
	var err error
	switch {
	case o.statementPath != "":
		if st, err = a.readStatement(ctx, o.statementPath, args); err != nil {
			return err
		}
	case o.predicatePath != "":
		if predicate, predicateType, err = a.readPredicate(o.predicatePath, o.predicateType); err != nil {
			return err
		}
	}
	var subjects []*intotov1.ResourceDescriptor
	if st == nil {
		if subjects, err = o.subjectsOf(ctx, args); err != nil {
			return err
		}
	}
	provEnv := attest.ProvenanceOptions{Env: os.Environ()}
	if o.provenance {
		// Check the CI environment before a token is looked for or a
		// password asked; with a token, its claims are used below.
		if predicate, err = ciProvenance(provEnv, ""); err != nil {
			return err
		}
		predicateType = attest.TypeSLSAProvenance1
	}
	bundlePath, name := o.bundlePath, ""
	if len(args) == 1 {
		name = args[0]
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
	if o.provenance {
		a.verbosef("provenance for %s", attest.DetectCI(provEnv.Env))
	}
	if st == nil {
		if st, err = attest.NewStatement(subjects, predicateType, predicate); err != nil {
			return usageError(err)
		}
	}
	if bundlePath == "" {
		bundlePath = name + "." + bundleKind(st.GetPredicateType()) + ".sigstore.json"
	}
	if bundlePath != "-" {
		if err := checkBundleTarget(bundlePath); err != nil {
			return err
		}
	}
	if name == "" {
		name = st.GetSubject()[0].GetName()
	}
	data, err := attest.MarshalStatement(st)
	if err != nil {
		return err
	}
	job := sign.Job{Path: name, BundlePath: bundlePath, Statement: data}
	if bundlePath == "-" {
		job.BundlePath = ""
	}
	res, bundle, err := s.Sign(ctx, job)
	if err != nil {
		return attestError(err)
	}
	switch {
	case bundlePath == "-":
		_, err = a.stdio.Out.Write(bundle)
		return err
	case a.output == "json":
		rep := attestReport{SchemaVersion: attestSchemaVersion, PredicateType: st.GetPredicateType(),
			Type: attest.ShortName(st.GetPredicateType()), Result: res}
		for _, sub := range st.GetSubject() {
			rep.Subjects = append(rep.Subjects, attestSubject{Name: sub.GetName(), Digest: sub.GetDigest()})
		}
		return a.printJSON(rep)
	}
	fmt.Fprintf(a.stdio.Out, "%s\n", attestLine(st, res))
	return nil
}

// attestSchemaVersion is the version of the JSON document attestReport
// encodes.
const attestSchemaVersion = "1"

// attestReport is what 'hallmark attest --output json' prints: the
// statement signed and what signing it made. (It lives here, not in
// pkg/attest, so that pkg/attest does not depend on pkg/sign and
// pkg/verify may use its type table.)
type attestReport struct {
	SchemaVersion string `json:"schemaVersion"`
	// PredicateType is the statement's predicate type, Type its short
	// name ("" for another URI).
	PredicateType string          `json:"predicateType"`
	Type          string          `json:"type,omitempty"`
	Subjects      []attestSubject `json:"subjects"`
	// Result is the signed bundle, as verified before it was written.
	Result *sign.Result `json:"result"`
}

type attestSubject struct {
	Name   string            `json:"name"`
	Digest map[string]string `json:"digest"`
}

// check is the command line's consistency, before anything is read.
func (o *attestOptions) check(args []string) error {
	seen := map[string]bool{}
	for _, arg := range args {
		if arg == "-" {
			return usageError(errors.New("attest hashes files, not standard input (-)"), "save the data to a file first, or attest it by digest with --subject NAME=ALG:HEX")
		}
		if seen[arg] {
			return usageError(fmt.Errorf("%q is given twice", arg))
		}
		seen[arg] = true
	}
	if o.predicatePath != "" && o.predicateType == "" {
		return usageError(errors.New("--predicate needs --type, the predicate's type"), "pass --type NAME or --type URI; 'hallmark attest --help' lists the names")
	}
	if o.provenance && o.predicateType != "" {
		if uri, _ := attest.PredicateType(o.predicateType); uri != attest.TypeSLSAProvenance1 {
			return usageError(fmt.Errorf("--provenance makes %s, but --type is %q", attest.TypeSLSAProvenance1, o.predicateType), "drop --type")
		}
	}
	if o.predicateType != "" {
		if _, ok := attest.PredicateType(o.predicateType); !ok {
			return usageError(fmt.Errorf("--type %q is neither a known type nor an absolute URI", o.predicateType),
				"use one of "+strings.Join(typeNames(), ", ")+", or a URI such as https://example.com/my-predicate/v1")
		}
	}
	if o.statementPath == "" && len(args) == 0 && len(o.subjects) == 0 {
		return usageError(errors.New("nothing to attest: give FILEs or --subject NAME=ALG:HEX"))
	}
	if o.subjectName != "" && (len(args) != 1 || len(o.subjects) > 0) {
		return usageError(errors.New("--subject-name names the subject of exactly one FILE"), "drop --subject-name, or use --subject NAME=ALG:HEX")
	}
	if o.bundlePath == "" && (len(args) != 1 || len(o.subjects) > 0) {
		what := "several subjects"
		if len(args) == 0 {
			what = "no FILE"
		}
		return usageError(fmt.Errorf("--bundle is required with %s: the one statement needs one bundle name", what), "pass --bundle OUT (- for standard output)")
	}
	for _, d := range o.digests {
		if d != attest.SHA256 && d != attest.SHA512 {
			return usageError(fmt.Errorf("--digest %q: want sha512 (sha256 is always recorded)", d))
		}
	}
	return nil
}

func typeNames() []string {
	var names []string
	for _, t := range attest.Types() {
		names = append(names, t.Name)
	}
	return names
}

// readDocument reads a predicate or statement file, or standard input.
// flag is the flag that named it, for the messages.
func (a *app) readDocument(flag, path string) ([]byte, error) {
	var r io.Reader = a.stdio.In
	if path != "-" {
		f, err := attest.OpenRegular(path)
		if errors.Is(err, attest.ErrNotRegularFile) {
			return nil, usageError(fmt.Errorf("%s: %w", flag, err), "save the document to a regular file, or pass - to read standard input")
		}
		if err != nil {
			return nil, err
		}
		defer f.Close()
		r = f
	}
	data, err := io.ReadAll(io.LimitReader(r, attest.MaxDocumentSize+1))
	if err != nil {
		return nil, err
	}
	if len(data) > attest.MaxDocumentSize {
		what := fmt.Sprintf("%s %q", flag, path)
		if path == "-" {
			what = flag + " - (standard input)"
		}
		return nil, usageError(fmt.Errorf("%s is larger than %d bytes, the most a document may be", what, attest.MaxDocumentSize),
			"check that the flag names the JSON document, not the artifact (artifacts are the FILEs)")
	}
	return data, nil
}

func (a *app) readPredicate(path, typ string) (*structpb.Struct, string, error) {
	data, err := a.readDocument("--predicate", path)
	if err != nil {
		return nil, "", err
	}
	p, uri, err := attest.ReadPredicate(typ, data)
	var pe *attest.PredicateError
	if errors.As(err, &pe) {
		hint := "fix the predicate, or pass the --type it is"
		if pe.Field != "" {
			hint = fmt.Sprintf("set %s in %s, or pass the --type it is", pe.Field, path)
		}
		return nil, "", usageError(fmt.Errorf("--predicate %s: %w", path, err), hint)
	}
	return p, uri, err
}

// readStatement reads --statement and checks that each FILE is one of its
// subjects.
func (a *app) readStatement(ctx context.Context, path string, files []string) (*intotov1.Statement, error) {
	data, err := a.readDocument("--statement", path)
	if err != nil {
		return nil, err
	}
	st, err := attest.ParseStatement(data)
	if err != nil {
		return nil, usageError(fmt.Errorf("--statement %s: %w", path, err), "a statement is in-toto Statement v1 JSON: _type, subject, predicateType, predicate")
	}
	algs := []string{}
	for _, sub := range st.GetSubject() {
		for _, alg := range []string{attest.SHA256, attest.SHA512} {
			if _, ok := sub.GetDigest()[alg]; ok && !slices.Contains(algs, alg) {
				algs = append(algs, alg)
			}
		}
	}
	if len(files) > 0 && len(algs) == 0 {
		return nil, usageError(fmt.Errorf("--statement %s: no subject has a sha256 or sha512 digest to compare the FILEs with", path))
	}
	subs, err := hashFiles(ctx, files, "", algs)
	if err != nil {
		return nil, err
	}
	var missing []string
	for i, sub := range subs {
		if !attest.HasSubject(st, sub) {
			missing = append(missing, fmt.Sprintf("%s (%s)", files[i], digestText(sub)))
		}
	}
	if len(missing) > 0 {
		return nil, &cliError{code: ExitRejected, err: fmt.Errorf("not a subject of the statement %s: %s", path, strings.Join(missing, ", ")),
			hints: []string{"the statement's subjects: " + subjectsText(st)}}
	}
	return st, nil
}

func digestText(rd *intotov1.ResourceDescriptor) string {
	if v, ok := rd.GetDigest()[attest.SHA256]; ok {
		return "sha256:" + v
	}
	for alg, v := range rd.GetDigest() {
		return alg + ":" + v
	}
	return ""
}

func subjectsText(st *intotov1.Statement) string {
	var parts []string
	for _, s := range st.GetSubject() {
		parts = append(parts, s.GetName()+" "+digestText(s))
	}
	return strings.Join(parts, ", ")
}

// subjectsOf hashes the FILEs (concurrently) and adds the --subject ones.
func (o *attestOptions) subjectsOf(ctx context.Context, files []string) ([]*intotov1.ResourceDescriptor, error) {
	algs := append([]string{attest.SHA256}, o.digests...)
	subs, err := hashFiles(ctx, files, o.subjectName, algs)
	if err != nil {
		return nil, err
	}
	for _, s := range o.subjects {
		rd, err := attest.ParseSubject(s)
		if err != nil {
			return nil, usageError(fmt.Errorf("--subject: %w", err), "write it NAME=sha256:HEX (64 hex digits)")
		}
		subs = append(subs, rd)
	}
	return subs, nil
}

func hashFiles(ctx context.Context, files []string, name string, algs []string) ([]*intotov1.ResourceDescriptor, error) {
	subs := make([]*intotov1.ResourceDescriptor, len(files))
	g, ctx := errgroup.WithContext(ctx)
	g.SetLimit(4)
	for i, f := range files {
		g.Go(func() error {
			rd, err := attest.HashFile(ctx, f, name, algs...)
			if errors.Is(err, os.ErrNotExist) {
				return withHint(err, "check the file name")
			}
			if errors.Is(err, attest.ErrNotRegularFile) {
				return usageError(err, "attest regular files; save the data to a file first, or attest it by digest with --subject NAME=ALG:HEX")
			}
			subs[i] = rd
			return err
		})
	}
	return subs, g.Wait()
}

// checkBundleTarget refuses, before anything is signed, a bundle path
// that is a directory, a device, a pipe or a socket.
func checkBundleTarget(path string) error {
	if err := atomicfile.CheckTarget(path); err != nil {
		return usageError(fmt.Errorf("--bundle: %w", err), "name a new or regular file with --bundle OUT (- for standard output)")
	}
	return nil
}

func attestError(err error) error {
	if errors.Is(err, sign.ErrBadBundle) {
		return withHint(err, "this is a fault of the Sigstore services (or of a trusted root that does not match them)")
	}
	return signError(err)
}

// attestLine is the one-line summary of a signed attestation.
func attestLine(st *intotov1.Statement, r *sign.Result) string {
	typ := termtext.Quote(st.GetPredicateType())
	if n := attest.ShortName(st.GetPredicateType()); n != "" {
		typ = n + " (" + typ + ")"
	}
	line := signLine(r)
	n := len(st.GetSubject())
	subj := "1 subject"
	if n != 1 {
		subj = fmt.Sprintf("%d subjects", n)
	}
	// "NAME: BUNDLE, ..." -> "NAME: BUNDLE, predicate T, N subjects, ..."
	head, tail, _ := strings.Cut(line, ", ")
	return fmt.Sprintf("%s, predicate %s, %s, %s", head, typ, subj, tail)
}

// ciProvenance is the SLSA provenance of the CI job hallmark runs in, from
// its environment and, when token is an identity token, the token's claims
// (which win over the environment).
func ciProvenance(env attest.ProvenanceOptions, token string) (*structpb.Struct, error) {
	if token != "" {
		if c, err := oidc.ParseToken(token); err == nil {
			env.Claims = c.All
		}
	}
	p, err := attest.Provenance(env)
	if err != nil {
		return nil, withHint(err, "run in the CI job itself, or pass a predicate with --predicate FILE --type slsaprovenance1")
	}
	return p, nil
}
