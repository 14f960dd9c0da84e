package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/sigstore/sigstore-go/pkg/root"
	"github.com/spf13/cobra"

	"github.com/hallmark-dev/hallmark/internal/oidc"
	"github.com/hallmark-dev/hallmark/internal/trust"
	"github.com/hallmark-dev/hallmark/pkg/sign"
	"github.com/hallmark-dev/hallmark/pkg/verify"
)

// signOptions are the sign command's flags, bound in one place.
type signOptions struct {
	bundlePath string
	inToto     bool

	keyPath string

	identityToken      string
	oidcIssuer         string
	oidcClientID       string
	oidcDeviceFlow     bool
	oidcDisableAmbient bool

	signingConfig string
	fulcioURL     string
	rekorURL      string
	rekorVersion  uint32
	timestampURL  string
	tlogUpload    bool
	timestamp     bool

	trust trustFlags
}

func (a *app) signCommand() *cobra.Command {
	o := &signOptions{}
	cmd := &cobra.Command{
		Use:   "sign [flags] FILE...",
		Short: "Sign files into Sigstore bundles, keyless or with a key",
		Long: `Sign each FILE and write its Sigstore bundle (v0.3) to FILE.sigstore.json, or to
--bundle OUT for one file (- for standard output). Bundles are written
atomically: an existing bundle is replaced whole or not at all, and nothing is
left behind on failure.

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
	f.StringVar(&o.keyPath, "key", "", "sign with this PEM private key `FILE` instead of keyless")
	f.StringVar(&o.identityToken, "identity-token", "", "the OIDC identity `TOKEN`, or @FILE to read it from FILE")
	f.StringVar(&o.oidcIssuer, "oidc-issuer", "", "OIDC issuer `URL` of the interactive login (default: the signing config's)")
	f.StringVar(&o.oidcClientID, "oidc-client-id", oidc.DefaultClientID, "OIDC client `ID` of the interactive login")
	f.BoolVar(&o.oidcDeviceFlow, "oidc-device-flow", false, "log in with the device flow (a code to enter on another device)")
	f.BoolVar(&o.oidcDisableAmbient, "oidc-disable-ambient-providers", false, "ignore CI systems' ambient identity tokens")
	f.StringVar(&o.signingConfig, "signing-config", "", "Sigstore signing_config.json `FILE` naming the services (default: the public-good one, through TUF)")
	f.StringVar(&o.fulcioURL, "fulcio-url", "", "Fulcio `URL` (overrides the signing config)")
	f.StringVar(&o.rekorURL, "rekor-url", "", "Rekor `URL` (overrides the signing config)")
	f.Uint32Var(&o.rekorVersion, "rekor-version", 0, "Rekor API `VERSION`, 1 or 2 (default: the signing config's newest; 1 with --rekor-url)")
	f.StringVar(&o.timestampURL, "timestamp-url", "", "RFC 3161 timestamp authority `URL` (overrides the signing config)")
	f.BoolVar(&o.tlogUpload, "tlog-upload", true, "record the signature in the transparency log (false: --key only)")
	f.BoolVar(&o.timestamp, "timestamp", true, "get RFC 3161 timestamps from the signing config's TSAs (false: --key only)")
	o.trust.bind(f)
	for _, id := range []string{"identity-token", "oidc-issuer", "oidc-client-id", "oidc-device-flow", "oidc-disable-ambient-providers", "fulcio-url"} {
		cmd.MarkFlagsMutuallyExclusive("key", id)
	}
	return cmd
}

func (a *app) runSign(ctx context.Context, o *signOptions, args []string) error {
	jobs, err := o.jobs(args)
	if err != nil {
		return err
	}
	if o.bundlePath == "-" && a.output == "json" {
		return usageError(errors.New("--bundle - writes the bundle to standard output, which --output json needs for the report"),
			"write the bundle to a file with --bundle OUT, or drop --output json")
	}
	keyMode := o.keyPath != ""
	if !keyMode && (!o.tlogUpload || !o.timestamp) {
		return usageError(errors.New("--tlog-upload=false and --timestamp=false need --key: a Fulcio certificate lives minutes and needs a logged or timestamped signing time"))
	}
	if o.rekorVersion != 0 && o.rekorVersion != 1 && o.rekorVersion != 2 {
		return usageError(fmt.Errorf("--rekor-version %d: want 1 or 2", o.rekorVersion))
	}
	if !o.tlogUpload && (o.rekorURL != "" || o.rekorVersion != 0) {
		return usageError(errors.New("--rekor-url and --rekor-version contradict --tlog-upload=false"))
	}
	if !o.timestamp && o.timestampURL != "" {
		return usageError(errors.New("--timestamp-url contradicts --timestamp=false"))
	}
	needServices := !keyMode || o.tlogUpload || o.timestamp
	if o.trust.offline && needServices {
		return usageError(errors.New("--offline signs only with --key and no services"),
			"pass --tlog-upload=false --timestamp=false with --key, or drop --offline")
	}
	overrides := sign.Overrides{
		FulcioURL: o.fulcioURL, RekorURL: o.rekorURL, RekorVersion: o.rekorVersion,
		TimestampURL: o.timestampURL, OIDCIssuer: o.oidcIssuer,
		NoTlog: !o.tlogUpload, NoTimestamp: !o.timestamp,
	}
	opts := sign.Options{Retries: 2}
	if _, interactive := a.terminalFD(); !keyMode && !interactive {
		// Without a terminal the token comes from flags or the
		// environment: look for it before contacting any service.
		if opts.IDToken, err = a.identityToken(ctx, o, ""); err != nil {
			return err
		}
	}
	if needServices {
		sc, err := a.signingConfig(ctx, o, keyMode)
		if err != nil {
			return err
		}
		if opts.Services, err = sign.SelectServices(sc, overrides, time.Now()); err != nil {
			if errors.Is(err, sign.ErrBadOverride) {
				return usageError(err)
			}
			return withHint(err, "pass another --signing-config, or name the services with --fulcio-url, --rekor-url, --timestamp-url")
		}
		r, err := a.loadTrust(ctx, &o.trust)
		if err != nil {
			return err
		}
		opts.TrustedRoot = r.Trusted
	}
	a.verbosef("services: fulcio %q rekor %v tsa %v", opts.Services.Fulcio, opts.Services.Rekor, opts.Services.TSA)

	if keyMode {
		if opts.Key, err = a.readPrivateKey(o.keyPath); err != nil {
			return err
		}
	} else if opts.IDToken == "" {
		tok, err := a.identityToken(ctx, o, opts.Services.OIDCIssuer)
		if err != nil {
			return err
		}
		opts.IDToken = tok
	}
	s, err := sign.New(ctx, opts)
	if err != nil {
		return signError(err)
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

// signingConfig loads --signing-config, else the public-good config from
// the TUF cache (refreshed as the trust root is), unless the overrides name
// every service needed.
func (a *app) signingConfig(ctx context.Context, o *signOptions, keyMode bool) (*root.SigningConfig, error) {
	if o.signingConfig != "" {
		sc, err := root.NewSigningConfigFromPath(o.signingConfig)
		if err != nil {
			return nil, fmt.Errorf("reading signing config %s: %w", o.signingConfig, err)
		}
		return sc, nil
	}
	tlogDone := !o.tlogUpload || o.rekorURL != ""
	tsaDone := !o.timestamp || o.timestampURL != ""
	if (keyMode || o.fulcioURL != "") && tlogDone && tsaDone {
		return nil, nil
	}
	topts, err := (&trustFlags{offline: o.trust.offline, mirror: o.trust.mirror, tufRoot: o.trust.tufRoot}).options()
	if err != nil {
		return nil, err
	}
	if _, err := a.loadTrust(ctx, &trustFlags{offline: o.trust.offline, mirror: o.trust.mirror, tufRoot: o.trust.tufRoot}); err != nil {
		return nil, err
	}
	data, err := trust.SigningConfig(topts)
	if err != nil {
		return nil, withHint(fmt.Errorf("no signing config: %w", err),
			"pass --signing-config FILE, or run 'hallmark trust update' to fetch the public-good one")
	}
	sc, err := root.NewSigningConfigFromJSON(data)
	if err != nil {
		return nil, fmt.Errorf("parsing the cached signing config: %w", err)
	}
	return sc, nil
}

// identityToken finds the identity token and, on a terminal, shows whose
// it is before anything is signed.
func (a *app) identityToken(ctx context.Context, o *signOptions, issuer string) (string, error) {
	_, interactive := a.terminalFD()
	tok, err := oidc.Get(ctx, oidc.Options{
		Token:          o.identityToken,
		DisableAmbient: o.oidcDisableAmbient,
		Interactive:    interactive,
		DeviceFlow:     o.oidcDeviceFlow,
		Issuer:         issuer,
		ClientID:       o.oidcClientID,
		Prompt:         a.stdio.Err,
	})
	if errors.Is(err, oidc.ErrNoToken) {
		return "", withHint(errors.New("keyless signing needs an OIDC identity token, and none was found (no terminal for a login)"),
			"pass --identity-token TOKEN (or @FILE), set SIGSTORE_ID_TOKEN, run in CI with OIDC tokens enabled (GitHub Actions: permissions: id-token: write), or sign with --key FILE")
	}
	if err != nil {
		return "", err
	}
	c, perr := tok.Claims()
	if perr != nil {
		return "", withHint(fmt.Errorf("identity token from %s: %w", tok.Source, perr), "an identity token is a JWT: three base64url parts separated by dots")
	}
	if interactive {
		fmt.Fprintf(a.stdio.Err, "hallmark: signing as %s (issuer %s, token from %s)\n", c.Identity(), c.Issuer, tok.Source)
	} else {
		a.verbosef("signing as %s (issuer %s, token from %s)", c.Identity(), c.Issuer, tok.Source)
	}
	return tok.Raw, nil
}

// signError attaches hints to errors that stop the whole run.
func signError(err error) error {
	var se *sign.ServiceError
	switch {
	case errors.As(err, &se) && se.TokenProblem != "":
		return withHint(err, "get a fresh identity token for audience \"sigstore\"")
	case errors.As(err, &se):
		return withHint(err, "check the service URL and the network; --verbose shows the services chosen")
	case errors.Is(err, sign.ErrConfig):
		return withHint(err, "check --signing-config and the service flags")
	}
	return err
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
				a.hintf("this is a fault of the Sigstore services (or of a trusted root that does not match them), not of %s", out.Result.Artifact)
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
	fmt.Fprintf(&b, "%s: %s", r.Artifact, r.Bundle)
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
	return fmt.Sprintf("identity %s (issuer %s)", s.SAN, s.Issuer)
}
