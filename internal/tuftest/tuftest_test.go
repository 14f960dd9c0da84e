package tuftest_test

import (
	"bytes"
	"errors"
	"testing"
	"time"

	"github.com/sigstore/sigstore-go/pkg/tuf"
	"github.com/theupdateframework/go-tuf/v2/metadata"

	"github.com/hallmark-dev/hallmark/internal/tuftest"
)

func newClient(t *testing.T, root []byte, url, cache string) (*tuf.Client, error) {
	t.Helper()
	opts := tuf.DefaultOptions().
		WithRoot(root).
		WithRepositoryBaseURL(url).
		WithCachePath(cache).
		WithCacheValidity(tuf.NoCache)
	return tuf.New(opts)
}

func getTarget(t *testing.T, c *tuf.Client, name string) []byte {
	t.Helper()
	b, err := c.GetTarget(name)
	if err != nil {
		t.Fatalf("GetTarget(%q): %v", name, err)
	}
	return b
}

func TestRefreshPicksUpNewTarget(t *testing.T) {
	v1 := []byte(`{"version":1}`)
	repo := tuftest.New(t, map[string][]byte{
		"trusted_root.json":        v1,
		"signing_config.v0.2.json": []byte(`{}`),
	})
	if n := repo.Requests(); n != 0 {
		t.Fatalf("Requests() = %d before any client, want 0", n)
	}
	cache := t.TempDir()

	c, err := newClient(t, repo.RootJSON, repo.URL, cache)
	if err != nil {
		t.Fatalf("tuf.New: %v", err)
	}
	if got := getTarget(t, c, "trusted_root.json"); !bytes.Equal(got, v1) {
		t.Fatalf("trusted_root.json = %q, want %q", got, v1)
	}
	before := repo.Requests()
	if before == 0 {
		t.Fatal("Requests() = 0 after a refresh")
	}

	// A client trusting its still-valid cache must not touch the network.
	opts := tuf.DefaultOptions().WithRoot(repo.RootJSON).WithRepositoryBaseURL(repo.URL).
		WithCachePath(cache).WithForceCache()
	cached, err := tuf.New(opts)
	if err != nil {
		t.Fatalf("tuf.New (cached): %v", err)
	}
	if got := getTarget(t, cached, "trusted_root.json"); !bytes.Equal(got, v1) {
		t.Fatalf("cached trusted_root.json = %q, want %q", got, v1)
	}
	if n := repo.Requests(); n != before {
		t.Fatalf("cached client made %d requests, want 0", n-before)
	}

	v2 := []byte(`{"version":2}`)
	repo.SetTarget(t, "trusted_root.json", v2)

	c, err = newClient(t, repo.RootJSON, repo.URL, cache)
	if err != nil {
		t.Fatalf("tuf.New after SetTarget: %v", err)
	}
	if got := getTarget(t, c, "trusted_root.json"); !bytes.Equal(got, v2) {
		t.Fatalf("refreshed trusted_root.json = %q, want %q", got, v2)
	}
	if got := getTarget(t, c, "signing_config.v0.2.json"); string(got) != `{}` {
		t.Fatalf("signing_config.v0.2.json = %q, want {}", got)
	}
	if n := repo.Requests(); n <= before {
		t.Fatalf("Requests() = %d after refresh, want > %d", n, before)
	}
}

func TestWrongRootFails(t *testing.T) {
	repo := tuftest.New(t, map[string][]byte{"trusted_root.json": []byte(`{}`)})
	other := tuftest.New(t, map[string][]byte{"trusted_root.json": []byte(`{}`)})

	_, err := newClient(t, other.RootJSON, repo.URL, t.TempDir())
	if !errors.Is(err, &metadata.ErrUnsignedMetadata{}) {
		t.Fatalf("tuf.New with a foreign root: err = %v, want ErrUnsignedMetadata", err)
	}
	if repo.Requests() == 0 {
		t.Fatal("client never contacted the repository")
	}
}

func TestClose(t *testing.T) {
	repo := tuftest.New(t, map[string][]byte{"trusted_root.json": []byte(`{}`)})
	repo.Close()
	if _, err := newClient(t, repo.RootJSON, repo.URL, t.TempDir()); err == nil {
		t.Fatal("tuf.New against a closed repository succeeded")
	}
}

func TestSetExpiry(t *testing.T) {
	repo := tuftest.New(t, map[string][]byte{"trusted_root.json": []byte(`{}`)})
	// A version that expired an hour ago: a client refuses it.
	repo.SetExpiry(t, time.Now().Add(-time.Hour))
	_, err := newClient(t, repo.RootJSON, repo.URL, t.TempDir())
	if !errors.Is(err, &metadata.ErrExpiredMetadata{}) {
		t.Fatalf("tuf.New with expired metadata: err = %v, want ErrExpiredMetadata", err)
	}
	// One that expires in a minute is accepted.
	repo.SetExpiry(t, time.Now().Add(time.Minute))
	c, err := newClient(t, repo.RootJSON, repo.URL, t.TempDir())
	if err != nil {
		t.Fatalf("tuf.New: %v", err)
	}
	if got := getTarget(t, c, "trusted_root.json"); string(got) != `{}` {
		t.Errorf("trusted_root.json = %q", got)
	}
}
