package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hallmark-dev/hallmark/internal/npmtest"
	"github.com/hallmark-dev/hallmark/internal/sigtest"
	"github.com/hallmark-dev/hallmark/pkg/ecosystem/npm"
)

// npmLoopSample is how many of the packages the one-verify-per-package
// side of BenchmarkNPMLockfile runs: a process each, so its rate is
// measured on a sample, not on all of them.
const npmLoopSample = 100

// BenchmarkNPMLockfile verifies the packages of ../shared's npm-large
// lockfile (1,237 names and versions; tarballs and attestations documents
// made here with the fake Sigstore and a registry key of the benchmark's
// own, provenance by one repository's workflow) with ONE hallmark verify
// --preset npm --lockfile --attestations-dir (one trust load, packages in
// parallel), next to one hallmark verify --preset npm TARBALL
// --attestations DOC per package (measured on npmLoopSample of them):
// total time and packages/s of each, and their ratio.
func BenchmarkNPMLockfile(b *testing.B) {
	lockPath := filepath.Join("..", "..", "..", "shared", "osv", "inputs", "npm-large", "package-lock.json")
	data, err := os.ReadFile(lockPath)
	if err != nil {
		b.Skip("../shared/osv/inputs/npm-large not found: the npm lockfile benchmark needs its package names")
	}
	real, _, err := npm.ParseLockfile(data)
	if err != nil {
		b.Fatal(err)
	}
	if len(real) != 1237 {
		b.Fatalf("npm-large has %d packages, want 1237", len(real))
	}
	inst, err := sigtest.New()
	if err != nil {
		b.Fatal(err)
	}
	dir := b.TempDir()
	trusted := filepath.Join(dir, "trusted_root.json")
	tr, err := inst.TrustedRootJSON()
	if err != nil {
		b.Fatal(err)
	}
	reg, err := npmtest.NewRegistry(time.Now().Add(-time.Hour), time.Time{})
	if err != nil {
		b.Fatal(err)
	}
	keysJSON, err := reg.KeysJSON()
	if err != nil {
		b.Fatal(err)
	}
	keys := filepath.Join(dir, "keys.json")
	writeFiles(b, map[string][]byte{trusted: tr, keys: keysJSON})
	w := &npmtest.Workflow{Repo: "https://github.com/acme/monorepo", Path: ".github/workflows/publish.yml", Ref: "refs/heads/main", Commit: sigtest.DemoDigest}
	att := filepath.Join(dir, "att")
	type pkg struct{ tgz, doc string }
	var pkgs []pkg
	var locked [][3]string
	for _, l := range real {
		tarball := []byte(fmt.Sprintf("%s tarball\n", l))
		s, err := npmtest.FakeDocument(inst, reg, l.Name, l.Version, npmtest.SHA512(tarball), w, time.Now())
		if err != nil {
			b.Fatal(err)
		}
		p := pkg{tgz: filepath.Join(dir, "tgz", filepath.FromSlash(l.FileName())+".tgz"), doc: filepath.Join(att, filepath.FromSlash(l.FileName()))}
		writeFiles(b, map[string][]byte{p.tgz: tarball, p.doc: s.Document})
		pkgs = append(pkgs, p)
		locked = append(locked, [3]string{l.Name, l.Version, npmtest.Integrity(tarball)})
	}
	lock, err := npmtest.Lockfile(locked)
	if err != nil {
		b.Fatal(err)
	}
	ourLock := filepath.Join(dir, "package-lock.json")
	writeFiles(b, map[string][]byte{ourLock: lock})

	hallmark := manyBinary(b)
	env := append(os.Environ(), "HALLMARK_CACHE_DIR="+b.TempDir())
	base := []string{"verify", "--preset", "npm", "--trusted-root", trusted, "--npm-keys", keys, "--repo", "acme/monorepo"}
	run := func(want int, args ...string) time.Duration {
		cmd := exec.Command(hallmark, append(append([]string{}, base...), args...)...)
		cmd.Env = env
		t0 := time.Now()
		out, err := cmd.CombinedOutput()
		d := time.Since(t0)
		if err != nil {
			b.Fatalf("hallmark verify of %d packages: %v\n%s", want, err, out)
		}
		if n := strings.Count("\n"+string(out), "\nOK "); n != want {
			b.Fatalf("hallmark verified %d packages, want %d:\n%s", n, want, out)
		}
		return d
	}
	var one, perPackage []time.Duration
	b.ResetTimer()
	for range b.N {
		one = append(one, run(len(pkgs), "--lockfile", ourLock, "--attestations-dir", att))
		var total time.Duration
		for i := range npmLoopSample {
			p := pkgs[i*len(pkgs)/npmLoopSample]
			total += run(1, "--attestations", p.doc, p.tgz)
		}
		perPackage = append(perPackage, total/npmLoopSample)
	}
	b.StopTimer()
	s, per := median(one), median(perPackage)
	loop := per * time.Duration(len(pkgs))
	b.ReportMetric(float64(len(pkgs)), "packages")
	b.ReportMetric(float64(s.Microseconds())/1000, "lockfile-ms")
	b.ReportMetric(float64(len(pkgs))/s.Seconds(), "lockfile-packages/s")
	b.ReportMetric(float64(per.Microseconds())/1000, "per-package-verify-ms")
	b.ReportMetric(1/per.Seconds(), "per-package-verify-packages/s")
	b.ReportMetric(float64(loop)/float64(s), "speedup")
	b.ReportMetric(0, "ns/op") // the metrics above are the result
}

func writeFiles(b *testing.B, files map[string][]byte) {
	b.Helper()
	for p, data := range files {
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			b.Fatal(err)
		}
		if err := os.WriteFile(p, data, 0o644); err != nil {
			b.Fatal(err)
		}
	}
}
