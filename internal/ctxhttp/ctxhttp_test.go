package ctxhttp

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

// A request without a context of its own, to a server that never answers,
// ends when the transport's context does; before that, requests work.
func TestTransportEndsWithContext(t *testing.T) {
	quit := make(chan struct{})
	arrived := make(chan struct{}, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/ok" {
			_, _ = io.WriteString(w, "ok")
			return
		}
		arrived <- struct{}{}
		select {
		case <-r.Context().Done():
		case <-quit:
		}
	}))
	defer srv.Close()
	defer close(quit)

	ctx, cancel := context.WithCancelCause(context.Background())
	client := &http.Client{Transport: Transport(ctx, nil)}
	resp, err := client.Get(srv.URL + "/ok")
	if err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	if err != nil || string(body) != "ok" {
		t.Fatalf("GET /ok = %q, %v", body, err)
	}

	stop := errors.New("stop")
	done := make(chan error, 1)
	go func() {
		req, _ := http.NewRequest("GET", srv.URL+"/hang", nil) // no context, as go-tuf does
		resp, err := client.Do(req)
		if err == nil {
			_ = resp.Body.Close()
		}
		done <- err
	}()
	<-arrived
	cancel(stop)
	select {
	case err := <-done:
		if !errors.Is(err, stop) {
			t.Fatalf("request ended with %v, want the context's cause", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the request did not end with the context")
	}

	// Once the context is done, no request is sent at all.
	if _, err := client.Get(srv.URL + "/ok"); !errors.Is(err, stop) {
		t.Fatalf("request after the end: %v, want the context's cause", err)
	}
}
