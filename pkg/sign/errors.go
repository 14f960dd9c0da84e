package sign

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"sync"
)

// Errors for errors.Is.
var (
	// ErrConfig: the options or the signing config cannot make a signer
	// (no Fulcio for a keyless run, an unsupported Rekor version...).
	ErrConfig = errors.New("invalid signing configuration")
	// ErrBadOverride: a single-service override is malformed (a URL that
	// is not http(s), an unknown Rekor version). It wraps ErrConfig.
	ErrBadOverride = fmt.Errorf("%w: bad service override", ErrConfig)
	// ErrNoToken: keyless signing without an identity token.
	ErrNoToken = errors.New("keyless signing needs an identity token")
	// ErrBadBundle: a service returned something that does not verify (a
	// bad certificate, log entry or timestamp). It is a fault of the
	// services, not of the user's input, and no bundle is written.
	ErrBadBundle = errors.New("the signed bundle does not verify")
)

// Service names, as ServiceError reports them.
const (
	ServiceFulcio = "Fulcio"
	ServiceRekor  = "Rekor"
	ServiceTSA    = "timestamp authority"
)

// ServiceError is a failed request to a Sigstore service.
type ServiceError struct {
	// Service is ServiceFulcio, ServiceRekor or ServiceTSA.
	Service string
	// URL is the service's base URL.
	URL string
	// Status is the HTTP status code, when the service answered.
	Status int
	// TokenProblem explains a rejected identity token, from its claims
	// (read without verification, only to explain): "expired at ...",
	// "audience ... (Fulcio expects sigstore)".
	TokenProblem string
	Err          error
}

func (e *ServiceError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s at %s", e.Service, e.URL)
	if e.Status != 0 {
		fmt.Fprintf(&b, " returned HTTP %d", e.Status)
	} else {
		b.WriteString(" failed")
	}
	if e.TokenProblem != "" {
		fmt.Fprintf(&b, ": the identity token was rejected: %s", e.TokenProblem)
	}
	if e.Err != nil {
		fmt.Fprintf(&b, ": %s", trimBody(e.Err.Error()))
	}
	return b.String()
}

func (e *ServiceError) Unwrap() error { return e.Err }

// trimBody keeps an error message (which may quote a whole HTTP response
// body) to one readable line.
func trimBody(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > 300 {
		s = s[:300] + "..."
	}
	return s
}

// statusPatterns find the HTTP status in the errors of sigstore-go's
// Fulcio and TSA clients ("Fulcio returned 401: ..."), go-openapi's Rekor v1
// client ("[POST /api/v1/log/entries][400]") and rekor-tiles' writer. They
// are compiled on first use: only failing signatures need them, and every
// hallmark process would pay for compiling them at start-up.
var statusPatterns = sync.OnceValue(func() []*regexp.Regexp {
	return []*regexp.Regexp{
		regexp.MustCompile(`returned (\d{3})\b`),
		regexp.MustCompile(`\]\[(\d{3})\]`),
		regexp.MustCompile(`unexpected response: (\d{3})\b`),
		regexp.MustCompile(`(?i)status(?: code)?:? (\d{3})\b`),
		regexp.MustCompile(`\b(\d{3}) (?:Bad Request|Unauthorized|Forbidden|Not Found|Conflict|Internal Server Error|Bad Gateway|Service Unavailable|Gateway Timeout|Too Many Requests)\b`),
	}
})

func statusOf(err error) int {
	msg := err.Error()
	for _, p := range statusPatterns() {
		if m := p.FindStringSubmatch(msg); m != nil {
			n, _ := strconv.Atoi(m[1])
			if n >= 100 && n < 600 {
				return n
			}
		}
	}
	return 0
}

func serviceErr(service, url string, err error) error {
	var se *ServiceError
	if errors.As(err, &se) {
		return err
	}
	return &ServiceError{Service: service, URL: url, Status: statusOf(err), Err: err}
}

// BadBundleError says which check a freshly signed bundle failed.
type BadBundleError struct {
	Artifact string
	Err      error
}

func (e *BadBundleError) Error() string {
	return fmt.Sprintf("%s: %v: %v (a Sigstore service returned a bad certificate, log entry or timestamp, or the trusted root does not match the services; no bundle was written)",
		e.Artifact, ErrBadBundle, e.Err)
}

func (e *BadBundleError) Unwrap() []error { return []error{ErrBadBundle, e.Err} }

// keepErrorBodies works around sigstore-go's Fulcio and TSA clients, which
// close a 5xx response's body before reading it once their retries are
// spent (the error then says "read on closed response body" instead of
// the status): it buffers error bodies so they can be read after Close.
type keepErrorBodies struct{ next http.RoundTripper }

func (t keepErrorBodies) RoundTrip(req *http.Request) (*http.Response, error) {
	next := t.next
	if next == nil {
		next = http.DefaultTransport
	}
	resp, err := next.RoundTrip(req)
	if err != nil || resp.StatusCode < 400 {
		return resp, err
	}
	body, rerr := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	_ = resp.Body.Close()
	if rerr != nil {
		return nil, rerr
	}
	resp.Body = io.NopCloser(bytes.NewReader(body))
	return resp, nil
}
