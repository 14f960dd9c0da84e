//go:build linux

package main

import (
	"archive/zip"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
	"unsafe"

	"github.com/hallmark-dev/hallmark/internal/cli"
	"github.com/hallmark-dev/hallmark/internal/signtest"
	"github.com/hallmark-dev/hallmark/internal/tuftest"
)

// The signal tests run the real hallmark (this test binary, invoked as
// "hallmark": see TestMain) on hostile input that never ends or never
// comes, wait until it is really blocked or busy, send SIGINT or SIGTERM,
// and check that it stops within a second of the signal with exit 1, one
// "hallmark: error: interrupted (SIG...)" line and no file written.

// stopBound is how long hallmark may take to exit after the signal: the
// documented second. The hallmark these tests run is this test binary, so
// under -race it carries the race detector, which makes a CPU-bound run
// (the 600k-package scan) 5-10x slower and its exit after a signal vary
// from 0.1 to over 1 s on a loaded machine; such a binary gets 3 s. make
// test runs the signal tests once more without -race, where the second
// holds for the build users run.
var stopBound = map[bool]time.Duration{false: time.Second, true: 3 * time.Second}[raceEnabled]

// readyTimeout bounds the wait for a run to be blocked or busy: generous,
// for a loaded machine.
const readyTimeout = 30 * time.Second

var signals = []syscall.Signal{syscall.SIGINT, syscall.SIGTERM}

func sigName(s syscall.Signal) string {
	if s == syscall.SIGINT {
		return "SIGINT"
	}
	return "SIGTERM"
}

// sigEnv is a hermetic environment for a hallmark run in dir.
func sigEnv(dir string) []string {
	return []string{
		"PATH=" + os.Getenv("PATH"),
		"HOME=" + filepath.Join(dir, "home"),
		"XDG_CACHE_HOME=" + filepath.Join(dir, "home", ".cache"),
		"HALLMARK_CACHE_DIR=" + filepath.Join(dir, "cache"),
		"HALLMARK_PASSWORD=signal-test",
		// A race-enabled hallmark sleeps a second before exiting by
		// default, which would eat the whole bound.
		"GORACE=atexit_sleep_ms=0",
	}
}

// lockedBuffer is a bytes.Buffer that a test may read while a process
// writes it.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// hostileRun is one run of hallmark to interrupt.
type hostileRun struct {
	dir  string
	args []string
	// ready reports that the process is blocked or busy where the test
	// wants it; nil means as soon as it started.
	ready func(pid int) bool
	env   []string
	// scratch is a directory under dir that the run may change: a
	// library's working state, not an output.
	scratch string
	// setup, when set, connects the command's standard streams itself and
	// returns what the process wrote to stderr so far.
	setup func(t *testing.T, cmd *exec.Cmd) (stderr func() string)
}

// interruptAndCheck starts r, waits until it is ready, sends sig and checks
// how hallmark stopped.
func interruptAndCheck(t *testing.T, r hostileRun, sig syscall.Signal) {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	before := snapshot(t, r.dir)
	var stdout, stderrBuf lockedBuffer
	cmd := &exec.Cmd{Path: exe, Args: append([]string{"hallmark"}, r.args...), Dir: r.dir,
		Env: append(sigEnv(r.dir), r.env...), Stdout: &stdout, Stderr: &stderrBuf}
	stderr := stderrBuf.String
	if r.setup != nil {
		stderr = r.setup(t, cmd)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	reaped := false // once exited was received from
	defer func() {
		if !reaped {
			_ = cmd.Process.Kill()
			<-exited
		}
	}()

	deadline := time.Now().Add(readyTimeout)
	for r.ready != nil && !r.ready(cmd.Process.Pid) {
		select {
		case err := <-exited:
			reaped = true
			t.Fatalf("hallmark %s ended (%v) before it was blocked or busy\nstdout:\n%s\nstderr:\n%s",
				strings.Join(r.args, " "), err, stdout.String(), stderr())
		case <-time.After(10 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("hallmark %s was not blocked or busy after %v\nstderr:\n%s", strings.Join(r.args, " "), readyTimeout, stderr())
		}
	}
	select {
	case err := <-exited:
		reaped = true
		t.Fatalf("hallmark %s ended (%v) before the signal\nstderr:\n%s", strings.Join(r.args, " "), err, stderr())
	default:
	}

	sent := time.Now()
	if err := cmd.Process.Signal(sig); err != nil {
		t.Fatal(err)
	}
	var waitErr error
	select {
	case waitErr = <-exited:
		reaped = true
	case <-time.After(10 * time.Second):
		_ = cmd.Process.Signal(syscall.SIGQUIT) // a goroutine dump, to see where it hangs
		select {
		case <-exited:
		case <-time.After(5 * time.Second):
			_ = cmd.Process.Kill()
			<-exited
		}
		reaped = true
		t.Fatalf("hallmark %s did not stop within 10s of %s; where it was:\n%s", strings.Join(r.args, " "), sigName(sig), hallmarkFrames(stderr()))
	}
	took := time.Since(sent)
	t.Logf("stopped %v after %s", took.Round(time.Millisecond), sigName(sig))
	if took > stopBound {
		t.Errorf("hallmark %s stopped %v after %s, want within %v", strings.Join(r.args, " "), took.Round(time.Millisecond), sigName(sig), stopBound)
	}

	code := 0
	var ee *exec.ExitError
	if errors.As(waitErr, &ee) {
		code = ee.ExitCode()
	} else if waitErr != nil {
		t.Fatal(waitErr)
	}
	if code != cli.ExitError {
		t.Errorf("exit code %d after %s, want %d", code, sigName(sig), cli.ExitError)
	}
	checkInterruptedStderr(t, stderr(), sig)
	checkUnchanged(t, r.dir, before, r.scratch)
}

// checkInterruptedStderr: hallmark's own lines only (no goroutine dump, no
// Go runtime text): warnings or a prompt, then one error, the interruption,
// then only hints.
func checkInterruptedStderr(t *testing.T, stderr string, sig syscall.Signal) {
	t.Helper()
	stderr = strings.ReplaceAll(stderr, "\r\n", "\n") // from a terminal
	want := "hallmark: error: interrupted (" + sigName(sig) + ")"
	seen := false
	for _, l := range strings.Split(strings.TrimSuffix(stderr, "\n"), "\n") {
		switch {
		case !seen && l == want:
			seen = true
		case !seen && (strings.HasPrefix(l, "hallmark: warning: ") || strings.HasPrefix(l, "Enter password for private key: ")):
		case seen && strings.HasPrefix(l, "hallmark: hint: "):
		default:
			t.Errorf("stderr line %q: want warnings, then %q, then hints\nstderr:\n%s", l, want, stderr)
			return
		}
	}
	if !seen {
		t.Errorf("stderr lacks %q\nstderr:\n%s", want, stderr)
	}
}

// snapshot maps every file under dir (but the cache of TUF metadata, and
// home) to a digest of its content and mode.
func snapshot(t *testing.T, dir string) map[string]string {
	t.Helper()
	files := map[string]string{}
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, path)
		info, err := d.Info()
		if err != nil {
			return err
		}
		switch {
		case d.IsDir():
			files[rel] = "dir"
		case info.Mode().IsRegular():
			f, err := os.Open(path)
			if err != nil {
				return err
			}
			defer f.Close()
			if info.Size() > 1<<30 { // a sparse giant: its size and time
				files[rel] = fmt.Sprintf("size %d mtime %v", info.Size(), info.ModTime())
				return nil
			}
			h := sha256.New()
			if _, err := io.Copy(h, f); err != nil {
				return err
			}
			files[rel] = hex.EncodeToString(h.Sum(nil))
		default:
			files[rel] = info.Mode().Type().String()
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// checkUnchanged fails for each file made, changed or removed since before,
// but under scratch.
func checkUnchanged(t *testing.T, dir string, before map[string]string, scratch string) {
	t.Helper()
	after := snapshot(t, dir)
	if scratch != "" {
		for _, m := range []map[string]string{before, after} {
			for name := range m {
				if name == scratch || strings.HasPrefix(name, scratch+string(filepath.Separator)) {
					delete(m, name)
				}
			}
		}
	}
	var names []string
	for name := range after {
		names = append(names, name)
	}
	for name := range before {
		if _, ok := after[name]; !ok {
			names = append(names, name)
		}
	}
	slices.Sort(names)
	for _, name := range slices.Compact(names) {
		b, inBefore := before[name]
		a, inAfter := after[name]
		switch {
		case !inBefore:
			t.Errorf("the interrupted run left %s behind", name)
		case !inAfter:
			t.Errorf("the interrupted run removed %s", name)
		case a != b:
			t.Errorf("the interrupted run changed %s", name)
		}
	}
}

// blockedIn reports whether a thread of pid sleeps in the kernel function
// fn, as /proc/PID/task/TID/wchan shows.
func blockedIn(fn string) func(pid int) bool {
	return func(pid int) bool {
		tasks, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/wchan", pid))
		for _, w := range tasks {
			if b, err := os.ReadFile(w); err == nil && string(b) == fn {
				return true
			}
		}
		return false
	}
}

// hasOpen reports whether pid has path open.
func hasOpen(path string) func(pid int) bool {
	return func(pid int) bool {
		fds, _ := filepath.Glob(fmt.Sprintf("/proc/%d/fd/*", pid))
		for _, fd := range fds {
			if l, err := os.Readlink(fd); err == nil && l == path {
				return true
			}
		}
		return false
	}
}

// cpuBusy reports whether pid has used d of CPU time: it is past its start
// and working.
func cpuBusy(d time.Duration) func(pid int) bool {
	return func(pid int) bool {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil {
			return false
		}
		// Fields after the command name, which is in parentheses.
		f := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+1:]))
		if len(f) < 13 {
			return false
		}
		ut, _ := strconv.ParseInt(f[11], 10, 64)
		st, _ := strconv.ParseInt(f[12], 10, 64)
		return time.Duration(ut+st)*10*time.Millisecond >= d // USER_HZ is 100 on Linux
	}
}

func allOf(conds ...func(int) bool) func(int) bool {
	return func(pid int) bool {
		for _, c := range conds {
			if !c(pid) {
				return false
			}
		}
		return true
	}
}

// signalled is a ready check for a server: true once ch is closed.
func signalled(ch <-chan struct{}) func(int) bool {
	return func(int) bool {
		select {
		case <-ch:
			return true
		default:
			return false
		}
	}
}

// sigFixture is a directory with a key pair, a file and its key-signed
// bundle, a FIFO nobody writes, and an endless sparse file.
type sigFixture struct {
	dir, fifo, giant string
}

func newSigFixture(t *testing.T) sigFixture {
	t.Helper()
	dir := t.TempDir()
	for _, args := range [][]string{
		{"generate-key-pair", "--output-key-prefix", filepath.Join(dir, "k")},
		{"sign", "--key", filepath.Join(dir, "k.key"), "--tlog-upload=false", "--timestamp=false", filepath.Join(dir, "a.txt")},
	} {
		if args[0] == "sign" {
			if err := os.WriteFile(filepath.Join(dir, "a.txt"), []byte("release 1.0.0\n"), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		t.Setenv("HALLMARK_PASSWORD", "signal-test")
		if code, out, errs := run(t, args...); code != 0 {
			t.Fatalf("%s: exit %d\n%s%s", args[0], code, out, errs)
		}
	}
	fx := sigFixture{dir: dir, fifo: filepath.Join(dir, "fifo"), giant: filepath.Join(dir, "giant.bin")}
	if err := syscall.Mkfifo(fx.fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	// 64 GiB of holes: hashing them takes far longer than any test.
	f, err := os.Create(fx.giant)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(64 << 30); err != nil {
		t.Skipf("no sparse files here: %v", err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return fx
}

func eachSignal(t *testing.T, fn func(t *testing.T, sig syscall.Signal)) {
	for _, sig := range signals {
		t.Run(sigName(sig), func(t *testing.T) { fn(t, sig) })
	}
}

// TestSignalVerify: verify stops on a signal while it waits on a FIFO
// bundle or artifact, or hashes an endless artifact.
func TestSignalVerify(t *testing.T) {
	fx := newSigFixture(t)
	key := []string{"verify", "--key", "k.pub", "--insecure-ignore-tlog"}
	cases := []struct {
		name  string
		args  []string
		ready func(int) bool
	}{
		{"bundle FIFO", append(slices.Clone(key), "--bundle", fx.fifo, "a.txt"), blockedIn("wait_for_partner")},
		{"artifact FIFO", append(slices.Clone(key), "--bundle", "a.txt.sigstore.json", fx.fifo), blockedIn("wait_for_partner")},
		{"artifact endless", append(slices.Clone(key), "--bundle", "a.txt.sigstore.json", fx.giant), allOf(hasOpen(fx.giant), cpuBusy(300*time.Millisecond))},
		{"trusted root FIFO", []string{"verify", "--trusted-root", fx.fifo, "--certificate-identity", "alice@example.com",
			"--certificate-oidc-issuer", "https://issuer.example", "--bundle", "a.txt.sigstore.json", "a.txt"}, blockedIn("wait_for_partner")},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			eachSignal(t, func(t *testing.T, sig syscall.Signal) {
				interruptAndCheck(t, hostileRun{dir: fx.dir, args: c.args, ready: c.ready}, sig)
			})
		})
	}
}

// TestSignalVerifyDevZero: /dev/zero as a bundle is not JSON: rejected at
// once (exit 3), nothing to interrupt.
func TestSignalVerifyDevZero(t *testing.T) {
	fx := newSigFixture(t)
	done := make(chan struct{})
	var code int
	var errs string
	go func() {
		defer close(done)
		code, _, errs = run(t, "verify", "--key", filepath.Join(fx.dir, "k.pub"), "--insecure-ignore-tlog", "--bundle", "/dev/zero", filepath.Join(fx.dir, "a.txt"))
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("verify --bundle /dev/zero still runs after 10s")
	}
	if code != cli.ExitRejected || !strings.Contains(errs, "malformed bundle: not JSON") {
		t.Fatalf("verify --bundle /dev/zero: exit %d, want 3\n%s", code, errs)
	}
}

// TestSignalSign: sign stops on a signal while it hashes an endless file,
// writing no bundle.
func TestSignalSign(t *testing.T) {
	fx := newSigFixture(t)
	args := []string{"sign", "--key", "k.key", "--tlog-upload=false", "--timestamp=false", fx.giant}
	eachSignal(t, func(t *testing.T, sig syscall.Signal) {
		interruptAndCheck(t, hostileRun{dir: fx.dir, args: args, ready: allOf(hasOpen(fx.giant), cpuBusy(300*time.Millisecond))}, sig)
	})
}

// TestSignalSignKeyFIFO: a key read from a FIFO nobody writes (as
// --key <(command) would be, with a command that hangs).
func TestSignalSignKeyFIFO(t *testing.T) {
	fx := newSigFixture(t)
	args := []string{"sign", "--key", fx.fifo, "--tlog-upload=false", "--timestamp=false", "a.txt"}
	eachSignal(t, func(t *testing.T, sig syscall.Signal) {
		interruptAndCheck(t, hostileRun{dir: fx.dir, args: args, ready: blockedIn("wait_for_partner")}, sig)
	})
}

// TestSignalPasswordPrompt: generate-key-pair waiting at its password
// prompt on a terminal (a pseudo-terminal here) stops on a signal, writes
// no key, and leaves the terminal echoing again.
func TestSignalPasswordPrompt(t *testing.T) {
	eachSignal(t, func(t *testing.T, sig syscall.Signal) {
		dir := t.TempDir()
		var slave *os.File
		r := hostileRun{dir: dir, args: []string{"generate-key-pair", "--output-key-prefix", "k"}}
		var prompt lockedBuffer
		r.setup = func(t *testing.T, cmd *exec.Cmd) func() string {
			master, s, err := openPTY()
			if err != nil {
				t.Skipf("no pseudo-terminal: %v", err)
			}
			slave = s
			t.Cleanup(func() { _ = master.Close(); _ = slave.Close() })
			go func() { _, _ = io.Copy(&prompt, master) }()
			cmd.Stdin, cmd.Stderr = slave, slave
			// No password in the environment: hallmark must ask.
			cmd.Env = slices.DeleteFunc(cmd.Env, func(e string) bool { return strings.HasPrefix(e, "HALLMARK_PASSWORD=") })
			// What the process wrote reaches the master side a little
			// after it exits: give the copy time to catch up with the
			// final line.
			return func() string {
				for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
					if out := prompt.String(); strings.Contains(out, "hallmark: error: ") && strings.HasSuffix(out, "\n") {
						break
					}
				}
				return prompt.String()
			}
		}
		r.ready = func(int) bool { return strings.Contains(prompt.String(), "Enter password for private key: ") }
		interruptAndCheck(t, r, sig)
		tio, err := termios(slave)
		if err != nil {
			t.Fatal(err)
		}
		if tio.Lflag&syscall.ECHO == 0 {
			t.Error("the terminal was left without echo")
		}
	})
}

// openPTY opens a pseudo-terminal pair.
func openPTY() (master, slave *os.File, err error) {
	m, err := os.OpenFile("/dev/ptmx", os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		return nil, nil, err
	}
	var unlock int32
	if _, _, e := syscall.Syscall(syscall.SYS_IOCTL, m.Fd(), syscall.TIOCSPTLCK, uintptr(unsafe.Pointer(&unlock))); e != 0 {
		_ = m.Close()
		return nil, nil, e
	}
	var n uint32
	if _, _, e := syscall.Syscall(syscall.SYS_IOCTL, m.Fd(), syscall.TIOCGPTN, uintptr(unsafe.Pointer(&n))); e != 0 {
		_ = m.Close()
		return nil, nil, e
	}
	s, err := os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		_ = m.Close()
		return nil, nil, err
	}
	return m, s, nil
}

func termios(f *os.File) (*syscall.Termios, error) {
	var tio syscall.Termios
	if _, _, e := syscall.Syscall(syscall.SYS_IOCTL, f.Fd(), syscall.TCGETS, uintptr(unsafe.Pointer(&tio))); e != 0 {
		return nil, e
	}
	return &tio, nil
}

// hallmarkFrames keeps, of a goroutine dump, hallmark's own lines and the
// goroutine headers.
func hallmarkFrames(dump string) string {
	var keep []string
	for _, l := range strings.Split(dump, "\n") {
		if strings.HasPrefix(l, "goroutine ") || strings.HasPrefix(l, "hallmark") || strings.Contains(l, "/hallmark/") && !strings.HasPrefix(l, "\t") {
			keep = append(keep, l)
		}
	}
	if len(keep) > 80 {
		keep = keep[:80]
	}
	return strings.Join(keep, "\n")
}

// TestSignNotRegular: sign signs files: a FIFO or a device is refused at
// once (exit 1), without waiting for a writer or reading forever, and no
// bundle is written.
func TestSignNotRegular(t *testing.T) {
	fx := newSigFixture(t)
	for _, path := range []string{fx.fifo, "/dev/zero"} {
		bundle := filepath.Join(fx.dir, "out.json")
		done := make(chan struct{})
		var code int
		var errs string
		go func() {
			defer close(done)
			code, _, errs = run(t, "sign", "--key", filepath.Join(fx.dir, "k.key"), "--tlog-upload=false", "--timestamp=false", "--bundle", bundle, path)
		}()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Fatalf("sign %s still runs after 10s", path)
		}
		if code != cli.ExitError || !strings.Contains(errs, "not a regular file") {
			t.Errorf("sign %s: exit %d, want 1 and \"not a regular file\"\n%s", path, code, errs)
		}
		if _, err := os.Stat(bundle); err == nil {
			t.Errorf("sign %s wrote a bundle", path)
		}
	}
}

// hangingServer answers every request by calling arrived, then waits
// until the client goes away (or the test ends) without finishing the
// response: headers and a first part of the body when partial is set.
func hangingServer(t *testing.T, partial bool) (url string, arrived <-chan struct{}) {
	t.Helper()
	ch := make(chan struct{})
	var once sync.Once
	quit := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if partial {
			w.Header().Set("Content-Length", strconv.Itoa(1<<20)) // under every client cap, more than is sent
			w.WriteHeader(http.StatusOK)
			_, _ = w.Write(make([]byte, 4096))
			w.(http.Flusher).Flush()
		}
		once.Do(func() { close(ch) })
		select {
		case <-r.Context().Done():
		case <-quit:
		}
	}))
	t.Cleanup(func() {
		close(quit)
		srv.Close()
	})
	return srv.URL, ch
}

// TestSignalNetwork: commands that wait on a server that never finishes
// its answer stop on a signal.
func TestSignalNetwork(t *testing.T) {
	t.Run("db update", func(t *testing.T) {
		eachSignal(t, func(t *testing.T, sig syscall.Signal) {
			dir := t.TempDir()
			if code, out, errs := run(t, "db", "import", "--db", filepath.Join(dir, "db"), writeSmallZip(t, dir)); code != 0 {
				t.Fatalf("db import: exit %d\n%s%s", code, out, errs)
			}
			url, arrived := hangingServer(t, true)
			// The old database stays as it was.
			interruptAndCheck(t, hostileRun{dir: dir, args: []string{"db", "update", "--db", "db", "--base-url", url, "--ecosystem", "npm"},
				ready: signalled(arrived)}, sig)
		})
	})
	t.Run("trust update", func(t *testing.T) {
		repo := tuftest.New(t, map[string][]byte{"trusted_root.json": []byte("{}")})
		eachSignal(t, func(t *testing.T, sig syscall.Signal) {
			dir := t.TempDir()
			if err := os.WriteFile(filepath.Join(dir, "root.json"), repo.RootJSON, 0o644); err != nil {
				t.Fatal(err)
			}
			if err := os.Mkdir(filepath.Join(dir, "cache"), 0o755); err != nil {
				t.Fatal(err)
			}
			url, arrived := hangingServer(t, false)
			// go-tuf keeps its metadata in cache/tuf, starting with the
			// root it is given; the trust root verify uses is in
			// cache/trust, and must not appear.
			interruptAndCheck(t, hostileRun{dir: dir, args: []string{"trust", "update", "--tuf-mirror", url, "--tuf-root", "root.json"},
				ready: signalled(arrived), scratch: filepath.Join("cache", "tuf")}, sig)
		})
	})
	t.Run("sign keyless", func(t *testing.T) {
		st := signtest.New(t)
		eachSignal(t, func(t *testing.T, sig syscall.Signal) {
			dir := t.TempDir()
			tr, sc := st.WriteInstance(t, dir)
			tok := signtest.WriteFile(t, dir, "token", []byte(signtest.AliceToken()+"\n"))
			signtest.WriteFile(t, dir, "a.txt", []byte("a"))
			url, arrived := hangingServer(t, false)
			interruptAndCheck(t, hostileRun{dir: dir, args: []string{"sign", "--signing-config", sc, "--trusted-root", tr,
				"--identity-token", "@" + tok, "--oidc-disable-ambient-providers", "--fulcio-url", url, "a.txt"},
				ready: signalled(arrived)}, sig)
		})
	})
	t.Run("identity token FIFO", func(t *testing.T) {
		st := signtest.New(t)
		eachSignal(t, func(t *testing.T, sig syscall.Signal) {
			dir := t.TempDir()
			tr, sc := st.WriteInstance(t, dir)
			signtest.WriteFile(t, dir, "a.txt", []byte("a"))
			fifo := filepath.Join(dir, "token")
			if err := syscall.Mkfifo(fifo, 0o600); err != nil {
				t.Fatal(err)
			}
			interruptAndCheck(t, hostileRun{dir: dir, args: []string{"sign", "--signing-config", sc, "--trusted-root", tr,
				"--identity-token", "@" + fifo, "--oidc-disable-ambient-providers", "a.txt"},
				ready: blockedIn("wait_for_partner")}, sig)
		})
	})
}

// osvRecord is a small OSV record of an npm package.
func osvRecord(i int) []byte {
	return fmt.Appendf(nil, `{"id":"GHSA-sig%04d-%04d-test","modified":"2026-10-01T00:00:00Z","summary":"a test record",`+
		`"affected":[{"package":{"ecosystem":"npm","name":"pkg-%d"},"ranges":[{"type":"SEMVER","events":[{"introduced":"0"},{"fixed":"1.0.1"}]}]}]}`,
		i/10000, i%10000, i)
}

func writeOSVZip(t *testing.T, path string, n int) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	zw := zip.NewWriter(f)
	for i := range n {
		// Stored, not deflated: making the export must not take longer
		// than importing it.
		w, err := zw.CreateHeader(&zip.FileHeader{Name: fmt.Sprintf("GHSA-%d.json", i), Method: zip.Store})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write(osvRecord(i)); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

// writeLockfile writes an npm package-lock.json (v3) of n packages.
func writeLockfile(t *testing.T, path string, n int) {
	t.Helper()
	var b bytes.Buffer
	b.WriteString(`{"name":"big","version":"1.0.0","lockfileVersion":3,"requires":true,"packages":{"":{"name":"big","version":"1.0.0"}`)
	for i := range n {
		fmt.Fprintf(&b, `,"node_modules/pkg-%d":{"version":"1.0.%d","resolved":"https://registry.npmjs.org/pkg-%d/-/pkg-%d-1.0.%d.tgz"}`, i, i%3, i, i, i%3)
	}
	b.WriteString("}}\n")
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestSignalDatabase: db import of a large export stops on a signal and
// leaves the database it had; so does a scan of a huge lockfile.
func TestSignalDatabase(t *testing.T) {
	if testing.Short() {
		t.Skip("makes a large export and lockfile")
	}
	dir := t.TempDir()
	small, big := filepath.Join(dir, "small.zip"), filepath.Join(dir, "big.zip")
	writeOSVZip(t, small, 3)
	writeOSVZip(t, big, 200_000)
	if code, out, errs := run(t, "db", "import", "--db", filepath.Join(dir, "db"), small); code != 0 {
		t.Fatalf("db import: exit %d\n%s%s", code, out, errs)
	}
	lock := filepath.Join(dir, "app", "package-lock.json")
	if err := os.MkdirAll(filepath.Dir(lock), 0o755); err != nil {
		t.Fatal(err)
	}
	writeLockfile(t, lock, 600_000)

	t.Run("db import", func(t *testing.T) {
		eachSignal(t, func(t *testing.T, sig syscall.Signal) {
			interruptAndCheck(t, hostileRun{dir: dir, args: []string{"db", "import", "--db", "db", big},
				ready: allOf(hasOpen(big), cpuBusy(300*time.Millisecond))}, sig)
		})
	})
	t.Run("scan huge lockfile", func(t *testing.T) {
		eachSignal(t, func(t *testing.T, sig syscall.Signal) {
			interruptAndCheck(t, hostileRun{dir: dir, args: []string{"scan", "--offline", "--db", "db", "--output-file", "report.json", "-o", "json", lock},
				ready: cpuBusy(500 * time.Millisecond)}, sig)
		})
	})
}

// TestSignalScanFIFO: a lockfile that is a FIFO nobody writes. It should
// be refused at once (internal/extract refuses FIFOs); while it is not, a
// signal must still stop the scan.
func TestSignalScanFIFO(t *testing.T) {
	dir := t.TempDir()
	if code, out, errs := run(t, "db", "import", "--db", filepath.Join(dir, "db"), writeSmallZip(t, dir)); code != 0 {
		t.Fatalf("db import: exit %d\n%s%s", code, out, errs)
	}
	fifo := filepath.Join(dir, "package-lock.json")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	var code int
	var errs string
	go func() {
		defer close(done)
		code, _, errs = run(t, "scan", "--offline", "--db", filepath.Join(dir, "db"), fifo)
	}()
	select {
	case <-done:
		if code != cli.ExitError {
			t.Errorf("scan FIFO: exit %d, want 1\n%s", code, errs)
		}
		return
	case <-time.After(2 * time.Second):
		// Still blocked: unblock the in-process run, then check that a
		// signal stops the real one.
		if f, err := os.OpenFile(fifo, os.O_WRONLY, 0); err == nil {
			_ = f.Close()
		}
		<-done
		t.Errorf("scan FIFO did not refuse the FIFO within 2s: it waits for a writer")
	}
	eachSignal(t, func(t *testing.T, sig syscall.Signal) {
		interruptAndCheck(t, hostileRun{dir: dir, args: []string{"scan", "--offline", "--db", "db", fifo}, ready: blockedIn("wait_for_partner")}, sig)
	})
}

func writeSmallZip(t *testing.T, dir string) string {
	p := filepath.Join(dir, "small.zip")
	writeOSVZip(t, p, 3)
	return p
}
