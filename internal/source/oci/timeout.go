package oci

import (
	"context"
	"fmt"
	"io"
	"net/http"
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

func (t *bodyTimeouts) RoundTrip(req *http.Request) (*http.Response, error) {
	ctx, cancel := context.WithCancelCause(req.Context())
	resp, err := t.base.RoundTrip(req.WithContext(ctx))
	if err != nil {
		cancel(nil)
		return nil, err
	}
	b := &timedBody{body: resp.Body, cancel: cancel, idle: t.idle, url: req.URL.Redacted()}
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
	idle := time.AfterFunc(b.idle, func() { b.expire(fmt.Sprintf("no data for %v", b.idle)) })
	n, err := b.body.Read(p)
	idle.Stop()
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
