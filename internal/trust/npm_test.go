package trust_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/hallmark-dev/hallmark/internal/trust"
	"github.com/hallmark-dev/hallmark/internal/tuftest"
)

// TestNPMKeys checks that the npm registry's keys come with the trust root
// from the TUF repository, are read offline from the cache checked against
// its TUF metadata, and reported missing for a repository without them.
func TestNPMKeys(t *testing.T) {
	keys := []byte(`{"keys": []}`)
	repo := tuftest.New(t, map[string][]byte{trust.TrustedRootTarget: newTrustedRootJSON(t), trust.NPMKeysTarget: keys})
	c := &clock{now: time.Now()}
	o := options(t, repo, c)

	if _, err := trust.NPMKeys(o); !errors.Is(err, trust.ErrNoCachedRoot) {
		t.Fatalf("before any load: got %v, want ErrNoCachedRoot", err)
	}
	if _, err := trust.Load(context.Background(), o); err != nil {
		t.Fatal(err)
	}
	requests := repo.Requests()
	got, err := trust.NPMKeys(o)
	if err != nil || string(got) != string(keys) {
		t.Fatalf("NPMKeys = %q, %v", got, err)
	}
	if repo.Requests() != requests {
		t.Fatal("NPMKeys used the network")
	}

	cached := filepath.Join(cacheDir(o), trust.NPMKeysTarget)
	if err := os.WriteFile(cached, []byte(`{"keys": [1]}`), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := trust.NPMKeys(o); !errors.Is(err, trust.ErrBadCache) {
		t.Fatalf("edited cache: got %v, want ErrBadCache", err)
	}

	// A repository without the keys.
	bare := tuftest.New(t, map[string][]byte{trust.TrustedRootTarget: newTrustedRootJSON(t)})
	o2 := options(t, bare, c)
	if _, err := trust.Update(context.Background(), o2); err != nil {
		t.Fatal(err)
	}
	if _, err := trust.NPMKeys(o2); !errors.Is(err, trust.ErrNoNPMKeys) {
		t.Fatalf("repository without keys: got %v, want ErrNoNPMKeys", err)
	}
	o2.CacheDir = o.CacheDir // same cache dir, other mirror: not used
	if _, err := trust.NPMKeys(o2); !errors.Is(err, trust.ErrNoCachedRoot) {
		t.Fatalf("other mirror: got %v, want ErrNoCachedRoot", err)
	}
}
