//go:build unix

package sign_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/hallmark-dev/hallmark/internal/keys"
	"github.com/hallmark-dev/hallmark/pkg/sign"
)

// Sign signs regular files: a FIFO (which nobody writes), a device or a
// directory is ErrNotRegular at once, for every key kind and for in-toto
// statements, and no bundle is written.
func TestSignRefusesNonRegularFiles(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, kt := range []keys.KeyType{keys.ECDSAP256, keys.Ed25519} {
		key, err := keys.GenerateKey(kt)
		if err != nil {
			t.Fatal(err)
		}
		s, err := sign.New(ctx, sign.Options{Key: key})
		if err != nil {
			t.Fatal(err)
		}
		for _, path := range []string{fifo, "/dev/zero", dir} {
			for _, inToto := range []bool{false, true} {
				bundle := filepath.Join(dir, "out.json")
				done := make(chan error, 1)
				go func() {
					_, _, err := s.Sign(ctx, sign.Job{Path: path, BundlePath: bundle, InToto: inToto})
					done <- err
				}()
				select {
				case err := <-done:
					if !errors.Is(err, sign.ErrNotRegular) {
						t.Errorf("%s %s in-toto=%v: %v, want ErrNotRegular", kt, path, inToto, err)
					}
				case <-time.After(10 * time.Second):
					t.Fatalf("%s %s in-toto=%v: Sign still waits after 10s", kt, path, inToto)
				}
				if _, err := os.Stat(bundle); err == nil {
					t.Fatalf("%s %s: a bundle was written", kt, path)
				}
			}
		}
	}
}
