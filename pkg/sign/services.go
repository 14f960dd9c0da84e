package sign

import (
	"fmt"
	"net/url"
	"time"

	"github.com/sigstore/sigstore-go/pkg/root"
	sgsign "github.com/sigstore/sigstore-go/pkg/sign"
)

// Services are the Sigstore services one signer uses. Empty fields mean
// "not used": no Fulcio means key-based signing, no Rekor means no
// transparency log entry, no TSA means no RFC 3161 timestamp.
type Services struct {
	Fulcio string `json:"fulcio,omitempty"`
	// OIDCIssuer is the signing config's identity provider, for an
	// interactive token flow.
	OIDCIssuer string     `json:"oidcIssuer,omitempty"`
	Rekor      []RekorLog `json:"rekor,omitempty"`
	TSA        []string   `json:"tsa,omitempty"`
}

// RekorLog is a transparency log and the major version of its API (1 or 2).
type RekorLog struct {
	URL     string `json:"url"`
	Version uint32 `json:"version"`
}

// Overrides replace single services of a signing config.
type Overrides struct {
	FulcioURL string
	RekorURL  string
	// RekorVersion is 1 or 2; with RekorURL it is that log's version
	// (default 1), without it, it restricts the config's logs to that
	// version.
	RekorVersion uint32
	TimestampURL string
	OIDCIssuer   string
	// NoTlog and NoTimestamp turn the log and the TSA off (key-based
	// signing only: a Fulcio certificate needs a verified time).
	NoTlog      bool
	NoTimestamp bool
}

// SelectServices picks the services of sc (which may be nil) that are
// valid at now, with the highest API versions hallmark supports, as the
// signing config's selectors say, then applies the overrides.
func SelectServices(sc *root.SigningConfig, o Overrides, now time.Time) (Services, error) {
	var s Services
	if o.RekorVersion != 0 && o.RekorVersion != 1 && o.RekorVersion != 2 {
		return s, fmt.Errorf("%w: Rekor API version %d (want 1 or 2)", ErrBadOverride, o.RekorVersion)
	}
	for _, u := range []struct{ name, value string }{{"Fulcio", o.FulcioURL}, {"Rekor", o.RekorURL}, {"timestamp authority", o.TimestampURL}, {"OIDC issuer", o.OIDCIssuer}} {
		if u.value == "" {
			continue
		}
		if p, err := url.Parse(u.value); err != nil || (p.Scheme != "http" && p.Scheme != "https") || p.Host == "" {
			return s, fmt.Errorf("%w: %s URL %q is not an http(s) URL", ErrBadOverride, u.name, u.value)
		}
	}
	if sc != nil {
		if f, err := root.SelectService(sc.FulcioCertificateAuthorityURLs(), sgsign.FulcioAPIVersions, now); err == nil {
			s.Fulcio = f.URL
		}
		if f, err := root.SelectService(sc.OIDCProviderURLs(), []uint32{1}, now); err == nil {
			s.OIDCIssuer = f.URL
		}
		versions := sgsign.RekorAPIVersions
		if o.RekorVersion != 0 {
			versions = []uint32{o.RekorVersion}
		}
		if len(sc.RekorLogURLs()) > 0 && o.RekorURL == "" && !o.NoTlog {
			logs, err := root.SelectServices(sc.RekorLogURLs(), sc.RekorLogURLsConfig(), versions, now)
			if err != nil {
				return s, fmt.Errorf("%w: no usable Rekor log in the signing config: %w", ErrConfig, err)
			}
			for _, l := range logs {
				s.Rekor = append(s.Rekor, RekorLog{URL: l.URL, Version: l.MajorAPIVersion})
			}
		}
		if len(sc.TimestampAuthorityURLs()) > 0 && o.TimestampURL == "" && !o.NoTimestamp {
			tsas, err := root.SelectServices(sc.TimestampAuthorityURLs(), sc.TimestampAuthorityURLsConfig(), sgsign.TimestampAuthorityAPIVersions, now)
			if err != nil {
				return s, fmt.Errorf("%w: no usable timestamp authority in the signing config: %w", ErrConfig, err)
			}
			for _, t := range tsas {
				s.TSA = append(s.TSA, t.URL)
			}
		}
	}
	if o.FulcioURL != "" {
		s.Fulcio = o.FulcioURL
	}
	if o.OIDCIssuer != "" {
		s.OIDCIssuer = o.OIDCIssuer
	}
	if o.RekorURL != "" {
		v := o.RekorVersion
		if v == 0 {
			v = 1
		}
		s.Rekor = []RekorLog{{URL: o.RekorURL, Version: v}}
	}
	if o.TimestampURL != "" {
		s.TSA = []string{o.TimestampURL}
	}
	if o.NoTlog {
		s.Rekor = nil
	}
	if o.NoTimestamp {
		s.TSA = nil
	}
	return s, nil
}

// check reports a service combination that cannot make a bundle that
// verifies.
func (s Services) check(keyless bool) error {
	if keyless && s.Fulcio == "" {
		return fmt.Errorf("%w: keyless signing needs a Fulcio URL (none in the signing config)", ErrConfig)
	}
	if keyless && len(s.Rekor) == 0 && len(s.TSA) == 0 {
		return fmt.Errorf("%w: a Fulcio certificate is short-lived and needs a verified time: keyless signing needs a Rekor v1 log or a timestamp authority", ErrConfig)
	}
	for _, l := range s.Rekor {
		if l.Version == 2 && len(s.TSA) == 0 {
			return fmt.Errorf("%w: Rekor v2 (%s) gives no integrated time: it needs a timestamp authority", ErrConfig, l.URL)
		}
	}
	return nil
}
