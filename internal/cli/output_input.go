package cli

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"unicode/utf8"

	"github.com/hallmark-dev/hallmark/internal/termtext"
)

// sameFileAs names the first of inputs that out is (the same file, by
// device and inode, through any link), or "": writing out, which replaces
// it, would then destroy an input of the run, such as the lockfile scanned,
// the signing key or the bundle verified. out is taken as it is (a
// symbolic link out is replaced, not followed); an input through the links
// it is read by.
func sameFileAs(out string, inputs ...string) string {
	oi, err := os.Lstat(out)
	if err != nil {
		return "" // a new file is no input
	}
	for _, in := range inputs {
		if in == "" || in == "-" {
			continue
		}
		for _, stat := range []func(string) (os.FileInfo, error){os.Stat, os.Lstat} {
			if ii, err := stat(in); err == nil && os.SameFile(oi, ii) {
				return in
			}
		}
	}
	return ""
}

// refuseInputAsOutput is a usage error when the output file of flag is one
// of the run's inputs.
func refuseInputAsOutput(flag, out string, inputs ...string) error {
	in := sameFileAs(out, inputs...)
	if in == "" {
		return nil
	}
	what := "is"
	if in != out {
		what = "is the same file as " + termtext.Quote(in) + ","
	}
	return usageError(fmt.Errorf("%s %s %s an input of this run: writing it would destroy it", flag, termtext.Quote(out), what),
		fmt.Sprintf("name another file with %s OUT", flag))
}

// inputsOf gathers file inputs: single paths and lists of them.
func inputsOf(paths []string, more ...string) []string {
	return append(append([]string{}, paths...), more...)
}

// checkOutputDir is a usage error when the directory out is to be written
// in does not exist or is no directory: found before anything is scanned,
// verified or signed (a keyless signature is logged publicly for good),
// not when the result is to be written.
func checkOutputDir(flag, out string) error {
	dir := filepath.Dir(out)
	fi, err := os.Stat(dir)
	switch {
	case err != nil && errors.Is(err, fs.ErrNotExist):
		return usageError(fmt.Errorf("%s %s: the directory %s does not exist", flag, termtext.Quote(out), termtext.Quote(dir)),
			fmt.Sprintf("create it first, or name a file in an existing directory with %s OUT", flag))
	case err != nil:
		return withHint(fmt.Errorf("%s %s: %w", flag, termtext.Quote(out), err), fmt.Sprintf("name a file in a directory you can write with %s OUT", flag))
	case !fi.IsDir():
		return usageError(fmt.Errorf("%s %s: %s is not a directory", flag, termtext.Quote(out), termtext.Quote(dir)),
			fmt.Sprintf("name a file in an existing directory with %s OUT", flag))
	}
	return nil
}

// utf8Name is a file name as a signed statement may hold it: protobuf
// strings (in-toto statements, SLSA summaries) must be valid UTF-8, and a
// name that is not (Linux allows any bytes) has each invalid byte written
// %XX instead, as in a URI. A valid name is returned unchanged.
func utf8Name(s string) string {
	if utf8.ValidString(s) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && n == 1 {
			fmt.Fprintf(&b, "%%%02X", s[i])
		} else {
			b.WriteString(s[i : i+n])
		}
		i += n
	}
	return b.String()
}
