// Package signtest runs fake Sigstore signing services (Fulcio and a
// timestamp authority) on 127.0.0.1 for hermetic signing tests, with the
// trusted root and signing config that describe them.
package signtest

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/asn1"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/digitorus/timestamp"
	"github.com/sigstore/sigstore-go/pkg/root"
	"github.com/sigstore/sigstore-go/pkg/testing/ca"
	"github.com/sigstore/sigstore/pkg/cryptoutils"

	"github.com/hallmark-dev/hallmark/internal/oidc"
)

// pubOnly lets sigstore-go's test CA certify a public key it has no
// private key for (a Fulcio request carries only the public key).
type pubOnly struct{ pub crypto.PublicKey }

func (p pubOnly) Public() crypto.PublicKey { return p.pub }
func (p pubOnly) Sign(io.Reader, []byte, crypto.SignerOpts) ([]byte, error) {
	return nil, errors.New("public key only")
}

// Stack is a small Fulcio and TSA on 127.0.0.1 over sigstore-go's test
// CA, and the trusted root that lists them. Fulcio certifies the email (or
// subject) and issuer claims of any token with audience sigstore that has
// not expired; it does not check signatures.
type Stack struct {
	// Root lists the fake Fulcio and TSA.
	Root *root.TrustedRoot
	// Fulcio and TSA are the services' URLs.
	Fulcio, TSA string
	// CertRequests counts the certificate requests Fulcio received.
	CertRequests atomic.Int32
}

func New(t testing.TB) *Stack {
	t.Helper()
	now := time.Now()
	rootCert, rootKey, err := ca.GenerateRootCa()
	if err != nil {
		t.Fatal(err)
	}
	interCert, interKey, err := ca.GenerateFulcioIntermediate(rootCert, rootKey)
	if err != nil {
		t.Fatal(err)
	}
	tsaInter, tsaInterKey, err := ca.GenerateTSAIntermediate(rootCert, rootKey)
	if err != nil {
		t.Fatal(err)
	}
	tsaKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tsaLeaf, err := ca.GenerateTSALeafCert(now.Add(-5*time.Minute), tsaKey, tsaInter, tsaInterKey)
	if err != nil {
		t.Fatal(err)
	}
	fs := &Stack{}
	fulcio := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fs.CertRequests.Add(1)
		c, err := oidc.ParseToken(strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer "))
		if err != nil || !c.HasAudience(oidc.Audience) || now.After(c.Expiry) {
			http.Error(w, `{"code":16,"message":"There was an error processing the identity token"}`, http.StatusUnauthorized)
			return
		}
		var req struct {
			PublicKeyRequest struct {
				PublicKey struct{ Content string } `json:"publicKey"`
			} `json:"publicKeyRequest"`
		}
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		pub, err := cryptoutils.UnmarshalPEMToPublicKey([]byte(req.PublicKeyRequest.PublicKey.Content))
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		leaf, err := ca.GenerateLeafCert(c.Identity(), c.Issuer, time.Now().Add(-time.Minute), pubOnly{pub}, interCert, interKey)
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		var chain []string
		for _, der := range [][]byte{leaf.Raw, interCert.Raw, rootCert.Raw} {
			chain = append(chain, string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})))
		}
		_ = json.NewEncoder(w).Encode(map[string]any{"signedCertificateEmbeddedSct": map[string]any{"chain": map[string]any{"certificates": chain}}})
	}))
	t.Cleanup(fulcio.Close)
	tsa := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		req, err := timestamp.ParseRequest(body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		ts := timestamp.Timestamp{HashAlgorithm: req.HashAlgorithm, HashedMessage: req.HashedMessage, Time: time.Now(),
			Nonce: req.Nonce, Policy: asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 57264, 2}, ExtraExtensions: req.Extensions}
		resp, err := ts.CreateResponseWithOpts(tsaLeaf, tsaKey, crypto.SHA256)
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/timestamp-reply")
		_, _ = w.Write(resp)
	}))
	t.Cleanup(tsa.Close)
	fs.Fulcio, fs.TSA = fulcio.URL, tsa.URL+"/api/v1/timestamp"
	fs.Root, err = root.NewTrustedRoot(root.TrustedRootMediaType01,
		[]root.CertificateAuthority{&root.FulcioCertificateAuthority{Root: rootCert, Intermediates: []*x509.Certificate{interCert}, ValidityPeriodStart: now.Add(-time.Hour), URI: fs.Fulcio}},
		nil,
		[]root.TimestampingAuthority{&root.SigstoreTimestampingAuthority{Root: rootCert, Intermediates: []*x509.Certificate{tsaInter}, Leaf: tsaLeaf, ValidityPeriodStart: now.Add(-time.Hour), URI: fs.TSA}},
		nil)
	if err != nil {
		t.Fatal(err)
	}
	return fs
}

// SigningConfigJSON is a signing config (v0.2) naming the stack's Fulcio
// and TSA, and no transparency log.
func (s *Stack) SigningConfigJSON() []byte {
	return []byte(`{
  "mediaType": "application/vnd.dev.sigstore.signingconfig.v0.2+json",
  "caUrls": [{"url": "` + s.Fulcio + `", "majorApiVersion": 1, "validFor": {"start": "2020-01-01T00:00:00Z"}, "operator": "test"}],
  "tsaUrls": [{"url": "` + s.TSA + `", "majorApiVersion": 1, "validFor": {"start": "2020-01-01T00:00:00Z"}, "operator": "test"}],
  "tsaConfig": {"selector": "ANY"}
}`)
}

// TrustedRootJSON is the stack's trusted root as JSON.
func (s *Stack) TrustedRootJSON() ([]byte, error) { return s.Root.MarshalJSON() }

// WriteInstance writes the stack's trusted_root.json and
// signing_config.json into dir, as a user of the instance would get them,
// and returns their paths.
func (s *Stack) WriteInstance(t testing.TB, dir string) (trustedRoot, signingConfig string) {
	t.Helper()
	trJSON, err := s.TrustedRootJSON()
	if err != nil {
		t.Fatal(err)
	}
	return WriteFile(t, dir, "trusted_root.json", trJSON), WriteFile(t, dir, "signing_config.json", s.SigningConfigJSON())
}

// WriteFile writes data to dir/name and returns the path.
func WriteFile(t testing.TB, dir, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// Token makes an (unsigned) identity token with claims; the fake Fulcio
// reads only the claims.
func Token(claims map[string]any) string {
	h := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"RS256","typ":"JWT"}`))
	c, _ := json.Marshal(claims)
	return h + "." + base64.RawURLEncoding.EncodeToString(c) + ".c2ln"
}

// AliceToken is a valid token for alice@example.com at
// https://issuer.example, for an hour.
func AliceToken() string {
	return Token(map[string]any{"iss": "https://issuer.example", "sub": "alice", "email": "alice@example.com", "email_verified": true,
		"aud": "sigstore", "exp": time.Now().Add(time.Hour).Unix()})
}
