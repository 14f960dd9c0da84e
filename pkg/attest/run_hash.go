package attest

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"sync"
	"time"

	intotov1 "github.com/in-toto/attestation/go/v1"
)

// ErrFileChanged: a file changed while it was hashed. The step fails: its
// digest would describe no version of the file.
var ErrFileChanged = errors.New("file changed while it was hashed")

// A file is taken to have changed while it was hashed when, between the
// stat before the first byte is read and the stat after the last, its size,
// modification time, change time (where the system has one), device or
// inode differ, when the bytes read are not its size, or when the name no
// longer leads to the same file. A write that keeps the size and lands
// within the file system's timestamp resolution is not seen; the content is
// read once, never twice.

// fileStamp is what is compared before and after hashing a file.
type fileStamp struct {
	size  int64
	mtime time.Time
	sys   sysStamp // change time, device, inode where the system has them
}

func stampOf(fi os.FileInfo) fileStamp {
	return fileStamp{size: fi.Size(), mtime: fi.ModTime(), sys: sysStampOf(fi)}
}

// hashHook, when set by a test, runs after the first stat of a file and
// before it is read.
var hashHook func(path string)

// hashFile returns the hex sha256 of the regular file at p.
func hashFile(p string) (string, error) {
	f, err := os.OpenFile(p, os.O_RDONLY|openNoBlock, 0)
	if err != nil {
		return "", err
	}
	defer f.Close()
	before, err := f.Stat()
	if err != nil {
		return "", err
	}
	if !before.Mode().IsRegular() {
		return "", fmt.Errorf("%w: it is %v", ErrNotRegularFile, before.Mode().Type())
	}
	if hashHook != nil {
		hashHook(p)
	}
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return "", err
	}
	after, err := f.Stat()
	if err != nil {
		return "", err
	}
	again, err := os.Stat(p)
	if err != nil {
		return "", fmt.Errorf("%w: %w", ErrFileChanged, err)
	}
	if n != before.Size() || stampOf(before) != stampOf(after) || !os.SameFile(before, again) {
		return "", fmt.Errorf("%w: %d bytes, %v before; %d bytes read, %d bytes, %v after",
			ErrFileChanged, before.Size(), before.ModTime().UTC().Format(time.RFC3339Nano),
			n, after.Size(), after.ModTime().UTC().Format(time.RFC3339Nano))
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// hashFiles hashes the files in parallel and returns their resource
// descriptors, in the files' order. Every file that cannot be read or
// changed is reported, by name; none is skipped.
func hashFiles(ctx context.Context, files []globFile) ([]*intotov1.ResourceDescriptor, error) {
	out := make([]*intotov1.ResourceDescriptor, len(files))
	errs := make([]error, len(files))
	workers := min(len(files), max(4, 2*runtime.GOMAXPROCS(0)))
	next := make(chan int)
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				d, err := hashFile(files[i].path)
				if err != nil {
					errs[i] = fmt.Errorf("%q: %w", files[i].name, err)
					continue
				}
				out[i] = &intotov1.ResourceDescriptor{Name: files[i].name, Digest: map[string]string{"sha256": d}}
			}
		}()
	}
	var cancelled error
feed:
	for i := range files {
		select {
		case next <- i:
		case <-ctx.Done():
			cancelled = context.Cause(ctx)
			break feed
		}
	}
	close(next)
	wg.Wait()
	if cancelled != nil {
		return nil, cancelled
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return out, nil
}
