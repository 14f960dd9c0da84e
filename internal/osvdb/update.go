package osvdb

import (
	"archive/zip"
	"context"
	"crypto/md5"
	"encoding/base64"
	"errors"
	"fmt"
	"hash"
	"hash/crc32"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/hallmark-dev/hallmark/pkg/scan"
)

// DefaultBaseURL serves osv.dev's per-ecosystem exports
// (<base>/<Ecosystem>/all.zip).
const DefaultBaseURL = "https://osv-vulnerabilities.storage.googleapis.com"

// ErrIntegrity is returned (wrapped) when a downloaded export does not
// match the size or hashes the server announced, or its zip CRCs fail.
var ErrIntegrity = errors.New("download integrity check failed")

// Progress reports a download's progress: Done of Total bytes (Total is -1
// when the server does not say).
type Progress struct {
	Ecosystem string
	Done      int64
	Total     int64
}

// UpdateOptions tune Update.
type UpdateOptions struct {
	// Client is the HTTP client (default: one with a 10-minute timeout).
	Client *http.Client
	// Progress, when set, is called as bytes arrive (the CLI draws a bar).
	Progress func(Progress)
	// Limits bound each download and what the import reads of it.
	Limits Limits
}

// Update downloads <baseURL>/<Ecosystem>/all.zip for each ecosystem and
// imports them into the database in dbDir in one atomic step, keeping the
// other ecosystems. What is verified for each download:
//   - the HTTP status is 200 and the body length equals Content-Length;
//   - when the server sends x-goog-hash (Google Cloud Storage, osv.dev's
//     host does), the body's MD5 and CRC32C equal the announced ones, and
//     likewise Content-MD5 when sent;
//   - every zip entry's CRC-32 while it is read during the import.
//
// The exports are not signed by osv.dev, so this detects corruption in
// transit, not a malicious mirror. A failed update leaves the old
// database usable.
func Update(ctx context.Context, dbDir, baseURL string, ecosystems []string, opts UpdateOptions) (*ImportResult, error) {
	if baseURL == "" {
		baseURL = DefaultBaseURL
	}
	if len(ecosystems) == 0 {
		return nil, errors.New("no ecosystem to update")
	}
	lim := opts.Limits.withDefaults()
	client := opts.Client
	if client == nil {
		client = &http.Client{Timeout: 10 * time.Minute}
	}
	if err := os.MkdirAll(dbDir, 0o755); err != nil {
		return nil, err
	}
	var srcs []source
	defer func() {
		for _, s := range srcs {
			os.Remove(s.path)
		}
	}()
	for _, eco := range ecosystems {
		eco = scan.NormalizeEcosystem(eco)
		u := strings.TrimSuffix(baseURL, "/") + "/" + url.PathEscape(eco) + "/all.zip"
		s, err := download(ctx, client, dbDir, eco, u, opts.Progress, lim.Download)
		if err != nil {
			return nil, err
		}
		srcs = append(srcs, s)
	}
	res, err := importSources(ctx, dbDir, srcs, lim)
	if errors.Is(err, zip.ErrChecksum) || errors.Is(err, zip.ErrFormat) {
		err = fmt.Errorf("%w: %v", ErrIntegrity, err)
	}
	return res, err
}

func download(ctx context.Context, client *http.Client, dir, eco, u string, progress func(Progress), limit int64) (source, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return source{}, err
	}
	resp, err := client.Do(req)
	if err != nil {
		return source{}, fmt.Errorf("downloading %s: %w", u, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		if resp.StatusCode == http.StatusNotFound {
			return source{}, fmt.Errorf("downloading %s: %s (is %q an OSV ecosystem?)", u, resp.Status, eco)
		}
		return source{}, fmt.Errorf("downloading %s: %s", u, resp.Status)
	}
	if resp.ContentLength > limit {
		return source{}, fmt.Errorf("downloading %s: the export is %d bytes: %w of %d bytes for a download", u, resp.ContentLength, ErrTooLarge, limit)
	}
	f, err := os.CreateTemp(dir, ".download-*.zip")
	if err != nil {
		return source{}, err
	}
	src := source{path: f.Name(), ecosystem: eco, origin: u}
	if lm, err := http.ParseTime(resp.Header.Get("Last-Modified")); err == nil {
		src.exportDate = lm.UTC()
	}
	md5h, crch := md5.New(), crc32.New(crc32.MakeTable(crc32.Castagnoli))
	pw := &progressWriter{eco: eco, total: resp.ContentLength, fn: progress}
	n, err := io.Copy(io.MultiWriter(f, md5h, crch, pw), io.LimitReader(resp.Body, limit+1))
	if err == nil && n > limit {
		err = fmt.Errorf("the export is over %d bytes: %w for a download", limit, ErrTooLarge)
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(src.path)
		return source{}, fmt.Errorf("downloading %s: %w", u, err)
	}
	if err := verifyHashes(resp, n, md5h, crch); err != nil {
		os.Remove(src.path)
		return source{}, fmt.Errorf("%s: %w", u, err)
	}
	return src, nil
}

func verifyHashes(resp *http.Response, n int64, md5h, crch hash.Hash) error {
	if resp.ContentLength >= 0 && n != resp.ContentLength {
		return fmt.Errorf("%w: got %d bytes, Content-Length %d", ErrIntegrity, n, resp.ContentLength)
	}
	want := map[string]string{}
	for _, h := range resp.Header.Values("X-Goog-Hash") {
		for _, part := range strings.Split(h, ",") {
			k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
			if ok {
				want[strings.ToLower(k)] = v
			}
		}
	}
	if cm := resp.Header.Get("Content-MD5"); cm != "" {
		want["md5"] = cm
	}
	if w, ok := want["md5"]; ok {
		if got := base64.StdEncoding.EncodeToString(md5h.Sum(nil)); got != w {
			return fmt.Errorf("%w: md5 %s, server announced %s", ErrIntegrity, got, w)
		}
	}
	if w, ok := want["crc32c"]; ok {
		if got := base64.StdEncoding.EncodeToString(crch.Sum(nil)); got != w {
			return fmt.Errorf("%w: crc32c %s, server announced %s", ErrIntegrity, got, w)
		}
	}
	return nil
}

type progressWriter struct {
	eco   string
	done  int64
	total int64
	fn    func(Progress)
}

func (p *progressWriter) Write(b []byte) (int, error) {
	p.done += int64(len(b))
	if p.fn != nil {
		p.fn(Progress{Ecosystem: p.eco, Done: p.done, Total: p.total})
	}
	return len(b), nil
}
