package trust

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"

	"github.com/sigstore/sigstore-go/pkg/root"
	"github.com/theupdateframework/go-tuf/v2/metadata"

	"github.com/hallmark-dev/hallmark/internal/atomicfile"
	"github.com/hallmark-dev/hallmark/internal/ctxio"
)

// GitHub's own Sigstore instance (private repositories, release
// attestations) publishes its trusted root through its own TUF repository.
// hallmark carries no copy of that repository's root: it pins the SHA-256 of
// the root version it bootstraps from, fetches that file from the mirror on
// first use and refuses it unless the hash matches. The root is version 3,
// the one gh embeds (cli/cli pkg/cmd/attestation/verification/embed/
// tuf-repo.github.com/root.json); the TUF client then walks the chain to
// the current root.
const (
	GitHubMirror          = "https://tuf-repo.github.com"
	GitHubRootName        = "3.root.json"
	GitHubRootSHA256      = "98cba97be9075bc98b2322de3de85fbd1b70ec7392991dfd2f53d215bede1a8d"
	maxBootstrapRootBytes = 1 << 20
)

// ErrBootstrap: the pinned initial TUF root could not be had, or what the
// mirror served is not it.
var ErrBootstrap = errors.New("bootstrapping the TUF root failed")

// Bootstrap names a pinned initial TUF root on a mirror.
type Bootstrap struct {
	// Name is the file under the mirror's base URL (e.g. 3.root.json).
	Name string
	// SHA256 is the lowercase hex SHA-256 the file must have.
	SHA256 string
	// Client fetches it (default http.DefaultClient).
	Client *http.Client
}

// GitHubOptions returns o set up for GitHub's TUF repository: its mirror
// and the pinned bootstrap root (unless o already names a mirror and root,
// as tests do).
func GitHubOptions(o Options) Options {
	o.TrustedRootPath = ""
	if o.MirrorURL == "" {
		o.MirrorURL = GitHubMirror
	}
	if o.InitialRoot == nil && o.Bootstrap == nil {
		o.Bootstrap = &Bootstrap{Name: GitHubRootName, SHA256: GitHubRootSHA256}
	}
	return o
}

// bootstrapPath is where a fetched and checked bootstrap root is kept.
func bootstrapPath(o Options, b *Bootstrap) string {
	return filepath.Join(mirrorDir(o), "bootstrap", b.SHA256+".root.json")
}

// bootstrap sets o.InitialRoot from the pinned root: the copy kept in the
// cache, else (online) the mirror's, checked against the pin before it is
// parsed, kept or used.
func (o *Options) bootstrap(ctx context.Context) error {
	b := o.Bootstrap
	if b == nil || o.InitialRoot != nil {
		return nil
	}
	if !sha256Hex().MatchString(b.SHA256) {
		return fmt.Errorf("%w: the pinned SHA-256 %q is not lowercase hex", ErrBootstrap, b.SHA256)
	}
	path := bootstrapPath(*o, b)
	if data, err := readBounded(path, maxBootstrapRootBytes); err == nil {
		if err := checkPinned(data, b.SHA256); err != nil {
			return fmt.Errorf("%w: %s: %w", ErrBadCache, path, err)
		}
		o.InitialRoot = data
		return nil
	} else if !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("%w: %w", ErrBadCache, err)
	}
	if o.Offline {
		return fmt.Errorf("%w in %s (its TUF root was never fetched)", ErrNoCachedRoot, mirrorDir(*o))
	}
	url := strings.TrimSuffix(o.MirrorURL, "/") + "/" + b.Name
	data, err := fetchBounded(ctx, b.Client, url, maxBootstrapRootBytes)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrBootstrap, err)
	}
	if err := checkPinned(data, b.SHA256); err != nil {
		return fmt.Errorf("%w: %s: %w", ErrBootstrap, url, err)
	}
	if _, err := metadata.Root().FromBytes(data); err != nil {
		return fmt.Errorf("%w: %s has the pinned hash but does not parse: %w", ErrBootstrap, url, err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("creating trust cache: %w", err)
	}
	if err := atomicfile.Write(path, data, 0o644); err != nil {
		return fmt.Errorf("writing trust cache: %w", err)
	}
	o.InitialRoot = data
	return nil
}

func checkPinned(data []byte, want string) error {
	sum := sha256.Sum256(data)
	if got := hex.EncodeToString(sum[:]); got != want {
		return fmt.Errorf("SHA-256 is %s, want the pinned %s", got, want)
	}
	return nil
}

func fetchBounded(ctx context.Context, c *http.Client, url string, limit int64) ([]byte, error) {
	if c == nil {
		c = http.DefaultClient
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	resp, err := c.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if err != nil {
		return nil, fmt.Errorf("GET %s: %w", url, err)
	}
	if int64(len(data)) > limit {
		return nil, fmt.Errorf("GET %s: more than %d bytes", url, limit)
	}
	return data, nil
}

// maxRootsFileSize bounds a --trusted-root file.
const maxRootsFileSize = 64 << 20

// LoadFiles reads trusted roots from files, each one trusted_root.json or
// JSONL of several (gh attestation trusted-root's output, one root a line).
func LoadFiles(ctx context.Context, paths []string) ([]*Root, error) {
	var out []*Root
	for _, p := range paths {
		rs, err := loadFileRoots(ctx, p)
		if err != nil {
			return nil, err
		}
		out = append(out, rs...)
	}
	return out, nil
}

func loadFileRoots(ctx context.Context, path string) ([]*Root, error) {
	data, err := ctxio.ReadFile(ctx, path, maxRootsFileSize)
	if err != nil {
		return nil, fmt.Errorf("reading trusted root: %w", err)
	}
	// One JSON document (any layout) first; then JSONL.
	if tr, err := root.NewTrustedRootFromJSON(data); err == nil {
		return []*Root{{Trusted: tr, JSON: data, Source: Source{Kind: "file", Path: path}}}, nil
	} else if !bytes.Contains(bytes.TrimSpace(data), []byte("\n")) {
		return nil, fmt.Errorf("parsing trusted root %s: %w", path, err)
	}
	var out []*Root
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(nil, maxRootsFileSize)
	for n := 1; sc.Scan(); n++ {
		line := bytes.TrimSpace(sc.Bytes())
		if len(line) == 0 {
			continue
		}
		tr, err := root.NewTrustedRootFromJSON(line)
		if err != nil {
			return nil, fmt.Errorf("parsing trusted root %s line %d: %w", path, n, err)
		}
		out = append(out, &Root{Trusted: tr, JSON: bytes.Clone(line), Source: Source{Kind: "file", Path: fmt.Sprintf("%s:%d", path, n)}})
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("reading trusted root %s: %w", path, err)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("parsing trusted root %s: no root in it", path)
	}
	return out, nil
}
