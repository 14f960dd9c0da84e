//go:build unix

package extract

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"syscall"
	"testing"
)

// Issue 8 item 2: a named pipe or a device given as a lockfile is refused
// before it is read; the scan never blocks on it.
func TestSpecialFilesAreRefused(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "requirements.txt", "six==1.16.0\n")
	fifo := filepath.Join(dir, "app", "package-lock.json")
	if err := os.MkdirAll(filepath.Dir(fifo), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Skip("mkfifo:", err)
	}
	for _, arg := range []string{dir, fifo} {
		res, err := Extract(context.Background(), []string{arg}, Options{})
		if err != nil {
			t.Fatal(err)
		}
		want := FileFailure{Path: filepath.ToSlash(fifo), Reason: "not a regular file (a named pipe), not read"}
		if !slices.Contains(res.Failures, want) || len(res.Failures) != 1 {
			t.Errorf("Extract(%s): Failures = %+v, want %+v", arg, res.Failures, want)
		}
	}
	// A device: /dev/zero named explicitly is no lockfile; linked under a
	// lockfile's name it leads outside the project.
	if _, err := os.Stat("/dev/zero"); err == nil {
		if _, err := Extract(context.Background(), []string{"/dev/zero"}, Options{}); !errors.Is(err, ErrUnknownFormat) {
			t.Errorf("/dev/zero: err = %v, want ErrUnknownFormat", err)
		}
		link := filepath.Join(dir, "zero", "requirements.txt")
		if err := os.MkdirAll(filepath.Dir(link), 0o755); err != nil {
			t.Fatal(err)
		}
		symlink(t, "/dev/zero", link)
		res, err := Extract(context.Background(), []string{link}, Options{})
		if err != nil || len(res.Failures) != 1 || res.Failures[0].Path != filepath.ToSlash(link) {
			t.Errorf("link to /dev/zero: %+v, %v", res, err)
		}
	}
}

// A .gitignore that is a named pipe is not read (it would block the walk).
func TestGitignorePipeDoesNotBlock(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "requirements.txt", "six==1.16.0\n")
	if err := syscall.Mkfifo(filepath.Join(dir, ".gitignore"), 0o644); err != nil {
		t.Skip("mkfifo:", err)
	}
	res, err := Extract(context.Background(), []string{dir}, Options{})
	if err != nil || len(res.Packages) != 1 || !hasWarning(res, ".gitignore", "named pipe") {
		t.Errorf("%+v, %v", res, err)
	}
}

func TestReadFilePipe(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "osv-scanner.toml")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Skip("mkfifo:", err)
	}
	if _, err := ReadFile(context.Background(), fifo, 0); !errors.Is(err, ErrNotRegular) {
		t.Errorf("ReadFile(fifo) = %v, want ErrNotRegular", err)
	}
}
