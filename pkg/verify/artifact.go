package verify

import (
	"context"
	"crypto"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"

	"github.com/hallmark-dev/hallmark/internal/ctxio"

	// Register the hash implementations named by Sigstore bundles.
	_ "crypto/sha256"
	_ "crypto/sha512"
)

// Artifact is what a bundle is checked against: a file, a stream, or only a
// digest. Build one with FileArtifact, ReaderArtifact or ParseDigest.
type Artifact struct {
	// Name identifies the artifact in results: a path, "-" or a digest.
	Name   string
	path   string
	reader io.Reader
	digest *Digest
	// streamed is set once the artifact was handed to sigstore-go as a
	// stream (Ed25519 message signatures): it cannot be verified again.
	streamed bool
	// statementOnly: no artifact; see StatementOnly.
	statementOnly bool
}

// StatementOnly stands for no artifact at all: the bundle must be a DSSE
// attestation, whose signature, signer and log entries are verified but
// whose subjects are not matched against anything. It is for attestations
// read for their content (an SBOM to scan) when the artifact they describe
// is not at hand; callers should say that the subject went unchecked.
func StatementOnly(name string) Artifact { return Artifact{Name: name, statementOnly: true} }

// FileArtifact is the file at path, hashed as a stream when verified.
func FileArtifact(path string) Artifact { return Artifact{Name: path, path: path} }

// ReaderArtifact is a stream (standard input, say). It can be verified once.
func ReaderArtifact(name string, r io.Reader) Artifact { return Artifact{Name: name, reader: r} }

var digestSizes = map[string]int{"sha256": 32, "sha384": 48, "sha512": 64}

// ErrBadDigest is wrapped by ParseDigest errors.
var ErrBadDigest = errors.New("bad artifact digest")

// ParseDigest parses "sha256:<hex>" (or sha384, sha512) into an Artifact
// known only by its digest.
func ParseDigest(s string) (Artifact, error) {
	alg, value, ok := strings.Cut(s, ":")
	size, known := digestSizes[strings.ToLower(alg)]
	if !ok || !known {
		return Artifact{}, fmt.Errorf("%w %q: want sha256:<hex>, sha384:<hex> or sha512:<hex>", ErrBadDigest, s)
	}
	raw, err := hex.DecodeString(value)
	if err != nil || len(raw) != size {
		return Artifact{}, fmt.Errorf("%w %q: want %d hex characters after %q", ErrBadDigest, s, 2*size, alg+":")
	}
	d := &Digest{Algorithm: strings.ToLower(alg), Value: strings.ToLower(value)}
	return Artifact{Name: s, digest: d}, nil
}

// IsDigest reports whether s looks like a digest argument rather than a path.
func IsDigest(s string) bool {
	alg, _, ok := strings.Cut(s, ":")
	_, known := digestSizes[strings.ToLower(alg)]
	return ok && known
}

func hashOf(alg string) (crypto.Hash, bool) {
	switch alg {
	case "sha256":
		return crypto.SHA256, true
	case "sha384":
		return crypto.SHA384, true
	case "sha512":
		return crypto.SHA512, true
	}
	return 0, false
}

// hashBufSize is the read size for streaming hashes: large enough that the
// per-call overhead vanishes next to SHA-256 throughput.
const hashBufSize = 256 << 10

// hashBufs recycles read buffers: verifying many small artifacts must not
// allocate a buffer each.
var hashBufs = sync.Pool{New: func() any { return new([hashBufSize]byte) }}

// digestOf returns the artifact's digest with alg, hashing it as a stream
// if needed. An IO failure is not a rejection: it is returned as is.
func (a *Artifact) digestOf(ctx context.Context, alg string) (*Digest, error) {
	if a.digest != nil {
		if a.digest.Algorithm != alg {
			return nil, &RejectedError{
				Cause:  CauseArtifact,
				Reason: fmt.Sprintf("the bundle signs a %s digest, but only a %s digest of the artifact was given", alg, a.digest.Algorithm),
				Hint:   "pass the artifact file instead of its digest",
			}
		}
		return a.digest, nil
	}
	h, ok := hashOf(alg)
	if !ok {
		return nil, reject(CauseMalformed, nil, "unsupported digest algorithm %q in bundle", alg)
	}
	r, closeFn, err := a.open(ctx)
	if err != nil {
		return nil, err
	}
	defer closeFn()
	sum, err := HashReader(ctx, r, h)
	if err != nil {
		return nil, fmt.Errorf("reading artifact %s: %w", a.Name, err)
	}
	a.digest = &Digest{Algorithm: alg, Value: hex.EncodeToString(sum)}
	return a.digest, nil
}

// open returns the artifact's content as a reader that stops with ctx's
// error once ctx is done, and a function that releases it.
func (a *Artifact) open(ctx context.Context) (io.Reader, func(), error) {
	switch {
	case a.reader != nil:
		r := a.reader
		a.reader = nil
		if f, ok := r.(*os.File); ok {
			return ctxio.Reader(ctx, f), ctxio.InterruptOnDone(ctx, f), nil
		}
		return ctxio.Reader(ctx, r), func() {}, nil
	case a.path != "":
		f, err := ctxio.Open(ctx, a.path)
		if err != nil {
			return nil, nil, fmt.Errorf("reading artifact: %w", err)
		}
		stop := ctxio.InterruptOnDone(ctx, f)
		return ctxio.Reader(ctx, f), func() { stop(); _ = f.Close() }, nil
	}
	return nil, nil, fmt.Errorf("artifact %s was already read", a.Name)
}

// HashReader hashes r with h as a stream, checking ctx between reads.
func HashReader(ctx context.Context, r io.Reader, h crypto.Hash) ([]byte, error) {
	hasher := h.New()
	bp := hashBufs.Get().(*[hashBufSize]byte)
	defer hashBufs.Put(bp)
	buf := bp[:]
	for {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		n, err := r.Read(buf)
		hasher.Write(buf[:n])
		if err == io.EOF {
			return hasher.Sum(nil), nil
		}
		if err != nil {
			return nil, err
		}
	}
}
