package osvdb_test

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/hallmark-dev/hallmark/internal/osvdb"
	"github.com/hallmark-dev/hallmark/pkg/scan"
)

var benchSizes = []int{10_000, 50_000, 200_000}

// syntheticExport makes (once, cached in the temp dir) a synthetic npm
// export of n records with ../shared/osv/tools/make_synthetic_scale.py.
func syntheticExport(b testing.TB, n int) string {
	root := needShared(b)
	dir := filepath.Join(os.TempDir(), "hallmark-osv-synthetic", strconv.Itoa(n))
	zipPath := filepath.Join(dir, "osv-scalibr", "npm", "all.zip")
	if _, err := os.Stat(filepath.Join(dir, "done")); err == nil {
		return dir
	}
	os.RemoveAll(dir)
	cmd := exec.Command("python3", filepath.Join(root, "tools", "make_synthetic_scale.py"), dir, strconv.Itoa(n))
	if out, err := cmd.CombinedOutput(); err != nil {
		b.Skipf("skipping: cannot generate the synthetic database: %v\n%s", err, out)
	}
	if _, err := os.Stat(zipPath); err != nil {
		b.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "done"), nil, 0o644)
	return dir
}

// syntheticDB imports the synthetic export once into a cached database.
func syntheticDB(b testing.TB, n int) string {
	src := syntheticExport(b, n)
	dbDir := filepath.Join(src, "db")
	if db, err := osvdb.Open(dbDir); err == nil {
		db.Close()
		return dbDir
	}
	os.RemoveAll(dbDir) // none, or of an older format
	if _, err := osvdb.Import(context.Background(), dbDir, src); err != nil {
		b.Fatal(err)
	}
	return dbDir
}

// BenchmarkImport imports the synthetic npm export; it reports the CPU
// time of an import (user + system, all threads) and the peak RSS of a
// fresh process doing one, as 'hallmark db import' would.
func BenchmarkImport(b *testing.B) {
	for _, n := range benchSizes {
		b.Run(fmt.Sprintf("%dk", n/1000), func(b *testing.B) {
			src := syntheticExport(b, n)
			st, _ := os.Stat(filepath.Join(src, "osv-scalibr", "npm", "all.zip"))
			b.SetBytes(st.Size())
			cpu0 := cpuTime()
			b.ResetTimer()
			for b.Loop() {
				dbDir := b.TempDir()
				if _, err := osvdb.Import(context.Background(), dbDir, src); err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			b.ReportMetric((cpuTime()-cpu0).Seconds()/float64(b.N), "cpu-s/op")
			if rss, err := childImportPeakRSS(src); err == nil {
				b.ReportMetric(rss, "peak-RSS-MiB")
			} else {
				b.Logf("peak RSS: %v", err)
			}
			if fi, err := os.Stat(filepath.Join(syntheticDB(b, n), osvdb.FileName)); err == nil {
				b.ReportMetric(float64(fi.Size())/(1<<20), "db-MiB")
			}
		})
	}
}

// childImportPeakRSS runs TestImportChild in a fresh process and returns
// its VmHWM in MiB.
func childImportPeakRSS(src string) (float64, error) {
	return childVmHWM("^TestImportChild$", "HALLMARK_IMPORT_CHILD_SRC="+src)
}

// TestImportChild is the child of childImportPeakRSS (skipped otherwise).
func TestImportChild(t *testing.T) {
	src := os.Getenv("HALLMARK_IMPORT_CHILD_SRC")
	if src == "" {
		t.Skip("skipping: only run as the child of the import benchmark")
	}
	if _, err := osvdb.Import(context.Background(), t.TempDir(), src); err != nil {
		t.Fatal(err)
	}
	printVmHWM(t)
}

// BenchmarkScanNPMLarge opens the database and scans npm-large's 1,237
// packages, as one CLI run would; it also reports the peak RSS of a fresh
// process doing the same (the osv-scanner comparison: 10-18 s, 432 MiB).
func BenchmarkScanNPMLarge(b *testing.B) {
	pkgs := readNPMLock(b, filepath.Join(needShared(b), "inputs", "npm-large", "package-lock.json"))
	for _, n := range benchSizes {
		b.Run(fmt.Sprintf("%dk", n/1000), func(b *testing.B) {
			dbDir := syntheticDB(b, n)
			b.ResetTimer()
			for b.Loop() {
				scanOnce(b, dbDir, pkgs)
			}
			b.StopTimer()
			if rss, err := childPeakRSS(dbDir); err == nil {
				b.ReportMetric(rss, "peak-RSS-MiB")
			} else {
				b.Logf("peak RSS: %v", err)
			}
		})
	}
}

func scanOnce(b testing.TB, dbDir string, pkgs []scan.Package) *scan.Result {
	db, err := osvdb.Open(dbDir)
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	res, err := scan.Scan(context.Background(), db, pkgs, scan.Options{})
	if err != nil {
		b.Fatal(err)
	}
	if len(res.Findings) != 10 {
		b.Fatalf("%d findings, want 10", len(res.Findings))
	}
	return res
}

// childPeakRSS runs TestScanChild in a fresh process and returns its
// VmHWM in MiB.
func childPeakRSS(dbDir string) (float64, error) {
	return childVmHWM("^TestScanChild$", "HALLMARK_SCAN_CHILD_DB="+dbDir)
}

// childVmHWM runs the test named by run in a fresh process with env set
// and returns the VmHWM it prints, in MiB.
func childVmHWM(run, env string) (float64, error) {
	cmd := exec.Command(os.Args[0], "-test.run="+run, "-test.count=1")
	cmd.Env = append(os.Environ(), env)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return 0, fmt.Errorf("%v: %s", err, out)
	}
	for _, line := range strings.Split(string(out), "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "VmHWM-kB:"); ok {
			kb, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
			return kb / 1024, err
		}
	}
	return 0, fmt.Errorf("no VmHWM in %s", out)
}

// TestScanChild is the child of childPeakRSS (skipped otherwise).
func TestScanChild(t *testing.T) {
	dbDir := os.Getenv("HALLMARK_SCAN_CHILD_DB")
	if dbDir == "" {
		t.Skip("skipping: only run as the child of the peak-RSS benchmark")
	}
	pkgs := readNPMLock(t, filepath.Join(needShared(t), "inputs", "npm-large", "package-lock.json"))
	scanOnce(t, dbDir, pkgs)
	printVmHWM(t)
}

// printVmHWM prints the process's peak RSS for childVmHWM.
func printVmHWM(t *testing.T) {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		t.Skip(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			fmt.Printf("VmHWM-kB: %s\n", strings.TrimSuffix(strings.TrimSpace(v), " kB"))
		}
	}
}
