package osvdb

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/hallmark-dev/hallmark/pkg/scan"
)

// DefaultAPIURL is the osv.dev API.
const DefaultAPIURL = "https://api.osv.dev"

// ErrUnreachable is returned (wrapped) when the OSV API cannot be reached
// after retries.
var ErrUnreachable = errors.New("the OSV API is unreachable")

// Client is the online source: the osv.dev API. It implements scan.Source:
// POST /v1/querybatch (in batches of BatchSize, following page tokens),
// then GET /v1/vulns/{id} for each distinct id. Requests that fail with a
// network error, a timeout, 429 or a 5xx are retried with exponential
// backoff.
type Client struct {
	// BaseURL defaults to DefaultAPIURL.
	BaseURL string
	// HTTP defaults to a client with a 30 s timeout.
	HTTP *http.Client
	// BatchSize defaults to 1000 (the API's limit).
	BatchSize int
	// Retries is the number of retries after the first attempt (default 4).
	Retries int
	// Backoff is the first retry delay (default 500 ms), doubled each time.
	Backoff time.Duration
	// Concurrency bounds parallel record downloads (default 8).
	Concurrency int
	// Now is the clock for snapshot dates (default time.Now).
	Now func() time.Time
}

var _ scan.Source = (*Client)(nil)

func (c *Client) base() string {
	if c.BaseURL == "" {
		return DefaultAPIURL
	}
	return strings.TrimSuffix(c.BaseURL, "/")
}

func (c *Client) http() *http.Client {
	if c.HTTP == nil {
		return &http.Client{Timeout: 30 * time.Second}
	}
	return c.HTTP
}

// Databases implements scan.Source: osv.dev has every ecosystem; the
// snapshot is the time of the query.
func (c *Client) Databases(ctx context.Context, ecosystems []string) ([]scan.Database, error) {
	now := time.Now
	if c.Now != nil {
		now = c.Now
	}
	out := make([]scan.Database, len(ecosystems))
	for i, e := range ecosystems {
		out[i] = scan.Database{Ecosystem: scan.BaseEcosystem(e), Source: "osv.dev API " + c.base(), Snapshot: now().UTC()}
	}
	return out, nil
}

type apiQuery struct {
	Package   *apiPackage `json:"package,omitempty"`
	Version   string      `json:"version,omitempty"`
	Commit    string      `json:"commit,omitempty"`
	PageToken string      `json:"page_token,omitempty"`
}

type apiPackage struct {
	Name      string `json:"name,omitempty"`
	Ecosystem string `json:"ecosystem,omitempty"`
	PURL      string `json:"purl,omitempty"`
}

type batchResponse struct {
	Results []struct {
		Vulns []struct {
			ID string `json:"id"`
		} `json:"vulns"`
		NextPageToken string `json:"next_page_token"`
	} `json:"results"`
}

// Query implements scan.Source.
func (c *Client) Query(ctx context.Context, qs []scan.Query) ([][]*scan.Vulnerability, error) {
	ids := make([][]string, len(qs))
	bs := c.BatchSize
	if bs <= 0 {
		bs = 1000
	}
	type pending struct {
		i int
		q apiQuery
	}
	var todo []pending
	for i, q := range qs {
		name := q.RawName
		if name == "" {
			name = q.Name
		}
		aq := apiQuery{Package: &apiPackage{Name: name, Ecosystem: q.Ecosystem}, Version: q.Version}
		if q.Version == "" && q.Commit != "" {
			aq = apiQuery{Commit: q.Commit}
		}
		todo = append(todo, pending{i, aq})
	}
	for len(todo) > 0 {
		n := min(bs, len(todo))
		batch := todo[:n]
		todo = todo[n:]
		body := struct {
			Queries []apiQuery `json:"queries"`
		}{}
		for _, p := range batch {
			body.Queries = append(body.Queries, p.q)
		}
		var resp batchResponse
		if err := c.do(ctx, http.MethodPost, "/v1/querybatch", body, &resp); err != nil {
			return nil, err
		}
		if len(resp.Results) != len(batch) {
			return nil, fmt.Errorf("osv.dev querybatch: %d results for %d queries", len(resp.Results), len(batch))
		}
		for j, r := range resp.Results {
			for _, v := range r.Vulns {
				ids[batch[j].i] = append(ids[batch[j].i], v.ID)
			}
			if r.NextPageToken != "" {
				q := batch[j].q
				q.PageToken = r.NextPageToken
				todo = append(todo, pending{batch[j].i, q})
			}
		}
	}
	// Fetch each distinct record once.
	uniq := map[string]*scan.Vulnerability{}
	var list []string
	for _, l := range ids {
		for _, id := range l {
			if _, ok := uniq[id]; !ok {
				uniq[id] = nil
				list = append(list, id)
			}
		}
	}
	conc := c.Concurrency
	if conc <= 0 {
		conc = 8
	}
	var (
		mu       sync.Mutex
		wg       sync.WaitGroup
		firstErr error
		sem      = make(chan struct{}, conc)
	)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	for _, id := range list {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			var raw json.RawMessage
			err := c.do(ctx, http.MethodGet, "/v1/vulns/"+url.PathEscape(id), nil, &raw)
			var v *scan.Vulnerability
			if err == nil {
				v, err = scan.ParseVulnerability(raw)
			}
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				if firstErr == nil {
					firstErr = fmt.Errorf("fetching %s: %w", id, err)
					cancel()
				}
				return
			}
			uniq[id] = v
		}()
	}
	wg.Wait()
	if firstErr != nil {
		return nil, firstErr
	}
	out := make([][]*scan.Vulnerability, len(qs))
	for i, l := range ids {
		for _, id := range l {
			out[i] = append(out[i], uniq[id])
		}
	}
	return out, nil
}

// statusError is a non-2xx answer.
type statusError struct {
	status int
	msg    string
}

func (e *statusError) Error() string { return fmt.Sprintf("HTTP %d: %s", e.status, e.msg) }

func retryable(err error) bool {
	var se *statusError
	if errors.As(err, &se) {
		return se.status == http.StatusTooManyRequests || se.status >= 500
	}
	var ne net.Error
	if errors.As(err, &ne) {
		return true
	}
	return errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF)
}

func (c *Client) do(ctx context.Context, method, path string, in, out any) error {
	var payload []byte
	if in != nil {
		var err error
		if payload, err = json.Marshal(in); err != nil {
			return err
		}
	}
	retries := c.Retries
	if retries == 0 {
		retries = 4
	}
	backoff := c.Backoff
	if backoff == 0 {
		backoff = 500 * time.Millisecond
	}
	u := c.base() + path
	var last error
	for attempt := 0; attempt <= retries; attempt++ {
		if attempt > 0 {
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(backoff << (attempt - 1)):
			}
		}
		last = c.once(ctx, method, u, payload, out)
		if last == nil {
			return nil
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		var dnsErr *net.DNSError
		if errors.As(last, &dnsErr) && dnsErr.IsNotFound {
			// The name does not resolve: waiting will not change that.
			return fmt.Errorf("%w (%s): %v", ErrUnreachable, c.base(), last)
		}
		if !retryable(last) {
			return fmt.Errorf("%s %s: %w", method, u, last)
		}
	}
	var se *statusError
	if errors.As(last, &se) {
		return fmt.Errorf("%s %s: %w after %d attempts", method, u, last, retries+1)
	}
	return fmt.Errorf("%w (%s): %v after %d attempts", ErrUnreachable, c.base(), last, retries+1)
}

func (c *Client) once(ctx context.Context, method, u string, payload []byte, out any) error {
	var body io.Reader
	if payload != nil {
		body = bytes.NewReader(payload)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, body)
	if err != nil {
		return err
	}
	if payload != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.http().Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		msg := strings.TrimSpace(string(data))
		if len(msg) > 200 {
			msg = msg[:200]
		}
		return &statusError{status: resp.StatusCode, msg: msg}
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("decoding the answer: %w", err)
	}
	return nil
}
