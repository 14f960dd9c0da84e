package oci

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"

	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
	"oras.land/oras-go/v2/registry/remote/errcode"
)

// The kinds of registry failure. A *Error wraps one of them: test with
// errors.Is.
var (
	// ErrAuth: the registry refused the credentials (HTTP 401 or 403).
	ErrAuth = errors.New("registry refused access")
	// ErrNotFound: the repository, tag or manifest does not exist.
	ErrNotFound = errors.New("not found in the registry")
	// ErrNetwork: the registry could not be reached (DNS, connection,
	// TLS, a timeout).
	ErrNetwork = errors.New("registry unreachable")
	// ErrRegistry: the registry answered, but not as the protocol says
	// (another HTTP status, a malformed manifest).
	ErrRegistry = errors.New("registry error")
	// ErrReference: the reference is not REGISTRY/REPO[:TAG|@DIGEST], or
	// asks for plain HTTP where it is not allowed.
	ErrReference = errors.New("bad image reference")
)

// Error is a failed registry operation: what was done (Op: "resolving",
// "pushing", "listing referrers of"...), on which reference, the kind (one
// of the Err* above) and the library's error.
type Error struct {
	Op   string
	Ref  string
	Kind error
	// Status is the HTTP status the registry answered, when it did.
	Status int
	Err    error
}

func (e *Error) Error() string {
	msg := fmt.Sprintf("%s %s: %v", e.Op, e.Ref, e.Kind)
	if e.Err != nil {
		msg += ": " + e.Err.Error()
	}
	return msg
}

func (e *Error) Unwrap() []error { return []error{e.Kind, e.Err} }

// Hint says what to do about the failure, by its kind.
func (e *Error) Hint() string {
	switch e.Kind {
	case ErrAuth:
		return "log in with 'docker login REGISTRY' (hallmark reads the Docker config and its credential helpers), or pass --registry-username and --registry-password-stdin"
	case ErrNotFound:
		return "check the registry, repository and tag (or digest) of the reference"
	case ErrNetwork:
		return "check the registry's host name and port and the network; a registry on localhost without TLS needs --allow-insecure-registry"
	case ErrReference:
		return "write the image as oci://REGISTRY/REPOSITORY[:TAG|@sha256:HEX]"
	}
	return "the registry's answer is in the message; --verbose shows the requests"
}

// wrap classifies err, from go-containerregistry or oras-go, into an *Error.
func wrap(op, ref string, err error) error {
	if err == nil {
		return nil
	}
	var e *Error
	if errors.As(err, &e) {
		return err
	}
	status, kind := classify(err)
	return &Error{Op: op, Ref: ref, Kind: kind, Status: status, Err: err}
}

func classify(err error) (status int, kind error) {
	if errors.Is(err, errManifestTooLarge) {
		return 0, ErrRegistry
	}
	var te *transport.Error
	if errors.As(err, &te) {
		return te.StatusCode, kindOfStatus(te.StatusCode, diagnosticCodes(te))
	}
	var oe *errcode.ErrorResponse
	if errors.As(err, &oe) {
		var codes []string
		for _, e := range oe.Errors {
			codes = append(codes, e.Code)
		}
		return oe.StatusCode, kindOfStatus(oe.StatusCode, codes)
	}
	var (
		op   *net.OpError
		dns  *net.DNSError
		rh   tls.RecordHeaderError
		ua   x509.UnknownAuthorityError
		hn   x509.HostnameError
		ci   x509.CertificateInvalidError
		ue   *url.Error
		nerr net.Error
	)
	switch {
	case errors.As(err, &op), errors.As(err, &dns), errors.As(err, &rh), errors.As(err, &ua),
		errors.As(err, &hn), errors.As(err, &ci), errors.As(err, &nerr):
		return 0, ErrNetwork
	case errors.As(err, &ue):
		return 0, ErrNetwork
	}
	return 0, ErrRegistry
}

func diagnosticCodes(te *transport.Error) []string {
	var codes []string
	for _, d := range te.Errors {
		codes = append(codes, string(d.Code))
	}
	return codes
}

func kindOfStatus(status int, codes []string) error {
	for _, c := range codes {
		switch c {
		case "UNAUTHORIZED", "DENIED":
			return ErrAuth
		case "MANIFEST_UNKNOWN", "NAME_UNKNOWN", "BLOB_UNKNOWN":
			return ErrNotFound
		}
	}
	switch status {
	case http.StatusUnauthorized, http.StatusForbidden:
		return ErrAuth
	case http.StatusNotFound:
		return ErrNotFound
	}
	return ErrRegistry
}
