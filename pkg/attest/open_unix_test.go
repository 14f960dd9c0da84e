//go:build unix

package attest

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// TestOpenRegular: only regular files (through symbolic links) are opened;
// a named pipe nobody writes is refused at once, never waited on.
func TestOpenRegular(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "app.tgz")
	if err := os.WriteFile(file, []byte("app"), 0o644); err != nil {
		t.Fatal(err)
	}
	pipe := filepath.Join(dir, "pipe")
	if err := mkfifo(pipe, 0o600); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	link := filepath.Join(dir, "link")
	if err := os.Symlink(file, link); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		path string
		want error
	}{
		{file, nil},
		{link, nil},
		{dir, ErrNotRegularFile},
		{pipe, ErrNotRegularFile},
		{os.DevNull, ErrNotRegularFile},
		{filepath.Join(dir, "missing"), os.ErrNotExist},
	} {
		f, err := OpenRegular(tc.path)
		if f != nil {
			f.Close()
		}
		if tc.want == nil && err != nil || tc.want != nil && !errors.Is(err, tc.want) {
			t.Errorf("OpenRegular(%q) = %v, want %v", tc.path, err, tc.want)
		}
		if tc.want == nil {
			continue
		}
		if _, err := HashFile(context.Background(), tc.path, ""); !errors.Is(err, tc.want) {
			t.Errorf("HashFile(%q) = %v, want %v", tc.path, err, tc.want)
		}
	}
}
