package oidcissuer

import (
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/json"
	"io"
	"math/big"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"
)

// serve starts an issuer whose URL is its own test server's.
func serve(t *testing.T) (*Issuer, *httptest.Server) {
	t.Helper()
	var iss *Issuer
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { iss.ServeHTTP(w, r) }))
	t.Cleanup(srv.Close)
	var err error
	if iss, err = New(srv.URL); err != nil {
		t.Fatal(err)
	}
	return iss, srv
}

func get(t *testing.T, url string, v any) []byte {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s: %s", url, resp.Status, body)
	}
	if v != nil {
		if err := json.Unmarshal(body, v); err != nil {
			t.Fatalf("GET %s: %v", url, err)
		}
	}
	return body
}

// verifyJWT checks the token's RS256 signature with the JWKS key, as a
// relying party (Fulcio) does, and returns its claims.
func verifyJWT(t *testing.T, tok string, jwks map[string][]map[string]string) map[string]any {
	t.Helper()
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		t.Fatalf("token has %d parts, want 3", len(parts))
	}
	var hdr map[string]string
	decode(t, parts[0], &hdr)
	if hdr["alg"] != "RS256" {
		t.Fatalf("alg %q, want RS256", hdr["alg"])
	}
	var key *rsa.PublicKey
	for _, k := range jwks["keys"] {
		if k["kid"] == hdr["kid"] {
			n, _ := b64.DecodeString(k["n"])
			e, _ := b64.DecodeString(k["e"])
			key = &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: int(new(big.Int).SetBytes(e).Int64())}
		}
	}
	if key == nil {
		t.Fatalf("no JWKS key with kid %q", hdr["kid"])
	}
	sig, err := b64.DecodeString(parts[2])
	if err != nil {
		t.Fatal(err)
	}
	digest := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	if err := rsa.VerifyPKCS1v15(key, crypto.SHA256, digest[:], sig); err != nil {
		t.Fatalf("signature: %v", err)
	}
	var claims map[string]any
	decode(t, parts[1], &claims)
	return claims
}

func decode(t *testing.T, part string, v any) {
	t.Helper()
	raw, err := b64.DecodeString(part)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(raw, v); err != nil {
		t.Fatal(err)
	}
}

func TestDiscoveryAndToken(t *testing.T) {
	iss, srv := serve(t)
	var disco map[string]any
	get(t, srv.URL+"/.well-known/openid-configuration", &disco)
	if disco["issuer"] != srv.URL || disco["jwks_uri"] != srv.URL+"/keys" || disco["token_endpoint"] != srv.URL+"/token" {
		t.Fatalf("discovery: %v", disco)
	}
	var jwks map[string][]map[string]string
	get(t, srv.URL+"/keys", &jwks)

	tok := string(get(t, srv.URL+"/token?email=ci@example.com", nil))
	claims := verifyJWT(t, tok, jwks)
	for k, want := range map[string]any{"iss": iss.URL(), "sub": "ci@example.com", "aud": "sigstore", "email": "ci@example.com", "email_verified": true} {
		if claims[k] != want {
			t.Errorf("claim %s = %v, want %v", k, claims[k], want)
		}
	}
	if exp := int64(claims["exp"].(float64)); exp <= time.Now().Unix() {
		t.Errorf("exp %d is not in the future", exp)
	}
}

func TestTokenParameters(t *testing.T) {
	_, srv := serve(t)
	var jwks map[string][]map[string]string
	get(t, srv.URL+"/keys", &jwks)

	claims := verifyJWT(t, string(get(t, srv.URL+"/token?email=none&sub=build-42&aud=other&ttl=-1h", nil)), jwks)
	if claims["sub"] != "build-42" || claims["aud"] != "other" {
		t.Errorf("sub, aud = %v, %v; want build-42, other", claims["sub"], claims["aud"])
	}
	if _, ok := claims["email"]; ok {
		t.Errorf("email=none still has an email claim: %v", claims["email"])
	}
	if exp := int64(claims["exp"].(float64)); exp >= time.Now().Unix() {
		t.Errorf("ttl=-1h: exp %d is not in the past", exp)
	}

	req, _ := http.NewRequest(http.MethodPost, srv.URL+"/token", strings.NewReader("email=a@example.com"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var tr struct {
		IDToken   string `json:"id_token"`
		ExpiresIn int    `json:"expires_in"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&tr); err != nil {
		t.Fatal(err)
	}
	if c := verifyJWT(t, tr.IDToken, jwks); c["email"] != "a@example.com" || tr.ExpiresIn != 600 {
		t.Errorf("POST: email %v, expires_in %d; want a@example.com, 600", c["email"], tr.ExpiresIn)
	}

	for _, bad := range []string{"/token?ttl=soon", "/token?email=none"} {
		resp, err := http.Get(srv.URL + bad)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest {
			t.Errorf("GET %s: %s, want 400", bad, resp.Status)
		}
	}
}

func TestExtraClaims(t *testing.T) {
	_, srv := serve(t)
	var jwks map[string][]map[string]string
	get(t, srv.URL+"/keys", &jwks)
	extra, err := json.Marshal(GitHubClaims("o/r", ".github/workflows/release.yml", "refs/heads/main", "abc"))
	if err != nil {
		t.Fatal(err)
	}
	claims := verifyJWT(t, string(get(t, srv.URL+"/token?email=ci@example.com&claims="+url.QueryEscape(string(extra)), nil)), jwks)
	if claims["workflow_ref"] != "o/r/.github/workflows/release.yml@refs/heads/main" || claims["repository"] != "o/r" || claims["email"] != "ci@example.com" {
		t.Errorf("claims %v", claims)
	}
	for _, bad := range []string{`{"iss":"x"}`, `[1]`} {
		resp, err := http.Get(srv.URL + "/token?claims=" + url.QueryEscape(bad))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest {
			t.Errorf("claims=%s: %s, want 400", bad, resp.Status)
		}
	}
}
