package source_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hallmark-dev/hallmark/internal/sigtest"
	"github.com/hallmark-dev/hallmark/internal/source"
	"github.com/hallmark-dev/hallmark/pkg/verify"
)

// sharedDir is ../shared beside the checkout, or "" (and a skip) when it is
// absent.
func sharedDir(t testing.TB) string {
	dir := filepath.Join("..", "..", "..", "shared")
	if _, err := os.Stat(filepath.Join(dir, "fixtures")); err != nil {
		t.Skip("../shared not found: real-bundle cases skipped")
	}
	return dir
}

type kit struct {
	blob, blob2 []byte // artifacts
	msg, msg2   []byte // message-signature bundles of blob, blob2
	dsse        []byte // DSSE bundle whose subject is blob, predicate "https://example.com/p"
}

func newKit(t testing.TB) *kit {
	t.Helper()
	key, err := sigtest.GenerateKey(sigtest.KeyECDSAP256)
	if err != nil {
		t.Fatal(err)
	}
	k := &kit{blob: []byte("artifact one\n"), blob2: []byte("artifact two\n")}
	if k.msg, err = sigtest.SignBlobWithKey(key, k.blob); err != nil {
		t.Fatal(err)
	}
	if k.msg2, err = sigtest.SignBlobWithKey(key, k.blob2); err != nil {
		t.Fatal(err)
	}
	st, err := sigtest.Statement("one", k.blob, "https://example.com/p", nil)
	if err != nil {
		t.Fatal(err)
	}
	if k.dsse, err = sigtest.SignStatementWithKey(key, st); err != nil {
		t.Fatal(err)
	}
	return k
}

func digestOf(b []byte) verify.Digest {
	s := sha256.Sum256(b)
	return verify.Digest{Algorithm: "sha256", Value: hex.EncodeToString(s[:])}
}

func compact(t testing.TB, b []byte) []byte {
	t.Helper()
	var out bytes.Buffer
	if err := jsonCompact(&out, b); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

func write(t testing.TB, dir, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestReadFile(t *testing.T) {
	k := newKit(t)
	dir := t.TempDir()
	msg, dsse, msg2 := compact(t, k.msg), compact(t, k.dsse), compact(t, k.msg2)
	jsonl := bytes.Join([][]byte{msg, dsse, {}, msg2}, []byte("\n"))
	cases := []struct {
		name    string
		data    []byte
		origins []string // "" = the file itself
		line    int      // expected FileError.Line, -1 for success
		wantErr error
	}{
		{"pretty single", k.msg, []string{""}, -1, nil},
		{"compact single", msg, []string{""}, -1, nil},
		{"one line with newline", append(append([]byte{}, dsse...), '\n'), []string{""}, -1, nil},
		{"jsonl with blank line", jsonl, []string{":1", ":2", ":4"}, -1, nil},
		{"jsonl crlf and trailing blank", []byte(string(msg) + "\r\n" + string(msg2) + "\r\n\r\n"), []string{":1", ":2"}, -1, nil},
		{"bad line 3", []byte(string(msg) + "\n" + string(dsse) + "\n{\"mediaType\": 1}\n"), nil, 3, nil},
		{"broken first line", []byte("{not json\n" + string(msg) + "\n"), nil, 1, nil},
		{"garbage line 2", []byte(string(msg) + "\nhello\n"), nil, 2, nil},
		{"one bad line is the file", []byte("\n{}\n\n"), nil, 0, nil},
		{"bad first of two lines", []byte("{}\n" + string(msg) + "\n"), nil, 1, nil},
		{"empty", nil, nil, 0, source.ErrEmpty},
		{"blank only", []byte("\n \n\n"), nil, 0, source.ErrEmpty},
		{"broken pretty single", k.msg[:len(k.msg)-3], nil, 0, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := write(t, dir, strings.ReplaceAll(c.name, " ", "_"), c.data)
			bs, err := source.ReadFile(context.Background(), p)
			if c.line >= 0 || c.wantErr != nil {
				var fe *source.FileError
				if !errors.As(err, &fe) {
					t.Fatalf("err = %v, want a *FileError", err)
				}
				if fe.Line != max(c.line, 0) || fe.Path != p {
					t.Errorf("FileError at %s line %d, want %s line %d (%v)", fe.Path, fe.Line, p, c.line, err)
				}
				if c.wantErr != nil && !errors.Is(err, c.wantErr) {
					t.Errorf("err = %v, want %v", err, c.wantErr)
				}
				if c.wantErr == nil && !verify.IsRejected(err) {
					t.Errorf("err = %v, want a malformed-bundle rejection", err)
				}
				if c.line > 0 && !strings.Contains(err.Error(), "line ") {
					t.Errorf("message %q names no line", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(bs) != len(c.origins) {
				t.Fatalf("%d bundles, want %d", len(bs), len(c.origins))
			}
			for i, b := range bs {
				if want := p + c.origins[i]; b.Origin != want {
					t.Errorf("bundle %d origin %q, want %q", i, b.Origin, want)
				}
			}
		})
	}
}

func TestCoverage(t *testing.T) {
	k := newKit(t)
	for _, c := range []struct {
		name  string
		data  []byte
		pt    string
		cover []byte
	}{
		{"message signature", k.msg, "", k.blob},
		{"dsse", k.dsse, "https://example.com/p", k.blob},
	} {
		b, err := source.NewBundle("x", c.data)
		if err != nil {
			t.Fatal(err)
		}
		if b.Coverage.PredicateType != c.pt {
			t.Errorf("%s: predicate type %q, want %q", c.name, b.Coverage.PredicateType, c.pt)
		}
		if !b.Coverage.Covers(digestOf(c.cover)) || b.Coverage.Covers(digestOf(k.blob2)) {
			t.Errorf("%s: coverage %v, want exactly %v", c.name, b.Coverage.Digests, digestOf(c.cover))
		}
	}
}

func TestIndex(t *testing.T) {
	k := newKit(t)
	var bs []*source.Bundle
	for i, d := range [][]byte{k.msg, k.dsse, k.msg2} {
		b, err := source.NewBundle(string(rune('a'+i)), d)
		if err != nil {
			t.Fatal(err)
		}
		bs = append(bs, b)
	}
	ix := source.NewIndex(bs...)
	if ix.Len() != 3 {
		t.Errorf("Len = %d, want 3", ix.Len())
	}
	got := ix.Lookup(digestOf(k.blob))
	if len(got) != 2 || got[0].Origin != "a" || got[1].Origin != "b" {
		t.Errorf("Lookup(blob) = %v, want bundles a, b", got)
	}
	up := digestOf(k.blob2)
	up.Value = strings.ToUpper(up.Value)
	if got := ix.Lookup(up); len(got) != 1 || got[0].Origin != "c" {
		t.Errorf("Lookup(upper-case blob2) = %v, want bundle c", got)
	}
	if got := ix.Lookup(digestOf([]byte("nothing"))); len(got) != 0 {
		t.Errorf("Lookup(unknown) = %v, want none", got)
	}
}

func TestReadDir(t *testing.T) {
	k := newKit(t)
	dir := t.TempDir()
	d1 := digestOf(k.blob)
	write(t, dir, source.DownloadFileName(d1), append(compact(t, k.msg), append([]byte("\n"), append(compact(t, k.dsse), '\n')...)...))
	write(t, dir, "two.sigstore.json", k.msg2)
	write(t, dir, "README.md", []byte("not a bundle"))
	write(t, dir, "sha256:short.jsonl", []byte("not a bundle"))
	bs, err := source.ReadDir(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(bs) != 3 {
		t.Fatalf("%d bundles, want 3", len(bs))
	}
	ix := source.NewIndex(bs...)
	if len(ix.Lookup(d1)) != 2 || len(ix.Lookup(digestOf(k.blob2))) != 1 {
		t.Errorf("index by digest wrong: %d and %d bundles", len(ix.Lookup(d1)), len(ix.Lookup(digestOf(k.blob2))))
	}

	t.Run("fifo refused", func(t *testing.T) {
		fifo := filepath.Join(dir, "z.sigstore.json")
		if err := syscall.Mkfifo(fifo, 0o600); err != nil {
			t.Skip("no FIFOs here:", err)
		}
		defer os.Remove(fifo)
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_, err := source.ReadDir(ctx, dir)
		if !errors.Is(err, source.ErrNotRegular) {
			t.Errorf("err = %v, want ErrNotRegular", err)
		}
	})
	t.Run("missing dir", func(t *testing.T) {
		_, err := source.ReadDir(context.Background(), filepath.Join(dir, "nope"))
		if !errors.Is(err, os.ErrNotExist) {
			t.Errorf("err = %v, want ErrNotExist", err)
		}
	})
}

func TestReadFileFIFOCancelled(t *testing.T) {
	fifo := filepath.Join(t.TempDir(), "b.jsonl")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Skip("no FIFOs here:", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_, err := source.ReadFile(ctx, fifo)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("err = %v, want the deadline", err)
	}
}

func TestReadTooLarge(t *testing.T) {
	k := newKit(t)
	msg := compact(t, k.msg)
	defer source.SetLimits(int64(len(msg))+1, 3*int64(len(msg)))()
	for _, c := range []struct {
		name string
		r    *repeatReader
		line int
	}{
		{"long first line", &repeatReader{b: '{', n: 1 << 40}, 1},
		{"long third line", &repeatReader{prefix: []byte(string(msg) + "\n\n"), b: '{', n: 1 << 40}, 3},
		{"long pretty bundle", &repeatReader{prefix: []byte("{\n"), b: ' ', n: 1 << 40}, 0},
		{"file over its cap", &repeatReader{prefix: bytes.Repeat(append(msg, '\n'), 10)}, 0},
	} {
		_, err := source.Read(context.Background(), "big", c.r)
		var fe *source.FileError
		if !errors.As(err, &fe) || !errors.Is(err, source.ErrTooLarge) {
			t.Errorf("%s: err = %v, want a FileError wrapping ErrTooLarge", c.name, err)
			continue
		}
		if fe.Line != c.line {
			t.Errorf("%s: line %d, want %d", c.name, fe.Line, c.line)
		}
	}
}

// TestReadNotJSONAtOnce: a stream whose first byte can start no JSON
// value (/dev/zero, a binary file without newlines) is refused as a
// malformed bundle after one buffer, not read up to the line limit.
func TestReadNotJSONAtOnce(t *testing.T) {
	for _, c := range []struct {
		name string
		r    *repeatReader
	}{
		{"zeros", &repeatReader{b: 0, n: 1 << 40}},
		{"blank lines then binary", &repeatReader{prefix: []byte("\n\n  \n"), b: 0xd1, n: 1 << 40}},
		{"text", &repeatReader{b: 'x', n: 1 << 40}},
	} {
		before := c.r.n
		_, err := source.Read(context.Background(), "zero", c.r)
		var fe *source.FileError
		if !errors.As(err, &fe) || !verify.IsRejected(err) || !strings.Contains(err.Error(), "malformed bundle: not valid JSON") {
			t.Errorf("%s: err = %v, want a FileError of a malformed bundle", c.name, err)
		}
		if read := before - c.r.n; read > 1<<20 {
			t.Errorf("%s: read %d bytes before refusing it", c.name, read)
		}
	}
}

// repeatReader yields prefix then n copies of b.
type repeatReader struct {
	prefix []byte
	b      byte
	n      int64
}

func (r *repeatReader) Read(p []byte) (int, error) {
	if len(r.prefix) > 0 {
		n := copy(p, r.prefix)
		r.prefix = r.prefix[n:]
		return n, nil
	}
	if r.n <= 0 {
		return 0, io.EOF
	}
	n := int64(len(p))
	if n > r.n {
		n = r.n
	}
	for i := range p[:n] {
		p[i] = r.b
	}
	r.n -= n
	return int(n), nil
}

func TestRealGitHubJSONL(t *testing.T) {
	shared := sharedDir(t)
	p := filepath.Join(shared, "fixtures", "ecosystems", "github", "cli-cli-v2.96.0-checksums.jsonl")
	bs, err := source.ReadFile(context.Background(), p)
	if err != nil {
		t.Fatal(err)
	}
	if len(bs) != 1 || bs[0].Coverage.PredicateType != "https://in-toto.io/attestation/release/v0.2" {
		t.Fatalf("got %d bundles, want 1 release v0.2 bundle", len(bs))
	}
	ix := source.NewIndex(bs...)
	for _, h := range []string{"fc046371efa250e2875208341a786a35a01717d5eebec6903e199a9b8a3f3565", "83d5c2ccad5498f58bf6368acb1ab32588cf43ab3a4b1c301bf36328b1c8bd60"} {
		if len(ix.Lookup(verify.Digest{Algorithm: "sha256", Value: h})) != 1 {
			t.Errorf("sha256:%s is not found, though it is a subject", h)
		}
	}
}
