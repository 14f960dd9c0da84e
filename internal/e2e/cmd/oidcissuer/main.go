// Command oidcissuer runs the e2e tests' OIDC issuer (package
// internal/e2e/oidcissuer) on a loopback address:
//
//	oidcissuer -addr 127.0.0.1:5556 [-serve-dir 127.0.0.1:3080=DIR]
//
// -serve-dir also serves DIR read-only on a second address: the Rekor v2
// (rekor-tiles posix) storage directory is the log's read API (checkpoint,
// tiles, entry bundles). It is for tests only: bind it to loopback.
package main

import (
	"flag"
	"log"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/hallmark-dev/hallmark/internal/e2e/oidcissuer"
)

func main() {
	log.SetPrefix("oidcissuer: ")
	addr := flag.String("addr", "127.0.0.1:5556", "listen `ADDRESS` (keep it on loopback)")
	url := flag.String("issuer", "", "issuer `URL` (default http://ADDRESS)")
	serveDir := flag.String("serve-dir", "", "also serve a directory read-only: `ADDRESS=DIR`")
	flag.Parse()
	if *url == "" {
		*url = "http://" + *addr
	}
	iss, err := oidcissuer.New(*url)
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
