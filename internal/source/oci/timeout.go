package oci

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"
)

// bodyTimeouts bounds the reading of every response body: a registry that
// sends its headers and then nothing (or a byte now and then) must not
// hold hallmark. Each Read must bring data within idle, and the whole body
// must arrive within total; otherwise the request is cancelled and the
// read fails with a timeout (a net.Error, so ErrNetwork).
type bodyTimeouts struct {
	base        http.RoundTripper
	idle, total time.Duration
}

// MaxManifestSize bounds a manifest or referrers list read from a
// registry: the 4 MiB the OCI distribution spec says registries must
// accept (go-containerregistry alone reads up to 100 MiB), and every other
// answer that is not a blob.
const MaxManifestSize = 4 << 20

// errManifestTooLarge is a registry's fault (ErrRegistry), not the network's.
var errManifestTooLarge = errors.New("manifest too large")

func (t *bodyTimeouts) RoundTrip(req *http.Request) (*http.Response, error) {
	ctx, cancel := context.WithCancelCause(req.Context())
	resp, err := t.base.RoundTrip(req.WithContext(ctx))
	if err != nil {
		cancel(nil)
		return nil, err
	}
	// Every answer but a blob's (bounded where it is read) is a manifest,
	// a referrers list, a ping (which go-containerregistry drains) or a
	// token: none larger than a manifest.
	limit := int64(-1)
	if !strings.Contains(req.URL.Path, "/blobs/") {
		limit = MaxManifestSize
		if resp.ContentLength > limit {
			_ = resp.Body.Close()
			cancel(nil)
			return nil, fmt.Errorf("%w: %s: the registry announces %d bytes, more than the %d a manifest may have", errManifestTooLarge, req.URL.Redacted(), resp.ContentLength, limit)
		}
	}
	b := &timedBody{body: resp.Body, cancel: cancel, idle: t.idle, url: req.URL.Redacted(), left: limit}
	b.deadline = time.AfterFunc(t.total, func() { b.expire(fmt.Sprintf("the response did not end within %v", t.total)) })
	resp.Body = b
	return resp, nil
}

// errBodyTimeout is a response body that stopped coming.
type errBodyTimeout struct{ msg string }

func (e *errBodyTimeout) Error() string   { return e.msg }
func (e *errBodyTimeout) Timeout() bool   { return true }
func (e *errBodyTimeout) Temporary() bool { return false }

type timedBody struct {
	body     io.ReadCloser
	cancel   context.CancelCauseFunc
	idle     time.Duration
	url      string
	deadline *time.Timer
	// left is how many more bytes may be read (-1: no limit).
	left int64

	mu      sync.Mutex
	expired error
}

func (b *timedBody) expire(why string) {
	b.mu.Lock()
	if b.expired == nil {
		b.expired = &errBodyTimeout{msg: fmt.Sprintf("reading %s: %s", b.url, why)}
	}
	err := b.expired
	b.mu.Unlock()
	b.cancel(err)
}

func (b *timedBody) Read(p []byte) (int, error) {
	if b.left == 0 {
		// Is there more than the limit?
		var one [1]byte
		if n, _ := b.body.Read(one[:]); n > 0 {
			return 0, fmt.Errorf("%w: reading %s: more than the %d bytes a manifest may have", errManifestTooLarge, b.url, MaxManifestSize)
		}
	}
	if b.left > 0 && int64(len(p)) > b.left {
		p = p[:b.left]
	}
	idle := time.AfterFunc(b.idle, func() { b.expire(fmt.Sprintf("no data for %v", b.idle)) })
	n, err := b.body.Read(p)
	idle.Stop()
	if b.left > 0 {
		b.left -= int64(n)
	}
	if err != nil && err != io.EOF {
		b.mu.Lock()
		expired := b.expired
		b.mu.Unlock()
		if expired != nil {
			return n, expired
		}
	}
	return n, err
}

func (b *timedBody) Close() error {
	b.deadline.Stop()
	err := b.body.Close()
	b.cancel(nil)
	return err
}
