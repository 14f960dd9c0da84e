package cli

import (
	"bufio"
	"bytes"
	"fmt"
	"log"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
)

// TestMain lets the test binary act as hallmark (cli.Main) when
// HALLMARK_CLI_TEST_MAIN is set, so that a test can watch the real stderr.
func TestMain(m *testing.M) {
	if os.Getenv("HALLMARK_CLI_TEST_MAIN") == "1" {
		os.Exit(Main())
	}
	os.Exit(m.Run())
}

// Text that libraries write to os.Stderr or the standard logger on their
// own reaches stderr only with --verbose, marked as a library's.
func TestCaptureLibraryOutput(t *testing.T) {
	const line = "Failed to verify signature with default verifier, trying compatibility verifier"
	for _, verbose := range []bool{false, true} {
		t.Run(fmt.Sprintf("verbose=%v", verbose), func(t *testing.T) {
			var out bytes.Buffer
			var v atomic.Bool
			v.Store(verbose)
			stderr, logOut := os.Stderr, log.Writer()
			restore := captureLibraryOutput(&out, &v)
			fmt.Fprint(os.Stderr, line+"\n")
			log.Print("a library log line")
			restore()
			if os.Stderr != stderr || log.Writer() != logOut {
				t.Fatal("os.Stderr or the standard logger was not restored")
			}
			got := out.String()
			switch {
			case !verbose && got != "":
				t.Errorf("without --verbose, output = %q, want none", got)
			case verbose && (!strings.HasPrefix(got, "hallmark: library: "+line+"\nhallmark: library: ") ||
				!strings.HasSuffix(got, " a library log line\n")):
				t.Errorf("with --verbose, output = %q, want both lines marked as a library's", got)
			}
		})
	}
}

// A real CPython release bundle (P-384 certificate over a SHA-256 digest)
// makes sigstore-go print its compatibility-verifier message: hallmark's
// stderr stays its own, and --verbose shows the message as a library's.
func TestMainLibraryOutputOffStderr(t *testing.T) {
	data := filepath.Join("..", "..", "..", "shared", "conformance", "data")
	manifest := filepath.Join(data, "cpython-release", "manifest.tsv")
	f, err := os.Open(manifest)
	if err != nil {
		t.Skipf("no CPython release bundles (%v): ../shared is absent", err)
	}
	defer f.Close()
	var fields []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if strings.HasPrefix(sc.Text(), "cpython-3.10.1\t") {
			fields = strings.Split(sc.Text(), "\t")
		}
	}
	if len(fields) < 12 {
		t.Fatalf("%s has no usable cpython-3.10.1 line", manifest)
	}
	for _, verbose := range []bool{false, true} {
		args := []string{"verify", "--offline", "--trusted-root", filepath.Join(data, "_production", "trusted_root.json"),
			"--certificate-identity", fields[7], "--certificate-oidc-issuer", fields[8],
			"--bundle", filepath.Join(data, "cpython-release", fields[2]), fields[11]}
		if verbose {
			args = append(args, "--verbose")
		}
		cmd := exec.Command(os.Args[0], args...)
		cmd.Env = append(os.Environ(), "HALLMARK_CLI_TEST_MAIN=1", "HALLMARK_CACHE_DIR="+t.TempDir())
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		if err := cmd.Run(); err != nil {
			t.Fatalf("hallmark %v: %v\nstderr:\n%s", args, err, stderr.String())
		}
		if !strings.HasPrefix(stdout.String(), "OK ") {
			t.Errorf("stdout = %q, want OK", stdout.String())
		}
		for _, l := range strings.Split(strings.TrimSpace(stderr.String()), "\n") {
			if l != "" && !strings.HasPrefix(l, "hallmark: ") {
				t.Errorf("verbose=%v: stderr line %q is not hallmark's", verbose, l)
			}
		}
		hasLib := strings.Contains(stderr.String(), "hallmark: library: Failed to verify signature with default verifier")
		if hasLib != verbose {
			t.Errorf("verbose=%v: stderr = %q", verbose, stderr.String())
		}
	}
}

func TestMayBeVerbose(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want bool
	}{
		{[]string{"verify", "--bundle", "b.json", "a"}, false},
		{[]string{"verify", "--verbose", "a"}, true},
		{[]string{"verify", "--verbose=true", "a"}, true},
		{[]string{"verify", "--verbose=false", "a"}, true}, // parsed by cobra, not here
		{[]string{"-v", "verify"}, true},
		{[]string{"scan", "-qv", "dir"}, true},
		{[]string{"verify", "--", "-v"}, false},
		{[]string{"verify", "--verbosity", "a"}, false},
		{[]string{"verify", "--offline", "v"}, false},
		{[]string{"verify", "-ofile-v"}, true}, // an attached value with a v errs on yes
		{nil, false},
	} {
		if got := mayBeVerbose(tc.args); got != tc.want {
			t.Errorf("mayBeVerbose(%q) = %v, want %v", tc.args, got, tc.want)
		}
	}
}
