package trust_test

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/json"
	"errors"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sigstore/sigstore-go/pkg/root"
	"github.com/sigstore/sigstore-go/pkg/tuf"

	"github.com/hallmark-dev/hallmark/internal/trust"
	"github.com/hallmark-dev/hallmark/internal/tuftest"
)

// signingConfig is served as the signing config target. Update caches it
// without parsing it, so any bytes do.
var signingConfig = []byte(`{"mediaType":"application/vnd.dev.sigstore.signingconfig.v0.2+json"}`)

// t0 is the fixed clock the tests start from.
var t0 = time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)

// newTrustedRootJSON builds a fresh trusted_root.json: one self-signed
// Fulcio CA and one Rekor log, with keys generated for the test, so that two
// calls give two different roots. (sigstore-go's embedded public-good.json
// lives in pkg/testing/data, whose testify import this module's go.mod does
// not carry.)
func newTrustedRootJSON(t testing.TB) []byte {
	t.Helper()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{Organization: []string{"hallmark test"}, CommonName: "fulcio"},
		NotBefore:             t0.Add(-time.Hour),
		NotAfter:              t0.Add(10 * 365 * 24 * time.Hour),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, caKey.Public(), caKey)
	if err != nil {
		t.Fatal(err)
	}
	caCert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	logKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	spki, err := x509.MarshalPKIXPublicKey(logKey.Public())
	if err != nil {
		t.Fatal(err)
	}
	logID := sha256.Sum256(spki)
	tlog := &root.TransparencyLog{
		BaseURL:             "https://rekor.example.invalid",
		ID:                  logID[:],
		ValidityPeriodStart: t0.Add(-time.Hour),
		HashFunc:            crypto.SHA256,
		PublicKey:           logKey.Public(),
		SignatureHashFunc:   crypto.SHA256,
	}
	tr, err := root.NewTrustedRoot(root.TrustedRootMediaType01,
		[]root.CertificateAuthority{&root.FulcioCertificateAuthority{
			Root:                caCert,
			ValidityPeriodStart: t0.Add(-time.Hour),
			URI:                 "https://fulcio.example.invalid",
		}},
		nil, nil,
		map[string]*root.TransparencyLog{hex.EncodeToString(logID[:]): tlog})
	if err != nil {
		t.Fatal(err)
	}
	b, err := tr.MarshalJSON()
	if err != nil {
		t.Fatalf("marshalling the trusted root: %v", err)
	}
	parsed, err := root.NewTrustedRootFromJSON(b)
	if err != nil {
		t.Fatalf("the generated trusted root does not parse: %v", err)
	}
	if len(parsed.FulcioCertificateAuthorities()) != 1 || len(parsed.RekorLogs()) != 1 {
		t.Fatalf("the generated trusted root has %d CAs and %d logs, want 1 and 1",
			len(parsed.FulcioCertificateAuthorities()), len(parsed.RekorLogs()))
	}
	return b
}

// clock is a settable Options.Now.
type clock struct{ now time.Time }

func (c *clock) Now() time.Time { return c.now }

// options points at repo with an empty cache and the clock c.
func options(t *testing.T, repo *tuftest.Repo, c *clock) trust.Options {
	t.Helper()
	return trust.Options{
		CacheDir:    t.TempDir(),
		MirrorURL:   repo.URL,
		InitialRoot: repo.RootJSON,
		MaxAge:      time.Hour,
		Now:         c.Now,
	}
}

// cacheDir is where Load keeps the extracted targets of o's mirror.
func cacheDir(o trust.Options) string {
	return filepath.Join(o.CacheDir, "trust", tuf.URLToPath(o.MirrorURL))
}

// readCacheFiles returns the cached meta.json and trusted_root.json.
func readCacheFiles(t *testing.T, o trust.Options) (meta, tr []byte) {
	t.Helper()
	var err error
	if meta, err = os.ReadFile(filepath.Join(cacheDir(o), "meta.json")); err != nil {
		t.Fatalf("reading cached meta.json: %v", err)
	}
	if tr, err = os.ReadFile(filepath.Join(cacheDir(o), trust.TrustedRootTarget)); err != nil {
		t.Fatalf("reading cached trusted_root.json: %v", err)
	}
	return meta, tr
}

func TestLoadTrustedRootPath(t *testing.T) {
	good := newTrustedRootJSON(t)
	dir := t.TempDir()
	goodPath := filepath.Join(dir, "trusted_root.json")
	if err := os.WriteFile(goodPath, good, 0o644); err != nil {
		t.Fatal(err)
	}
	notJSON := filepath.Join(dir, "not.json")
	if err := os.WriteFile(notJSON, []byte("-----BEGIN PUBLIC KEY-----\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	notRoot := filepath.Join(dir, "bundle.json")
	if err := os.WriteFile(notRoot, []byte(`{"mediaType":"application/vnd.dev.sigstore.bundle.v0.3+json"}`), 0o644); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name     string
		path     string
		notExist bool // want errors.Is(err, os.ErrNotExist)
		wantErr  bool
	}{
		{name: "good file", path: goodPath},
		{name: "missing file", path: filepath.Join(dir, "missing.json"), notExist: true, wantErr: true},
		{name: "not JSON", path: notJSON, wantErr: true},
		{name: "JSON but not a trusted root", path: notRoot, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// A mirror that counts requests: a file root never touches it,
			// online or offline.
			repo := tuftest.New(t, map[string][]byte{trust.TrustedRootTarget: good})
			for _, offline := range []bool{false, true} {
				o := options(t, repo, &clock{t0})
				o.TrustedRootPath = tt.path
				o.Offline = offline
				r, err := trust.Load(context.Background(), o)
				if n := repo.Requests(); n != 0 {
					t.Errorf("offline=%v: %d HTTP requests, want 0", offline, n)
				}
				if !tt.wantErr {
					if err != nil {
						t.Fatalf("offline=%v: Load: %v", offline, err)
					}
					if r.Source.Kind != "file" || r.Source.Path != tt.path || r.Source.Mirror != "" || r.Source.Stale {
						t.Errorf("offline=%v: Source = %+v, want kind file, path %q", offline, r.Source, tt.path)
					}
					if !bytes.Equal(r.JSON, good) {
						t.Errorf("offline=%v: JSON differs from the file", offline)
					}
					if r.Trusted == nil || len(r.Trusted.FulcioCertificateAuthorities()) == 0 {
						t.Errorf("offline=%v: parsed root has no Fulcio CAs", offline)
					}
					continue
				}
				if err == nil {
					t.Fatalf("offline=%v: Load succeeded, want an error", offline)
				}
				if got := errors.Is(err, os.ErrNotExist); got != tt.notExist {
					t.Errorf("offline=%v: errors.Is(%v, os.ErrNotExist) = %v, want %v", offline, err, got, tt.notExist)
				}
				if errors.Is(err, trust.ErrNoCachedRoot) || errors.Is(err, trust.ErrRefresh) {
					t.Errorf("offline=%v: error %v is classified as a cache/refresh error", offline, err)
				}
				if _, statErr := os.Stat(filepath.Join(o.CacheDir, "trust")); !errors.Is(statErr, os.ErrNotExist) {
					t.Errorf("offline=%v: a file root created the cache (stat: %v)", offline, statErr)
				}
			}
		})
	}
}

func TestLoadOnlineRefreshesThenUsesCache(t *testing.T) {
	good := newTrustedRootJSON(t)
	repo := tuftest.New(t, map[string][]byte{trust.TrustedRootTarget: good})
	c := &clock{t0}
	o := options(t, repo, c)
	ctx := context.Background()

	r, err := trust.Load(ctx, o)
	if err != nil {
		t.Fatalf("first Load: %v", err)
	}
	wantPath := filepath.Join(cacheDir(o), trust.TrustedRootTarget)
	want := trust.Source{Kind: "tuf", Path: wantPath, Mirror: repo.URL, FetchedAt: t0}
	if r.Source != want {
		t.Errorf("first Load Source = %+v, want %+v", r.Source, want)
	}
	if !bytes.Equal(r.JSON, good) {
		t.Error("first Load JSON differs from the served target")
	}
	if r.Trusted == nil {
		t.Fatal("first Load returned no parsed root")
	}
	afterRefresh := repo.Requests()
	if afterRefresh == 0 {
		t.Fatal("first Load with an empty cache made no HTTP requests")
	}

	metaRaw, cachedRoot := readCacheFiles(t, o)
	if !bytes.Equal(cachedRoot, good) {
		t.Error("cached trusted_root.json differs from the served target")
	}
	var m struct {
		Mirror    string    `json:"mirror"`
		TUFRoot   string    `json:"tufRootSHA256"`
		FetchedAt time.Time `json:"fetchedAt"`
	}
	if err := json.Unmarshal(metaRaw, &m); err != nil {
		t.Fatalf("cached meta.json: %v", err)
	}
	rootSum := sha256.Sum256(repo.RootJSON)
	if m.Mirror != repo.URL || m.TUFRoot != hex.EncodeToString(rootSum[:]) || !m.FetchedAt.Equal(t0) {
		t.Errorf("meta.json = %+v, want mirror %q, TUF root %x, fetched at %v", m, repo.URL, rootSum, t0)
	}
	// The repository has no signing config: none is cached.
	if _, err := trust.SigningConfig(o); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("SigningConfig without one in the repo: err = %v, want os.ErrNotExist", err)
	}

	// Within MaxAge: the cache, and not a single request.
	for _, age := range []time.Duration{0, time.Minute, o.MaxAge} {
		c.now = t0.Add(age)
		r, err := trust.Load(ctx, o)
		if err != nil {
			t.Fatalf("Load at +%v: %v", age, err)
		}
		want := trust.Source{Kind: "cache", Path: wantPath, Mirror: repo.URL, FetchedAt: t0}
		if r.Source.Kind != want.Kind || r.Source.Path != want.Path || r.Source.Mirror != want.Mirror ||
			!r.Source.FetchedAt.Equal(t0) || r.Source.Stale {
			t.Errorf("Load at +%v: Source = %+v, want %+v", age, r.Source, want)
		}
		if !bytes.Equal(r.JSON, good) {
			t.Errorf("Load at +%v: JSON differs from the cached target", age)
		}
		if n := repo.Requests(); n != afterRefresh {
			t.Errorf("Load at +%v from a fresh cache made %d HTTP requests, want 0", age, n-afterRefresh)
		}
	}
}

func TestLoadOnlineStaleCacheRefreshes(t *testing.T) {
	v1 := newTrustedRootJSON(t)
	v2 := newTrustedRootJSON(t)
	if bytes.Equal(v1, v2) {
		t.Fatal("test roots are identical")
	}
	repo := tuftest.New(t, map[string][]byte{trust.TrustedRootTarget: v1})
	c := &clock{t0}
	o := options(t, repo, c)
	ctx := context.Background()

	if _, err := trust.Load(ctx, o); err != nil {
		t.Fatalf("first Load: %v", err)
	}
	repo.SetTarget(t, trust.TrustedRootTarget, v2)

	// The new version is published but the cache is fresh: still v1.
	c.now = t0.Add(o.MaxAge)
	r, err := trust.Load(ctx, o)
	if err != nil {
		t.Fatalf("Load at MaxAge: %v", err)
	}
	if r.Source.Kind != "cache" || !bytes.Equal(r.JSON, v1) {
		t.Fatalf("Load at MaxAge: kind %q, new root %v; want the cached v1", r.Source.Kind, bytes.Equal(r.JSON, v2))
	}

	before := repo.Requests()
	later := t0.Add(o.MaxAge + time.Second)
	c.now = later
	r, err = trust.Load(ctx, o)
	if err != nil {
		t.Fatalf("Load past MaxAge: %v", err)
	}
	if r.Source.Kind != "tuf" || !r.Source.FetchedAt.Equal(later) || r.Source.Stale {
		t.Errorf("Load past MaxAge: Source = %+v, want kind tuf fetched at %v", r.Source, later)
	}
	if !bytes.Equal(r.JSON, v2) {
		t.Error("Load past MaxAge did not pick up the new target version")
	}
	if repo.Requests() == before {
		t.Error("Load past MaxAge made no HTTP requests")
	}
	if _, cached := readCacheFiles(t, o); !bytes.Equal(cached, v2) {
		t.Error("cache still holds the old trusted_root.json after the refresh")
	}

	// The refreshed cache is fresh again.
	before = repo.Requests()
	c.now = later.Add(time.Minute)
	r, err = trust.Load(ctx, o)
	if err != nil {
		t.Fatalf("Load after the refresh: %v", err)
	}
	if r.Source.Kind != "cache" || !r.Source.FetchedAt.Equal(later) || !bytes.Equal(r.JSON, v2) {
		t.Errorf("Load after the refresh: Source = %+v, new root %v; want the cached v2", r.Source, bytes.Equal(r.JSON, v2))
	}
	if n := repo.Requests(); n != before {
		t.Errorf("Load after the refresh made %d HTTP requests, want 0", n-before)
	}
}

func TestOffline(t *testing.T) {
	good := newTrustedRootJSON(t)
	ctx := context.Background()

	// populate fills o's cache online at t0.
	populate := func(t *testing.T, o trust.Options) {
		t.Helper()
		o.Offline = false
		if _, err := trust.Update(ctx, o); err != nil {
			t.Fatalf("populating the cache: %v", err)
		}
	}

	tests := []struct {
		name      string
		populated bool
		age       time.Duration
		update    bool // call Update instead of Load
		wantErr   error
		wantStale bool
	}{
		{name: "load, no cache", wantErr: trust.ErrNoCachedRoot},
		{name: "load, fresh cache", populated: true, age: time.Minute},
		{name: "load, stale cache", populated: true, age: 30 * 24 * time.Hour, wantStale: true},
		{name: "update, no cache", update: true, wantErr: trust.ErrRefresh},
		{name: "update, stale cache", populated: true, age: 30 * 24 * time.Hour, update: true, wantErr: trust.ErrRefresh},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			repo := tuftest.New(t, map[string][]byte{trust.TrustedRootTarget: good})
			c := &clock{t0}
			o := options(t, repo, c)
			if tt.populated {
				populate(t, o)
			}
			before := repo.Requests()
			c.now = t0.Add(tt.age)
			o.Offline = true

			var (
				r   *trust.Root
				err error
			)
			if tt.update {
				r, err = trust.Update(ctx, o)
			} else {
				r, err = trust.Load(ctx, o)
			}
			if n := repo.Requests(); n != before {
				t.Errorf("offline run made %d HTTP requests, want 0", n-before)
			}
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("err = %v, want %v", err, tt.wantErr)
				}
				if r != nil {
					t.Errorf("got a root along with the error: %+v", r.Source)
				}
				return
			}
			if err != nil {
				t.Fatalf("offline Load: %v", err)
			}
			if r.Source.Kind != "cache" || r.Source.Stale != tt.wantStale || r.Source.Mirror != repo.URL || !r.Source.FetchedAt.Equal(t0) {
				t.Errorf("Source = %+v, want kind cache, stale %v, mirror %q, fetched at %v", r.Source, tt.wantStale, repo.URL, t0)
			}
			if !bytes.Equal(r.JSON, good) {
				t.Error("offline JSON differs from the cached target")
			}
		})
	}
}

func TestRefreshFailureKeepsCache(t *testing.T) {
	good := newTrustedRootJSON(t)
	ctx := context.Background()

	tests := []struct {
		name string
		// breakRepo makes the next refresh of o fail.
		breakRepo func(t *testing.T, repo *tuftest.Repo, o *trust.Options)
		update    bool // call Update rather than Load with a stale cache
	}{
		{
			name: "TUF root of another repository, Update",
			breakRepo: func(t *testing.T, _ *tuftest.Repo, o *trust.Options) {
				o.InitialRoot = tuftest.New(t, map[string][]byte{trust.TrustedRootTarget: good}).RootJSON
			},
			update: true,
		},
		{
			name: "TUF root of another repository, stale Load",
			breakRepo: func(t *testing.T, _ *tuftest.Repo, o *trust.Options) {
				o.InitialRoot = tuftest.New(t, map[string][]byte{trust.TrustedRootTarget: good}).RootJSON
			},
		},
		{
			name: "target is not a trusted root",
			breakRepo: func(t *testing.T, repo *tuftest.Repo, _ *trust.Options) {
				repo.SetTarget(t, trust.TrustedRootTarget, []byte("not a trusted root"))
			},
		},
		{
			name: "target removed from the repository",
			// tuftest cannot delete a target: move the cache over to a
			// repository that never had one.
			breakRepo: func(t *testing.T, _ *tuftest.Repo, o *trust.Options) {
				meta, tr := readCacheFiles(t, *o)
				other := tuftest.New(t, map[string][]byte{"other.json": []byte("{}")})
				o.MirrorURL, o.InitialRoot = other.URL, other.RootJSON
				if err := os.MkdirAll(cacheDir(*o), 0o755); err != nil {
					t.Fatal(err)
				}
				for name, b := range map[string][]byte{"meta.json": meta, trust.TrustedRootTarget: tr} {
					if err := os.WriteFile(filepath.Join(cacheDir(*o), name), b, 0o644); err != nil {
						t.Fatal(err)
					}
				}
			},
		},
		{
			name: "mirror down",
			breakRepo: func(t *testing.T, repo *tuftest.Repo, _ *trust.Options) {
				repo.Close()
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			repo := tuftest.New(t, map[string][]byte{trust.TrustedRootTarget: good})
			c := &clock{t0}
			o := options(t, repo, c)
			if _, err := trust.Load(ctx, o); err != nil {
				t.Fatalf("populating the cache: %v", err)
			}
			metaBefore, rootBefore := readCacheFiles(t, o)

			tt.breakRepo(t, repo, &o)

			c.now = t0.Add(o.MaxAge + time.Minute)
			var err error
			if tt.update {
				_, err = trust.Update(ctx, o)
			} else {
				_, err = trust.Load(ctx, o)
			}
			if !errors.Is(err, trust.ErrRefresh) {
				t.Fatalf("err = %v, want %v", err, trust.ErrRefresh)
			}
			metaAfter, rootAfter := readCacheFiles(t, o)
			if !bytes.Equal(metaAfter, metaBefore) || !bytes.Equal(rootAfter, rootBefore) {
				t.Error("a failed refresh changed the cache")
			}
		})
	}
}

func TestLoadCorruptCacheMetaIsAnError(t *testing.T) {
	good := newTrustedRootJSON(t)
	repo := tuftest.New(t, map[string][]byte{trust.TrustedRootTarget: good})
	o := options(t, repo, &clock{t0})
	if _, err := trust.Load(context.Background(), o); err != nil {
		t.Fatalf("populating the cache: %v", err)
	}
	if err := os.WriteFile(filepath.Join(cacheDir(o), "meta.json"), []byte("{"), 0o644); err != nil {
		t.Fatal(err)
	}
	before := repo.Requests()
	for _, offline := range []bool{false, true} {
		o.Offline = offline
		_, err := trust.Load(context.Background(), o)
		if !errors.Is(err, trust.ErrBadCache) {
			t.Errorf("offline=%v: err = %v, want %v", offline, err, trust.ErrBadCache)
		}
		if err != nil && !strings.Contains(err.Error(), filepath.Join(cacheDir(o), "meta.json")) {
			t.Errorf("offline=%v: error %q does not name meta.json", offline, err)
		}
	}
	if n := repo.Requests(); n != before {
		t.Errorf("a corrupt cache led to %d HTTP requests, want 0 (no silent refresh)", n-before)
	}
}

func TestSigningConfigAndExport(t *testing.T) {
	good := newTrustedRootJSON(t)
	repo := tuftest.New(t, map[string][]byte{
		trust.TrustedRootTarget:   good,
		trust.SigningConfigTarget: signingConfig,
	})
	o := options(t, repo, &clock{t0})
	r, err := trust.Load(context.Background(), o)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	cached, err := os.ReadFile(filepath.Join(cacheDir(o), trust.SigningConfigTarget))
	if err != nil {
		t.Fatalf("signing config not cached: %v", err)
	}
	if !bytes.Equal(cached, signingConfig) {
		t.Error("cached signing config differs from the served target")
	}
	before := repo.Requests()
	sc, err := trust.SigningConfig(o)
	if err != nil {
		t.Fatalf("SigningConfig: %v", err)
	}
	if !bytes.Equal(sc, signingConfig) {
		t.Errorf("SigningConfig = %q, want %q", sc, signingConfig)
	}
	if n := repo.Requests(); n != before {
		t.Errorf("SigningConfig made %d HTTP requests, want 0", n-before)
	}

	tests := []struct {
		name          string
		signingConfig []byte
		wantFiles     []string
	}{
		{name: "with signing config", signingConfig: sc, wantFiles: []string{"trusted_root.json", "signing_config.json"}},
		{name: "without signing config", wantFiles: []string{"trusted_root.json"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "export", "nested")
			paths, err := trust.Export(r, tt.signingConfig, dir)
			if err != nil {
				t.Fatalf("Export: %v", err)
			}
			if len(paths) != len(tt.wantFiles) {
				t.Fatalf("Export wrote %q, want %q", paths, tt.wantFiles)
			}
			for i, name := range tt.wantFiles {
				if want := filepath.Join(dir, name); paths[i] != want {
					t.Errorf("path %d = %q, want %q", i, paths[i], want)
				}
			}
			entries, err := os.ReadDir(dir)
			if err != nil {
				t.Fatal(err)
			}
			if len(entries) != len(tt.wantFiles) {
				var names []string
				for _, e := range entries {
					names = append(names, e.Name())
				}
				t.Errorf("export directory holds %q, want only %q", names, tt.wantFiles)
			}
			gotRoot, err := os.ReadFile(filepath.Join(dir, "trusted_root.json"))
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(gotRoot, r.JSON) {
				t.Error("exported trusted_root.json differs from the loaded root")
			}
			// The export is usable as --trusted-root.
			fr, err := trust.Load(context.Background(), trust.Options{TrustedRootPath: paths[0], Offline: true})
			if err != nil {
				t.Fatalf("loading the exported root: %v", err)
			}
			if fr.Source.Kind != "file" {
				t.Errorf("exported root loaded as %q, want file", fr.Source.Kind)
			}
			gotSC, err := os.ReadFile(filepath.Join(dir, "signing_config.json"))
			if tt.signingConfig == nil {
				if !errors.Is(err, os.ErrNotExist) {
					t.Errorf("signing_config.json exported without one (err %v)", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(gotSC, tt.signingConfig) {
				t.Error("exported signing_config.json differs from the cached one")
			}
		})
	}
}

// A failed export leaves no directory it created behind. The failure: a
// directory path short enough to create (4079 bytes) whose files' paths
// are longer than the kernel takes (PATH_MAX, 4096 with the NUL).
func TestExportFailureLeavesNoDirectory(t *testing.T) {
	good := newTrustedRootJSON(t)
	dir := t.TempDir()
	t.Chdir(dir)
	if err := os.Mkdir("kept", 0o755); err != nil {
		t.Fatal(err)
	}
	long := strings.Repeat("d", 254)
	for _, base := range []string{long, filepath.Join("kept", long[:250])} {
		parts := []string{base}
		for len(filepath.Join(parts...)) < 4079-255 {
			parts = append(parts, long)
		}
		target := filepath.Join(parts...)
		target += string(filepath.Separator) + strings.Repeat("e", 4079-len(target)-1)
		if len(target) != 4079 {
			t.Fatalf("target is %d bytes, want 4079", len(target))
		}
		paths, err := trust.Export(&trust.Root{JSON: good}, signingConfig, target)
		if err == nil {
			t.Fatalf("Export into a %d-byte path succeeded (%q), want an error", len(target), paths)
		}
		if paths != nil {
			t.Errorf("a failed Export returned paths %q", paths)
		}
		// Only what was there before: the scratch directory holds "kept", and
		// "kept" is empty again.
		assertEntries(t, ".", "kept")
		assertEntries(t, "kept")
	}
}

func assertEntries(t *testing.T, dir string, want ...string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range entries {
		got = append(got, e.Name())
	}
	if strings.Join(got, "/") != strings.Join(want, "/") {
		t.Errorf("%s holds %q, want %q", dir, got, want)
	}
}
