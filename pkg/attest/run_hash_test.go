package attest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

// setHashHook runs hook for the file at path while it is being hashed
// (after its first stat, before it is read), in another goroutine, and
// waits for it.
func setHashHook(t *testing.T, path string, hook func(t *testing.T, p string)) {
	t.Helper()
	hashHook = func(p string) {
		if p != path {
			return
		}
		done := make(chan struct{})
		go func() {
			defer close(done)
			hook(t, p)
		}()
		<-done
	}
	t.Cleanup(func() { hashHook = nil })
}

// A file written to while it is hashed fails the step, naming it: it is
// never recorded with a digest of no version of it.
func TestHashDetectsChange(t *testing.T) {
	for _, tc := range []struct {
		name   string
		change func(t *testing.T, p string)
	}{
		{"appended", func(t *testing.T, p string) {
			f, err := os.OpenFile(p, os.O_WRONLY|os.O_APPEND, 0)
			if err != nil {
				t.Error(err)
				return
			}
			defer f.Close()
			if _, err := f.WriteString("more"); err != nil {
				t.Error(err)
			}
		}},
		{"rewritten in place, same size", func(t *testing.T, p string) {
			time.Sleep(2 * time.Millisecond) // past the file system's time resolution, where it is fine
			f, err := os.OpenFile(p, os.O_WRONLY, 0)
			if err != nil {
				t.Error(err)
				return
			}
			defer f.Close()
			if _, err := f.WriteAt([]byte("XXXX"), 0); err != nil {
				t.Error(err)
			}
		}},
		{"truncated", func(t *testing.T, p string) {
			if err := os.Truncate(p, 1); err != nil {
				t.Error(err)
			}
		}},
		{"replaced", func(t *testing.T, p string) {
			tmp := p + ".new"
			if err := os.WriteFile(tmp, []byte("other content"), 0o644); err != nil {
				t.Error(err)
				return
			}
			if err := os.Rename(tmp, p); err != nil {
				t.Error(err)
			}
		}},
		{"removed", func(t *testing.T, p string) {
			if err := os.Remove(p); err != nil {
				t.Error(err)
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			files := map[string]string{}
			for i := range 20 {
				files[fmt.Sprintf("f%02d.txt", i)] = strings.Repeat("content ", 1000)
			}
			root := runnerTree(t, files)
			target := filepath.Join(root, "f07.txt")
			before, _ := os.Stat(target)
			setHashHook(t, target, tc.change)
			collected, err := collectGlobs(root, []string{"*.txt"}, true)
			if err != nil {
				t.Fatal(err)
			}
			_, err = hashFiles(context.Background(), collected)
			if tc.name == "rewritten in place, same size" && err == nil {
				if after, _ := os.Stat(target); after != nil && after.ModTime().Equal(before.ModTime()) {
					t.Skip("this file system's timestamps did not move: a same-size write cannot be seen here")
				}
			}
			if !errors.Is(err, ErrFileChanged) || !strings.Contains(err.Error(), `"f07.txt"`) {
				t.Errorf("hashFiles = %v, want ErrFileChanged naming f07.txt", err)
			}
			if err != nil && strings.Contains(err.Error(), "f08.txt") {
				t.Errorf("the error names files that did not change: %v", err)
			}
		})
	}
}

// RunStep fails, naming the file, when a material changes as it is hashed.
func TestRunStepMaterialChanges(t *testing.T) {
	root := runnerTree(t, map[string]string{"in.txt": "in"})
	setHashHook(t, filepath.Join(root, "in.txt"), func(t *testing.T, p string) {
		if err := os.WriteFile(p, []byte("changed!"), 0o644); err != nil {
			t.Error(err)
		}
	})
	res, err := RunStep(context.Background(), StepOptions{
		Name: "x", Materials: []string{"in.txt"}, Command: []string{"true"}, Dir: root,
		Env: []string{"PATH=" + os.Getenv("PATH")},
	})
	if !errors.Is(err, ErrFileChanged) || res != nil || !strings.Contains(err.Error(), `"in.txt"`) {
		t.Errorf("RunStep = %v, %v; want ErrFileChanged naming in.txt", res, err)
	}
}

// Every file that cannot be read is reported, each by name; none is
// skipped.
func TestHashUnreadable(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Skip("root reads files whatever their mode")
	}
	root := runnerTree(t, map[string]string{"a.txt": "a", "b.txt": "b", "c.txt": "c"})
	for _, n := range []string{"a.txt", "c.txt"} {
		if err := os.Chmod(filepath.Join(root, n), 0); err != nil {
			t.Fatal(err)
		}
	}
	collected, err := collectGlobs(root, []string{"*.txt"}, true)
	if err != nil {
		t.Fatal(err)
	}
	_, err = hashFiles(context.Background(), collected)
	if !errors.Is(err, os.ErrPermission) || !strings.Contains(err.Error(), `"a.txt"`) || !strings.Contains(err.Error(), `"c.txt"`) {
		t.Errorf("hashFiles = %v, want both unreadable files named", err)
	}
}

// An unreadable directory under a glob is reported, not skipped.
func TestCollectUnreadableDir(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Skip("root reads directories whatever their mode")
	}
	root := runnerTree(t, map[string]string{"src/locked/a.go": "a", "src/b.go": "b"})
	locked := filepath.Join(root, "src", "locked")
	if err := os.Chmod(locked, 0); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Chmod(locked, 0o755) })
	if _, err := collectGlobs(root, []string{"src/**/*.go"}, true); !errors.Is(err, os.ErrPermission) || !strings.Contains(err.Error(), `"src/locked"`) {
		t.Errorf("collectGlobs = %v, want the locked directory named", err)
	}
}

func TestHashFilesDigests(t *testing.T) {
	root := runnerTree(t, map[string]string{"a": "alpha", "b": "", "c/d": "delta"})
	collected, err := collectGlobs(root, []string{"."}, true)
	if err != nil {
		t.Fatal(err)
	}
	rds, err := hashFiles(context.Background(), collected)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"a": sha256Hex("alpha"), "b": sha256Hex(""), "c/d": sha256Hex("delta")}
	if got := descriptors(rds); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("digests %v, want %v", got, want)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := hashFiles(ctx, collected); !errors.Is(err, context.Canceled) {
		t.Errorf("hashFiles with a cancelled context: %v", err)
	}
}

// A file replaced by a symbolic link after the globs were walked is not
// followed: the link could lead outside the step's directory.
func TestHashRefusesLinkSwappedIn(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("O_NOFOLLOW is for unix")
	}
	outside := runnerTree(t, map[string]string{"secret": "outside"})
	root := runnerTree(t, map[string]string{"a.txt": "a"})
	collected, err := collectGlobs(root, []string{"a.txt"}, true)
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(root, "a.txt")
	if err := os.Remove(p); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(outside, "secret"), p); err != nil {
		t.Skipf("symbolic links: %v", err)
	}
	if rds, err := hashFiles(context.Background(), collected); err == nil || !strings.Contains(err.Error(), `"a.txt"`) {
		t.Errorf("hashFiles = %v, %v; want an error naming a.txt", descriptors(rds), err)
	}
}
