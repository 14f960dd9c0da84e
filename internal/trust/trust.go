// Package trust finds the Sigstore trust root a verification runs against:
// a file the user names, or the public-good root refreshed through TUF and
// cached, so that an offline run can use the last copy. It never falls back
// silently: a failed refresh is an error, and the offline path never opens a
// network connection.
package trust

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/sigstore/sigstore-go/pkg/root"
	"github.com/sigstore/sigstore-go/pkg/tuf"

	"github.com/hallmark-dev/hallmark/internal/atomicfile"
)

// Target names in the Sigstore TUF repository.
const (
	TrustedRootTarget   = "trusted_root.json"
	SigningConfigTarget = "signing_config.v0.2.json"
)

// DefaultMaxAge is how old a cached root may be before an online run
// refreshes it.
const DefaultMaxAge = 24 * time.Hour

// Errors that callers map to hints.
var (
	// ErrNoCachedRoot: offline, no --trusted-root and nothing cached.
	ErrNoCachedRoot = errors.New("no cached trust root")
	// ErrRefresh: the TUF refresh failed.
	ErrRefresh = errors.New("trust root refresh through TUF failed")
)

// Options say where trust comes from.
type Options struct {
	// TrustedRootPath is a trusted_root.json to use as is.
	TrustedRootPath string
	// Offline forbids network access: only TrustedRootPath or the cache.
	Offline bool
	// CacheDir holds the TUF metadata and the extracted targets.
	CacheDir string
	// MirrorURL is the TUF repository (default: the public-good mirror).
	MirrorURL string
	// InitialRoot is the TUF root.json the mirror's chain starts from
	// (default: the public-good root that sigstore-go embeds).
	InitialRoot []byte
	// MaxAge is how old the cache may be before an online load refreshes
	// it (default DefaultMaxAge).
	MaxAge time.Duration
	// Now is the clock (default time.Now).
	Now func() time.Time
}

// Source says where a loaded root came from.
type Source struct {
	// Kind is "file", "cache" or "tuf".
	Kind string `json:"kind"`
	// Path is the file read (the cached copy for "cache" and "tuf").
	Path string `json:"path"`
	// Mirror is the TUF repository for "cache" and "tuf".
	Mirror string `json:"mirror,omitempty"`
	// FetchedAt is when the cached copy was fetched.
	FetchedAt time.Time `json:"fetchedAt,omitzero"`
	// Stale is set when an offline run used a cache older than MaxAge.
	Stale bool `json:"stale,omitempty"`
}

// Root is a parsed trusted root with its provenance.
type Root struct {
	Trusted *root.TrustedRoot
	JSON    []byte
	Source  Source
}

func (o *Options) defaults() error {
	if o.CacheDir == "" {
		dir, err := DefaultCacheDir()
		if err != nil {
			return err
		}
		o.CacheDir = dir
	}
	if o.MirrorURL == "" {
		o.MirrorURL = tuf.DefaultMirror
	}
	if o.InitialRoot == nil {
		o.InitialRoot = tuf.DefaultRoot()
	}
	if o.MaxAge == 0 {
		o.MaxAge = DefaultMaxAge
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return nil
}

// DefaultCacheDir is $HALLMARK_CACHE_DIR, else hallmark/ in the user cache
// directory ($XDG_CACHE_HOME or ~/.cache on Linux).
func DefaultCacheDir() (string, error) {
	if d := os.Getenv("HALLMARK_CACHE_DIR"); d != "" {
		return d, nil
	}
	d, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("no cache directory (set HALLMARK_CACHE_DIR): %w", err)
	}
	return filepath.Join(d, "hallmark"), nil
}

// Load returns the trust root to verify with: TrustedRootPath if set;
// otherwise the cached public-good root, refreshed through TUF first when it
// is older than MaxAge (online) or used as it is (offline, marked Stale when
// old). It never falls back from a failed refresh to the cache.
func Load(ctx context.Context, o Options) (*Root, error) {
	if o.TrustedRootPath != "" {
		return loadFile(o.TrustedRootPath)
	}
	if err := o.defaults(); err != nil {
		return nil, err
	}
	cached, err := readCache(o)
	switch {
	case err != nil && !errors.Is(err, os.ErrNotExist):
		return nil, err
	case err == nil:
		age := o.Now().Sub(cached.Source.FetchedAt)
		if age <= o.MaxAge {
			return cached, nil
		}
		if o.Offline {
			cached.Source.Stale = true
			return cached, nil
		}
	case o.Offline:
		return nil, fmt.Errorf("%w in %s", ErrNoCachedRoot, mirrorDir(o))
	}
	return Update(ctx, o)
}

func loadFile(path string) (*Root, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading trusted root: %w", err)
	}
	tr, err := root.NewTrustedRootFromJSON(data)
	if err != nil {
		return nil, fmt.Errorf("parsing trusted root %s: %w", path, err)
	}
	return &Root{Trusted: tr, JSON: data, Source: Source{Kind: "file", Path: path}}, nil
}

// meta is the cache's record of a fetch.
type meta struct {
	Mirror    string    `json:"mirror"`
	FetchedAt time.Time `json:"fetchedAt"`
}

func mirrorDir(o Options) string {
	return filepath.Join(o.CacheDir, "trust", tuf.URLToPath(o.MirrorURL))
}

func readCache(o Options) (*Root, error) {
	dir := mirrorDir(o)
	raw, err := os.ReadFile(filepath.Join(dir, "meta.json"))
	if err != nil {
		return nil, err
	}
	var m meta
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, fmt.Errorf("reading trust cache %s: %w", dir, err)
	}
	r, err := loadFile(filepath.Join(dir, TrustedRootTarget))
	if err != nil {
		return nil, err
	}
	r.Source = Source{Kind: "cache", Path: filepath.Join(dir, TrustedRootTarget), Mirror: m.Mirror, FetchedAt: m.FetchedAt}
	return r, nil
}

// Update refreshes the root through TUF now and caches the targets. It is an
// error when Offline is set.
func Update(ctx context.Context, o Options) (*Root, error) {
	if err := o.defaults(); err != nil {
		return nil, err
	}
	if o.Offline {
		return nil, fmt.Errorf("%w: refusing to contact %s while offline", ErrRefresh, o.MirrorURL)
	}
	opts := tuf.DefaultOptions().
		WithContext(ctx).
		WithCachePath(filepath.Join(o.CacheDir, "tuf")).
		WithRepositoryBaseURL(o.MirrorURL).
		WithRoot(o.InitialRoot).
		WithCacheValidity(tuf.NoCache)
	client, err := tuf.New(opts)
	if err != nil {
		return nil, fmt.Errorf("%w from %s: %w", ErrRefresh, o.MirrorURL, err)
	}
	trJSON, err := client.GetTarget(TrustedRootTarget)
	if err != nil {
		return nil, fmt.Errorf("%w from %s: %w", ErrRefresh, o.MirrorURL, err)
	}
	tr, err := root.NewTrustedRootFromJSON(trJSON)
	if err != nil {
		return nil, fmt.Errorf("%w: the mirror's %s does not parse: %w", ErrRefresh, TrustedRootTarget, err)
	}
	files := map[string][]byte{TrustedRootTarget: trJSON}
	// The signing config is optional: older or private repositories lack it.
	if sc, err := client.GetTarget(SigningConfigTarget); err == nil {
		files[SigningConfigTarget] = sc
	}
	m := meta{Mirror: o.MirrorURL, FetchedAt: o.Now().UTC()}
	if err := writeCache(mirrorDir(o), files, m); err != nil {
		return nil, err
	}
	path := filepath.Join(mirrorDir(o), TrustedRootTarget)
	return &Root{Trusted: tr, JSON: trJSON, Source: Source{Kind: "tuf", Path: path, Mirror: o.MirrorURL, FetchedAt: m.FetchedAt}}, nil
}

func writeCache(dir string, files map[string][]byte, m meta) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("creating trust cache: %w", err)
	}
	for name, data := range files {
		if err := atomicfile.Write(filepath.Join(dir, name), data, 0o644); err != nil {
			return fmt.Errorf("writing trust cache: %w", err)
		}
	}
	raw, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return err
	}
	// meta.json last: a cache is complete when it names its fetch time.
	return atomicfile.Write(filepath.Join(dir, "meta.json"), raw, 0o644)
}

// SigningConfig returns the cached signing config of the mirror, if any.
func SigningConfig(o Options) ([]byte, error) {
	if err := o.defaults(); err != nil {
		return nil, err
	}
	return os.ReadFile(filepath.Join(mirrorDir(o), SigningConfigTarget))
}

// Export writes the root (and the cached signing config, when there is one)
// into dir as trusted_root.json and signing_config.json, for an air-gapped
// machine. It returns the paths written.
func Export(r *Root, signingConfig []byte, dir string) ([]string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	out := []string{filepath.Join(dir, "trusted_root.json")}
	if err := atomicfile.Write(out[0], r.JSON, 0o644); err != nil {
		return nil, err
	}
	if signingConfig != nil {
		p := filepath.Join(dir, "signing_config.json")
		if err := atomicfile.Write(p, signingConfig, 0o644); err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, nil
}
