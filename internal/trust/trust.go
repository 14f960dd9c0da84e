// Package trust finds the Sigstore trust root a verification runs against:
// a file the user names, or the public-good root refreshed through TUF and
// cached, so that an offline run can use the last copy. It never falls back
// silently: a failed refresh is an error, and the offline path never opens a
// network connection.
package trust

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/sigstore/sigstore-go/pkg/root"
	"github.com/sigstore/sigstore-go/pkg/tuf"
	"github.com/theupdateframework/go-tuf/v2/metadata"
	"github.com/theupdateframework/go-tuf/v2/metadata/fetcher"

	"github.com/hallmark-dev/hallmark/internal/atomicfile"
	"github.com/hallmark-dev/hallmark/internal/ctxhttp"
	"github.com/hallmark-dev/hallmark/internal/ctxio"
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
	// ErrBadCache: the cache's record does not parse, or a cached target
	// does not match the signature-checked TUF metadata cached with it.
	// 'hallmark trust update' fetches both again.
	ErrBadCache = errors.New("damaged trust cache")
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
	// (default: the public-good root that sigstore-go embeds, unless
	// Bootstrap is set).
	InitialRoot []byte
	// Bootstrap, when InitialRoot is nil, is a pinned root fetched from the
	// mirror on first use and kept in the cache (see GitHubOptions).
	Bootstrap *Bootstrap
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
	// Stale is set when an offline run used a cache older than MaxAge,
	// fetched in the future, or with expired TUF metadata.
	Stale bool `json:"stale,omitempty"`
	// MetadataExpired is set when the cached TUF metadata has expired: it
	// was checked as of FetchedAt instead of now (offline only; an online
	// run refreshes it).
	MetadataExpired bool `json:"metadataExpired,omitempty"`
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
	if o.InitialRoot == nil && o.Bootstrap == nil {
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
// is stale (online) or used as it is (offline, marked Stale). A cache is
// stale when it is older than MaxAge, was fetched in the future (the clock
// went back, or the record was edited) or its TUF metadata has expired. A
// cache made from another mirror or TUF root is not used: online it is
// replaced, offline it counts as no cache. Load never falls back from a
// failed refresh to the cache.
func Load(ctx context.Context, o Options) (*Root, error) {
	if o.TrustedRootPath != "" {
		return loadFile(ctx, o.TrustedRootPath)
	}
	if err := o.defaults(); err != nil {
		return nil, err
	}
	if err := o.bootstrap(ctx); err != nil {
		return nil, err
	}
	cached, err := readCache(o)
	var foreign *foreignCacheError
	switch {
	case errors.As(err, &foreign) && o.Offline:
		return nil, fmt.Errorf("%w in %s: %w", ErrNoCachedRoot, mirrorDir(o), err)
	case errors.As(err, &foreign):
	case errors.Is(err, os.ErrNotExist) && o.Offline:
		return nil, fmt.Errorf("%w in %s", ErrNoCachedRoot, mirrorDir(o))
	case errors.Is(err, os.ErrNotExist):
	case err != nil:
		return nil, err
	default:
		age := o.Now().Sub(cached.Source.FetchedAt)
		if age >= 0 && age <= o.MaxAge && !cached.Source.MetadataExpired {
			return cached, nil
		}
		if o.Offline {
			cached.Source.Stale = true
			return cached, nil
		}
	}
	return Update(ctx, o)
}

func loadFile(ctx context.Context, path string) (*Root, error) {
	data, err := ctxio.ReadFile(ctx, path, maxRootsFileSize)
	if err != nil {
		return nil, fmt.Errorf("reading trusted root: %w", err)
	}
	tr, err := root.NewTrustedRootFromJSON(data)
	if err != nil {
		return nil, fmt.Errorf("parsing trusted root %s: %w", path, err)
	}
	return &Root{Trusted: tr, JSON: data, Source: Source{Kind: "file", Path: path}}, nil
}

// metaFile is the cache's record of a fetch (see record).
const metaFile = "meta.json"

func mirrorDir(o Options) string {
	return filepath.Join(o.CacheDir, "trust", tuf.URLToPath(o.MirrorURL))
}

// tufDir is where sigstore-go's TUF client keeps the mirror's metadata.
func tufDir(o Options) string {
	return filepath.Join(o.CacheDir, "tuf", tuf.URLToPath(o.MirrorURL))
}

// rootDigest names a TUF root.json in the record.
func rootDigest(rootJSON []byte) string {
	d := sha256.Sum256(rootJSON)
	return hex.EncodeToString(d[:])
}

// foreignCacheError: the cache was made from another mirror or TUF root (or
// by a hallmark that did not record the root), so it is not used.
type foreignCacheError struct {
	what, got, want string
}

func (e *foreignCacheError) Error() string {
	if e.got == "" {
		return fmt.Sprintf("the cache there does not record its %s (an older hallmark made it)", e.what)
	}
	return fmt.Sprintf("the cache there was made from %s %s, not %s", e.what, e.got, e.want)
}

// readRecord reads and checks the record of o's cache. A missing record is
// os.ErrNotExist, one of another mirror or root a *foreignCacheError.
func readRecord(o Options) (record, error) {
	dir := mirrorDir(o)
	path := filepath.Join(dir, metaFile)
	raw, err := readBounded(path, maxRecordSize)
	if errors.Is(err, os.ErrNotExist) {
		return record{}, err
	}
	if err != nil {
		return record{}, fmt.Errorf("%w: %w", ErrBadCache, err)
	}
	rec, err := parseRecord(raw)
	if errors.Is(err, errNoTUFRoot) {
		return record{}, &foreignCacheError{what: "TUF root"}
	}
	if err != nil {
		return record{}, fmt.Errorf("%w: %s: %w", ErrBadCache, path, err)
	}
	if rec.Mirror != o.MirrorURL {
		return record{}, &foreignCacheError{what: "mirror", got: fmt.Sprintf("%q", rec.Mirror), want: fmt.Sprintf("%q", o.MirrorURL)}
	}
	if want := rootDigest(o.InitialRoot); rec.TUFRoot != want {
		return record{}, &foreignCacheError{what: "TUF root", got: "sha256:" + rec.TUFRoot, want: "sha256:" + want + " (--tuf-root)"}
	}
	return rec, nil
}

// readCache returns the cached root of o's mirror, checked against the
// cached TUF metadata.
func readCache(o Options) (*Root, error) {
	rec, err := readRecord(o)
	if err != nil {
		return nil, err
	}
	path := filepath.Join(mirrorDir(o), TrustedRootTarget)
	data, expired, err := readTarget(o, rec, TrustedRootTarget)
	if errors.Is(err, os.ErrNotExist) {
		// The record says the fetch was complete.
		return nil, fmt.Errorf("%w: %s is missing: %v", ErrBadCache, path, err)
	}
	if err != nil {
		return nil, err
	}
	tr, err := root.NewTrustedRootFromJSON(data)
	if err != nil {
		return nil, fmt.Errorf("%w: parsing %s: %w", ErrBadCache, path, err)
	}
	return &Root{Trusted: tr, JSON: data, Source: Source{
		Kind: "cache", Path: path, Mirror: rec.Mirror, FetchedAt: rec.FetchedAt, MetadataExpired: expired,
	}}, nil
}

// readTarget reads the cached target name and checks it against the cached
// TUF metadata, as of now, or, when that has expired since, as of the fetch
// (expired is then set).
func readTarget(o Options, rec record, name string) (data []byte, expired bool, err error) {
	path := filepath.Join(mirrorDir(o), name)
	if data, err = readBounded(path, maxTargetSize); err != nil {
		return nil, false, err
	}
	now := o.Now()
	info, err := cachedTargetInfo(tufDir(o), o.InitialRoot, name, now)
	if errors.Is(err, &metadata.ErrExpiredMetadata{}) {
		// Signatures and versions are as binding as before; only time has
		// passed. Check that it was all valid when it was fetched.
		expired = true
		ref := rec.FetchedAt
		if ref.After(now) {
			ref = now
		}
		info, err = cachedTargetInfo(tufDir(o), o.InitialRoot, name, ref)
	}
	if err != nil {
		return nil, false, err
	}
	if err := info.VerifyLengthHashes(data); err != nil {
		return nil, false, fmt.Errorf("%w: %s does not match the length and hashes of %q in the cached TUF metadata (%s): %w",
			ErrBadCache, path, name, filepath.Join(tufDir(o), "targets.json"), err)
	}
	return data, expired, nil
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
	if err := o.bootstrap(ctx); err != nil {
		return nil, err
	}
	opts := tuf.DefaultOptions().
		WithContext(ctx).
		WithCachePath(filepath.Join(o.CacheDir, "tuf")).
		WithRepositoryBaseURL(o.MirrorURL).
		WithRoot(o.InitialRoot).
		WithCacheValidity(tuf.NoCache).
		WithFetcher(ctxFetcher(ctx))
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
	addOptionalTargets(client, files) // npm.go
	m := record{Mirror: o.MirrorURL, TUFRoot: rootDigest(o.InitialRoot), FetchedAt: o.Now().UTC()}
	if err := writeCache(mirrorDir(o), files, m); err != nil {
		return nil, err
	}
	path := filepath.Join(mirrorDir(o), TrustedRootTarget)
	return &Root{Trusted: tr, JSON: trJSON, Source: Source{Kind: "tuf", Path: path, Mirror: o.MirrorURL, FetchedAt: m.FetchedAt}}, nil
}

// fetchTimeout bounds each TUF request: a mirror that stops answering is an
// error, not a hang.
const fetchTimeout = time.Minute

// ctxFetcher is go-tuf's fetcher with requests that end with ctx: go-tuf
// makes them without a context of its own (sigstore-go's WithContext does
// not reach them), so Ctrl-C would wait for a mirror that never answers.
func ctxFetcher(ctx context.Context) fetcher.Fetcher {
	f := fetcher.NewDefaultFetcher()
	f.SetHTTPUserAgent("hallmark")
	f.SetHTTPClient(&http.Client{Timeout: fetchTimeout, Transport: ctxhttp.Transport(ctx, nil)})
	return f
}

func writeCache(dir string, files map[string][]byte, m record) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("creating trust cache: %w", err)
	}
	for name, data := range files {
		if err := os.MkdirAll(filepath.Dir(filepath.Join(dir, name)), 0o755); err != nil {
			return fmt.Errorf("creating trust cache: %w", err)
		}
		if err := atomicfile.Write(filepath.Join(dir, name), data, 0o644); err != nil {
			return fmt.Errorf("writing trust cache: %w", err)
		}
	}
	// A signing config (or npm's keys) the mirror no longer has is not
	// left behind, where it would not match the new metadata.
	for _, name := range []string{SigningConfigTarget, NPMKeysTarget} {
		if _, ok := files[name]; ok {
			continue
		}
		if err := os.Remove(filepath.Join(dir, name)); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("writing trust cache: %w", err)
		}
	}
	raw, err := m.marshal()
	if err != nil {
		return err
	}
	// meta.json last: a cache is complete when it names its fetch time.
	return atomicfile.Write(filepath.Join(dir, metaFile), raw, 0o644)
}

// SigningConfig returns the cached signing config of the mirror, if any
// (os.ErrNotExist if not), checked against the cached TUF metadata like the
// trust root. Its freshness is Load's business: expired metadata is checked
// as of the fetch.
func SigningConfig(o Options) ([]byte, error) {
	if err := o.defaults(); err != nil {
		return nil, err
	}
	o.Offline = true // the kept bootstrap root only
	if err := o.bootstrap(context.Background()); errors.Is(err, ErrNoCachedRoot) {
		return nil, fmt.Errorf("%w: %w", os.ErrNotExist, err)
	} else if err != nil {
		return nil, err
	}
	rec, err := readRecord(o)
	var foreign *foreignCacheError
	if errors.As(err, &foreign) {
		return nil, fmt.Errorf("%w: %w", os.ErrNotExist, err)
	}
	if err != nil {
		return nil, err
	}
	data, _, err := readTarget(o, rec, SigningConfigTarget)
	return data, err
}

// Export writes the root as trusted_root.json into dir, and the cached
// signing config as signing_config.json when there is one, for an air-gapped
// machine; with others (GitHub's root), also trusted_roots.jsonl holding r
// and the others, one root a line, for --trusted-root. It returns the paths
// written. On failure it leaves nothing it created: neither a file that was
// not there before nor a directory.
func Export(r *Root, signingConfig []byte, dir string, others ...*Root) (paths []string, err error) {
	var jsonl []byte
	if len(others) > 0 {
		var buf bytes.Buffer
		for _, o := range append([]*Root{r}, others...) {
			if err := json.Compact(&buf, o.JSON); err != nil {
				return nil, fmt.Errorf("exporting trusted root %s: %w", o.Source.Path, err)
			}
			buf.WriteByte('\n')
		}
		jsonl = buf.Bytes()
	}
	var created []string // files that were not there before
	made, err := mkdirAll(dir)
	defer func() {
		if err == nil {
			return
		}
		for _, p := range created {
			_ = os.Remove(p)
		}
		// Deepest first; os.Remove keeps a directory someone else filled.
		for i := len(made) - 1; i >= 0; i-- {
			_ = os.Remove(made[i])
		}
	}()
	if err != nil {
		return nil, err
	}
	files := []struct {
		name string
		data []byte
	}{{"trusted_root.json", r.JSON}, {"signing_config.json", signingConfig}, {"trusted_roots.jsonl", jsonl}}
	for _, f := range files {
		if f.data == nil {
			continue
		}
		p := filepath.Join(dir, f.name)
		_, statErr := os.Lstat(p)
		if err := atomicfile.Write(p, f.data, 0o644); err != nil {
			return nil, err
		}
		if errors.Is(statErr, os.ErrNotExist) {
			created = append(created, p)
		}
		paths = append(paths, p)
	}
	return paths, nil
}

// mkdirAll is os.MkdirAll that returns the directories it created,
// outermost first.
func mkdirAll(dir string) ([]string, error) {
	var missing []string
	for d := filepath.Clean(dir); ; {
		if _, err := os.Stat(d); err == nil {
			break
		} else if !errors.Is(err, os.ErrNotExist) {
			return nil, err
		}
		missing = append(missing, d)
		parent := filepath.Dir(d)
		if parent == d {
			break
		}
		d = parent
	}
	var made []string
	for i := len(missing) - 1; i >= 0; i-- {
		if err := os.Mkdir(missing[i], 0o755); err != nil && !errors.Is(err, os.ErrExist) {
			return made, err
		} else if err == nil {
			made = append(made, missing[i])
		}
	}
	return made, nil
}
