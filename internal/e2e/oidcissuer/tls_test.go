package oidcissuer

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

// TestTLSFor serves the issuer over HTTPS under GitHub Actions' issuer URL,
// the name resolved to the test server as the e2e namespace's hosts file
// does: a client trusting the CA reads the discovery document, a client
// trusting the system roots refuses the certificate, and so does one that
// asks for another name.
func TestTLSFor(t *testing.T) {
	const host = "token.actions.githubusercontent.com"
	caPEM, cfg, err := TLSFor(host, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	iss, err := New("https://" + host)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(iss)
	srv.TLS = cfg
	srv.StartTLS()
	t.Cleanup(srv.Close)

	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(caPEM) {
		t.Fatal("the CA PEM holds no certificate")
	}
	client := func(roots *x509.CertPool, serverName string) *http.Client {
		return &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
			TLSClientConfig: &tls.Config{RootCAs: roots, ServerName: serverName, MinVersion: tls.VersionTLS12},
			DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
				return (&net.Dialer{}).DialContext(ctx, network, srv.Listener.Addr().String())
			},
		}}
	}
	resp, err := client(pool, "").Get("https://" + host + "/.well-known/openid-configuration")
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	err = json.NewDecoder(resp.Body).Decode(&doc)
	resp.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	if doc["issuer"] != "https://"+host || doc["jwks_uri"] != "https://"+host+"/keys" {
		t.Errorf("discovery names issuer %v, keys %v; want https://%s", doc["issuer"], doc["jwks_uri"], host)
	}

	var unknown x509.UnknownAuthorityError
	if _, err := client(nil, "").Get("https://" + host + "/healthz"); !errors.As(err, &unknown) {
		t.Errorf("a client without the CA: %v, want an unknown authority error", err)
	}
	var hostErr x509.HostnameError
	if _, err := client(pool, "token.actions.example.com").Get("https://" + host + "/healthz"); !errors.As(err, &hostErr) {
		t.Errorf("a client asking for another name: %v, want a hostname error", err)
	}
	if _, _, err := TLSFor("", time.Now()); err == nil {
		t.Error("TLSFor with no host made a certificate")
	}
}
