package npm

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
)

// The errors of FetchDocument, by what the registry said.
var (
	// ErrNoAttestations: the registry has no attestations for the
	// version (HTTP 404): it was published without provenance.
	ErrNoAttestations = errors.New("no attestations")
	// ErrRegistry: the registry did not answer with a document.
	ErrRegistry = errors.New("registry error")
	// ErrUnavailable wraps ErrRegistry when the registry could not be
	// reached, timed out, or answered 429 or 5xx: it is failing as a
	// whole, not for this package, and a caller fetching many packages
	// may stop.
	ErrUnavailable = fmt.Errorf("%w: unavailable", ErrRegistry)
)

// Client fetches attestations documents from a registry.
type Client struct {
	// HTTP is the client to use (default http.DefaultClient).
	HTTP *http.Client
	// Registry is the registry's base URL (default DefaultRegistry).
	Registry string
	// UserAgent is sent with each request.
	UserAgent string
}

// AttestationsURL is where the registry serves p's attestations document:
// REGISTRY/-/npm/v1/attestations/NAME@VERSION, the scope's slash escaped.
func (c *Client) AttestationsURL(p Package) string {
	reg := strings.TrimRight(c.Registry, "/")
	if reg == "" {
		reg = DefaultRegistry
	}
	return reg + "/-/npm/v1/attestations/" + url.PathEscape(p.Name) + "@" + url.PathEscape(p.Version)
}

// errDowngrade is the redirect of an https registry to plain HTTP, where
// anyone on the way could answer 404 for every package.
var errDowngrade = errors.New("redirected from https to plain HTTP")

// httpClient is c.HTTP (or http.DefaultClient) refusing, besides what its
// CheckRedirect refuses, a redirect from https to plain HTTP.
func (c *Client) httpClient() *http.Client {
	hc := http.DefaultClient
	if c.HTTP != nil {
		hc = c.HTTP
	}
	cp := *hc
	cp.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if req.URL.Scheme != "https" && via[0].URL.Scheme == "https" {
			return fmt.Errorf("%w (%s)", errDowngrade, req.URL.Redacted())
		}
		if hc.CheckRedirect != nil {
			return hc.CheckRedirect(req, via)
		}
		if len(via) >= 10 {
			return errors.New("stopped after 10 redirects")
		}
		return nil
	}
	return &cp
}

// FetchDocument downloads p's attestations document, reading at most
// MaxDocumentSize bytes, and checks that it parses. A version without
// attestations is ErrNoAttestations; any other failure wraps ErrRegistry
// (or is ctx's error), a redirect from https to plain HTTP too; a registry
// that is unreachable, times out or answers 429 or 5xx, ErrUnavailable.
func (c *Client) FetchDocument(ctx context.Context, p Package) ([]byte, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	u := c.AttestationsURL(p)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrRegistry, err)
	}
	req.Header.Set("Accept", "application/json")
	if c.UserAgent != "" {
		req.Header.Set("User-Agent", c.UserAgent)
	}
	resp, err := c.httpClient().Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		if errors.Is(err, errDowngrade) {
			return nil, fmt.Errorf("%w: %s: %v", ErrRegistry, u, err)
		}
		return nil, fmt.Errorf("%w: %s: %v", ErrUnavailable, u, err)
	}
	defer resp.Body.Close()
	switch {
	case resp.StatusCode == http.StatusNotFound:
		return nil, fmt.Errorf("%w for %s (%s: 404)", ErrNoAttestations, p, u)
	case resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500:
		msg := fmt.Sprintf("HTTP %d", resp.StatusCode)
		if ra := resp.Header.Get("Retry-After"); ra != "" && len(ra) < 64 {
			msg += fmt.Sprintf(", retry after %q", ra)
		}
		return nil, fmt.Errorf("%w: %s: %s", ErrUnavailable, u, msg)
	case resp.StatusCode != http.StatusOK:
		return nil, fmt.Errorf("%w: %s: HTTP %d", ErrRegistry, u, resp.StatusCode)
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, MaxDocumentSize+1))
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, fmt.Errorf("%w: %s: %v", ErrUnavailable, u, err)
	}
	if len(data) > MaxDocumentSize {
		return nil, fmt.Errorf("%w: %s: the document is larger than %d bytes", ErrRegistry, u, MaxDocumentSize)
	}
	if _, err := ParseDocument(data); err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrRegistry, u, err)
	}
	return data, nil
}
