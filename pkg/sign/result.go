package sign

import (
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/hallmark-dev/hallmark/internal/oidc"
	"github.com/hallmark-dev/hallmark/pkg/verify"
)

// SchemaVersion is the version of the JSON document Report encodes.
const SchemaVersion = "1"

// Report is what `hallmark sign --output json` prints: one Result per file,
// in the order given.
type Report struct {
	SchemaVersion string    `json:"schemaVersion"`
	Results       []*Result `json:"results"`
}

// Result is what signing one file made, as verified before it was
// returned.
type Result struct {
	Artifact string `json:"artifact"`
	// Bundle is the path written ("" when the bundle was only returned).
	Bundle      string             `json:"bundle,omitempty"`
	Digest      *verify.Digest     `json:"digest,omitempty"`
	MediaType   string             `json:"mediaType,omitempty"`
	Signer      *verify.Signer     `json:"signer,omitempty"`
	TlogEntries []verify.TlogEntry `json:"tlogEntries,omitempty"`
	Timestamps  []verify.Timestamp `json:"timestamps,omitempty"`
	Error       string             `json:"error,omitempty"`
}

// fulcioErr wraps a Fulcio failure; when Fulcio refused the request, the
// token's claims (read unverified, only to explain) say what was wrong.
func fulcioErr(url, token string, err error) error {
	e := serviceErr(ServiceFulcio, url, err).(*ServiceError)
	switch e.Status {
	case http.StatusBadRequest, http.StatusUnauthorized, http.StatusForbidden:
		e.TokenProblem = TokenProblem(token, time.Now())
	}
	return e
}

// TokenProblem explains why a service might refuse token: it has expired,
// is not yet valid, or its audience is not "sigstore". The claims are read
// without verifying the token, only to explain a refusal. It returns "" when
// nothing looks wrong.
func TokenProblem(token string, now time.Time) string {
	c, err := oidc.ParseToken(token)
	if err != nil {
		return "it is not a well-formed JWT: " + err.Error()
	}
	var problems []string
	if !c.Expiry.IsZero() && now.After(c.Expiry) {
		problems = append(problems, fmt.Sprintf("it expired at %s (%s ago)", c.Expiry.UTC().Format(time.RFC3339), now.Sub(c.Expiry).Round(time.Second)))
	}
	if !c.NotBefore.IsZero() && now.Before(c.NotBefore) {
		problems = append(problems, fmt.Sprintf("it is not valid before %s", c.NotBefore.UTC().Format(time.RFC3339)))
	}
	if len(c.Audience) > 0 && !c.HasAudience(oidc.Audience) {
		problems = append(problems, fmt.Sprintf("its audience is %q, but Sigstore expects %q", strings.Join(c.Audience, ","), oidc.Audience))
	}
	return strings.Join(problems, "; ")
}
