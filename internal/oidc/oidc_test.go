package oidc_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/hallmark-dev/hallmark/internal/oidc"
)

func jwt(claims map[string]any) string {
	h := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"RS256"}`))
	c, _ := json.Marshal(claims)
	return h + "." + base64.RawURLEncoding.EncodeToString(c) + ".c2ln"
}

func env(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

// fakeBuildkite puts a buildkite-agent script on PATH that prints token
// after checking its arguments.
func fakeBuildkite(t *testing.T, token string) {
	t.Helper()
	if runtime.GOOS == "windows" {
		t.Skip("shell script")
	}
	dir := t.TempDir()
	script := "#!/bin/sh\n[ \"$*\" = \"oidc request-token --audience sigstore\" ] || { echo \"bad args: $*\" >&2; exit 2; }\necho " + token + "\n"
	if err := os.WriteFile(filepath.Join(dir, "buildkite-agent"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", dir+string(os.PathListSeparator)+os.Getenv("PATH"))
}

// gitHub serves the Actions token endpoint on 127.0.0.1.
func gitHub(t *testing.T, token string) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "bearer request-token" {
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		if r.URL.Query().Get("audience") != "sigstore" || r.URL.Query().Get("api-version") != "2.0" {
			http.Error(w, "bad query "+r.URL.RawQuery, http.StatusBadRequest)
			return
		}
		_ = json.NewEncoder(w).Encode(map[string]string{"value": token})
	}))
	t.Cleanup(srv.Close)
	return srv.URL + "/token?api-version=2.0"
}

func TestPrecedence(t *testing.T) {
	ctx := context.Background()
	fakeBuildkite(t, "bk-token")
	ghURL := gitHub(t, "gh-token")
	tokenFile := filepath.Join(t.TempDir(), "tok")
	if err := os.WriteFile(tokenFile, []byte("file-token\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	all := map[string]string{
		"SIGSTORE_ID_TOKEN":              "env-token",
		"ACTIONS_ID_TOKEN_REQUEST_URL":   ghURL,
		"ACTIONS_ID_TOKEN_REQUEST_TOKEN": "request-token",
		"BUILDKITE":                      "true",
		"CIRCLE_OIDC_TOKEN_V2":           "circle-token",
	}
	without := func(keys ...string) map[string]string {
		m := map[string]string{}
		for k, v := range all {
			m[k] = v
		}
		for _, k := range keys {
			delete(m, k)
		}
		return m
	}
	tests := []struct {
		name      string
		o         oidc.Options
		want, src string
		wantErr   error
	}{
		{"flag first", oidc.Options{Token: "flag-token", Getenv: env(all)}, "flag-token", oidc.SourceFlag, nil},
		{"flag file", oidc.Options{Token: "@" + tokenFile, Getenv: env(all)}, "file-token", oidc.SourceFlag, nil},
		{"env next", oidc.Options{Getenv: env(all)}, "env-token", oidc.SourceEnv, nil},
		{"gitlab names itself", oidc.Options{Getenv: env(map[string]string{"SIGSTORE_ID_TOKEN": "gl", "GITLAB_CI": "true"})}, "gl", oidc.SourceGitLab, nil},
		{"github actions", oidc.Options{Getenv: env(without("SIGSTORE_ID_TOKEN"))}, "gh-token", oidc.SourceGitHub, nil},
		{"buildkite", oidc.Options{Getenv: env(without("SIGSTORE_ID_TOKEN", "ACTIONS_ID_TOKEN_REQUEST_URL"))}, "bk-token", oidc.SourceBuildkite, nil},
		{"circleci", oidc.Options{Getenv: env(without("SIGSTORE_ID_TOKEN", "ACTIONS_ID_TOKEN_REQUEST_URL", "BUILDKITE"))}, "circle-token", oidc.SourceCircleCI, nil},
		{"ambient disabled", oidc.Options{DisableAmbient: true, Getenv: env(without("SIGSTORE_ID_TOKEN"))}, "", "", oidc.ErrNoToken},
		{"nothing", oidc.Options{Getenv: env(nil)}, "", "", oidc.ErrNoToken},
		{"missing file", oidc.Options{Token: "@" + tokenFile + ".missing", Getenv: env(all)}, "", "", oidc.ErrSource},
		{"github refuses", oidc.Options{Getenv: env(map[string]string{"ACTIONS_ID_TOKEN_REQUEST_URL": ghURL, "ACTIONS_ID_TOKEN_REQUEST_TOKEN": "wrong"})}, "", "", oidc.ErrSource},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tok, err := oidc.Get(ctx, tc.o)
			if tc.wantErr != nil {
				if !errors.Is(err, tc.wantErr) {
					t.Fatalf("Get: %v, want %v", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if tok.Raw != tc.want || tok.Source != tc.src {
				t.Fatalf("got %q from %q, want %q from %q", tok.Raw, tok.Source, tc.want, tc.src)
			}
		})
	}
}

func TestGitHubErrorNamesStatus(t *testing.T) {
	ghURL := gitHub(t, "x")
	_, err := oidc.Get(context.Background(), oidc.Options{Getenv: env(map[string]string{
		"ACTIONS_ID_TOKEN_REQUEST_URL": ghURL, "ACTIONS_ID_TOKEN_REQUEST_TOKEN": "wrong"})})
	if err == nil || !strings.Contains(err.Error(), "HTTP 401") || !strings.Contains(err.Error(), oidc.SourceGitHub) {
		t.Fatalf("error %v: want the source and HTTP 401", err)
	}
}

func TestBuildkiteFailure(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("shell script")
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "buildkite-agent"), []byte("#!/bin/sh\necho 'no job token' >&2\nexit 1\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", dir)
	_, err := oidc.Get(context.Background(), oidc.Options{Getenv: env(map[string]string{"BUILDKITE": "true"})})
	if !errors.Is(err, oidc.ErrSource) || !strings.Contains(err.Error(), "no job token") {
		t.Fatalf("error %v: want ErrSource with the agent's message", err)
	}
}

func TestParseToken(t *testing.T) {
	exp := time.Unix(1_800_000_000, 0).UTC()
	c, err := oidc.ParseToken(jwt(map[string]any{"iss": "https://issuer", "sub": "s", "email": "a@example.com", "aud": []string{"sigstore", "x"}, "exp": exp.Unix()}))
	if err != nil {
		t.Fatal(err)
	}
	if c.Identity() != "a@example.com" || c.Issuer != "https://issuer" || !c.HasAudience("sigstore") || !c.Expiry.Equal(exp) {
		t.Fatalf("claims %+v", c)
	}
	c, err = oidc.ParseToken(jwt(map[string]any{"sub": "repo:o/r", "aud": "sigstore"}))
	if err != nil || c.Identity() != "repo:o/r" || !c.HasAudience("sigstore") {
		t.Fatalf("claims %+v, %v", c, err)
	}
	for _, bad := range []string{"", "a.b", "a.!!!.c", "a." + base64.RawURLEncoding.EncodeToString([]byte("[1]")) + ".c",
		jwt(map[string]any{"aud": 5}), jwt(map[string]any{"exp": "soon"}), jwt(map[string]any{"exp": -1})} {
		if _, err := oidc.ParseToken(bad); !errors.Is(err, oidc.ErrMalformedToken) {
			t.Errorf("ParseToken(%q): %v, want ErrMalformedToken", bad, err)
		}
	}
}

func FuzzParseToken(f *testing.F) {
	seeds := []string{
		jwt(map[string]any{"iss": "https://token.actions.githubusercontent.com", "sub": "repo:o/r:ref:refs/heads/main", "aud": "sigstore", "exp": 1800000000, "iat": 1799999000, "nbf": 1799999000}),
		jwt(map[string]any{"email": "a@example.com", "aud": []string{"sigstore"}}),
		"a.b.c", "", "..",
	}
	for _, s := range seeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, tok string) {
		c, err := oidc.ParseToken(tok)
		if err != nil {
			if !errors.Is(err, oidc.ErrMalformedToken) {
				t.Fatalf("error %v does not wrap ErrMalformedToken", err)
			}
			return
		}
		_ = c.Identity()
		_ = c.HasAudience(oidc.Audience)
	})
}
