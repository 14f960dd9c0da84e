package atomicfile

import (
	"os"
	"path/filepath"
	"testing"
)

// Trace replaces the sync and rename steps with ones that call record
// ("fsync file NAME", "rename OLD NEW", "fsync dir DIR", with base names)
// before doing the real thing, until the test ends.
func Trace(t *testing.T, record func(step string)) {
	oldSyncFile, oldRename, oldSyncDir := syncFile, rename, syncDir
	t.Cleanup(func() { syncFile, rename, syncDir = oldSyncFile, oldRename, oldSyncDir })
	syncFile = func(f *os.File) error {
		record("fsync file " + filepath.Base(f.Name()))
		return oldSyncFile(f)
	}
	rename = func(from, to string) error {
		record("rename " + filepath.Base(from) + " " + filepath.Base(to))
		return oldRename(from, to)
	}
	syncDir = func(dir string) error {
		record("fsync dir " + filepath.Clean(dir))
		return oldSyncDir(dir)
	}
}

// FailSyncDir makes the directory sync fail with err until the test ends.
func FailSyncDir(t *testing.T, err error) {
	old := syncDir
	t.Cleanup(func() { syncDir = old })
	syncDir = func(string) error { return err }
}
