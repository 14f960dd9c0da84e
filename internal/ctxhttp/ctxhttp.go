// Package ctxhttp ties HTTP requests that libraries make without a context
// (go-tuf's fetcher, sigstore-go's Fulcio and timestamp clients) to a
// context, so that Ctrl-C stops them.
package ctxhttp

import (
	"context"
	"io"
	"net/http"
)

// Transport returns a RoundTripper that sends each request through base
// (http.DefaultTransport when nil) and ends it, and the reading of its
// body, when ctx ends, besides when the request's own context (a client's
// timeout) does.
func Transport(ctx context.Context, base http.RoundTripper) http.RoundTripper {
	if base == nil {
		base = http.DefaultTransport
	}
	return transport{ctx, base}
}

type transport struct {
	ctx  context.Context
	base http.RoundTripper
}

func (t transport) RoundTrip(req *http.Request) (*http.Response, error) {
	if err := t.ctx.Err(); err != nil {
		if req.Body != nil {
			_ = req.Body.Close()
		}
		return nil, context.Cause(t.ctx)
	}
	ctx, cancel := context.WithCancelCause(req.Context())
	stop := context.AfterFunc(t.ctx, func() { cancel(context.Cause(t.ctx)) })
	release := func() { stop(); cancel(nil) }
	resp, err := t.base.RoundTrip(req.WithContext(ctx))
	if err != nil {
		release()
		return nil, err
	}
	resp.Body = &releasingBody{ReadCloser: resp.Body, release: release}
	return resp, nil
}

// releasingBody releases the request's context once the body is closed.
type releasingBody struct {
	io.ReadCloser
	release func()
}

func (b *releasingBody) Close() error {
	err := b.ReadCloser.Close()
	b.release()
	return err
}
