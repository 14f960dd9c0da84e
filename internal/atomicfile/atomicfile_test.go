package atomicfile_test

import (
	"bytes"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/hallmark-dev/hallmark/internal/atomicfile"
)

// assertOnly fails unless dir holds exactly the named entries: in
// particular no ".NAME.tmp-*" file left behind.
func assertOnly(t *testing.T, dir string, names ...string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range entries {
		got = append(got, e.Name())
	}
	if strings.Join(got, "\n") != strings.Join(names, "\n") {
		t.Errorf("directory holds %q, want %q", got, names)
	}
}

func assertFile(t *testing.T, path string, want []byte, perm fs.FileMode) {
	t.Helper()
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("reading %s: %v", path, err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s = %q, want %q", filepath.Base(path), got, want)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode() != perm {
		t.Errorf("%s mode = %v, want %v", filepath.Base(path), fi.Mode(), perm)
	}
}

func TestWrite(t *testing.T) {
	tests := []struct {
		name    string
		old     []byte // existing content, nil for none
		oldPerm fs.FileMode
		data    []byte
		perm    fs.FileMode
	}{
		{name: "new file 0644", data: []byte(`{"a":1}`), perm: 0o644},
		// The mode is perm less the umask (see atomicfile_unix_test.go).
		{name: "new file 0600", data: []byte("secret"), perm: 0o600},
		{name: "new file 0666", data: []byte("open"), perm: 0o666},
		{name: "new empty file", data: []byte{}, perm: 0o644},
		{name: "replace longer with shorter", old: []byte("a much longer old content"), oldPerm: 0o644, data: []byte("new"), perm: 0o644},
		{name: "replace and change mode", old: []byte("old"), oldPerm: 0o600, data: []byte("new, readable"), perm: 0o644},
		{name: "replace read-only file", old: []byte("old"), oldPerm: 0o444, data: []byte("new"), perm: 0o444},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "out.json")
			if tt.old != nil {
				if err := os.WriteFile(path, tt.old, tt.oldPerm); err != nil {
					t.Fatal(err)
				}
				if err := os.Chmod(path, tt.oldPerm); err != nil {
					t.Fatal(err)
				}
			}
			if err := atomicfile.Write(path, tt.data, tt.perm); err != nil {
				t.Fatalf("Write: %v", err)
			}
			assertFile(t, path, tt.data, created(tt.perm))
			assertOnly(t, dir, "out.json")
		})
	}
}

func TestWriteFromFillsInPieces(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "out.txt")
	err := atomicfile.WriteFrom(path, 0o640, func(w io.Writer) error {
		for _, s := range []string{"one ", "two ", "three"} {
			if _, err := io.WriteString(w, s); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatalf("WriteFrom: %v", err)
	}
	assertFile(t, path, []byte("one two three"), created(0o640))
	assertOnly(t, dir, "out.txt")
}

func TestWriteRelativePath(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	if err := atomicfile.Write("rel.txt", []byte("here"), 0o644); err != nil {
		t.Fatalf("Write: %v", err)
	}
	assertFile(t, filepath.Join(dir, "rel.txt"), []byte("here"), created(0o644))
	assertOnly(t, dir, "rel.txt")
}

func TestWriteFromFailureLeavesOldFile(t *testing.T) {
	errFill := errors.New("fill failed")
	old := []byte("old content\x00\xff with binary bytes\n")

	tests := []struct {
		name   string
		exists bool
		fill   func(io.Writer) error
	}{
		{name: "fails before writing", exists: true, fill: func(io.Writer) error { return errFill }},
		{
			name:   "fails after a partial write",
			exists: true,
			fill: func(w io.Writer) error {
				if _, err := w.Write([]byte("partial new cont")); err != nil {
					return err
				}
				return errFill
			},
		},
		{
			name: "fails with no old file",
			fill: func(w io.Writer) error {
				_, _ = w.Write([]byte("partial"))
				return errFill
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "state.json")
			if tt.exists {
				if err := os.WriteFile(path, old, 0o600); err != nil {
					t.Fatal(err)
				}
			}
			err := atomicfile.WriteFrom(path, 0o644, tt.fill)
			if !errors.Is(err, errFill) {
				t.Fatalf("WriteFrom err = %v, want %v", err, errFill)
			}
			if tt.exists {
				assertFile(t, path, old, created(0o600))
				assertOnly(t, dir, "state.json")
			} else {
				if _, err := os.Stat(path); !errors.Is(err, fs.ErrNotExist) {
					t.Errorf("a failed write created the file (stat: %v)", err)
				}
				assertOnly(t, dir)
			}
		})
	}
}

func TestWriteErrors(t *testing.T) {
	t.Run("missing directory", func(t *testing.T) {
		dir := t.TempDir()
		path := filepath.Join(dir, "no", "such", "dir", "out.json")
		err := atomicfile.Write(path, []byte("x"), 0o644)
		if !errors.Is(err, fs.ErrNotExist) {
			t.Fatalf("err = %v, want fs.ErrNotExist", err)
		}
		assertOnly(t, dir)
	})

	t.Run("target is a directory", func(t *testing.T) {
		dir := t.TempDir()
		target := filepath.Join(dir, "taken")
		if err := os.Mkdir(target, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := atomicfile.Write(target, []byte("x"), 0o644); !errors.Is(err, atomicfile.ErrNotRegular) {
			t.Fatalf("err = %v, want ErrNotRegular", err)
		}
		assertOnly(t, dir, "taken")
	})

	t.Run("target becomes a directory before the rename", func(t *testing.T) {
		dir := t.TempDir()
		target := filepath.Join(dir, "taken")
		atomicfile.Trace(t, func(step string) {
			if strings.HasPrefix(step, "rename ") {
				if err := os.Mkdir(target, 0o755); err != nil {
					t.Error(err)
				}
			}
		})
		err := atomicfile.Write(target, []byte("x"), 0o644)
		var linkErr *os.LinkError
		if !errors.As(err, &linkErr) {
			t.Fatalf("err = %v (%T), want an *os.LinkError from the rename", err, err)
		}
		if fi, err := os.Stat(target); err != nil || !fi.IsDir() {
			t.Errorf("the directory was replaced (stat: %v)", err)
		}
		// The temporary file is removed.
		assertOnly(t, dir, "taken")
	})
}

// Readers racing a sequence of writes see one complete version or
// another, never a mix or a truncated file.
func TestWriteConcurrentReaders(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "big.bin")
	versions := [][]byte{
		bytes.Repeat([]byte("A"), 256<<10),
		bytes.Repeat([]byte("B"), 128<<10),
	}
	if err := atomicfile.Write(path, versions[0], 0o644); err != nil {
		t.Fatal(err)
	}

	const writes = 50
	done := make(chan struct{})
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-done:
					return
				default:
				}
				got, err := os.ReadFile(path)
				if err != nil {
					errs <- err
					return
				}
				if !bytes.Equal(got, versions[0]) && !bytes.Equal(got, versions[1]) {
					errs <- errors.New("a reader saw a partial file")
					return
				}
			}
		}()
	}
	for i := range writes {
		if err := atomicfile.Write(path, versions[i%2], 0o644); err != nil {
			t.Errorf("Write %d: %v", i, err)
			break
		}
	}
	close(done)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	assertFile(t, path, versions[(writes-1)%2], created(0o644))
	assertOnly(t, dir, "big.bin")
}

// A write is durable: the data is synced before the rename makes it
// visible, and the directory is synced after the rename, which is what
// makes the rename itself survive a crash.
func TestWriteSyncsFileThenDirectory(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "out.json")
	var steps []string
	atomicfile.Trace(t, func(step string) { steps = append(steps, step) })
	err := atomicfile.WriteFrom(path, 0o644, func(w io.Writer) error {
		steps = append(steps, "write")
		_, err := w.Write([]byte("data"))
		return err
	})
	if err != nil {
		t.Fatalf("WriteFrom: %v", err)
	}
	if len(steps) != 4 {
		t.Fatalf("steps = %q, want write, fsync file, rename, fsync dir", steps)
	}
	tmp := strings.TrimPrefix(steps[1], "fsync file ")
	if !strings.HasPrefix(tmp, ".out.json.tmp-") {
		t.Errorf("synced file %q, want the temporary .out.json.tmp-*", tmp)
	}
	want := []string{"write", "fsync file " + tmp, "rename " + tmp + " out.json", "fsync dir " + dir}
	if strings.Join(steps, "\n") != strings.Join(want, "\n") {
		t.Errorf("steps = %q, want %q", steps, want)
	}
	assertFile(t, path, []byte("data"), created(0o644))
	assertOnly(t, dir, "out.json")

	// A relative path syncs the current directory.
	steps = nil
	t.Chdir(dir)
	if err := atomicfile.Write("rel", []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	if last := steps[len(steps)-1]; last != "fsync dir ." {
		t.Errorf("last step %q, want %q", last, "fsync dir .")
	}
}

// A failed directory sync is reported: the write may not survive a crash.
func TestWriteReportsDirectorySyncFailure(t *testing.T) {
	errSync := errors.New("sync failed")
	atomicfile.FailSyncDir(t, errSync)
	dir := t.TempDir()
	path := filepath.Join(dir, "out.json")
	err := atomicfile.Write(path, []byte("new"), 0o644)
	if !errors.Is(err, errSync) {
		t.Fatalf("err = %v, want %v", err, errSync)
	}
	if !strings.Contains(err.Error(), path) {
		t.Errorf("error %q does not name %s", err, path)
	}
	// The rename happened: the new content is there, and no temporary file.
	assertFile(t, path, []byte("new"), created(0o644))
	assertOnly(t, dir, "out.json")
}
