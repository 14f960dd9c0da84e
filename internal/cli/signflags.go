package cli

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/sigstore/sigstore-go/pkg/root"
	"github.com/spf13/cobra"

	"github.com/hallmark-dev/hallmark/internal/ctxio"
	"github.com/hallmark-dev/hallmark/internal/oidc"
	"github.com/hallmark-dev/hallmark/internal/termtext"
	"github.com/hallmark-dev/hallmark/internal/trust"
	"github.com/hallmark-dev/hallmark/pkg/sign"
)

// signFlags are the flags of every command that signs (sign, attest,
// attest run): the key or the identity token, the services and the trust
// root. They turn into one sign.Signer with newSigner.
type signFlags struct {
	keyPath string
	keyFlag string // the key's flag, "--key" unless bindSigning named another

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

func (o *signFlags) bind(cmd *cobra.Command) {
	o.bindSigning(cmd, "key", "sign with this PEM private key `FILE` instead of keyless")
	o.trust.bind(cmd.Flags())
}

// bindSigning binds the signing flags but the trust root's, for a command
// that binds the trust flags itself (and copies them into o.trust before
// newSigner): the private key as keyFlag, or, with keyUsage "", a keyFlag
// the command already binds (its value is copied into o.keyPath).
func (o *signFlags) bindSigning(cmd *cobra.Command, keyFlag, keyUsage string) {
	f := cmd.Flags()
	o.keyFlag = "--" + keyFlag
	if keyUsage != "" {
		f.StringVar(&o.keyPath, keyFlag, "", keyUsage)
	}
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
	f.BoolVar(&o.tlogUpload, "tlog-upload", true, "record the signature in the transparency log (false: "+o.keyFlag+" only)")
	f.BoolVar(&o.timestamp, "timestamp", true, "get RFC 3161 timestamps from the signing config's TSAs (false: "+o.keyFlag+" only)")
	for _, id := range []string{"identity-token", "oidc-issuer", "oidc-client-id", "oidc-device-flow", "oidc-disable-ambient-providers", "fulcio-url"} {
		cmd.MarkFlagsMutuallyExclusive(keyFlag, id)
	}
}

// keyFlagName is the private key's flag, for the messages.
func (o *signFlags) keyFlagName() string {
	if o.keyFlag == "" {
		return "--key"
	}
	return o.keyFlag
}

// newSigner checks the signing flags and builds the signer: the services
// from the signing config, the trust root, and the key or identity token
// (returned too, for what the token's claims say).
func (a *app) newSigner(ctx context.Context, o *signFlags) (*sign.Signer, string, error) {
	keyMode := o.keyPath != ""
	if !keyMode && (!o.tlogUpload || !o.timestamp) {
		return nil, "", usageError(fmt.Errorf("--tlog-upload=false and --timestamp=false need %s: a Fulcio certificate lives minutes and needs a logged or timestamped signing time", o.keyFlagName()))
	}
	if o.rekorVersion != 0 && o.rekorVersion != 1 && o.rekorVersion != 2 {
		return nil, "", usageError(fmt.Errorf("--rekor-version %d: want 1 or 2", o.rekorVersion))
	}
	if !o.tlogUpload && (o.rekorURL != "" || o.rekorVersion != 0) {
		return nil, "", usageError(errors.New("--rekor-url and --rekor-version contradict --tlog-upload=false"))
	}
	if !o.timestamp && o.timestampURL != "" {
		return nil, "", usageError(errors.New("--timestamp-url contradicts --timestamp=false"))
	}
	needServices := !keyMode || o.tlogUpload || o.timestamp
	if o.trust.offline && needServices {
		return nil, "", usageError(fmt.Errorf("--offline signs only with %s and no services", o.keyFlagName()),
			fmt.Sprintf("pass --tlog-upload=false --timestamp=false with %s, or drop --offline", o.keyFlagName()))
	}
	overrides := sign.Overrides{
		FulcioURL: o.fulcioURL, RekorURL: o.rekorURL, RekorVersion: o.rekorVersion,
		TimestampURL: o.timestampURL, OIDCIssuer: o.oidcIssuer,
		NoTlog: !o.tlogUpload, NoTimestamp: !o.timestamp,
	}
	opts := sign.Options{Retries: 2}
	var err error
	if _, interactive := a.terminalFD(); !keyMode && !interactive {
		// Without a terminal the token comes from flags or the
		// environment: look for it before contacting any service.
		if opts.IDToken, err = a.identityToken(ctx, o, ""); err != nil {
			return nil, "", err
		}
	}
	if needServices {
		sc, err := a.signingConfig(ctx, o, keyMode)
		if err != nil {
			return nil, "", err
		}
		if opts.Services, err = sign.SelectServices(sc, overrides, time.Now()); err != nil {
			if errors.Is(err, sign.ErrBadOverride) {
				return nil, "", usageError(err)
			}
			return nil, "", withHint(err, "pass another --signing-config, or name the services with --fulcio-url, --rekor-url, --timestamp-url")
		}
		r, err := a.loadTrust(ctx, &o.trust)
		if err != nil {
			return nil, "", err
		}
		opts.TrustedRoot = r.Trusted
	}
	a.verbosef("services: fulcio %q rekor %v tsa %v", opts.Services.Fulcio, opts.Services.Rekor, opts.Services.TSA)

	if keyMode {
		if opts.Key, err = a.readPrivateKey(ctx, o.keyPath); err != nil {
			return nil, "", err
		}
	} else if opts.IDToken == "" {
		tok, err := a.identityToken(ctx, o, opts.Services.OIDCIssuer)
		if err != nil {
			return nil, "", err
		}
		opts.IDToken = tok
	}
	s, err := sign.New(ctx, opts)
	if err != nil {
		return nil, "", signError(err)
	}
	return s, opts.IDToken, nil
}

// signingConfig loads --signing-config, else the public-good config from
// the TUF cache (refreshed as the trust root is), unless the overrides name
// every service needed.
func (a *app) signingConfig(ctx context.Context, o *signFlags, keyMode bool) (*root.SigningConfig, error) {
	if o.signingConfig != "" {
		// Bounded and with ctx: --signing-config /dev/zero was read until
		// memory ran out, a named pipe waited through Ctrl-C.
		data, err := ctxio.ReadFile(ctx, o.signingConfig, 1<<20)
		if err != nil {
			return nil, fmt.Errorf("reading signing config %s: %w", o.signingConfig, err)
		}
		sc, err := root.NewSigningConfigFromJSON(data)
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
func (a *app) identityToken(ctx context.Context, o *signFlags, issuer string) (string, error) {
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
		a.diag("", "signing as %s (issuer %s, token from %s)", termtext.Quote(c.Identity()), termtext.Quote(c.Issuer), tok.Source)
	} else {
		a.verbosef("signing as %s (issuer %s, token from %s)", termtext.Quote(c.Identity()), termtext.Quote(c.Issuer), tok.Source)
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
