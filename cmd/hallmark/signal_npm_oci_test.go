//go:build linux

package main

import (
	"bytes"
	"crypto/sha512"
	"encoding/base64"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// writeNPMLockfile writes a package-lock.json of n registry packages
// p0..p(n-1), each with a sha512 integrity.
func writeNPMLockfile(t *testing.T, path string, n int) {
	t.Helper()
	var b bytes.Buffer
	b.WriteString(`{"lockfileVersion":3,"packages":{"":{"name":"app"}`)
	for i := range n {
		sum := sha512.Sum512([]byte(fmt.Sprint(i)))
		fmt.Fprintf(&b, `,"node_modules/p%d":{"version":"1.0.0","integrity":"sha512-%s"}`, i, base64.StdEncoding.EncodeToString(sum[:]))
	}
	b.WriteString("}}\n")
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestSignalNPMAndOCI: verify --preset npm --lockfile busy over many
// packages, download --preset npm waiting on a registry that never
// answers, and verify oci:// waiting on a silent registry stop on a
// signal, writing nothing.
func TestSignalNPMAndOCI(t *testing.T) {
	t.Run("verify npm lockfile", func(t *testing.T) {
		npmFx.once.Do(func() { npmFx.files, npmFx.err = makeNPMFixtures() })
		if npmFx.err != nil {
			t.Fatal(npmFx.err)
		}
		dir := t.TempDir()
		for _, name := range []string{"trusted_root.json", "keys.json"} {
			if err := os.WriteFile(filepath.Join(dir, name), npmFx.files[name], 0o644); err != nil {
				t.Fatal(err)
			}
		}
		// Documents of another package for the first 2,000 packages: each
		// verified, then refused; 100,000 packages keep hallmark busy.
		att := filepath.Join(dir, "att")
		if err := os.Mkdir(att, 0o755); err != nil {
			t.Fatal(err)
		}
		for i := range 2000 {
			if err := os.WriteFile(filepath.Join(att, fmt.Sprintf("p%d@1.0.0.json", i)), npmFx.files["att/plain@1.0.0.json"], 0o644); err != nil {
				t.Fatal(err)
			}
		}
		writeNPMLockfile(t, filepath.Join(dir, "package-lock.json"), 100000)
		eachSignal(t, func(t *testing.T, sig syscall.Signal) {
			interruptAndCheck(t, hostileRun{dir: dir, args: []string{"verify", "--preset", "npm", "--trusted-root", "trusted_root.json",
				"--npm-keys", "keys.json", "--lockfile", "package-lock.json", "--attestations-dir", "att"},
				ready: cpuBusy(300 * time.Millisecond)}, sig)
		})
	})
	t.Run("download npm", func(t *testing.T) {
		eachSignal(t, func(t *testing.T, sig syscall.Signal) {
			dir := t.TempDir()
			writeNPMLockfile(t, filepath.Join(dir, "package-lock.json"), 50)
			if err := os.Mkdir(filepath.Join(dir, "out"), 0o755); err != nil {
				t.Fatal(err)
			}
			url, arrived := hangingServer(t, true)
			interruptAndCheck(t, hostileRun{dir: dir, args: []string{"download", "--preset", "npm", "--lockfile", "package-lock.json",
				"--registry", url, "--dir", "out"}, ready: signalled(arrived)}, sig)
		})
	})
	t.Run("verify oci silent registry", func(t *testing.T) {
		fx := newSigFixture(t)
		for _, partial := range []bool{false, true} {
			t.Run(fmt.Sprintf("partial=%v", partial), func(t *testing.T) {
				eachSignal(t, func(t *testing.T, sig syscall.Signal) {
					url, arrived := hangingServer(t, partial)
					ref := "oci://" + strings.TrimPrefix(url, "http://") + "/app:v1"
					interruptAndCheck(t, hostileRun{dir: fx.dir, args: []string{"verify", "--key", "k.pub", "--insecure-ignore-tlog",
						"--allow-insecure-registry", ref}, ready: signalled(arrived)}, sig)
				})
			})
		}
	})
}
