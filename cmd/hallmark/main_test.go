package main

import (
	"archive/zip"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/hallmark-dev/hallmark/internal/cli"
	"github.com/hallmark-dev/hallmark/internal/sigtest"
	"github.com/hallmark-dev/hallmark/internal/tuftest"
)

// TestMain lets the test binary act as hallmark in scripts: testscript puts
// a copy of it named hallmark on $PATH and runs cli.Main when invoked so.
func TestMain(m *testing.M) {
	testscript.Main(cleanupM{m}, map[string]func(){
		"hallmark": func() { os.Exit(cli.Main()) },
	})
}

// cleanupM removes the shared fixtures after the tests, since
// testscript.Main exits without returning.
type cleanupM struct{ m *testing.M }

func (c cleanupM) Run() int {
	code := c.m.Run()
	if fx.dir != "" {
		_ = os.RemoveAll(fx.dir)
	}
	if cold.dir != "" {
		_ = os.RemoveAll(cold.dir)
	}
	return code
}

// fx is the fixture set, generated once per test binary run: making keys,
// certificates and log entries for every script would be slow.
var fx struct {
	once sync.Once
	dir  string
	err  error
}

func fixtures(t *testing.T) string {
	t.Helper()
	fx.once.Do(func() {
		fx.dir, fx.err = os.MkdirTemp("", "hallmark-fixtures-")
		if fx.err == nil {
			fx.err = sigtest.WriteFixtures(fx.dir)
		}
	})
	if fx.err != nil {
		t.Fatalf("generating fixtures: %v", fx.err)
	}
	return fx.dir
}

// TestScripts runs the CLI scripts in testdata/script. Each script gets:
//
//	fx/                    the sigtest fixtures (see fx/README.txt)
//	$HALLMARK_CACHE_DIR    $WORK/cache, empty; HOME and XDG_CACHE_HOME under $WORK
//	$TUF_URL, $TUF_ROOT    a local TUF mirror serving fx/trusted_root.json, and its root.json
//
// and the commands below besides testscript's own:
//
//	exit N PROG ARGS...    run PROG; fail unless it exits with exactly N
//	agecache DAYS          make every cached trust root DAYS days old; sets $FETCHED_DATE
//	mirror start|down      a proxy of $TUF_URL at $MIRROR_URL; down makes it drop every connection
//	ghapi MODE FILE...     a GitHub attestations API at $GHAPI_URL serving FILEs' bundles (see cmdGHAPI)
//	tsa                    a fake Fulcio and TSA: $TSA_URL, $TSA_ROOT, $TSA_CONFIG (see cmdTSA)
//
// and the conditions [unshare]: 'unshare -n' works here (root, or user
// namespaces), so a command can be run without any network; [oddnames]: file
// names may hold a newline, an escape and bytes that are not UTF-8.
//
// Scripts see none of the caller's environment but PATH (testscript's rule),
// so no HALLMARK_* setting leaks in. With UPDATE_GOLDEN=1, 'cmp stdout FILE'
// and 'cmp stderr FILE' rewrite FILE in the script from the actual output.
func TestScripts(t *testing.T) {
	dir := fixtures(t)
	trustedRoot, err := os.ReadFile(filepath.Join(dir, sigtest.FileTrustedRoot))
	if err != nil {
		t.Fatal(err)
	}
	repo := tuftest.New(t, map[string][]byte{sigtest.FileTrustedRoot: trustedRoot})

	testscript.Run(t, testscript.Params{
		Dir:                 filepath.Join("..", "..", "testdata", "script"),
		RequireExplicitExec: true,
		UpdateScripts:       os.Getenv("UPDATE_GOLDEN") != "",
		Setup: func(e *testscript.Env) error {
			if err := copyDir(filepath.Join(e.WorkDir, "fx"), dir); err != nil {
				return err
			}
			tufRoot := filepath.Join(e.WorkDir, "tuf-root.json")
			if err := os.WriteFile(tufRoot, repo.RootJSON, 0o644); err != nil {
				return err
			}
			e.Setenv("HALLMARK_CACHE_DIR", filepath.Join(e.WorkDir, "cache"))
			e.Setenv("HOME", filepath.Join(e.WorkDir, "home"))
			e.Setenv("XDG_CACHE_HOME", filepath.Join(e.WorkDir, "home", ".cache"))
			e.Setenv("TUF_URL", repo.URL)
			e.Setenv("TUF_ROOT", tufRoot)
			// A race-enabled hallmark sleeps a second before exiting by
			// default; scripts run it dozens of times.
			if os.Getenv("GORACE") == "" {
				e.Setenv("GORACE", "atexit_sleep_ms=10")
			}
			return nil
		},
		Cmds: map[string]func(*testscript.TestScript, bool, []string){
			"exit":     cmdExit,
			"agecache": cmdAgeCache,
			"mirror":   cmdMirror,
			"serve":    cmdServe,
			"zip":      cmdZip,
			"damage":   cmdDamage,
			"ghapi":    cmdGHAPI,
			"npmfx":    cmdNPMFixtures, // npm_fixtures_test.go
			"tsa":      cmdTSA,         // scangate_test.go
		},
		Condition: func(cond string) (bool, error) {
			switch cond {
			case "unshare":
				return unshareWorks(), nil
			case "oddnames":
				return oddNamesWork(), nil
			}
			return false, fmt.Errorf("unknown condition %q", cond)
		},
	})
}

// cmdExit runs a program and checks its exact exit code: the house rule is
// that every CLI test asserts it, so scripts use this instead of exec.
func cmdExit(ts *testscript.TestScript, neg bool, args []string) {
	if neg {
		ts.Fatalf("usage: exit N PROG ARGS... (no !: N is the expected code)")
	}
	if len(args) < 2 {
		ts.Fatalf("usage: exit N PROG ARGS...")
	}
	want, err := strconv.Atoi(args[0])
	if err != nil || want < 0 {
		ts.Fatalf("exit: bad exit code %q", args[0])
	}
	err = ts.Exec(args[1], args[2:]...)
	got := 0
	var exitErr *exec.ExitError
	switch {
	case errors.As(err, &exitErr):
		got = exitErr.ExitCode()
	case err != nil:
		ts.Fatalf("exit: running %s: %v", args[1], err)
	}
	if got != want {
		ts.Fatalf("%s exited with %d, want %d", args[1], got, want)
	}
}

// cmdAgeCache rewrites fetchedAt in every meta.json of the trust cache to
// DAYS days ago, and sets $FETCHED_DATE to that day (YYYY-MM-DD).
func cmdAgeCache(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: agecache DAYS")
	}
	days, err := strconv.Atoi(args[0])
	if err != nil {
		ts.Fatalf("agecache: bad DAYS %q", args[0])
	}
	fetched := time.Now().UTC().Add(-time.Duration(days) * 24 * time.Hour)
	n := 0
	err = filepath.WalkDir(ts.Getenv("HALLMARK_CACHE_DIR"), func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || d.Name() != "meta.json" {
			return err
		}
		var m map[string]any
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if err := json.Unmarshal(data, &m); err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		if _, ok := m["fetchedAt"]; !ok {
			return fmt.Errorf("%s has no fetchedAt", path)
		}
		m["fetchedAt"] = fetched.Format(time.RFC3339Nano)
		if data, err = json.Marshal(m); err != nil {
			return err
		}
		n++
		return os.WriteFile(path, data, 0o644)
	})
	ts.Check(err)
	if n == 0 {
		ts.Fatalf("agecache: no meta.json under $HALLMARK_CACHE_DIR")
	}
	ts.Setenv("FETCHED_DATE", fetched.Format(time.DateOnly))
}

// cmdMirror starts a reverse proxy of $TUF_URL for this script at
// $MIRROR_URL ("mirror start"), and takes it down ("mirror down"): it keeps
// its port, so no other server can take it, but drops every connection.
func cmdMirror(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: mirror start|down")
	}
	switch args[0] {
	case "start":
		if _, ok := mirrors.Load(ts); ok {
			ts.Fatalf("mirror: already started")
		}
		target, err := url.Parse(ts.Getenv("TUF_URL"))
		ts.Check(err)
		m := &mirror{proxy: httputil.NewSingleHostReverseProxy(target)}
		srv := httptest.NewServer(m)
		mirrors.Store(ts, m)
		ts.Defer(func() {
			srv.Close()
			mirrors.Delete(ts)
		})
		ts.Setenv("MIRROR_URL", srv.URL)
	case "down":
		v, ok := mirrors.Load(ts)
		if !ok {
			ts.Fatalf("mirror: not started")
		}
		v.(*mirror).down.Store(true)
	default:
		ts.Fatalf("usage: mirror start|down")
	}
}

// mirrors maps each script to its mirror.
var mirrors sync.Map // *testscript.TestScript -> *mirror

type mirror struct {
	proxy http.Handler
	down  atomic.Bool
}

func (m *mirror) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !m.down.Load() {
		m.proxy.ServeHTTP(w, r)
		return
	}
	if hj, ok := w.(http.Hijacker); ok {
		if conn, _, err := hj.Hijack(); err == nil {
			_ = conn.Close()
			return
		}
	}
	panic(http.ErrAbortHandler)
}

// unshareWorks reports whether commands can be run in a new network
// namespace, which has no network at all.
var unshareWorks = sync.OnceValue(func() bool {
	return exec.Command("unshare", "-n", "true").Run() == nil
})

// oddNamesWork reports whether the file system of the scripts' work
// directories takes names with a newline, an escape and a byte that is not
// UTF-8, as Linux file systems do.
var oddNamesWork = sync.OnceValue(func() bool {
	dir, err := os.MkdirTemp("", "hallmark-oddnames-")
	if err != nil {
		return false
	}
	defer os.RemoveAll(dir)
	return os.WriteFile(filepath.Join(dir, "a\nb\x1b\xff"), nil, 0o644) == nil
})

// copyDir copies the regular files of src into dst.
func copyDir(dst, src string) error {
	if err := os.MkdirAll(dst, 0o755); err != nil {
		return err
	}
	entries, err := os.ReadDir(src)
	if err != nil {
		return err
	}
	for _, e := range entries {
		if !e.Type().IsRegular() {
			continue
		}
		data, err := os.ReadFile(filepath.Join(src, e.Name()))
		if err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(dst, e.Name()), data, 0o644); err != nil {
			return err
		}
	}
	return nil
}

// cmdServe serves a directory of the script over HTTP on 127.0.0.1 at
// $SERVE_URL, for as long as the script runs ("serve DIR").
func cmdServe(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: serve DIR")
	}
	srv := httptest.NewServer(http.FileServer(http.Dir(ts.MkAbs(args[0]))))
	ts.Defer(srv.Close)
	ts.Setenv("SERVE_URL", srv.URL)
}

// cmdZip writes a zip of the given files, stored under their base names
// ("zip OUT FILE..."), as osv.dev's all.zip exports are laid out.
func cmdZip(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 2 {
		ts.Fatalf("usage: zip OUT FILE...")
	}
	out := ts.MkAbs(args[0])
	ts.Check(os.MkdirAll(filepath.Dir(out), 0o755))
	f, err := os.Create(out)
	ts.Check(err)
	zw := zip.NewWriter(f)
	for _, name := range args[1:] {
		data, err := os.ReadFile(ts.MkAbs(name))
		ts.Check(err)
		w, err := zw.Create(filepath.Base(name))
		ts.Check(err)
		_, err = w.Write(data)
		ts.Check(err)
	}
	ts.Check(zw.Close())
	ts.Check(f.Close())
}
