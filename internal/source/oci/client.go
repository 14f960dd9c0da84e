package oci

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"oras.land/oras-go/v2/registry/remote/auth"
)

// Options configure a Client.
type Options struct {
	// Username and Password, when Username is set, are the credentials for
	// every registry; otherwise Keychain (default: go-containerregistry's
	// default keychain, the Docker config and its credential helpers)
	// finds them per registry.
	Username, Password string
	Keychain           authn.Keychain
	// AllowInsecure permits plain HTTP to loopback registries (the
	// references must be parsed with allowInsecure too).
	AllowInsecure bool
	// Transport is the HTTP transport (default http.DefaultTransport).
	Transport http.RoundTripper
	// UserAgent is sent with every request.
	UserAgent string
	// ResponseTimeout bounds the wait for a response's headers, with the
	// default transport (default one minute), and, with any transport, the
	// wait for each next piece of a response body; a whole body must
	// arrive within five times it.
	ResponseTimeout time.Duration
}

// Client talks to registries. It is safe for concurrent use, and reuses
// one connection pool and one token exchange per registry.
type Client struct {
	o         Options
	transport http.RoundTripper

	oras *auth.Client

	mu      sync.Mutex
	pullers map[string]*remote.Puller
	// emptyConfig holds the repositories known to have the empty config
	// blob, which every referrer manifest names.
	emptyConfig sync.Map
}

// New builds a Client. It contacts nothing.
func New(o Options) *Client {
	if o.Keychain == nil {
		o.Keychain = authn.DefaultKeychain
	}
	if o.ResponseTimeout <= 0 {
		o.ResponseTimeout = time.Minute
	}
	base := o.Transport
	if base == nil {
		// A registry that accepts the connection and then says nothing
		// must not hang hallmark.
		t := http.DefaultTransport.(*http.Transport).Clone()
		t.ResponseHeaderTimeout = o.ResponseTimeout
		t.TLSHandshakeTimeout = 30 * time.Second
		base = t
	}
	// Nor one that sends the headers and then the body byte by byte.
	base = &bodyTimeouts{base: base, idle: o.ResponseTimeout, total: 5 * o.ResponseTimeout}
	c := &Client{o: o, transport: &httpsOnly{base: base, allowPlain: o.AllowInsecure}, pullers: map[string]*remote.Puller{}}
	c.oras = &auth.Client{
		Client:     &http.Client{Transport: c.transport},
		Cache:      auth.NewCache(),
		Credential: c.orasCredential,
	}
	if o.UserAgent != "" {
		c.oras.SetUserAgent(o.UserAgent)
	}
	return c
}

// httpsOnly upgrades every plain HTTP request to HTTPS, except to a
// loopback host when plain HTTP is allowed. go-containerregistry picks plain
// HTTP by itself for localhost and private (RFC 1918) addresses; credentials
// must not travel that way unasked.
type httpsOnly struct {
	base       http.RoundTripper
	allowPlain bool
}

func (t *httpsOnly) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.URL.Scheme == "http" && !(t.allowPlain && IsLoopback(req.URL.Host)) {
		r := req.Clone(req.Context())
		r.URL.Scheme = "https"
		return t.base.RoundTrip(r)
	}
	return t.base.RoundTrip(req)
}

func (c *Client) authenticator(ctx context.Context, reg name.Registry) (authn.Authenticator, error) {
	if c.o.Username != "" {
		return authn.FromConfig(authn.AuthConfig{Username: c.o.Username, Password: c.o.Password}), nil
	}
	return authn.Resolve(ctx, c.o.Keychain, reg)
}

// puller is the registry's go-containerregistry puller, made once.
func (c *Client) puller(ctx context.Context, ref Reference) (*remote.Puller, error) {
	reg := ref.ref.Context().Registry
	c.mu.Lock()
	defer c.mu.Unlock()
	if p, ok := c.pullers[reg.RegistryStr()]; ok {
		return p, nil
	}
	a, err := c.authenticator(ctx, reg)
	if err != nil {
		return nil, &Error{Op: "finding credentials for", Ref: reg.RegistryStr(), Kind: ErrAuth, Err: err}
	}
	opts := []remote.Option{remote.WithTransport(c.transport), remote.WithAuth(a)}
	if c.o.UserAgent != "" {
		opts = append(opts, remote.WithUserAgent(c.o.UserAgent))
	}
	p, err := remote.NewPuller(opts...)
	if err != nil {
		return nil, wrap("connecting to", reg.RegistryStr(), err)
	}
	c.pullers[reg.RegistryStr()] = p
	return p, nil
}

// orasCredential hands oras-go the same credentials go-containerregistry
// uses: the static ones, or the keychain's for the registry.
func (c *Client) orasCredential(ctx context.Context, hostport string) (auth.Credential, error) {
	reg, err := name.NewRegistry(hostport)
	if err != nil {
		return auth.EmptyCredential, err
	}
	a, err := c.authenticator(ctx, reg)
	if err != nil {
		return auth.EmptyCredential, err
	}
	cfg, err := authn.Authorization(ctx, a)
	if err != nil {
		return auth.EmptyCredential, err
	}
	if cfg == nil || (*cfg == authn.AuthConfig{}) {
		return auth.EmptyCredential, nil
	}
	if cfg.Auth != "" && cfg.Username == "" {
		return auth.EmptyCredential, errors.New("the Docker config holds an 'auth' entry that go-containerregistry did not decode")
	}
	return auth.Credential{Username: cfg.Username, Password: cfg.Password, RefreshToken: cfg.IdentityToken, AccessToken: cfg.RegistryToken}, nil
}

func errf(op string, ref Reference, kind error, format string, args ...any) error {
	return &Error{Op: op, Ref: ref.Arg, Kind: kind, Err: fmt.Errorf(format, args...)}
}
