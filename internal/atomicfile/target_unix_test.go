//go:build unix

package atomicfile_test

import (
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/hallmark-dev/hallmark/internal/atomicfile"
)

// TestWriteRefusesNonRegular: a directory or a named pipe at the path is
// left as it is (renaming over it would replace it, and as root over a
// device too), with ErrNotRegular and no temporary file left.
func TestWriteRefusesNonRegular(t *testing.T) {
	dir := t.TempDir()
	pipe := filepath.Join(dir, "pipe")
	if err := syscall.Mkfifo(pipe, 0o600); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	sub := filepath.Join(dir, "sub")
	if err := os.Mkdir(sub, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{pipe, sub} {
		if err := atomicfile.Write(p, []byte("x"), 0o644); !errors.Is(err, atomicfile.ErrNotRegular) {
			t.Errorf("Write(%q) = %v, want ErrNotRegular", p, err)
		}
	}
	if fi, err := os.Lstat(pipe); err != nil || fi.Mode().Type() != os.ModeNamedPipe {
		t.Errorf("the pipe was replaced: %v %v", fi, err)
	}
	assertOnly(t, dir, "pipe", "sub")
	// A regular file and a symbolic link are still replaced.
	file := filepath.Join(dir, "file")
	if err := atomicfile.Write(file, []byte("a"), 0o644); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "link")
	if err := os.Symlink(file, link); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{file, link} {
		if err := atomicfile.Write(p, []byte("b"), 0o644); err != nil {
			t.Errorf("Write(%q) = %v", p, err)
		}
	}
}
