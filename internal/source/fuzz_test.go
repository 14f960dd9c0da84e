package source_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/hallmark-dev/hallmark/internal/source"
	"github.com/hallmark-dev/hallmark/pkg/verify"
)

// FuzzRead feeds bundle files (single or JSONL) to Read: it must return
// bundles or a *FileError, never panic, and every bundle must carry its
// coverage.
func FuzzRead(f *testing.F) {
	k := newKit(f)
	seeds := [][]byte{k.msg, k.dsse, append(append(compact(f, k.msg), '\n'), compact(f, k.dsse)...), []byte("\n\n"), []byte("{\n")}
	found := 0
	if shared := sharedDirOrEmpty(); shared != "" {
		for _, name := range []string{"cli-cli-v2.96.0-checksums.jsonl", "bdehamer-delme-v6-release.sigstore.json"} {
			if data, err := os.ReadFile(filepath.Join(shared, "fixtures", "ecosystems", "github", name)); err == nil {
				seeds = append(seeds, data)
				found++
			}
		}
		if found != 2 {
			f.Fatalf("found %d of the 2 GitHub fixture seeds in ../shared", found)
		}
	}
	for _, s := range seeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		bs, err := source.Read(context.Background(), "fuzz", bytes.NewReader(data))
		if err != nil {
			var fe *source.FileError
			if !errors.As(err, &fe) {
				t.Fatalf("err %v is not a *FileError", err)
			}
			return
		}
		if len(bs) == 0 {
			t.Fatal("no bundles and no error")
		}
		for _, b := range bs {
			if b.Bundle == nil || b.Coverage == nil {
				t.Fatal("a bundle without its parse or coverage")
			}
			if _, err := verify.BundleCoverage(b.Bundle); err != nil {
				t.Fatalf("coverage differs on a second look: %v", err)
			}
		}
	})
}

func sharedDirOrEmpty() string {
	dir := filepath.Join("..", "..", "..", "shared")
	if _, err := os.Stat(filepath.Join(dir, "fixtures")); err != nil {
		return ""
	}
	return dir
}
