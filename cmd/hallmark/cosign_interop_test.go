package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hallmark-dev/hallmark/internal/cli"
)

// cosignDir holds cosign-made fixtures (a key pair with password perfbench
// and bundles of art-1MiB.bin), read in place.
var cosignDir = filepath.Join("..", "..", "..", "shared", "fixtures", "cosign-interop")

func run(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := cli.Run(context.Background(), args, cli.Stdio{In: strings.NewReader(""), Out: &out, Err: &errb})
	return code, out.String(), errb.String()
}

// TestCosignInterop: a bundle cosign made with its key verifies with
// hallmark verify --key, and cosign's encrypted key signs with hallmark
// (the result verifies with cosign.pub).
func TestCosignInterop(t *testing.T) {
	if _, err := os.Stat(filepath.Join(cosignDir, "cosign.key")); err != nil {
		t.Skipf("cosign fixtures absent (%v)", err)
	}
	pub := filepath.Join(cosignDir, "cosign.pub")
	t.Run("verify cosign bundle", func(t *testing.T) {
		code, out, errs := run(t, "verify", "--key", pub, "--insecure-ignore-tlog",
			"--bundle", filepath.Join(cosignDir, "art-1MiB.sigstore.json"), filepath.Join(cosignDir, "art-1MiB.bin"))
		if code != cli.ExitOK || !strings.HasPrefix(out, "OK ") {
			t.Fatalf("exit %d\nstdout %s\nstderr %s", code, out, errs)
		}
	})
	t.Run("sign with cosign key", func(t *testing.T) {
		t.Setenv("HALLMARK_PASSWORD", "perfbench")
		art := filepath.Join(t.TempDir(), "art.bin")
		if err := os.WriteFile(art, []byte("signed with a cosign key"), 0o644); err != nil {
			t.Fatal(err)
		}
		code, out, errs := run(t, "sign", "--key", filepath.Join(cosignDir, "cosign.key"), "--tlog-upload=false", "--timestamp=false", art)
		if code != cli.ExitOK {
			t.Fatalf("sign: exit %d\nstdout %s\nstderr %s", code, out, errs)
		}
		code, out, errs = run(t, "verify", "--key", pub, "--insecure-ignore-tlog", art)
		if code != cli.ExitOK {
			t.Fatalf("verify: exit %d\nstdout %s\nstderr %s", code, out, errs)
		}
		t.Setenv("HALLMARK_PASSWORD", "not-perfbench")
		code, _, errs = run(t, "sign", "--key", filepath.Join(cosignDir, "cosign.key"), "--tlog-upload=false", "--timestamp=false", art)
		if code != cli.ExitError || !strings.Contains(errs, "wrong password") {
			t.Fatalf("wrong password: exit %d, stderr %s", code, errs)
		}
	})
}
