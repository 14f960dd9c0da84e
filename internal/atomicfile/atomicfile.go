// Package atomicfile writes files so that readers see the old content or the
// new, never a part, and so that the new content survives a crash once Write
// returns: data goes to a temporary file in the same directory, created with
// the requested mode less the umask, which is synced, closed and renamed over
// the target; then the directory is synced, so the rename is durable too.
package atomicfile

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"syscall"
)

// The steps of a write that tests observe. Production code never changes
// them.
var (
	syncFile = (*os.File).Sync
	rename   = os.Rename
	syncDir  = syncDirectory
)

// ErrNotRegular: the path to write exists and is a directory, a device, a
// named pipe or a socket, which a write must not replace.
var ErrNotRegular = errors.New("not a regular file")

// CheckTarget returns an error wrapping ErrNotRegular if path exists and is
// neither a regular file nor a symbolic link: what Write would refuse to
// replace. A path that does not exist yet is fine.
func CheckTarget(path string) error {
	fi, err := os.Lstat(path)
	if err != nil {
		return nil // missing, or Write will say why it cannot create it
	}
	if t := fi.Mode().Type(); t != 0 && t != fs.ModeSymlink {
		what := "a " + t.String()
		switch {
		case fi.IsDir():
			what = "a directory"
		case t&fs.ModeNamedPipe != 0:
			what = "a named pipe"
		case t&fs.ModeDevice != 0:
			what = "a device"
		case t&fs.ModeSocket != 0:
			what = "a socket"
		}
		return fmt.Errorf("%w: %q is %s, which a write would replace", ErrNotRegular, path, what)
	}
	return nil
}

// Write replaces path with data atomically.
func Write(path string, data []byte, perm os.FileMode) error {
	return WriteFrom(path, perm, func(w io.Writer) error {
		_, err := w.Write(data)
		return err
	})
}

// WriteFrom replaces path with what fill writes, atomically. The file gets
// perm less the process umask, like any file the user's programs create (so
// 0o600 stays private, and 0o644 is 0o640 under umask 027). If fill or any
// step up to the rename fails, path is untouched and the temporary file is
// removed. An error syncing the directory after the rename is returned too:
// path then holds the new content, but a crash may still undo it.
//
// An existing path that is not a regular file (or a symbolic link, which
// is replaced, not followed) is left alone with ErrNotRegular: renaming
// over a device, a named pipe or a socket would destroy it.
func WriteFrom(path string, perm os.FileMode, fill func(io.Writer) error) (err error) {
	if err := CheckTarget(path); err != nil {
		return err
	}
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	f, err := createTemp(dir, base, perm)
	if err != nil {
		// Name the file asked for, not the temporary one.
		var pe *fs.PathError
		if errors.As(err, &pe) {
			return &fs.PathError{Op: "create", Path: path, Err: pe.Err}
		}
		return err
	}
	renamed := false
	defer func() {
		if err != nil && !renamed {
			_ = f.Close()
			_ = os.Remove(f.Name())
		}
	}()
	if err = fill(f); err != nil {
		return err
	}
	if err = syncFile(f); err != nil {
		return err
	}
	if err = f.Close(); err != nil {
		return err
	}
	if err = rename(f.Name(), path); err != nil {
		return fmt.Errorf("replacing %s: %w", path, err)
	}
	renamed = true
	if err = syncDir(dir); err != nil {
		return fmt.Errorf("syncing the directory of %s: %w", path, err)
	}
	return nil
}

// createTemp creates a new file next to the target, like os.CreateTemp, but
// with perm (less the umask) from the start instead of 0o600: the kernel
// applies the umask at creation, and nothing chmods it afterwards.
func createTemp(dir, base string, perm os.FileMode) (*os.File, error) {
	var err error
	for range 100 {
		name := filepath.Join(dir, "."+base+".tmp-"+strconv.FormatUint(uint64(rand.Uint32()), 10))
		var f *os.File
		f, err = os.OpenFile(name, os.O_RDWR|os.O_CREATE|os.O_EXCL, perm.Perm())
		if !errors.Is(err, fs.ErrExist) {
			return f, err
		}
	}
	return nil, err
}

// syncDirectory flushes dir's entries, so that a rename in it survives a
// crash. Windows cannot sync a directory handle (and makes renames durable
// itself); a file system that cannot sync directories says EINVAL, and then
// there is nothing more to do either.
func syncDirectory(dir string) error {
	if runtime.GOOS == "windows" {
		return nil
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if errors.Is(err, syscall.EINVAL) {
		err = nil
	}
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}
