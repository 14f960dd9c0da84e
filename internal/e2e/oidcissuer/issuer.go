// Package oidcissuer is a minimal OpenID Connect issuer for the end-to-end
// tests: it mints RS256 ID tokens for whatever identity a test asks for, so
// that a real Fulcio on 127.0.0.1 issues certificates for them. It has no
// users, no login and no secrets worth keeping: never expose it beyond
// loopback.
//
// It serves:
//
//	GET /.well-known/openid-configuration   the discovery document
//	GET /keys                               the JWKS (one RSA-2048 key)
//	GET|POST /token                         a fresh ID token (see [Issuer.ServeHTTP])
//	GET /healthz                            "ok"
package oidcissuer

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math/big"
	"net/http"
	"slices"
	"strings"
	"time"
)

// DefaultAudience is the audience Fulcio expects (its client ID).
const DefaultAudience = "sigstore"

// Claims are the identity claims of a token to mint.
type Claims struct {
	Subject       string        // sub; the email when empty
	Email         string        // email; none when empty
	EmailVerified bool          // email_verified
	Audience      string        // aud; DefaultAudience when empty
	TTL           time.Duration // lifetime from now; negative mints an expired token; 10 minutes when zero
	// Extra are more claims, such as the ones GitHub Actions tokens carry
	// (repository, ref, workflow_ref, sha, run_id...; see GitHubClaims).
	// They cannot replace the claims above or iss, iat, nbf, exp.
	Extra map[string]any
}

// GitHubClaims are the claims a GitHub Actions ID token carries for a run
// of workflow (a path such as .github/workflows/release.yml) of repo
// (OWNER/NAME) at ref, commit sha.
func GitHubClaims(repo, workflow, ref, sha string) map[string]any {
	owner, _, _ := strings.Cut(repo, "/")
	wref := repo + "/" + workflow + "@" + ref
	return map[string]any{
		"repository": repo, "repository_owner": owner, "repository_id": "1000001",
		"repository_owner_id": "2000002", "repository_visibility": "public",
		"ref": ref, "ref_type": "branch", "sha": sha,
		"workflow": "release", "workflow_ref": wref, "workflow_sha": sha,
		"job_workflow_ref": wref, "job_workflow_sha": sha,
		"event_name": "push", "run_id": "3000003", "run_number": "7", "run_attempt": "1",
		"runner_environment": "github-hosted", "actor": "octocat", "actor_id": "4000004",
	}
}

// registered are the claims Mint sets itself.
var registered = []string{"iss", "sub", "aud", "iat", "nbf", "exp", "email", "email_verified"}

// Issuer mints tokens signed by a key generated when it is made.
type Issuer struct {
	url string
	key *rsa.PrivateKey
	kid string
	now func() time.Time
}

var b64 = base64.RawURLEncoding

// New makes an issuer whose tokens name url (http://HOST:PORT, no trailing
// slash) as their issuer.
func New(url string) (*Issuer, error) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, err
	}
	der, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(der)
	return &Issuer{url: strings.TrimRight(url, "/"), key: key, kid: b64.EncodeToString(sum[:8]), now: time.Now}, nil
}

// URL is the issuer URL, the value of the iss claim.
func (i *Issuer) URL() string { return i.url }

// PublicKey is the key that verifies the tokens.
func (i *Issuer) PublicKey() *rsa.PublicKey { return &i.key.PublicKey }

// Mint returns a signed ID token (a compact JWS) with the given claims.
func (i *Issuer) Mint(c Claims) (string, error) {
	now := i.now()
	if c.TTL == 0 {
		c.TTL = 10 * time.Minute
	}
	if c.Audience == "" {
		c.Audience = DefaultAudience
	}
	if c.Subject == "" {
		c.Subject = c.Email
	}
	if c.Subject == "" {
		return "", fmt.Errorf("oidcissuer: a token needs a subject or an email")
	}
	claims := map[string]any{
		"iss": i.url,
		"sub": c.Subject,
		"aud": c.Audience,
		"iat": now.Unix(),
		"nbf": now.Add(-30 * time.Second).Unix(),
		"exp": now.Add(c.TTL).Unix(),
	}
	for k, v := range c.Extra {
		if slices.Contains(registered, k) {
			return "", fmt.Errorf("oidcissuer: the extra claim %q would replace one Mint sets", k)
		}
		claims[k] = v
	}
	if c.Email != "" {
		claims["email"] = c.Email
		claims["email_verified"] = c.EmailVerified
	}
	header, err := json.Marshal(map[string]string{"alg": "RS256", "typ": "JWT", "kid": i.kid})
	if err != nil {
		return "", err
	}
	payload, err := json.Marshal(claims)
	if err != nil {
		return "", err
	}
	signed := b64.EncodeToString(header) + "." + b64.EncodeToString(payload)
	digest := sha256.Sum256([]byte(signed))
	sig, err := rsa.SignPKCS1v15(rand.Reader, i.key, crypto.SHA256, digest[:])
	if err != nil {
		return "", err
	}
	return signed + "." + b64.EncodeToString(sig), nil
}

// ServeHTTP serves discovery, the JWKS and the token endpoint. The token
// endpoint takes, as query or form parameters: email (default
// signer@example.com), sub (default the email), aud (default sigstore),
// email_verified (default true), ttl (a Go duration, negative for an
// expired token) and claims (a JSON object of more claims, see
// Claims.Extra). It answers the bare JWT as text/plain, or an OAuth token
// response when the request accepts JSON.
func (i *Issuer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch r.URL.Path {
	case "/.well-known/openid-configuration":
		writeJSON(w, map[string]any{
			"issuer":                                i.url,
			"jwks_uri":                              i.url + "/keys",
			"token_endpoint":                        i.url + "/token",
			"authorization_endpoint":                i.url + "/authorize", // not served; clients want it listed
			"response_types_supported":              []string{"id_token"},
			"subject_types_supported":               []string{"public"},
			"id_token_signing_alg_values_supported": []string{"RS256"},
			"claims_supported":                      []string{"iss", "sub", "aud", "exp", "iat", "nbf", "email", "email_verified"},
		})
	case "/keys":
		pub := i.key.PublicKey
		writeJSON(w, map[string]any{"keys": []map[string]string{{
			"kty": "RSA", "alg": "RS256", "use": "sig", "kid": i.kid,
			"n": b64.EncodeToString(pub.N.Bytes()),
			"e": b64.EncodeToString(big.NewInt(int64(pub.E)).Bytes()),
		}}})
	case "/healthz":
		fmt.Fprintln(w, "ok")
	case "/token":
		i.serveToken(w, r)
	default:
		http.NotFound(w, r)
	}
}

func (i *Issuer) serveToken(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	get := func(k, def string) string {
		if v := r.Form.Get(k); v != "" {
			return v
		}
		return def
	}
	c := Claims{
		Email:         get("email", "signer@example.com"),
		Subject:       r.Form.Get("sub"),
		Audience:      r.Form.Get("aud"),
		EmailVerified: get("email_verified", "true") == "true",
	}
	if v := r.Form.Get("claims"); v != "" {
		if err := json.Unmarshal([]byte(v), &c.Extra); err != nil {
			http.Error(w, "claims: "+err.Error(), http.StatusBadRequest)
			return
		}
	}
	if c.Email == "none" { // a token without email claims
		c.Email = ""
	}
	if v := r.Form.Get("ttl"); v != "" {
		ttl, err := time.ParseDuration(v)
		if err != nil {
			http.Error(w, "ttl: "+err.Error(), http.StatusBadRequest)
			return
		}
		c.TTL = ttl
	}
	tok, err := i.Mint(c)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	if strings.Contains(r.Header.Get("Accept"), "json") {
		ttl := c.TTL
		if ttl == 0 {
			ttl = 10 * time.Minute
		}
		writeJSON(w, map[string]any{"id_token": tok, "access_token": tok, "token_type": "Bearer", "expires_in": int(ttl.Seconds())})
		return
	}
	w.Header().Set("Content-Type", "text/plain")
	fmt.Fprint(w, tok)
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}
