package oidc

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"time"

	"github.com/sigstore/sigstore/pkg/oauthflow"

	"github.com/hallmark-dev/hallmark/internal/ctxio"
)

// Defaults of the interactive flow: the public-good Sigstore issuer.
const (
	DefaultIssuer   = "https://oauth2.sigstore.dev/auth"
	DefaultClientID = "sigstore"
)

// Errors for errors.Is.
var (
	// ErrNoToken: no source had a token and no interactive flow could run.
	ErrNoToken = errors.New("no identity token")
	// ErrSource: a source exists but failed (a CI token request, a file).
	ErrSource = errors.New("identity token source failed")
)

// Source names, as Token.Source reports them.
const (
	SourceFlag        = "--identity-token"
	SourceEnv         = "SIGSTORE_ID_TOKEN"
	SourceGitLab      = "GitLab CI (SIGSTORE_ID_TOKEN)"
	SourceGitHub      = "GitHub Actions"
	SourceBuildkite   = "Buildkite"
	SourceCircleCI    = "CircleCI"
	SourceInteractive = "interactive login"
	SourceDeviceFlow  = "device flow login"
)

// Options say where a token may come from.
type Options struct {
	// Token is --identity-token: the token itself, or @FILE to read it
	// from FILE.
	Token string
	// DisableAmbient skips the CI systems' ambient credentials.
	DisableAmbient bool
	// Interactive allows a login flow (standard input and error are a
	// terminal).
	Interactive bool
	// DeviceFlow uses the device authorization flow instead of a browser.
	DeviceFlow bool
	// Issuer and ClientID of the interactive flow (defaults DefaultIssuer,
	// DefaultClientID).
	Issuer, ClientID string
	// Prompt is where the interactive flows talk to the user.
	Prompt io.Writer
	// Getenv reads the environment (default os.Getenv).
	Getenv func(string) string
	// HTTPClient makes the GitHub Actions request (default: 30s timeout).
	HTTPClient *http.Client
}

// Token is an identity token and where it came from.
type Token struct {
	Raw    string
	Source string
}

// Claims parses the token's claims (unverified).
func (t *Token) Claims() (*Claims, error) { return ParseToken(t.Raw) }

// Get returns the first token found, in order: Options.Token,
// SIGSTORE_ID_TOKEN, ambient CI credentials (unless disabled), then an
// interactive login (when allowed). No token at all is ErrNoToken.
func Get(ctx context.Context, o Options) (*Token, error) {
	if o.Getenv == nil {
		o.Getenv = os.Getenv
	}
	if o.Token != "" {
		raw, err := readFlag(ctx, o.Token)
		if err != nil {
			return nil, err
		}
		return &Token{Raw: raw, Source: SourceFlag}, nil
	}
	if v := strings.TrimSpace(o.Getenv("SIGSTORE_ID_TOKEN")); v != "" {
		src := SourceEnv
		if o.Getenv("GITLAB_CI") != "" {
			src = SourceGitLab
		}
		return &Token{Raw: v, Source: src}, nil
	}
	if !o.DisableAmbient {
		if t, err := ambient(ctx, o); t != nil || err != nil {
			return t, err
		}
	}
	if o.Interactive {
		return interactive(ctx, o)
	}
	return nil, ErrNoToken
}

// readFlag reads --identity-token: @FILE or the token itself. FILE may be
// a pipe (@/dev/stdin, @<(command)): the read stops with ctx, and is
// bounded (a little above maxTokenSize, for surrounding whitespace).
func readFlag(ctx context.Context, v string) (string, error) {
	if name, ok := strings.CutPrefix(v, "@"); ok {
		data, err := ctxio.ReadFile(ctx, name, 2*maxTokenSize)
		if err != nil {
			return "", fmt.Errorf("%w: reading the identity token: %w", ErrSource, err)
		}
		tok := strings.TrimSpace(string(data))
		if tok == "" {
			return "", fmt.Errorf("%w: identity token file %s is empty", ErrSource, name)
		}
		return tok, nil
	}
	return strings.TrimSpace(v), nil
}

// ambient tries the CI systems whose environment is present. A CI system
// that is detected but fails is an error, not a fall-through: the user
// expects its token.
func ambient(ctx context.Context, o Options) (*Token, error) {
	if u, tok := o.Getenv("ACTIONS_ID_TOKEN_REQUEST_URL"), o.Getenv("ACTIONS_ID_TOKEN_REQUEST_TOKEN"); u != "" && tok != "" {
		raw, err := gitHubToken(ctx, o.HTTPClient, u, tok)
		if err != nil {
			return nil, fmt.Errorf("%w: %s: %w", ErrSource, SourceGitHub, err)
		}
		return &Token{Raw: raw, Source: SourceGitHub}, nil
	}
	if o.Getenv("BUILDKITE") == "true" || o.Getenv("BUILDKITE_AGENT_ACCESS_TOKEN") != "" {
		if path, err := exec.LookPath("buildkite-agent"); err == nil {
			raw, err := buildkiteToken(ctx, path)
			if err != nil {
				return nil, fmt.Errorf("%w: %s: %w", ErrSource, SourceBuildkite, err)
			}
			return &Token{Raw: raw, Source: SourceBuildkite}, nil
		}
	}
	if v := strings.TrimSpace(o.Getenv("CIRCLE_OIDC_TOKEN_V2")); v != "" {
		return &Token{Raw: v, Source: SourceCircleCI}, nil
	}
	return nil, nil
}

// gitHubToken asks the GitHub Actions token service for a token with
// audience sigstore (the job needs permissions id-token: write).
func gitHubToken(ctx context.Context, client *http.Client, requestURL, bearer string) (string, error) {
	u, err := url.Parse(requestURL)
	if err != nil {
		return "", fmt.Errorf("ACTIONS_ID_TOKEN_REQUEST_URL: %w", err)
	}
	q := u.Query()
	q.Set("audience", Audience)
	u.RawQuery = q.Encode()
	if client == nil {
		client = &http.Client{Timeout: 30 * time.Second}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return "", err
	}
	req.Header.Set("Authorization", "bearer "+bearer)
	req.Header.Set("Accept", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return "", err
	}
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("token request to %s returned HTTP %d: %s", u.Host, resp.StatusCode, strings.TrimSpace(string(body)))
	}
	var v struct {
		Value string `json:"value"`
	}
	if err := json.Unmarshal(body, &v); err != nil || v.Value == "" {
		return "", fmt.Errorf("token response from %s has no token (want {\"value\": ...})", u.Host)
	}
	return v.Value, nil
}

// buildkiteToken runs `buildkite-agent oidc request-token --audience sigstore`.
func buildkiteToken(ctx context.Context, agent string) (string, error) {
	cmd := exec.CommandContext(ctx, agent, "oidc", "request-token", "--audience", Audience)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("buildkite-agent oidc request-token: %w: %s", err, strings.TrimSpace(stderr.String()))
	}
	tok := strings.TrimSpace(stdout.String())
	if tok == "" {
		return "", errors.New("buildkite-agent oidc request-token printed no token")
	}
	return tok, nil
}

// interactive logs in through a browser (loopback redirect, PKCE) or the
// device flow, with sigstore's oauthflow.
func interactive(ctx context.Context, o Options) (*Token, error) {
	issuer, clientID := o.Issuer, o.ClientID
	if issuer == "" {
		issuer = DefaultIssuer
	}
	if clientID == "" {
		clientID = DefaultClientID
	}
	prompt := o.Prompt
	if prompt == nil {
		prompt = io.Discard
	}
	var getter oauthflow.TokenGetter
	src := SourceInteractive
	if o.DeviceFlow {
		d := oauthflow.NewDeviceFlowTokenGetterForIssuer(issuer)
		d.MessagePrinter = func(s string) { fmt.Fprintln(prompt, s) }
		getter, src = d, SourceDeviceFlow
	} else {
		getter = &oauthflow.InteractiveIDTokenGetter{
			HTMLPage: oauthflow.DefaultIDTokenGetter.HTMLPage,
			Output:   prompt,
		}
	}
	// The login waits on a person and a browser, and oauthflow takes no
	// context: on ctx's end the flow is abandoned (its local server goes
	// with the process).
	type result struct {
		tok *oauthflow.OIDCIDToken
		err error
	}
	done := make(chan result, 1)
	go func() {
		tok, err := oauthflow.OIDConnect(issuer, clientID, "", "", getter)
		done <- result{tok, err}
	}()
	var r result
	select {
	case r = <-done:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	tok, err := r.tok, r.err
	if err != nil {
		return nil, fmt.Errorf("%w: %s with %s: %w", ErrSource, src, issuer, err)
	}
	return &Token{Raw: tok.RawString, Source: src}, nil
}
