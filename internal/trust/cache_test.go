package trust_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sigstore/sigstore-go/pkg/tuf"

	"github.com/hallmark-dev/hallmark/internal/trust"
	"github.com/hallmark-dev/hallmark/internal/tuftest"
)

// tufMetaDir is where the TUF client keeps o's mirror's metadata.
func tufMetaDir(o trust.Options) string {
	return filepath.Join(o.CacheDir, "tuf", tuf.URLToPath(o.MirrorURL))
}

// editRecord rewrites the cached meta.json through edit.
func editRecord(t *testing.T, o trust.Options, edit func(m map[string]any)) {
	t.Helper()
	path := filepath.Join(cacheDir(o), "meta.json")
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	edit(m)
	if raw, err = json.Marshal(m); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, raw, 0o644); err != nil {
		t.Fatal(err)
	}
}

// A fetch time in the future is no promise of freshness: the clock went
// back, or the record was edited. Online that means a refresh, offline the
// cache with the staleness warning.
func TestLoadFutureFetchedAtIsStale(t *testing.T) {
	good := newTrustedRootJSON(t)
	ctx := context.Background()
	for _, offline := range []bool{false, true} {
		repo := tuftest.New(t, map[string][]byte{trust.TrustedRootTarget: good})
		c := &clock{t0}
		o := options(t, repo, c)
		if _, err := trust.Update(ctx, o); err != nil {
			t.Fatalf("populating the cache: %v", err)
		}
		c.now = t0.Add(-2 * time.Hour) // the fetch is two hours ahead
		o.Offline = offline
		before := repo.Requests()
		r, err := trust.Load(ctx, o)
		if err != nil {
			t.Fatalf("offline=%v: Load: %v", offline, err)
		}
		if offline {
			if r.Source.Kind != "cache" || !r.Source.Stale || !r.Source.FetchedAt.Equal(t0) {
				t.Errorf("offline: Source = %+v, want the cache fetched at %v, stale", r.Source, t0)
			}
			if n := repo.Requests(); n != before {
				t.Errorf("offline: %d HTTP requests, want 0", n-before)
			}
			continue
		}
		if r.Source.Kind != "tuf" || !r.Source.FetchedAt.Equal(c.now) {
			t.Errorf("online: Source = %+v, want a refresh through TUF at %v", r.Source, c.now)
		}
		if repo.Requests() == before {
			t.Error("online: a cache fetched in the future was used without a refresh")
		}
	}
}

// The cached trusted_root.json is used only if the signature-checked TUF
// metadata cached with it lists its length and hashes, online and offline.
func TestLoadChecksCacheAgainstTUFMetadata(t *testing.T) {
	good := newTrustedRootJSON(t)
	other := newTrustedRootJSON(t)
	otherRepo := tuftest.New(t, map[string][]byte{trust.TrustedRootTarget: other})
	otherCache := t.TempDir()
	if _, err := trust.Update(context.Background(), trust.Options{
		CacheDir: otherCache, MirrorURL: otherRepo.URL, InitialRoot: otherRepo.RootJSON, Now: (&clock{t0}).Now,
	}); err != nil {
		t.Fatal(err)
	}
	otherTUF := filepath.Join(otherCache, "tuf", tuf.URLToPath(otherRepo.URL))

	write := func(t *testing.T, path string, data []byte) {
		t.Helper()
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	copyFrom := func(t *testing.T, dst, src string) {
		t.Helper()
		data, err := os.ReadFile(src)
		if err != nil {
			t.Fatal(err)
		}
		write(t, dst, data)
	}

	tests := []struct {
		name     string
		tamper   func(t *testing.T, o trust.Options)
		wantFile string // the file the error names, relative to o.CacheDir
	}{
		{
			name: "another valid trusted root",
			tamper: func(t *testing.T, o trust.Options) {
				write(t, filepath.Join(cacheDir(o), trust.TrustedRootTarget), other)
			},
			wantFile: trust.TrustedRootTarget,
		},
		{
			name: "one byte appended",
			tamper: func(t *testing.T, o trust.Options) {
				write(t, filepath.Join(cacheDir(o), trust.TrustedRootTarget), append(bytes.Clone(good), '\n'))
			},
			wantFile: trust.TrustedRootTarget,
		},
		{
			name: "one byte changed",
			tamper: func(t *testing.T, o trust.Options) {
				b := bytes.Clone(good)
				i := bytes.Index(b, []byte("fulcio.example"))
				b[i] = 'F'
				write(t, filepath.Join(cacheDir(o), trust.TrustedRootTarget), b)
			},
			wantFile: trust.TrustedRootTarget,
		},
		{
			name: "the other repository's targets.json too",
			tamper: func(t *testing.T, o trust.Options) {
				write(t, filepath.Join(cacheDir(o), trust.TrustedRootTarget), other)
				copyFrom(t, filepath.Join(tufMetaDir(o), "targets.json"), filepath.Join(otherTUF, "targets.json"))
			},
			wantFile: "targets.json",
		},
		{
			name: "the other repository's whole TUF metadata",
			tamper: func(t *testing.T, o trust.Options) {
				write(t, filepath.Join(cacheDir(o), trust.TrustedRootTarget), other)
				for _, f := range []string{"root.json", "timestamp.json", "snapshot.json", "targets.json"} {
					copyFrom(t, filepath.Join(tufMetaDir(o), f), filepath.Join(otherTUF, f))
				}
			},
			// The other root is not the --tuf-root's.
			wantFile: "root.json",
		},
		{
			name: "targets.json edited",
			tamper: func(t *testing.T, o trust.Options) {
				path := filepath.Join(tufMetaDir(o), "targets.json")
				b, err := os.ReadFile(path)
				if err != nil {
					t.Fatal(err)
				}
				write(t, path, bytes.Replace(b, []byte(`"version": 1`), []byte(`"version": 2`), 1))
			},
			wantFile: "targets.json",
		},
		{
			name: "timestamp.json missing",
			tamper: func(t *testing.T, o trust.Options) {
				if err := os.Remove(filepath.Join(tufMetaDir(o), "timestamp.json")); err != nil {
					t.Fatal(err)
				}
			},
			wantFile: "timestamp.json",
		},
		{
			name: "trusted_root.json missing",
			tamper: func(t *testing.T, o trust.Options) {
				if err := os.Remove(filepath.Join(cacheDir(o), trust.TrustedRootTarget)); err != nil {
					t.Fatal(err)
				}
			},
			wantFile: trust.TrustedRootTarget,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			repo := tuftest.New(t, map[string][]byte{trust.TrustedRootTarget: good})
			o := options(t, repo, &clock{t0})
			if _, err := trust.Update(context.Background(), o); err != nil {
				t.Fatalf("populating the cache: %v", err)
			}
			// Untouched, the cache verifies.
			o.Offline = true
			if r, err := trust.Load(context.Background(), o); err != nil || !bytes.Equal(r.JSON, good) {
				t.Fatalf("Load of the untouched cache: %v", err)
			}
			tt.tamper(t, o)
			before := repo.Requests()
			for _, offline := range []bool{true, false} {
				o.Offline = offline
				r, err := trust.Load(context.Background(), o)
				if !errors.Is(err, trust.ErrBadCache) {
					t.Fatalf("offline=%v: err = %v, want %v", offline, err, trust.ErrBadCache)
				}
				if r != nil {
					t.Errorf("offline=%v: a root came with the error", offline)
				}
				if !strings.Contains(err.Error(), tt.wantFile) {
					t.Errorf("offline=%v: error %q does not name %s", offline, err, tt.wantFile)
				}
			}
			if n := repo.Requests(); n != before {
				t.Errorf("a damaged cache led to %d HTTP requests, want 0 (no silent refresh)", n-before)
			}
			// trust update repairs it.
			o.Offline = false
			if _, err := trust.Update(context.Background(), o); err != nil {
				t.Fatalf("Update after the damage: %v", err)
			}
			o.Offline = true
			if r, err := trust.Load(context.Background(), o); err != nil || !bytes.Equal(r.JSON, good) {
				t.Errorf("Load after Update: %v", err)
			}
		})
	}
}

// Expired but signature-valid TUF metadata: online it is refreshed; offline,
// where no refresh is possible, the cache is used with the staleness warning
// after checking it as of its fetch time.
func TestLoadExpiredTUFMetadata(t *testing.T) {
	good := newTrustedRootJSON(t)
	ctx := context.Background()
	now := time.Now().UTC()
	for _, offline := range []bool{true, false} {
		repo := tuftest.New(t, map[string][]byte{trust.TrustedRootTarget: good})
		repo.SetExpiry(t, now.Add(time.Hour))
		c := &clock{now}
		o := options(t, repo, c)
		o.MaxAge = 30 * 24 * time.Hour
		if _, err := trust.Update(ctx, o); err != nil {
			t.Fatalf("populating the cache: %v", err)
		}
		repo.SetExpiry(t, now.Add(365*24*time.Hour))
		c.now = now.Add(2 * time.Hour) // within MaxAge, past the expiry

		o.Offline = offline
		before := repo.Requests()
		r, err := trust.Load(ctx, o)
		if err != nil {
			t.Fatalf("offline=%v: Load: %v", offline, err)
		}
		if offline {
			if r.Source.Kind != "cache" || !r.Source.Stale || !r.Source.MetadataExpired || !bytes.Equal(r.JSON, good) {
				t.Errorf("offline: Source = %+v, want the cache, stale, metadata expired", r.Source)
			}
			if n := repo.Requests(); n != before {
				t.Errorf("offline: %d HTTP requests, want 0", n-before)
			}
			// Expired does not mean unchecked.
			if err := os.WriteFile(filepath.Join(cacheDir(o), trust.TrustedRootTarget), append(bytes.Clone(good), ' '), 0o644); err != nil {
				t.Fatal(err)
			}
			if _, err := trust.Load(ctx, o); !errors.Is(err, trust.ErrBadCache) {
				t.Errorf("offline, expired and damaged: err = %v, want %v", err, trust.ErrBadCache)
			}
			continue
		}
		if r.Source.Kind != "tuf" || r.Source.MetadataExpired || r.Source.Stale {
			t.Errorf("online: Source = %+v, want a refresh through TUF", r.Source)
		}
		if repo.Requests() == before {
			t.Error("online: expired metadata was used without a refresh")
		}
	}
}

// A cache records the mirror and the TUF root it was made from; under
// another one it is not used: online it is refreshed, offline it is as if
// there were none.
func TestLoadForeignCacheIsNotUsed(t *testing.T) {
	good := newTrustedRootJSON(t)
	ctx := context.Background()
	tests := []struct {
		name     string
		change   func(t *testing.T, o *trust.Options)
		wantText string
	}{
		{
			name: "recorded under another TUF root",
			change: func(t *testing.T, o *trust.Options) {
				editRecord(t, *o, func(m map[string]any) { m["tufRootSHA256"] = strings.Repeat("ab", 32) })
			},
			wantText: "TUF root sha256:abab",
		},
		{
			name: "recorded under another mirror URL with the same cache path",
			change: func(t *testing.T, o *trust.Options) {
				editRecord(t, *o, func(m map[string]any) { m["mirror"] = strings.Replace(o.MirrorURL, "http://", "https://", 1) })
			},
			wantText: "mirror",
		},
		{
			name: "recorded before hallmark recorded the TUF root",
			change: func(t *testing.T, o *trust.Options) {
				editRecord(t, *o, func(m map[string]any) { delete(m, "tufRootSHA256") })
			},
			wantText: "does not record its TUF root",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			repo := tuftest.New(t, map[string][]byte{trust.TrustedRootTarget: good})
			c := &clock{t0}
			o := options(t, repo, c)
			if _, err := trust.Update(ctx, o); err != nil {
				t.Fatalf("populating the cache: %v", err)
			}
			tt.change(t, &o)
			c.now = t0.Add(time.Minute) // fresh by age

			o.Offline = true
			before := repo.Requests()
			_, err := trust.Load(ctx, o)
			if !errors.Is(err, trust.ErrNoCachedRoot) {
				t.Fatalf("offline: err = %v, want %v", err, trust.ErrNoCachedRoot)
			}
			if !strings.Contains(err.Error(), tt.wantText) {
				t.Errorf("offline: error %q does not say %q", err, tt.wantText)
			}
			if n := repo.Requests(); n != before {
				t.Errorf("offline: %d HTTP requests, want 0", n-before)
			}
			if _, err := trust.SigningConfig(o); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("SigningConfig of a foreign cache: err = %v, want os.ErrNotExist", err)
			}

			o.Offline = false
			r, err := trust.Load(ctx, o)
			if err != nil {
				t.Fatalf("online: Load: %v", err)
			}
			if r.Source.Kind != "tuf" || repo.Requests() == before {
				t.Errorf("online: Source = %+v, want a refresh through TUF", r.Source)
			}
			// The refresh recorded this mirror and root: fresh again.
			o.Offline = true
			if r, err := trust.Load(ctx, o); err != nil || r.Source.Kind != "cache" || r.Source.Stale {
				t.Errorf("offline after the refresh: %v, %+v", err, r)
			}
		})
	}

	// Another --tuf-root for the same mirror: the cache is not used.
	repo := tuftest.New(t, map[string][]byte{trust.TrustedRootTarget: good})
	o := options(t, repo, &clock{t0})
	if _, err := trust.Update(ctx, o); err != nil {
		t.Fatal(err)
	}
	o.InitialRoot = tuftest.New(t, map[string][]byte{trust.TrustedRootTarget: good}).RootJSON
	o.Offline = true
	if _, err := trust.Load(ctx, o); !errors.Is(err, trust.ErrNoCachedRoot) || !strings.Contains(err.Error(), "(--tuf-root)") {
		t.Errorf("offline under another --tuf-root: err = %v, want %v naming --tuf-root", err, trust.ErrNoCachedRoot)
	}
}

// The signing config is checked like the trust root.
func TestSigningConfigCheckedAgainstTUFMetadata(t *testing.T) {
	good := newTrustedRootJSON(t)
	repo := tuftest.New(t, map[string][]byte{trust.TrustedRootTarget: good, trust.SigningConfigTarget: signingConfig})
	o := options(t, repo, &clock{t0})
	if _, err := trust.Update(context.Background(), o); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(cacheDir(o), trust.SigningConfigTarget)
	if err := os.WriteFile(path, []byte(`{"mediaType":"application/vnd.dev.sigstore.signingconfig.v0.2+json","rekorTlogUrls":[]}`), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := trust.SigningConfig(o)
	if !errors.Is(err, trust.ErrBadCache) || !strings.Contains(err.Error(), path) {
		t.Errorf("SigningConfig of an edited file: err = %v, want %v naming %s", err, trust.ErrBadCache, path)
	}
}

// BenchmarkLoadCached measures a Load from a fresh cache, which now checks
// the TUF metadata (four signatures and the target's hashes) every time.
func BenchmarkLoadCached(b *testing.B) {
	good := newTrustedRootJSON(b)
	repo := tuftest.New(b, map[string][]byte{trust.TrustedRootTarget: good})
	o := trust.Options{CacheDir: b.TempDir(), MirrorURL: repo.URL, InitialRoot: repo.RootJSON, Now: (&clock{t0}).Now}
	if _, err := trust.Update(context.Background(), o); err != nil {
		b.Fatal(err)
	}
	o.Offline = true
	for b.Loop() {
		if _, err := trust.Load(context.Background(), o); err != nil {
			b.Fatal(err)
		}
	}
}
