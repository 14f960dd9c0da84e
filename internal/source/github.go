package source

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/klauspost/compress/s2"

	"github.com/hallmark-dev/hallmark/internal/atomicfile"
	"github.com/hallmark-dev/hallmark/internal/ctxio"
	"github.com/hallmark-dev/hallmark/pkg/verify"
)

// DefaultAPIURL is github.com's REST API.
const DefaultAPIURL = "https://api.github.com"

// maxPages bounds how many pages of attestations one digest may take.
const maxPages = 20

// maxPage bounds one page of the attestations API.
const maxPage = 64 << 20

// Reason classifies why attestations could not be had from GitHub. The
// values are stable: the JSON output carries them.
type Reason string

const (
	// ReasonNoAttestation: the API answered and has none for the digest
	// (404, or an empty list).
	ReasonNoAttestation Reason = "no-attestation"
	// ReasonRateLimited: 403 or 429 with the rate limit exhausted.
	ReasonRateLimited Reason = "rate-limited"
	// ReasonAuth: 401, or 403 without rate limiting (a bad or
	// insufficient token, a private repository without one).
	ReasonAuth Reason = "auth"
	// ReasonNetwork: the API could not be reached or the connection failed.
	ReasonNetwork Reason = "network"
	// ReasonBadResponse: the API answered with something that is not the
	// attestations API's response (another status, a body that does not
	// decode, a bundle that does not parse).
	ReasonBadResponse Reason = "bad-response"
)

// APIError is a failure to get the attestations of one digest from GitHub.
type APIError struct {
	Reason Reason
	Digest verify.Digest
	URL    string
	// Status is the HTTP status, 0 when there was no response.
	Status int
	// RetryAt is when the rate limit resets (x-ratelimit-reset or
	// retry-after), zero when unknown.
	RetryAt time.Time
	// Token tells whether the request carried a token.
	Token bool
	Err   error
}

func (e *APIError) Error() string {
	switch e.Reason {
	case ReasonNoAttestation:
		if e.Err != nil {
			return fmt.Sprintf("no attestation for %s: %v", e.Digest, e.Err)
		}
		return fmt.Sprintf("no attestation for %s at %s", e.Digest, e.URL)
	case ReasonRateLimited:
		msg := fmt.Sprintf("GitHub's API rate limit is exhausted (HTTP %d from %s)", e.Status, e.URL)
		if !e.RetryAt.IsZero() {
			msg += fmt.Sprintf("; retry after %s (in %s)", e.RetryAt.UTC().Format(time.RFC3339), time.Until(e.RetryAt).Round(time.Second))
		}
		if !e.Token {
			msg += "; a token in GH_TOKEN or GITHUB_TOKEN lifts the anonymous limit"
		}
		return msg
	case ReasonAuth:
		if e.Token {
			return fmt.Sprintf("GitHub's API refused the token (HTTP %d from %s): check GH_TOKEN or GITHUB_TOKEN", e.Status, e.URL)
		}
		return fmt.Sprintf("GitHub's API requires authentication (HTTP %d from %s): set GH_TOKEN or GITHUB_TOKEN", e.Status, e.URL)
	case ReasonNetwork:
		return fmt.Sprintf("cannot reach GitHub's API at %s: %v", e.URL, e.Err)
	}
	if e.Err != nil {
		return fmt.Sprintf("unexpected answer from GitHub's API at %s: %v", e.URL, e.Err)
	}
	return fmt.Sprintf("unexpected answer from GitHub's API at %s: HTTP %d", e.URL, e.Status)
}

func (e *APIError) Unwrap() error { return e.Err }

// ReasonOf returns the Reason of err when it is an *APIError, else "".
func ReasonOf(err error) Reason {
	var e *APIError
	if errors.As(err, &e) {
		return e.Reason
	}
	return ""
}

// Scope is whose attestations are asked for: a repository
// ("OWNER/NAME", /repos/OWNER/NAME/attestations/…) or, when Repo is empty,
// an organisation or user (/orgs/OWNER/attestations/…).
type Scope struct {
	Repo  string
	Owner string
}

func (s Scope) path() (string, error) {
	if s.Repo != "" {
		owner, name, ok := strings.Cut(s.Repo, "/")
		if !ok || owner == "" || name == "" || strings.Contains(name, "/") {
			return "", fmt.Errorf("repository %q is not OWNER/NAME", s.Repo)
		}
		return "/repos/" + url.PathEscape(owner) + "/" + url.PathEscape(name), nil
	}
	if s.Owner == "" || strings.Contains(s.Owner, "/") {
		return "", fmt.Errorf("owner %q is not a GitHub user or organisation", s.Owner)
	}
	return "/orgs/" + url.PathEscape(s.Owner), nil
}

// GitHub fetches attestations from GitHub's REST API.
type GitHub struct {
	// APIURL is the API's base (DefaultAPIURL when empty; GitHub Enterprise
	// Server is https://HOST/api/v3).
	APIURL string
	// Token is sent as a bearer token to the API (never to a bundle_url
	// elsewhere); empty asks anonymously.
	Token string
	// Client is the HTTP client (http.DefaultClient when nil).
	Client *http.Client
	// CacheDir, when set, keeps the bundles found for each digest there in
	// gh's download format and answers from it on the next call.
	CacheDir string
	// Concurrency bounds the requests in flight (4 when 0).
	Concurrency int
	// UserAgent is sent with every request.
	UserAgent string
}

// TokenFromEnv is GH_TOKEN, else GITHUB_TOKEN, as gh reads them.
func TokenFromEnv() string {
	if t := os.Getenv("GH_TOKEN"); t != "" {
		return t
	}
	return os.Getenv("GITHUB_TOKEN")
}

// Fetched is the outcome for one digest: its bundles, or why there are none.
type Fetched struct {
	Bundles []*Bundle
	// Cached tells that the bundles came from the cache.
	Cached bool
	Err    error
}

// Fetch gets the attestations of each distinct digest in scope, at most
// Concurrency requests at a time. Every digest has an entry in the result;
// its Err is an *APIError, or ctx's error, or an error about the scope.
func (g *GitHub) Fetch(ctx context.Context, scope Scope, digests []verify.Digest) map[verify.Digest]*Fetched {
	out := map[verify.Digest]*Fetched{}
	var todo []verify.Digest
	for _, d := range digests {
		d = normal(d)
		if _, ok := out[d]; !ok {
			out[d] = &Fetched{}
			todo = append(todo, d)
		}
	}
	n := g.Concurrency
	if n <= 0 {
		n = 4
	}
	sem := make(chan struct{}, n)
	var wg sync.WaitGroup
	for _, d := range todo {
		wg.Add(1)
		go func(f *Fetched) {
			defer wg.Done()
			select {
			case sem <- struct{}{}:
				defer func() { <-sem }()
				f.Bundles, f.Cached, f.Err = g.fetchOne(ctx, scope, d)
			case <-ctx.Done():
				f.Err = ctx.Err()
			}
		}(out[d])
	}
	wg.Wait()
	return out
}

func (g *GitHub) base() (*url.URL, error) {
	s := g.APIURL
	if s == "" {
		s = DefaultAPIURL
	}
	u, err := url.Parse(strings.TrimSuffix(s, "/"))
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, fmt.Errorf("API URL %q is not an http(s) URL", s)
	}
	return u, nil
}

// cachePath is where the bundles of d in scope are kept:
// CacheDir/HOST/repos/OWNER/NAME/sha256:HEX.jsonl (or orgs/OWNER/...).
func (g *GitHub) cachePath(base *url.URL, scopePath string, d verify.Digest) string {
	if g.CacheDir == "" {
		return ""
	}
	host := strings.NewReplacer(":", "_", "/", "_").Replace(base.Host + base.Path)
	return filepath.Join(g.CacheDir, host, filepath.FromSlash(strings.TrimPrefix(scopePath, "/")), DownloadFileName(d))
}

func (g *GitHub) fetchOne(ctx context.Context, scope Scope, d verify.Digest) ([]*Bundle, bool, error) {
	if err := ctx.Err(); err != nil {
		return nil, false, err
	}
	base, err := g.base()
	if err != nil {
		return nil, false, err
	}
	sp, err := scope.path()
	if err != nil {
		return nil, false, err
	}
	cache := g.cachePath(base, sp, d)
	if cache != "" {
		if st, err := os.Stat(cache); err == nil && st.Mode().IsRegular() {
			if bs, err := ReadFile(ctx, cache); err == nil {
				return bs, true, nil
			}
			// An unreadable cache entry is fetched again and replaced.
		}
	}
	first := *base
	first.Path += sp + "/attestations/" + url.PathEscape(d.String())
	first.RawQuery = "per_page=100"
	var raws [][]byte
	next := first.String()
	for page := 0; next != "" && page < maxPages; page++ {
		items, link, err := g.page(ctx, next, d)
		if err != nil {
			return nil, false, err
		}
		for _, it := range items {
			raw, err := g.bundleOf(ctx, it, d, next)
			if err != nil {
				return nil, false, err
			}
			raws = append(raws, raw)
		}
		if next, err = sameOrigin(base, link); err != nil {
			return nil, false, &APIError{Reason: ReasonBadResponse, Digest: d, URL: first.String(), Err: err}
		}
	}
	if len(raws) == 0 {
		return nil, false, &APIError{Reason: ReasonNoAttestation, Digest: d, URL: first.String(), Status: http.StatusOK, Token: g.Token != ""}
	}
	var bs []*Bundle
	for i, raw := range raws {
		b, err := NewBundle(fmt.Sprintf("%s (attestation %d)", first.String(), i+1), raw)
		if err != nil {
			return nil, false, &APIError{Reason: ReasonBadResponse, Digest: d, URL: first.String(), Err: fmt.Errorf("attestation %d: %w", i+1, err)}
		}
		bs = append(bs, b)
	}
	if cache != "" {
		// The cache is a convenience: failing to write it fails nothing.
		_ = writeJSONL(cache, bs)
	}
	return bs, false, nil
}

// attestation is one entry of the attestations API's response.
type attestation struct {
	Bundle    json.RawMessage `json:"bundle"`
	BundleURL string          `json:"bundle_url"`
}

// page gets one page of attestations and the URL of the next ("" if none).
func (g *GitHub) page(ctx context.Context, u string, d verify.Digest) ([]attestation, string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, "", &APIError{Reason: ReasonBadResponse, Digest: d, URL: u, Err: err}
	}
	req.Header.Set("Accept", "application/vnd.github+json")
	req.Header.Set("X-GitHub-Api-Version", "2022-11-28")
	if g.UserAgent != "" {
		req.Header.Set("User-Agent", g.UserAgent)
	}
	if g.Token != "" {
		req.Header.Set("Authorization", "Bearer "+g.Token)
	}
	resp, err := g.client().Do(req)
	if err != nil {
		return nil, "", g.transportError(ctx, err, d, u)
	}
	defer func() { _ = resp.Body.Close() }()
	fail := &APIError{Digest: d, URL: u, Status: resp.StatusCode, Token: g.Token != ""}
	switch {
	case resp.StatusCode == http.StatusOK:
	case resp.StatusCode == http.StatusNotFound:
		fail.Reason = ReasonNoAttestation
		return nil, "", fail
	case rateLimited(resp):
		fail.Reason, fail.RetryAt = ReasonRateLimited, retryAt(resp.Header, time.Now())
		return nil, "", fail
	case resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden:
		fail.Reason = ReasonAuth
		return nil, "", fail
	default:
		fail.Reason = ReasonBadResponse
		return nil, "", fail
	}
	body, err := readAll(ctxBody(ctx, resp.Body), maxPage)
	if err != nil {
		if errors.Is(err, ErrTooLarge) {
			fail.Reason, fail.Err = ReasonBadResponse, fmt.Errorf("the response is over %d bytes: %w", maxPage, err)
			return nil, "", fail
		}
		return nil, "", g.transportError(ctx, err, d, u)
	}
	var doc struct {
		Attestations []attestation `json:"attestations"`
	}
	if err := json.Unmarshal(body, &doc); err != nil {
		fail.Reason, fail.Err = ReasonBadResponse, fmt.Errorf("the response is not the attestations API's JSON: %w", err)
		return nil, "", fail
	}
	return doc.Attestations, nextLink(resp.Header.Values("Link")), nil
}

// bundleOf is an entry's bundle JSON, compact: inline, or fetched from its
// bundle_url (snappy block format) without the token.
func (g *GitHub) bundleOf(ctx context.Context, it attestation, d verify.Digest, pageURL string) ([]byte, error) {
	if t := bytes.TrimSpace(it.Bundle); len(t) > 0 && !bytes.Equal(t, []byte("null")) {
		return compactJSON(t, d, pageURL)
	}
	if it.BundleURL == "" {
		return nil, &APIError{Reason: ReasonBadResponse, Digest: d, URL: pageURL, Err: errors.New("an attestation has neither a bundle nor a bundle_url")}
	}
	u, err := url.Parse(it.BundleURL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") {
		return nil, &APIError{Reason: ReasonBadResponse, Digest: d, URL: pageURL, Err: fmt.Errorf("bundle_url %q is not an http(s) URL", it.BundleURL)}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, &APIError{Reason: ReasonBadResponse, Digest: d, URL: it.BundleURL, Err: err}
	}
	if g.UserAgent != "" {
		req.Header.Set("User-Agent", g.UserAgent)
	}
	resp, err := g.client().Do(req)
	if err != nil {
		return nil, g.transportError(ctx, err, d, redactQuery(u))
	}
	defer func() { _ = resp.Body.Close() }()
	fail := &APIError{Reason: ReasonBadResponse, Digest: d, URL: redactQuery(u), Status: resp.StatusCode}
	if resp.StatusCode != http.StatusOK {
		return nil, fail
	}
	body, err := readAll(ctxBody(ctx, resp.Body), MaxLineSize)
	if err != nil {
		if errors.Is(err, ErrTooLarge) {
			fail.Err = err
			return nil, fail
		}
		return nil, g.transportError(ctx, err, d, redactQuery(u))
	}
	n, err := s2.DecodedLen(body)
	if err == nil && n > MaxLineSize {
		err = fmt.Errorf("it decodes to %d bytes: %w", n, ErrTooLarge)
	}
	var plain []byte
	if err == nil {
		plain, err = s2.Decode(nil, body)
	}
	if err != nil {
		fail.Err = fmt.Errorf("the bundle is not snappy-compressed JSON: %w", err)
		return nil, fail
	}
	return compactJSON(plain, d, redactQuery(u))
}

func compactJSON(data []byte, d verify.Digest, u string) ([]byte, error) {
	var buf bytes.Buffer
	if err := json.Compact(&buf, data); err != nil {
		return nil, &APIError{Reason: ReasonBadResponse, Digest: d, URL: u, Err: fmt.Errorf("a bundle is not JSON: %w", err)}
	}
	return buf.Bytes(), nil
}

func (g *GitHub) client() *http.Client {
	if g.Client != nil {
		return g.Client
	}
	return http.DefaultClient
}

func (g *GitHub) transportError(ctx context.Context, err error, d verify.Digest, u string) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err // the URL is in the APIError
	}
	return &APIError{Reason: ReasonNetwork, Digest: d, URL: u, Token: g.Token != "", Err: err}
}

// rateLimited tells a rate-limit answer: 429, or 403 with the limit at 0 or
// a retry-after (GitHub's secondary limits).
func rateLimited(resp *http.Response) bool {
	if resp.StatusCode != http.StatusForbidden && resp.StatusCode != http.StatusTooManyRequests {
		return false
	}
	h := resp.Header
	return resp.StatusCode == http.StatusTooManyRequests || h.Get("X-Ratelimit-Remaining") == "0" || h.Get("Retry-After") != ""
}

// retryAt is when to retry: retry-after (seconds) or x-ratelimit-reset
// (Unix seconds), the later of the two; zero when neither is given.
func retryAt(h http.Header, now time.Time) time.Time {
	var t time.Time
	if s, err := strconv.ParseInt(strings.TrimSpace(h.Get("Retry-After")), 10, 64); err == nil && s >= 0 {
		t = now.Add(time.Duration(s) * time.Second)
	}
	if s, err := strconv.ParseInt(strings.TrimSpace(h.Get("X-Ratelimit-Reset")), 10, 64); err == nil && s > 0 {
		if r := time.Unix(s, 0); r.After(t) {
			t = r
		}
	}
	return t
}

// nextLink is the rel="next" URL of RFC 8288 Link headers, or "".
func nextLink(values []string) string {
	for _, v := range values {
		for _, part := range strings.Split(v, ",") {
			target, params, ok := strings.Cut(strings.TrimSpace(part), ";")
			if !ok {
				continue
			}
			target = strings.TrimSpace(target)
			if !strings.HasPrefix(target, "<") || !strings.HasSuffix(target, ">") {
				continue
			}
			for _, p := range strings.Split(params, ";") {
				k, val, _ := strings.Cut(strings.TrimSpace(p), "=")
				if strings.EqualFold(k, "rel") && strings.Contains(" "+strings.Trim(val, `"`)+" ", " next ") {
					return target[1 : len(target)-1]
				}
			}
		}
	}
	return ""
}

// sameOrigin resolves link against base and refuses another scheme or host:
// the token goes only to the API.
func sameOrigin(base *url.URL, link string) (string, error) {
	if link == "" {
		return "", nil
	}
	u, err := base.Parse(link)
	if err != nil {
		return "", fmt.Errorf("the next-page link %q is not a URL", link)
	}
	if u.Scheme != base.Scheme || u.Host != base.Host {
		return "", fmt.Errorf("the next-page link %q leaves %s", link, base.Host)
	}
	return u.String(), nil
}

// redactQuery drops a URL's query (a bundle_url's is a signed access token).
func redactQuery(u *url.URL) string {
	c := *u
	if c.RawQuery != "" {
		c.RawQuery = "REDACTED"
	}
	return c.String()
}

func ctxBody(ctx context.Context, r io.Reader) io.Reader { return ctxio.Reader(ctx, r) }

// writeJSONL is WriteJSONL creating path's directory first.
func writeJSONL(path string, bs []*Bundle) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return WriteJSONL(path, bs)
}

// WriteJSONL writes bs to path in gh's download format (one compact bundle
// per line), atomically: a reader sees the old file or the new one.
func WriteJSONL(path string, bs []*Bundle) error {
	lines := make([][]byte, len(bs))
	for i, b := range bs {
		var buf bytes.Buffer
		if err := json.Compact(&buf, b.Raw); err != nil {
			return fmt.Errorf("bundle %s: %w", b.Origin, err)
		}
		lines[i] = append(buf.Bytes(), '\n')
	}
	return atomicfile.WriteFrom(path, 0o644, func(w io.Writer) error {
		for _, l := range lines {
			if _, err := w.Write(l); err != nil {
				return err
			}
		}
		return nil
	})
}
