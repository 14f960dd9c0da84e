package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/hallmark-dev/hallmark/internal/termtext"
	"github.com/hallmark-dev/hallmark/pkg/sign"
	"github.com/hallmark-dev/hallmark/pkg/verify"
)

// signOptions are the sign command's flags, bound in one place.
type signOptions struct {
	bundlePath string
	inToto     bool
	oci        ociFlags // oci:// images: oci.go

	signFlags
}

func (a *app) signCommand() *cobra.Command {
	o := &signOptions{}
	cmd := &cobra.Command{
		Use:   "sign [flags] FILE...",
		Short: "Sign files into Sigstore bundles, keyless or with a key",
		Long: `Sign each FILE and write its Sigstore bundle (v0.3) to FILE.sigstore.json, or to
--bundle OUT for one file (- for standard output). Bundles are written
atomically: an existing bundle is replaced whole or not at all, and nothing is
left behind on failure. Each FILE must be a regular file (not a FIFO or a
device); --key may be a pipe.

Keyless (the default): an ephemeral key, made in memory and never written,
certified by Fulcio for your OIDC identity token, which comes from the first
of: --identity-token (the token, or @FILE), SIGSTORE_ID_TOKEN, the ambient
credentials of GitHub Actions (id-token: write), GitLab CI, Buildkite or
CircleCI (unless --oidc-disable-ambient-providers), then a browser login on a
terminal (--oidc-device-flow for a code to type elsewhere). On a terminal the
identity is shown before signing. Several files share one token and one
certificate, and are signed concurrently.

With --key FILE: a PEM private key (PKCS#8, SEC 1, PKCS#1, or an encrypted
cosign key; its password from HALLMARK_PASSWORD, COSIGN_PASSWORD or a prompt).
Ed25519 keys sign the whole file and need --tlog-upload=false.

Services come from the signing config: --signing-config FILE, else the
Sigstore public-good config kept through TUF; --fulcio-url, --rekor-url,
--rekor-version, --timestamp-url and --oidc-issuer override single services.
With a key, --tlog-upload=false and --timestamp=false sign without any service
(then 'hallmark verify --insecure-ignore-tlog' verifies it).

Every bundle is verified against the instance's trust root (--trusted-root,
else the public-good root) before it is written: a service that returns a bad
certificate, log entry or timestamp makes an error, not a bundle.

Exit codes: 0 all signed, 1 could not complete (network, a service refused or
misbehaved, a wrong password), 2 usage error.`,
		Example: `  # keyless, in GitHub Actions (permissions: id-token: write)
  hallmark sign dist/*.tar.gz

  # with a key, nothing sent to any service
  hallmark generate-key-pair
  hallmark sign --key cosign.key --tlog-upload=false --timestamp=false app.tar.gz
  hallmark verify --key cosign.pub --insecure-ignore-tlog app.tar.gz

  # a private instance
  hallmark sign --signing-config signing_config.json --trusted-root trusted_root.json \
    --identity-token @token.txt app.tar.gz`,
		Args: cobra.MinimumNArgs(1),
		RunE: a.runE(func(cmd *cobra.Command, args []string) error {
			return a.runSign(cmd.Context(), o, args)
		}),
	}
	f := cmd.Flags()
	f.StringVar(&o.bundlePath, "bundle", "", "write the bundle to `OUT` (one file only; - for standard output)")
	f.BoolVar(&o.inToto, "in-toto", false, "each FILE is an in-toto statement: sign it as a DSSE envelope")
	o.signFlags.bind(cmd)
	o.oci.bind(cmd, true)
	return cmd
}

func (a *app) runSign(ctx context.Context, o *signOptions, args []string) error {
	if isOCI, err := ociArgs(args); err != nil || isOCI {
		if err != nil {
			return err
		}
		return a.runSignOCI(ctx, o, args)
	}
	if err := o.oci.onlyForImages(); err != nil {
		return err
	}
	jobs, err := o.jobs(args)
	if err != nil {
		return err
	}
	if o.bundlePath == "-" && a.output == "json" {
		return usageError(errors.New("--bundle - writes the bundle to standard output, which --output json needs for the report"),
			"write the bundle to a file with --bundle OUT, or drop --output json")
	}
	s, _, err := a.newSigner(ctx, &o.signFlags)
	if err != nil {
		return err
	}
	outs, err := s.SignAll(ctx, jobs)
	if err != nil {
		return signError(err)
	}
	return a.reportSign(o, outs)
}

// jobs turns the arguments into sign jobs.
func (o *signOptions) jobs(args []string) ([]sign.Job, error) {
	if o.bundlePath != "" && len(args) > 1 {
		return nil, usageError(errors.New("--bundle names the bundle of one file, but several were given"),
			"drop --bundle to write FILE.sigstore.json next to each file")
	}
	seen := map[string]bool{}
	var jobs []sign.Job
	for _, arg := range args {
		if arg == "-" {
			return nil, usageError(errors.New("sign reads files, not standard input (-)"), "save the data to a file first")
		}
		if seen[arg] {
			return nil, usageError(fmt.Errorf("%q is given twice", arg))
		}
		seen[arg] = true
		j := sign.Job{Path: arg, BundlePath: arg + ".sigstore.json", InToto: o.inToto}
		switch o.bundlePath {
		case "":
		case "-":
			j.BundlePath = ""
		default:
			j.BundlePath = o.bundlePath
		}
		jobs = append(jobs, j)
	}
	return jobs, nil
}

// reportSign prints one line per file (or the bundle, or JSON) and returns
// the exit code as an already-reported error when something failed.
func (a *app) reportSign(o *signOptions, outs []sign.Outcome) error {
	report := sign.Report{SchemaVersion: sign.SchemaVersion}
	failed := false
	for _, out := range outs {
		report.Results = append(report.Results, out.Result)
		if out.Err != nil {
			failed = true
			a.errorf("%v", out.Err)
			if errors.Is(out.Err, sign.ErrBadBundle) {
				a.hintf("this is a fault of the Sigstore services (or of a trusted root that does not match them), not of %s", termtext.Quote(out.Result.Artifact))
			} else if errors.Is(out.Err, os.ErrNotExist) {
				a.hintf("check the file name")
			}
			continue
		}
		switch {
		case o.bundlePath == "-":
			if _, err := a.stdio.Out.Write(out.BundleJSON); err != nil {
				return err
			}
		case a.output == "text":
			fmt.Fprintf(a.stdio.Out, "%s\n", signLine(out.Result))
		}
	}
	if a.output == "json" && o.bundlePath != "-" {
		if err := a.printJSON(report); err != nil {
			return err
		}
	}
	if failed {
		return errReported{ExitError}
	}
	return nil
}

// signLine is the one-line summary of a signed file.
func signLine(r *sign.Result) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %s", termtext.Quote(r.Artifact), termtext.Quote(r.Bundle))
	if len(r.TlogEntries) == 0 {
		b.WriteString(", no tlog entry")
	}
	for _, t := range r.TlogEntries {
		id := t.LogID
		if len(id) > 16 {
			id = id[:16]
		}
		fmt.Fprintf(&b, ", tlog index %d (Rekor v%d, log %s)", t.Index, t.RekorVersion, id)
	}
	b.WriteString(", ")
	b.WriteString(signerText(r.Signer))
	return b.String()
}

func signerText(s *verify.Signer) string {
	switch {
	case s == nil:
		return "signed"
	case s.Kind == "key":
		return fmt.Sprintf("key %s (%s)", s.KeyFingerprint, s.KeyType)
	}
	return fmt.Sprintf("identity %s (issuer %s)", termtext.Quote(s.SAN), termtext.Quote(s.Issuer))
}
