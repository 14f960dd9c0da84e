// Command oidcissuer runs the e2e tests' OIDC issuer (package
// internal/e2e/oidcissuer) on a loopback address:
//
//	oidcissuer -addr 127.0.0.1:5556 [-serve-dir 127.0.0.1:3080=DIR]
//	oidcissuer -addr 127.0.0.1:5558 -issuer https://token.actions.githubusercontent.com \
//	    -tls-addr 127.0.0.1:443 -tls-ca-out CA.pem
//
// -serve-dir also serves DIR read-only on a second address: the Rekor v2
// (rekor-tiles posix) storage directory is the log's read API (checkpoint,
// tiles, entry bundles). -tls-addr also serves the issuer over HTTPS, with
// a certificate for the issuer URL's host from a CA made at start, whose
// certificate goes to -tls-ca-out (written once the HTTPS port listens, so
// its presence says the issuer is up). It is for tests only: bind it to
// loopback.
package main

import (
	"errors"
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/hallmark-dev/hallmark/internal/e2e/oidcissuer"
)

func main() {
	log.SetPrefix("oidcissuer: ")
	addr := flag.String("addr", "127.0.0.1:5556", "listen `ADDRESS` (keep it on loopback)")
	issuerURL := flag.String("issuer", "", "issuer `URL` (default http://ADDRESS)")
	serveDir := flag.String("serve-dir", "", "also serve a directory read-only: `ADDRESS=DIR`")
	tlsAddr := flag.String("tls-addr", "", "also serve the issuer over HTTPS on `ADDRESS`")
	caOut := flag.String("tls-ca-out", "", "with -tls-addr, write the CA certificate (PEM) to `FILE`")
	flag.Parse()
	if *issuerURL == "" {
		*issuerURL = "http://" + *addr
	}
	iss, err := oidcissuer.New(*issuerURL)
	if err != nil {
		log.Fatal(err)
	}
	if *serveDir != "" {
		a, dir, ok := strings.Cut(*serveDir, "=")
		if !ok {
			log.Fatal("-serve-dir wants ADDRESS=DIR")
		}
		go func() { log.Fatal(serve(a, http.FileServer(http.Dir(dir)))) }()
		log.Printf("serving %s read-only on %s", dir, a)
	}
	if *tlsAddr != "" {
		if err := serveTLS(iss, *tlsAddr, *caOut); err != nil {
			log.Fatal(err)
		}
	}
	log.Printf("issuer %s on %s", iss.URL(), *addr)
	log.Fatal(serve(*addr, iss))
}

func serve(addr string, h http.Handler) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	return (&http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}).Serve(ln)
}

// serveTLS listens on addr, writes the CA to caOut and serves iss over
// HTTPS in the background.
func serveTLS(iss *oidcissuer.Issuer, addr, caOut string) error {
	if caOut == "" {
		return errors.New("-tls-addr needs -tls-ca-out: the relying party must trust the CA")
	}
	u, err := url.Parse(iss.URL())
	if err != nil || u.Scheme != "https" {
		return fmt.Errorf("-tls-addr wants an https issuer URL, not %q", iss.URL())
	}
	caPEM, cfg, err := oidcissuer.TLSFor(u.Hostname(), time.Now())
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	// Atomically: a reader sees the whole CA or no file.
	tmp := filepath.Join(filepath.Dir(caOut), "."+filepath.Base(caOut)+".tmp")
	if err := os.WriteFile(tmp, caPEM, 0o644); err != nil {
		return err
	}
	if err := os.Rename(tmp, caOut); err != nil {
		return err
	}
	srv := &http.Server{Handler: iss, ReadHeaderTimeout: 10 * time.Second, TLSConfig: cfg}
	go func() { log.Fatal(srv.ServeTLS(ln, "", "")) }()
	log.Printf("issuer %s over HTTPS on %s (CA in %s)", iss.URL(), addr, caOut)
	return nil
}
