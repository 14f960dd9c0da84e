//go:build unix

package atomicfile_test

import (
	"io/fs"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/hallmark-dev/hallmark/internal/atomicfile"
)

// processUmask is the umask the tests started with.
var processUmask = func() fs.FileMode {
	m := syscall.Umask(0)
	syscall.Umask(m)
	return fs.FileMode(m)
}()

// created is the mode a new file asked to have perm gets.
func created(perm fs.FileMode) fs.FileMode { return perm &^ processUmask }

// setUmask sets the process umask until the test ends. The umask is
// process-wide: tests that call it must not run in parallel.
func setUmask(t *testing.T, mask int) {
	t.Helper()
	old := syscall.Umask(mask)
	t.Cleanup(func() { syscall.Umask(old) })
}

// Files get the mode asked for less the umask, as any program's files do:
// a bundle or public key (0644) is not world-readable under umask 027, and
// a private key (0600) stays 0600 under the usual masks.
func TestWriteHonoursUmask(t *testing.T) {
	tests := []struct {
		umask int
		perm  fs.FileMode
		want  fs.FileMode
	}{
		{umask: 0o022, perm: 0o644, want: 0o644},
		{umask: 0o027, perm: 0o644, want: 0o640},
		{umask: 0o077, perm: 0o644, want: 0o600},
		{umask: 0o027, perm: 0o666, want: 0o640},
		{umask: 0o000, perm: 0o666, want: 0o666},
		{umask: 0o022, perm: 0o600, want: 0o600},
		{umask: 0o000, perm: 0o600, want: 0o600},
		{umask: 0o077, perm: 0o600, want: 0o600},
		{umask: 0o022, perm: 0o444, want: 0o444},
	}
	for _, tt := range tests {
		for _, replace := range []bool{false, true} {
			dir := t.TempDir()
			path := filepath.Join(dir, "out")
			if replace {
				// An old file's mode does not carry over.
				if err := atomicfile.Write(path, []byte("old"), 0o777); err != nil {
					t.Fatal(err)
				}
			}
			setUmask(t, tt.umask)
			if err := atomicfile.Write(path, []byte("new"), tt.perm); err != nil {
				t.Fatalf("umask %03o, perm %v: Write: %v", tt.umask, tt.perm, err)
			}
			assertFile(t, path, []byte("new"), tt.want)
			assertOnly(t, dir, "out")
		}
	}
}
