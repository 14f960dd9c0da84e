// Package tuftest builds real, signed TUF repositories for tests and serves
// them over HTTP on the loopback interface, so that code using sigstore-go's
// TUF client (tuf.New + GetTarget) can be exercised without network access.
//
// Repositories follow TUF specification 1.0 with consistent snapshots
// enabled. Each top-level role (root, targets, snapshot, timestamp) has its own
// ed25519 key and a threshold of one, and all metadata expires one year after
// it is signed. The served layout is the one go-tuf v2 clients request:
//
//	1.root.json
//	timestamp.json
//	N.snapshot.json
//	N.targets.json
//	targets/<sha256 hex>.<target name>
package tuftest

import (
	"crypto/ed25519"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sigstore/sigstore/pkg/signature"
	"github.com/theupdateframework/go-tuf/v2/metadata"
)

// expiry is how long freshly signed metadata stays valid.
const expiry = 365 * 24 * time.Hour

// Repo is a signed TUF repository in a temporary directory, served over HTTP
// by an httptest server. Create one with New.
type Repo struct {
	// URL is the base URL of the repository (metadata and targets/), to be
	// passed to the client as its repository base URL / mirror.
	URL string
	// RootJSON is the signed 1.root.json the client must be initialised with
	// as its trust anchor.
	RootJSON []byte

	dir      string
	srv      *httptest.Server
	requests atomic.Int64

	mu        sync.RWMutex // held for writing while files are being published
	expires   time.Time    // of the next publish; zero: a year from then
	signers   map[string]signature.Signer
	targets   *metadata.Metadata[metadata.TargetsType]
	snapshot  *metadata.Metadata[metadata.SnapshotType]
	timestamp *metadata.Metadata[metadata.TimestampType]
}

// New creates a repository holding the given target files (keyed by target
// name, e.g. "trusted_root.json"), starts serving it on 127.0.0.1 and
// registers t.Cleanup to shut the server down. It fails the test on error.
func New(t testing.TB, targets map[string][]byte) *Repo {
	t.Helper()
	r := &Repo{
		dir:     t.TempDir(),
		signers: make(map[string]signature.Signer),
	}
	expires := time.Now().UTC().Add(expiry)
	root := metadata.Root(expires)
	root.Signed.ConsistentSnapshot = true
	for _, role := range []string{metadata.ROOT, metadata.TARGETS, metadata.SNAPSHOT, metadata.TIMESTAMP} {
		_, priv, err := ed25519.GenerateKey(nil)
		if err != nil {
			t.Fatalf("tuftest: generating %s key: %v", role, err)
		}
		key, err := metadata.KeyFromPublicKey(priv.Public())
		if err != nil {
			t.Fatalf("tuftest: converting %s key: %v", role, err)
		}
		if err := root.Signed.AddKey(key, role); err != nil {
			t.Fatalf("tuftest: adding %s key to root: %v", role, err)
		}
		if r.signers[role], err = signature.LoadED25519Signer(priv); err != nil {
			t.Fatalf("tuftest: loading %s signer: %v", role, err)
		}
	}
	r.RootJSON = r.write(t, root, metadata.ROOT, "1.root.json")

	r.targets = metadata.Targets(expires)
	r.snapshot = metadata.Snapshot(expires)
	r.timestamp = metadata.Timestamp(expires)
	for name, data := range targets {
		r.addTarget(t, name, data)
	}
	r.publish(t, false)

	files := http.FileServer(http.Dir(r.dir))
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		r.requests.Add(1)
		r.mu.RLock()
		defer r.mu.RUnlock()
		files.ServeHTTP(w, req)
	}))
	t.Cleanup(r.srv.Close)
	r.URL = r.srv.URL
	return r
}

// SetTarget adds or replaces the target file name with data and publishes a
// new repository version: targets, snapshot and timestamp metadata get their
// versions bumped, their expiry renewed and are re-signed. Clients that
// refresh afterwards see the new content.
func (r *Repo) SetTarget(t testing.TB, name string, data []byte) {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	r.addTarget(t, name, data)
	r.publish(t, true)
}

// SetExpiry publishes a new repository version, like SetTarget without a
// change of targets, whose targets, snapshot and timestamp metadata expire
// at expires (which may be in the past). Later publishes keep that expiry.
func (r *Repo) SetExpiry(t testing.TB, expires time.Time) {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	r.expires = expires.UTC()
	r.publish(t, true)
}

// Requests reports how many HTTP requests the server has handled so far,
// including ones answered with an error such as 404.
func (r *Repo) Requests() int {
	return int(r.requests.Load())
}

// Close shuts the HTTP server down. It is also called automatically when the
// test that created the repository ends; calling it more than once is safe.
func (r *Repo) Close() {
	r.srv.Close()
}

// addTarget writes data as targets/<sha256>.<name> and records it in the
// targets metadata (unsigned until publish).
func (r *Repo) addTarget(t testing.TB, name string, data []byte) {
	t.Helper()
	tf, err := metadata.TargetFile().FromBytes(name, data, "sha256")
	if err != nil {
		t.Fatalf("tuftest: hashing target %q: %v", name, err)
	}
	r.targets.Signed.Targets[name] = tf
	file := path.Join("targets", path.Dir(name), hex.EncodeToString(tf.Hashes["sha256"])+"."+path.Base(name))
	p := filepath.Join(r.dir, filepath.FromSlash(file))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatalf("tuftest: %v", err)
	}
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatalf("tuftest: writing target %q: %v", name, err)
	}
}

// publish signs and writes targets, snapshot and timestamp metadata, first
// bumping their versions if bump is set.
func (r *Repo) publish(t testing.TB, bump bool) {
	t.Helper()
	expires := r.expires
	if expires.IsZero() {
		expires = time.Now().UTC().Add(expiry)
	}
	if bump {
		r.targets.Signed.Version++
		r.snapshot.Signed.Version++
		r.timestamp.Signed.Version++
	}
	r.targets.Signed.Expires = expires
	r.snapshot.Signed.Expires = expires
	r.timestamp.Signed.Expires = expires
	r.snapshot.Signed.Meta["targets.json"] = metadata.MetaFile(r.targets.Signed.Version)
	r.timestamp.Signed.Meta["snapshot.json"] = metadata.MetaFile(r.snapshot.Signed.Version)

	r.write(t, r.targets, metadata.TARGETS, fmt.Sprintf("%d.targets.json", r.targets.Signed.Version))
	r.write(t, r.snapshot, metadata.SNAPSHOT, fmt.Sprintf("%d.snapshot.json", r.snapshot.Signed.Version))
	r.write(t, r.timestamp, metadata.TIMESTAMP, "timestamp.json")
}

// write (re-)signs md with role's key, stores it as file in the repository
// directory and returns the serialised bytes.
func (r *Repo) write(t testing.TB, md signable, role, file string) []byte {
	t.Helper()
	md.ClearSignatures()
	if _, err := md.Sign(r.signers[role]); err != nil {
		t.Fatalf("tuftest: signing %s: %v", role, err)
	}
	b, err := md.ToBytes(true)
	if err != nil {
		t.Fatalf("tuftest: encoding %s: %v", role, err)
	}
	if err := os.WriteFile(filepath.Join(r.dir, file), b, 0o644); err != nil {
		t.Fatalf("tuftest: writing %s: %v", file, err)
	}
	return b
}

// signable is the part of *metadata.Metadata[T] that write needs.
type signable interface {
	ClearSignatures()
	Sign(signature.Signer) (*metadata.Signature, error)
	ToBytes(pretty bool) ([]byte, error)
}
