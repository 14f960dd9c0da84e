//go:build unix

package ctxio

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

func TestOpenRegular(t *testing.T) {
	dir := t.TempDir()
	file, fifo := filepath.Join(dir, "a.txt"), filepath.Join(dir, "pipe")
	if err := os.WriteFile(file, []byte("a"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	link := filepath.Join(dir, "link")
	if err := os.Symlink(file, link); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		path, want string // want: "" to open, else the kind in the error
	}{
		{file, ""},
		{link, ""}, // links are followed
		{fifo, "a named pipe"},
		{dir, "a directory"},
		{os.DevNull, "a device"},
	} {
		f, err := OpenRegular(tt.path) // a FIFO nobody writes must not block
		switch {
		case tt.want == "" && err != nil:
			t.Errorf("OpenRegular(%s) = %v", tt.path, err)
		case tt.want != "" && (!errors.Is(err, ErrNotRegular) || !strings.HasSuffix(err.Error(), " is "+tt.want)):
			t.Errorf("OpenRegular(%s) = %v, want ErrNotRegular: ... is %s", tt.path, err, tt.want)
		}
		if f != nil {
			f.Close()
		}
	}
}
