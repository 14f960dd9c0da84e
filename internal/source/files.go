package source

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/sigstore/sigstore-go/pkg/bundle"

	"github.com/hallmark-dev/hallmark/internal/ctxio"
	"github.com/hallmark-dev/hallmark/pkg/verify"
)

// MaxLineSize bounds one bundle: a single-bundle file or one JSONL line.
const MaxLineSize = verify.MaxBundleSize

// MaxFileSize bounds a JSONL file of bundles.
const MaxFileSize = 1 << 30

// Bundle is a parsed bundle, where it came from and what it claims to cover.
type Bundle struct {
	// Origin names the bundle for people: "FILE" for a single-bundle file,
	// "FILE:LINE" for a JSONL line, a URL for a fetched bundle.
	Origin string
	Bundle *bundle.Bundle
	// Coverage is the unverified claim: the digests and predicate type.
	Coverage *verify.Coverage
	// Raw is the bundle's JSON as it was read.
	Raw []byte

	// verifying serializes verifications of Bundle: sigstore-go's
	// bundle.Bundle records what it parsed (TlogEntries sets fields) while
	// it is verified, so two goroutines must not verify one at once.
	verifying sync.Mutex
}

// Exclusive calls fn with the bundle, one caller at a time: a bundle that
// covers several artifacts is verified for each, and those verifications
// may run concurrently.
func (b *Bundle) Exclusive(fn func(*bundle.Bundle)) {
	b.verifying.Lock()
	defer b.verifying.Unlock()
	fn(b.Bundle)
}

// FileError is a bundle file that could not be read or holds something that
// is not a bundle. Line is the JSONL line (from 1), or 0 for the whole file.
type FileError struct {
	Path string
	Line int
	Err  error
}

func (e *FileError) Error() string {
	where := e.Path
	if e.Line > 0 {
		where = fmt.Sprintf("%s: line %d", e.Path, e.Line)
	}
	if verify.IsRejected(e.Err) {
		return where + ": " + e.Err.Error()
	}
	return "reading bundles from " + where + ": " + e.Err.Error()
}

func (e *FileError) Unwrap() error { return e.Err }

// ErrNotRegular is the error for a directory entry that is not a regular
// file (a FIFO, a device, a socket): --bundle-dir never reads those.
var ErrNotRegular = errors.New("not a regular file")

// ErrTooLarge is the error for a bundle or bundle file over its size cap.
var ErrTooLarge = errors.New("too large")

// NewBundle parses data as one bundle from origin.
func NewBundle(origin string, data []byte) (*Bundle, error) {
	b, err := verify.ParseBundle(data)
	if err != nil {
		return nil, err
	}
	cov, err := verify.BundleCoverage(b)
	if err != nil {
		return nil, err
	}
	return &Bundle{Origin: origin, Bundle: b, Coverage: cov, Raw: data}, nil
}

// ReadFile reads the bundles in the file at path: one bundle (JSON, pretty
// printed or not) or JSONL, one bundle per line, blank lines ignored. A
// FIFO or pipe is read too (opening one waits for a writer, until ctx is
// done). Every error is a *FileError naming the file and, for JSONL, the
// line.
func ReadFile(ctx context.Context, path string) ([]*Bundle, error) {
	f, err := ctxio.Open(ctx, path)
	if err != nil {
		return nil, &FileError{Path: path, Err: unwrapPath(err, path)}
	}
	defer func() { _ = f.Close() }()
	stop := context.AfterFunc(ctx, func() { _ = f.SetReadDeadline(time.Now()) })
	defer stop()
	bs, err := Read(ctx, path, f)
	if err != nil {
		var fe *FileError
		if errors.As(err, &fe) {
			return nil, err
		}
		return nil, &FileError{Path: path, Err: err}
	}
	return bs, nil
}

// limits are the caps Read applies; tests lower them.
var limits = struct{ line, file int64 }{MaxLineSize, MaxFileSize}

// Read reads bundles from r as ReadFile does; name is the origin.
func Read(ctx context.Context, name string, r io.Reader) ([]*Bundle, error) {
	maxLine, maxFile := limits.line, limits.file
	br := bufio.NewReaderSize(ctxio.Reader(ctx, io.LimitReader(r, maxFile+1)), 64<<10)
	if head, bad := notJSON(br); bad {
		// /dev/zero, a binary file without newlines: no bundle nor JSONL
		// of bundles, said at once instead of after maxLine bytes.
		_, err := NewBundle(name, head)
		return nil, &FileError{Path: name, Err: err}
	}
	var (
		out   []*Bundle
		lineN int
		total int64
	)
	for {
		if err := ctx.Err(); err != nil {
			// Lines already buffered are not read again: parsing them is
			// the long part of a big JSONL file.
			return nil, &FileError{Path: name, Err: err}
		}
		line, err := readLine(br, maxLine)
		if err != nil && !errors.Is(err, io.EOF) {
			if errors.Is(err, ErrTooLarge) {
				return nil, &FileError{Path: name, Line: lineN + 1, Err: fmt.Errorf("a line is over %d bytes: %w", maxLine, ErrTooLarge)}
			}
			return nil, &FileError{Path: name, Err: ctxOr(ctx, err)}
		}
		eof := err != nil
		if len(line) == 0 && eof {
			break
		}
		lineN++
		total += int64(len(line))
		if total > maxFile {
			return nil, &FileError{Path: name, Err: fmt.Errorf("the file is over %d bytes: %w", maxFile, ErrTooLarge)}
		}
		t := bytes.TrimSpace(line)
		if len(t) == 0 {
			if eof {
				break
			}
			continue
		}
		if len(out) == 0 && !json.Valid(t) {
			// Not one JSON value per line: a single bundle spread over lines
			// (pretty printed), the first line included.
			rest, err := readAll(br, maxLine-int64(len(line)))
			if err != nil {
				if errors.Is(err, ErrTooLarge) {
					return nil, &FileError{Path: name, Err: fmt.Errorf("the bundle is over %d bytes: %w", maxLine, ErrTooLarge)}
				}
				return nil, &FileError{Path: name, Err: ctxOr(ctx, err)}
			}
			data := append(line, rest...)
			if looksLikeJSONL(data) {
				// Several values and the first line is broken: JSONL with
				// a bad line.
				_, err := NewBundle(name, t)
				return nil, &FileError{Path: name, Line: lineN, Err: err}
			}
			b, err := NewBundle(name, data)
			if err != nil {
				return nil, &FileError{Path: name, Err: err}
			}
			return []*Bundle{b}, nil
		}
		b, err := NewBundle(fmt.Sprintf("%s:%d", name, lineN), t)
		if err != nil {
			line := lineN
			if len(out) == 0 {
				// The only bundle of the file is named by the file alone.
				if rest, rerr := readAll(br, maxLine); rerr == nil && len(bytes.TrimSpace(rest)) == 0 {
					line = 0
				}
			}
			return nil, &FileError{Path: name, Line: line, Err: err}
		}
		out = append(out, b)
		if eof {
			break
		}
	}
	switch len(out) {
	case 0:
		return nil, &FileError{Path: name, Err: ErrEmpty}
	case 1:
		out[0].Origin = name // one bundle is named by its file, on one line or many
	}
	return out, nil
}

// notJSON peeks at the start of br (without consuming it) and reports
// whether its first byte after blanks can start no JSON value at all, with
// a few bytes from there for the message.
func notJSON(br *bufio.Reader) ([]byte, bool) {
	buf, _ := br.Peek(br.Size())
	t := bytes.TrimLeft(buf, " \t\r\n")
	if len(t) == 0 || bytes.IndexByte([]byte(`{["-0123456789tfn`), t[0]) >= 0 {
		return nil, false
	}
	return bytes.Clone(t[:min(len(t), 64)]), true
}

// ErrEmpty is the error for a bundle file with no bundle in it.
var ErrEmpty = errors.New("the file holds no bundle")

// looksLikeJSONL reports whether data, which is not valid JSON as a whole,
// holds several complete values one per line: then its first line is bad.
func looksLikeJSONL(data []byte) bool {
	if json.Valid(data) {
		return false
	}
	for _, l := range bytes.Split(data, []byte("\n"))[1:] {
		if t := bytes.TrimSpace(l); len(t) > 0 && json.Valid(t) && t[0] == '{' {
			return true
		}
	}
	return false
}

// readLine reads one line (with its newline) of at most limit bytes.
func readLine(br *bufio.Reader, limit int64) ([]byte, error) {
	var buf []byte
	for {
		frag, err := br.ReadSlice('\n')
		if int64(len(buf)+len(frag)) > limit {
			return nil, ErrTooLarge
		}
		buf = append(buf, frag...)
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		return buf, err
	}
}

func readAll(r io.Reader, limit int64) ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > limit {
		return nil, ErrTooLarge
	}
	return data, nil
}

// ReadDir reads the bundle files in dir: those named "sha256:HEX.jsonl" (gh
// attestation download) or "*.sigstore.json". Entries that are not regular
// files are refused (a FIFO there would block), not skipped: a *FileError
// wrapping ErrNotRegular. Files are read in name order.
func ReadDir(ctx context.Context, dir string) ([]*Bundle, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, &FileError{Path: dir, Err: unwrapPath(err, dir)}
	}
	names := make([]string, 0, len(entries))
	for _, e := range entries {
		if IsBundleFileName(e.Name()) {
			names = append(names, e.Name())
		}
	}
	sort.Strings(names)
	var out []*Bundle
	for _, n := range names {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		p := filepath.Join(dir, n)
		st, err := os.Stat(p)
		if err != nil {
			return nil, &FileError{Path: p, Err: unwrapPath(err, p)}
		}
		if !st.Mode().IsRegular() {
			return nil, &FileError{Path: p, Err: fmt.Errorf("%w (%s)", ErrNotRegular, st.Mode().Type())}
		}
		bs, err := ReadFile(ctx, p)
		if err != nil {
			return nil, err
		}
		out = append(out, bs...)
	}
	return out, nil
}

// IsBundleFileName reports whether a --bundle-dir entry named name is read:
// "sha256:HEX.jsonl" or "*.sigstore.json".
func IsBundleFileName(name string) bool {
	if strings.HasSuffix(name, ".sigstore.json") && len(name) > len(".sigstore.json") {
		return true
	}
	if hexPart, ok := strings.CutPrefix(name, "sha256:"); ok {
		if hexPart, ok = strings.CutSuffix(hexPart, ".jsonl"); ok {
			return isHex(hexPart, 64)
		}
	}
	return false
}

// DownloadFileName is gh's name for the bundles of digest d: "sha256:HEX.jsonl".
func DownloadFileName(d verify.Digest) string { return d.String() + ".jsonl" }

func isHex(s string, n int) bool {
	if len(s) != n {
		return false
	}
	for _, c := range s {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

func unwrapPath(err error, path string) error {
	var pe *fs.PathError
	if errors.As(err, &pe) && pe.Path == path {
		return pe.Err
	}
	return err
}

func ctxOr(ctx context.Context, err error) error {
	if errors.Is(err, os.ErrDeadlineExceeded) && ctx.Err() != nil {
		return ctx.Err()
	}
	return err
}
