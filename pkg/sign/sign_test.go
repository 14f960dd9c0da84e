package sign_test

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sigstore/sigstore-go/pkg/root"
	"github.com/sigstore/sigstore-go/pkg/testing/ca"

	"github.com/hallmark-dev/hallmark/internal/keys"
	"github.com/hallmark-dev/hallmark/pkg/sign"
	"github.com/hallmark-dev/hallmark/pkg/verify"
)

func writeFile(t testing.TB, dir, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func statementFor(artifact []byte) []byte {
	sum := sha256.Sum256(artifact)
	st := map[string]any{
		"_type":         "https://in-toto.io/Statement/v1",
		"subject":       []any{map[string]any{"name": "artifact", "digest": map[string]string{"sha256": hex.EncodeToString(sum[:])}}},
		"predicateType": "https://example.com/test/v1",
		"predicate":     map[string]any{},
	}
	b, _ := json.Marshal(st)
	return b
}

// TestSignKeyTypes signs with every key type, as a message signature and as
// DSSE, and verifies the result with pkg/verify.
func TestSignKeyTypes(t *testing.T) {
	ctx := context.Background()
	for _, kt := range keys.KeyTypes() {
		key, err := keys.GenerateKey(kt)
		if err != nil {
			t.Fatal(err)
		}
		for _, inToto := range []bool{false, true} {
			name := fmt.Sprintf("%s/in-toto=%v", kt, inToto)
			t.Run(name, func(t *testing.T) {
				dir := t.TempDir()
				artifact := []byte("artifact for " + name)
				art := writeFile(t, dir, "art.bin", artifact)
				path := art
				if inToto {
					path = writeFile(t, dir, "st.json", statementFor(artifact))
				}
				s, err := sign.New(ctx, sign.Options{Key: key})
				if err != nil {
					t.Fatal(err)
				}
				bundlePath := path + ".sigstore.json"
				res, data, err := s.Sign(ctx, sign.Job{Path: path, BundlePath: bundlePath, InToto: inToto})
				if err != nil {
					t.Fatalf("Sign: %v", err)
				}
				if res.Bundle != bundlePath || res.Signer == nil || res.Signer.Kind != "key" {
					t.Fatalf("result %+v", res)
				}
				fp, _ := keys.Fingerprint(key.Public())
				if res.Signer.KeyFingerprint != fp {
					t.Errorf("fingerprint %s, want %s", res.Signer.KeyFingerprint, fp)
				}
				onDisk, err := os.ReadFile(bundlePath)
				if err != nil || string(onDisk) != string(data) {
					t.Fatalf("bundle on disk differs from the returned one (%v)", err)
				}
				v, err := verify.New(nil, verify.Policy{Key: key.Public(), InsecureIgnoreTlog: true})
				if err != nil {
					t.Fatal(err)
				}
				b, err := verify.ReadBundle(bundlePath)
				if err != nil {
					t.Fatal(err)
				}
				if _, err := v.Verify(ctx, b, verify.FileArtifact(art)); err != nil {
					t.Fatalf("verify: %v", err)
				}
				// The bundle is not valid for another artifact.
				other := writeFile(t, dir, "other.bin", []byte("something else"))
				b, _ = verify.ReadBundle(bundlePath)
				if _, err := v.Verify(ctx, b, verify.FileArtifact(other)); !verify.IsRejected(err) {
					t.Fatalf("verify of another artifact: %v, want a rejection", err)
				}
			})
		}
	}
}

func TestSignAllOneKeyManyFiles(t *testing.T) {
	ctx := context.Background()
	key, _ := keys.GenerateKey(keys.ECDSAP256)
	dir := t.TempDir()
	var jobs []sign.Job
	for i := range 12 {
		p := writeFile(t, dir, fmt.Sprintf("f%02d", i), []byte(strings.Repeat("x", i*1000)))
		jobs = append(jobs, sign.Job{Path: p, BundlePath: p + ".sigstore.json"})
	}
	jobs = append(jobs, sign.Job{Path: filepath.Join(dir, "missing"), BundlePath: filepath.Join(dir, "missing.sigstore.json")})
	s, err := sign.New(ctx, sign.Options{Key: key, Concurrency: 3})
	if err != nil {
		t.Fatal(err)
	}
	outs, err := s.SignAll(ctx, jobs)
	if err != nil {
		t.Fatal(err)
	}
	v, _ := verify.New(nil, verify.Policy{Key: key.Public(), InsecureIgnoreTlog: true})
	for i, o := range outs {
		if o.Result.Artifact != jobs[i].Path {
			t.Fatalf("outcome %d is for %s, want %s", i, o.Result.Artifact, jobs[i].Path)
		}
		if i == len(jobs)-1 {
			if !errors.Is(o.Err, os.ErrNotExist) {
				t.Fatalf("missing file: %v, want ErrNotExist", o.Err)
			}
			if _, err := os.Stat(jobs[i].BundlePath); !errors.Is(err, os.ErrNotExist) {
				t.Fatal("a bundle was written for a missing file")
			}
			continue
		}
		if o.Err != nil {
			t.Fatalf("%s: %v", jobs[i].Path, o.Err)
		}
		b, _ := verify.ReadBundle(jobs[i].BundlePath)
		if _, err := v.Verify(ctx, b, verify.FileArtifact(jobs[i].Path)); err != nil {
			t.Fatalf("%s: %v", jobs[i].Path, err)
		}
	}
}

// virtual is an in-memory Sigstore: its trusted root checks what fake
// services return.
func virtual(t testing.TB) *ca.VirtualSigstore {
	t.Helper()
	vs, err := ca.NewVirtualSigstore()
	if err != nil {
		t.Fatal(err)
	}
	return vs
}

func serve(t testing.TB, status int, body string) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_, _ = w.Write([]byte(body))
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

// jwt makes an unsigned-looking token with claims (the services are fake:
// only the claims matter).
func jwt(claims map[string]any) string {
	h := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"RS256","typ":"JWT"}`))
	c, _ := json.Marshal(claims)
	return h + "." + base64.RawURLEncoding.EncodeToString(c) + ".c2ln"
}

// TestServiceErrors checks that a failing service is named with its HTTP
// status, and that nothing is written.
func TestServiceErrors(t *testing.T) {
	ctx := context.Background()
	key, _ := keys.GenerateKey(keys.ECDSAP256)
	vs := virtual(t)
	past := time.Now().Add(-time.Hour).Unix()
	future := time.Now().Add(time.Hour).Unix()
	tests := []struct {
		name        string
		keyless     bool
		token       string
		services    func() sign.Services
		wantService string
		wantStatus  int
		wantInMsg   string
	}{
		{name: "rekor v1 500", services: func() sign.Services {
			return sign.Services{Rekor: []sign.RekorLog{{URL: serve(t, 500, `{"code":500,"message":"boom"}`), Version: 1}}}
		}, wantService: sign.ServiceRekor, wantStatus: 500},
		{name: "rekor v1 400", services: func() sign.Services {
			return sign.Services{Rekor: []sign.RekorLog{{URL: serve(t, 400, `{"code":400,"message":"bad entry"}`), Version: 1}}}
		}, wantService: sign.ServiceRekor, wantStatus: 400},
		{name: "rekor v1 garbage", services: func() sign.Services {
			return sign.Services{Rekor: []sign.RekorLog{{URL: serve(t, 201, `not json at all`), Version: 1}}}
		}, wantService: sign.ServiceRekor},
		{name: "rekor v2 503", services: func() sign.Services {
			return sign.Services{Rekor: []sign.RekorLog{{URL: serve(t, 503, `down`), Version: 2}}, TSA: []string{serve(t, 500, "")}}
		}, wantService: sign.ServiceRekor, wantStatus: 503},
		{name: "tsa 500", services: func() sign.Services {
			return sign.Services{TSA: []string{serve(t, 500, "tsa down")}}
		}, wantService: sign.ServiceTSA, wantStatus: 500},
		{name: "tsa garbage", services: func() sign.Services {
			return sign.Services{TSA: []string{serve(t, 200, "garbage")}}
		}, wantService: sign.ServiceTSA},
		{name: "fulcio expired token", keyless: true,
			token: jwt(map[string]any{"iss": "https://issuer.example", "sub": "alice", "aud": "sigstore", "exp": past}),
			services: func() sign.Services {
				return sign.Services{Fulcio: serve(t, 401, `{"code":16,"message":"There was an error processing the identity token"}`), TSA: []string{serve(t, 500, "")}}
			}, wantService: sign.ServiceFulcio, wantStatus: 401, wantInMsg: "expired"},
		{name: "fulcio wrong audience", keyless: true,
			token: jwt(map[string]any{"iss": "https://issuer.example", "sub": "alice", "aud": []string{"github"}, "exp": future}),
			services: func() sign.Services {
				return sign.Services{Fulcio: serve(t, 401, `{"code":16}`), TSA: []string{serve(t, 500, "")}}
			}, wantService: sign.ServiceFulcio, wantStatus: 401, wantInMsg: `audience is "github"`},
		{name: "fulcio 500", keyless: true,
			token: jwt(map[string]any{"sub": "alice", "aud": "sigstore", "exp": future}),
			services: func() sign.Services {
				return sign.Services{Fulcio: serve(t, 500, `oops`), TSA: []string{serve(t, 500, "")}}
			}, wantService: sign.ServiceFulcio, wantStatus: 500},
		{name: "fulcio garbage", keyless: true,
			token: jwt(map[string]any{"sub": "alice", "aud": "sigstore", "exp": future}),
			services: func() sign.Services {
				return sign.Services{Fulcio: serve(t, 200, `{"signedCertificateEmbeddedSct":{"chain":{"certificates":["not a pem"]}}}`), TSA: []string{serve(t, 500, "")}}
			}, wantService: sign.ServiceFulcio},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			art := writeFile(t, dir, "art.bin", []byte("data"))
			bundlePath := art + ".sigstore.json"
			o := sign.Options{Services: tc.services(), TrustedRoot: vs, Timeout: 5 * time.Second}
			if tc.keyless {
				o.IDToken = tc.token
			} else {
				o.Key = key
			}
			s, err := sign.New(ctx, o)
			if err != nil {
				t.Fatal(err)
			}
			outs, err := s.SignAll(ctx, []sign.Job{{Path: art, BundlePath: bundlePath}})
			if err == nil {
				err = outs[0].Err
			}
			var se *sign.ServiceError
			if !errors.As(err, &se) {
				t.Fatalf("error %v (%T), want a *ServiceError", err, err)
			}
			if se.Service != tc.wantService || se.Status != tc.wantStatus {
				t.Errorf("service %q status %d, want %q %d (%v)", se.Service, se.Status, tc.wantService, tc.wantStatus, err)
			}
			if !strings.Contains(err.Error(), tc.wantInMsg) {
				t.Errorf("error %q does not say %q", err, tc.wantInMsg)
			}
			if tc.wantStatus != 0 && !strings.Contains(err.Error(), fmt.Sprintf("HTTP %d", tc.wantStatus)) {
				t.Errorf("error %q does not name the status", err)
			}
			assertOnly(t, dir, "art.bin")
		})
	}
}

// assertOnly checks that dir holds exactly names: no bundle, no temp file.
func assertOnly(t *testing.T, dir string, names ...string) {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range ents {
		got = append(got, e.Name())
	}
	if strings.Join(got, ",") != strings.Join(names, ",") {
		t.Fatalf("directory holds %v, want %v", got, names)
	}
}

// TestBadTimestampIsNotABundle: a TSA that answers with a well-formed
// timestamp of something else (or from an unknown authority) makes an
// ErrBadBundle error, and no bundle is written.
func TestBadTimestampIsNotABundle(t *testing.T) {
	ctx := context.Background()
	key, _ := keys.GenerateKey(keys.ECDSAP256)
	vs := virtual(t)
	rogue := virtual(t)
	for _, tc := range []struct {
		name string
		tsa  *ca.VirtualSigstore
	}{{"timestamp of another signature", vs}, {"timestamp from an unknown TSA", rogue}} {
		t.Run(tc.name, func(t *testing.T) {
			resp, err := tc.tsa.TimestampResponse([]byte("another signature"))
			if err != nil {
				t.Fatal(err)
			}
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/timestamp-reply")
				_, _ = w.Write(resp)
			}))
			defer srv.Close()
			dir := t.TempDir()
			art := writeFile(t, dir, "art.bin", []byte("data"))
			old := writeFile(t, dir, "art.bin.sigstore.json", []byte("OLD BUNDLE"))
			s, err := sign.New(ctx, sign.Options{Key: key, TrustedRoot: vs, Services: sign.Services{TSA: []string{srv.URL}}})
			if err != nil {
				t.Fatal(err)
			}
			_, _, err = s.Sign(ctx, sign.Job{Path: art, BundlePath: old})
			if !errors.Is(err, sign.ErrBadBundle) {
				t.Fatalf("error %v, want ErrBadBundle", err)
			}
			var bb *sign.BadBundleError
			if !errors.As(err, &bb) || !verify.IsRejected(bb.Err) {
				t.Fatalf("error %v: want a BadBundleError carrying the rejection", err)
			}
			if got, _ := os.ReadFile(old); string(got) != "OLD BUNDLE" {
				t.Fatalf("the existing bundle was overwritten: %q", got)
			}
			assertOnly(t, dir, "art.bin", "art.bin.sigstore.json")
		})
	}
}

// TestWriteBundleAtomic: a successful write replaces the old bundle whole;
// a failed one (the target is a directory) leaves nothing behind.
func TestWriteBundleAtomic(t *testing.T) {
	ctx := context.Background()
	key, _ := keys.GenerateKey(keys.ECDSAP256)
	dir := t.TempDir()
	art := writeFile(t, dir, "art.bin", []byte("data"))
	bundlePath := writeFile(t, dir, "art.bin.sigstore.json", []byte(strings.Repeat("OLD", 10000)))
	s, _ := sign.New(ctx, sign.Options{Key: key})
	_, data, err := s.Sign(ctx, sign.Job{Path: art, BundlePath: bundlePath})
	if err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(bundlePath)
	if string(got) != string(data) {
		t.Fatal("the bundle on disk is not exactly the new bundle")
	}
	if err := os.Mkdir(filepath.Join(dir, "adir"), 0o755); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.Sign(ctx, sign.Job{Path: art, BundlePath: filepath.Join(dir, "adir")}); err == nil {
		t.Fatal("writing over a directory succeeded")
	}
	assertOnly(t, dir, "adir", "art.bin", "art.bin.sigstore.json")
}

func TestNewConfigErrors(t *testing.T) {
	ctx := context.Background()
	key, _ := keys.GenerateKey(keys.ECDSAP256)
	ed, _ := keys.GenerateKey(keys.Ed25519)
	vs := virtual(t)
	tests := []struct {
		name string
		o    sign.Options
		want error
	}{
		{"keyless without token", sign.Options{Services: sign.Services{Fulcio: "http://127.0.0.1:1", TSA: []string{"http://127.0.0.1:1"}}, TrustedRoot: vs}, sign.ErrNoToken},
		{"keyless without fulcio", sign.Options{IDToken: "x", TrustedRoot: vs}, sign.ErrConfig},
		{"keyless without time source", sign.Options{IDToken: "x", Services: sign.Services{Fulcio: "http://127.0.0.1:1"}, TrustedRoot: vs}, sign.ErrConfig},
		{"rekor v2 without tsa", sign.Options{Key: key, Services: sign.Services{Rekor: []sign.RekorLog{{URL: "http://127.0.0.1:1", Version: 2}}}, TrustedRoot: vs}, sign.ErrConfig},
		{"services without trusted root", sign.Options{Key: key, Services: sign.Services{TSA: []string{"http://127.0.0.1:1"}}}, sign.ErrConfig},
		{"rekor v3", sign.Options{Key: key, Services: sign.Services{Rekor: []sign.RekorLog{{URL: "http://127.0.0.1:1", Version: 3}}}, TrustedRoot: vs}, sign.ErrConfig},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := sign.New(ctx, tc.o); !errors.Is(err, tc.want) {
				t.Fatalf("New: %v, want %v", err, tc.want)
			}
		})
	}
	t.Run("ed25519 with a log", func(t *testing.T) {
		s, err := sign.New(ctx, sign.Options{Key: ed, Services: sign.Services{Rekor: []sign.RekorLog{{URL: "http://127.0.0.1:1", Version: 1}}}, TrustedRoot: vs})
		if err != nil {
			t.Fatal(err)
		}
		art := writeFile(t, t.TempDir(), "a", []byte("a"))
		if _, _, err := s.Sign(ctx, sign.Job{Path: art}); !errors.Is(err, sign.ErrConfig) {
			t.Fatalf("Sign: %v, want ErrConfig", err)
		}
	})
}

const signingConfigJSON = `{
  "mediaType": "application/vnd.dev.sigstore.signingconfig.v0.2+json",
  "caUrls": [
    {"url": "https://fulcio.old", "majorApiVersion": 1, "validFor": {"start": "2020-01-01T00:00:00Z", "end": "2021-01-01T00:00:00Z"}, "operator": "a"},
    {"url": "https://fulcio.new", "majorApiVersion": 1, "validFor": {"start": "2022-01-01T00:00:00Z"}, "operator": "a"}
  ],
  "oidcUrls": [{"url": "https://oauth2.example", "majorApiVersion": 1, "validFor": {"start": "2022-01-01T00:00:00Z"}, "operator": "a"}],
  "rekorTlogUrls": [
    {"url": "https://rekor.v1", "majorApiVersion": 1, "validFor": {"start": "2021-01-01T00:00:00Z"}, "operator": "a"},
    {"url": "https://rekor.v2", "majorApiVersion": 2, "validFor": {"start": "2025-01-01T00:00:00Z"}, "operator": "a"}
  ],
  "tsaUrls": [{"url": "https://tsa.example/api/v1/timestamp", "majorApiVersion": 1, "validFor": {"start": "2022-01-01T00:00:00Z"}, "operator": "a"}],
  "rekorTlogConfig": {"selector": "ANY"},
  "tsaConfig": {"selector": "ANY"}
}`

func TestSelectServices(t *testing.T) {
	sc, err := root.NewSigningConfigFromJSON([]byte(signingConfigJSON))
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		name string
		sc   *root.SigningConfig
		o    sign.Overrides
		want string
	}{
		{"newest of each", sc, sign.Overrides{}, `{"fulcio":"https://fulcio.new","oidcIssuer":"https://oauth2.example","rekor":[{"url":"https://rekor.v2","version":2}],"tsa":["https://tsa.example/api/v1/timestamp"]}`},
		{"rekor version 1", sc, sign.Overrides{RekorVersion: 1}, `{"fulcio":"https://fulcio.new","oidcIssuer":"https://oauth2.example","rekor":[{"url":"https://rekor.v1","version":1}],"tsa":["https://tsa.example/api/v1/timestamp"]}`},
		{"overrides", sc, sign.Overrides{FulcioURL: "http://127.0.0.1:1", RekorURL: "http://127.0.0.1:2", TimestampURL: "http://127.0.0.1:3", OIDCIssuer: "http://127.0.0.1:4"},
			`{"fulcio":"http://127.0.0.1:1","oidcIssuer":"http://127.0.0.1:4","rekor":[{"url":"http://127.0.0.1:2","version":1}],"tsa":["http://127.0.0.1:3"]}`},
		{"no log no tsa", sc, sign.Overrides{NoTlog: true, NoTimestamp: true}, `{"fulcio":"https://fulcio.new","oidcIssuer":"https://oauth2.example"}`},
		{"no config", nil, sign.Overrides{RekorURL: "http://127.0.0.1:2", RekorVersion: 2}, `{"rekor":[{"url":"http://127.0.0.1:2","version":2}]}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, err := sign.SelectServices(tc.sc, tc.o, now)
			if err != nil {
				t.Fatal(err)
			}
			got, _ := json.Marshal(s)
			if string(got) != tc.want {
				t.Fatalf("got  %s\nwant %s", got, tc.want)
			}
		})
	}
	for _, bad := range []sign.Overrides{{RekorVersion: 3}, {FulcioURL: "ftp://x"}, {RekorURL: "not a url"}} {
		if _, err := sign.SelectServices(sc, bad, now); !errors.Is(err, sign.ErrConfig) {
			t.Errorf("SelectServices(%+v): %v, want ErrConfig", bad, err)
		}
	}
}

func TestTokenProblem(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	tests := []struct {
		claims map[string]any
		want   string
	}{
		{map[string]any{"aud": "sigstore", "exp": now.Add(time.Minute).Unix()}, ""},
		{map[string]any{"aud": "sigstore", "exp": now.Add(-time.Minute).Unix()}, "expired at"},
		{map[string]any{"aud": []string{"a", "b"}, "exp": now.Add(time.Minute).Unix()}, `audience is "a,b"`},
		{map[string]any{"aud": "sigstore", "nbf": now.Add(time.Hour).Unix()}, "not valid before"},
	}
	for _, tc := range tests {
		got := sign.TokenProblem(jwt(tc.claims), now)
		if (tc.want == "") != (got == "") || !strings.Contains(got, tc.want) {
			t.Errorf("TokenProblem(%v) = %q, want %q", tc.claims, got, tc.want)
		}
	}
	if got := sign.TokenProblem("not-a-jwt", now); !strings.Contains(got, "not a well-formed JWT") {
		t.Errorf("TokenProblem(garbage) = %q", got)
	}
}

// TestSignStatementInMemory signs a statement held in memory as DSSE: the
// bundle verifies for the subject, and nothing but the bundle is written.
func TestSignStatementInMemory(t *testing.T) {
	ctx := context.Background()
	key, _ := keys.GenerateKey(keys.ECDSAP256)
	dir := t.TempDir()
	artifact := []byte("in-memory statement subject")
	art := writeFile(t, dir, "art.bin", artifact)
	s, err := sign.New(ctx, sign.Options{Key: key})
	if err != nil {
		t.Fatal(err)
	}
	bundlePath := filepath.Join(dir, "art.bin.test.sigstore.json")
	res, _, err := s.Sign(ctx, sign.Job{Path: "art.bin", BundlePath: bundlePath, Statement: statementFor(artifact)})
	if err != nil {
		t.Fatalf("Sign: %v", err)
	}
	if res.MediaType == "" || res.Artifact != "art.bin" {
		t.Fatalf("result %+v", res)
	}
	b, err := verify.ReadBundle(bundlePath)
	if err != nil {
		t.Fatal(err)
	}
	if b.GetDsseEnvelope() == nil || b.GetDsseEnvelope().GetPayloadType() != sign.InTotoPayloadType {
		t.Fatalf("the bundle is not a DSSE in-toto envelope")
	}
	v, _ := verify.New(nil, verify.Policy{Key: key.Public(), InsecureIgnoreTlog: true})
	if _, err := v.Verify(ctx, b, verify.FileArtifact(art)); err != nil {
		t.Fatalf("verify: %v", err)
	}

	// Not a statement, or too large: ErrStatement, no bundle.
	for name, data := range map[string][]byte{
		"not json":   []byte("{"),
		"no subject": []byte(`{"_type":"https://in-toto.io/Statement/v1","subject":[],"predicateType":"x","predicate":{}}`),
		"too large":  make([]byte, sign.MaxStatementSize+1),
	} {
		out := filepath.Join(dir, "bad.sigstore.json")
		if _, _, err := s.Sign(ctx, sign.Job{Path: name, BundlePath: out, Statement: data}); !errors.Is(err, sign.ErrStatement) {
			t.Errorf("%s: %v, want ErrStatement", name, err)
		}
		if _, err := os.Stat(out); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s: a bundle was written", name)
		}
	}
}
