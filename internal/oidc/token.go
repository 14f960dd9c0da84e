// Package oidc finds the OIDC identity token of a keyless signature: from
// the command line, the environment, the ambient credentials of a CI system
// (GitHub Actions, GitLab CI, Buildkite, CircleCI) or an interactive login,
// in that order. It also reads a token's claims, unverified, to show who is
// about to sign and to explain why a service refused a token; trust in a
// token is Fulcio's business, never this package's.
package oidc

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Audience is the audience Sigstore's Fulcio expects in identity tokens.
const Audience = "sigstore"

// ErrMalformedToken is wrapped by ParseToken's errors.
var ErrMalformedToken = errors.New("malformed identity token")

// maxTokenSize bounds the tokens ParseToken reads.
const maxTokenSize = 64 << 10

// Claims are the claims of an identity token that hallmark shows or
// explains with. They are read without verifying the token.
type Claims struct {
	Issuer    string
	Subject   string
	Email     string
	Audience  []string
	Expiry    time.Time
	NotBefore time.Time
	IssuedAt  time.Time
	// All is every claim of the token, as JSON decoded it (for CI
	// systems' own claims: repository, workflow_ref...).
	All map[string]any
}

// Identity is the identity Fulcio will certify: the email for email
// providers, the subject otherwise.
func (c *Claims) Identity() string {
	if c.Email != "" {
		return c.Email
	}
	return c.Subject
}

// HasAudience reports whether aud is one of the token's audiences.
func (c *Claims) HasAudience(aud string) bool { return slices.Contains(c.Audience, aud) }

// ParseToken reads the claims of a JWT (header.payload.signature) without
// verifying its signature: use them only to explain, never to trust.
func ParseToken(token string) (*Claims, error) {
	token = strings.TrimSpace(token)
	if len(token) > maxTokenSize {
		return nil, fmt.Errorf("%w: longer than %d bytes", ErrMalformedToken, maxTokenSize)
	}
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return nil, fmt.Errorf("%w: a JWT has three dot-separated parts, this has %d", ErrMalformedToken, len(parts))
	}
	payload, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(parts[1], "="))
	if err != nil {
		return nil, fmt.Errorf("%w: payload is not base64url: %w", ErrMalformedToken, err)
	}
	var raw struct {
		Iss   string          `json:"iss"`
		Sub   string          `json:"sub"`
		Email string          `json:"email"`
		Aud   json.RawMessage `json:"aud"`
		Exp   json.Number     `json:"exp"`
		Nbf   json.Number     `json:"nbf"`
		Iat   json.Number     `json:"iat"`
	}
	if err := json.Unmarshal(payload, &raw); err != nil {
		return nil, fmt.Errorf("%w: payload is not a JSON object: %w", ErrMalformedToken, err)
	}
	c := &Claims{Issuer: raw.Iss, Subject: raw.Sub, Email: raw.Email}
	if err := json.Unmarshal(payload, &c.All); err != nil {
		return nil, fmt.Errorf("%w: payload is not a JSON object: %w", ErrMalformedToken, err)
	}
	if len(raw.Aud) > 0 && string(raw.Aud) != "null" {
		var one string
		if err := json.Unmarshal(raw.Aud, &one); err == nil {
			c.Audience = []string{one}
		} else if err := json.Unmarshal(raw.Aud, &c.Audience); err != nil {
			return nil, fmt.Errorf("%w: aud is neither a string nor a list of strings", ErrMalformedToken)
		}
	}
	for _, t := range []struct {
		n   json.Number
		dst *time.Time
	}{{raw.Exp, &c.Expiry}, {raw.Nbf, &c.NotBefore}, {raw.Iat, &c.IssuedAt}} {
		if t.n == "" {
			continue
		}
		f, err := t.n.Float64()
		if err != nil || f < 0 || f > 1<<40 {
			return nil, fmt.Errorf("%w: bad time claim %q", ErrMalformedToken, t.n)
		}
		*t.dst = time.Unix(int64(f), 0).UTC()
	}
	return c, nil
}
