package attest

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"unicode/utf8"

	"github.com/bmatcuk/doublestar/v4"

	"github.com/hallmark-dev/hallmark/internal/ctxio"
)

// Errors of the step runner's globs. Each is wrapped with the glob or the
// file it concerns; check them with errors.Is.
var (
	// ErrGlobBadPattern: a glob that is malformed, absolute, or leads
	// outside the step's directory.
	ErrGlobBadPattern = errors.New("invalid glob")
	// ErrGlobNoMatch: a glob matches no file.
	ErrGlobNoMatch = errors.New("glob matches no file")
	// ErrSymlinkOutside: a matched symbolic link leads outside the step's
	// directory; it is never followed nor hashed.
	ErrSymlinkOutside = errors.New("symbolic link leads outside the step's directory")
	// ErrSymlinkCycle: a matched symbolic link leads to a directory that
	// contains it.
	ErrSymlinkCycle = errors.New("symbolic link leads to a directory that contains it")
	// ErrNotRegularFile: a matched file is a device, a socket or a pipe.
	ErrNotRegularFile = ctxio.ErrNotRegular
	// ErrFileName: a matched file's name is not UTF-8, so no in-toto
	// statement (JSON) can hold it exactly.
	ErrFileName = errors.New("file name is not valid UTF-8")
)

// A glob, as the step runner reads it (github.com/bmatcuk/doublestar/v4
// syntax, with '/' as the separator on every system):
//
//   - `*` matches any run of characters but '/', `?` one character but '/',
//     `[abc]`, `[a-z]` and `[^a]` (or `[!a]`) one character of a class,
//     `{a,b}` either alternative, and `\` escapes the next character;
//   - `**` as a whole path segment matches any number of directories,
//     none included;
//   - a glob that matches a directory matches every file under it, so
//     `dist` is all of dist and `.` is the whole directory;
//   - globs are relative to the step's directory: an absolute glob, or
//     one that climbs out of it with `..`, is refused.
//
// Only regular files are recorded. A symbolic link is followed when it
// stays inside the step's directory (the file is recorded under the link's
// name) and refused when it leads outside it or into a directory that
// contains it.

// globFile is one matched file: its name relative to the step's
// directory, with forward slashes, and the path to open.
type globFile struct {
	name string
	path string
}

// cleanGlob checks a glob and returns it in the form it is matched in.
func cleanGlob(p string) (string, error) {
	if p == "" {
		return "", fmt.Errorf("%w: an empty glob", ErrGlobBadPattern)
	}
	s := filepath.ToSlash(p)
	if path.IsAbs(s) || filepath.IsAbs(p) || filepath.VolumeName(p) != "" {
		return "", fmt.Errorf("%w %q: globs are relative to the step's directory", ErrGlobBadPattern, p)
	}
	c := path.Clean(s)
	if c == ".." || strings.HasPrefix(c, "../") {
		return "", fmt.Errorf("%w %q: it leads outside the step's directory", ErrGlobBadPattern, p)
	}
	if !doublestar.ValidatePattern(c) {
		return "", fmt.Errorf("%w %q: malformed pattern", ErrGlobBadPattern, p)
	}
	if c == "." {
		c = "**"
	}
	return c, nil
}

// matchPath reports whether the cleaned glob pat matches name (relative,
// forward slashes) or one of the directories that hold it.
func matchPath(pat, name string) bool {
	if doublestar.MatchUnvalidated(pat, name) {
		return true
	}
	for i := 0; i < len(name); i++ {
		if name[i] == '/' && doublestar.MatchUnvalidated(pat, name[:i]) {
			return true
		}
	}
	return false
}

// mayMatchUnder reports whether pat can match the directory dir, one of
// its parents, or something under it: whether a walk must go into dir. It
// answers yes when unsure: alternatives, classes and escapes may hold a
// '/', so splitting the glob at each '/' would misread them.
func mayMatchUnder(pat, dir string) bool {
	if strings.ContainsAny(pat, `{[\`) {
		return true
	}
	ps := strings.Split(pat, "/")
	ds := strings.Split(dir, "/")
	for i, d := range ds {
		if i >= len(ps) {
			return true // the glob matched a parent of dir
		}
		if ps[i] == "**" {
			return true
		}
		if !doublestar.MatchUnvalidated(ps[i], d) {
			return false
		}
	}
	return true
}

// hasMeta reports whether a glob segment holds a special character.
func hasMeta(s string) bool { return strings.ContainsAny(s, `*?[]{}\`) }

// escapeGlob returns a glob that matches exactly the name.
func escapeGlob(name string) string {
	var b strings.Builder
	for i := 0; i < len(name); i++ {
		if strings.IndexByte(`*?[]{}\`, name[i]) >= 0 {
			b.WriteByte('\\')
		}
		b.WriteByte(name[i])
	}
	return b.String()
}

// globWalker collects the files one glob matches under root.
type globWalker struct {
	root  string // the step's directory, absolute, symbolic links resolved
	pat   string
	files map[string]string // name -> path to open
	errs  []error
}

// within reports whether the real path p is root or under it.
func within(root, p string) bool {
	rel, err := filepath.Rel(root, p)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)) && !filepath.IsAbs(rel)
}

func (w *globWalker) fail(err error) { w.errs = append(w.errs, err) }

// add records a matched regular file.
func (w *globWalker) add(name, real string) {
	if !utf8.ValidString(name) {
		w.fail(fmt.Errorf("%w: %q", ErrFileName, name))
		return
	}
	w.files[name] = real
}

// outside names the first symbolic link of the path segs that leads
// outside the root.
func (w *globWalker) outside(segs []string) error {
	for i := range segs {
		name := strings.Join(segs[:i+1], "/")
		r, err := filepath.EvalSymlinks(filepath.Join(w.root, filepath.FromSlash(name)))
		if err == nil && !within(w.root, r) {
			return fmt.Errorf("%w: %q leads to %q", ErrSymlinkOutside, name, r)
		}
	}
	return fmt.Errorf("%w: %q", ErrSymlinkOutside, strings.Join(segs, "/"))
}

// start resolves the glob's literal leading directories and walks from
// there.
func (w *globWalker) start() {
	segs := strings.Split(w.pat, "/")
	n := 0
	for n < len(segs) && !hasMeta(segs[n]) {
		n++
	}
	base := strings.Join(segs[:n], "/")
	real := w.root
	if base != "" {
		p := filepath.Join(w.root, filepath.FromSlash(base))
		if _, err := os.Lstat(p); errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR) {
			return // nothing there: no match
		}
		r, err := filepath.EvalSymlinks(p)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			w.fail(fmt.Errorf("%q: a symbolic link to nothing: %w", base, err))
			return
		case err != nil:
			w.fail(fmt.Errorf("%q: %w", base, err))
			return
		case !within(w.root, r):
			w.fail(w.outside(segs[:n]))
			return
		}
		real = r
	}
	w.visit(real, base, []string{w.root})
}

// visit records real (known as name) if it is a matched file, and walks
// it if it is a directory the glob may match under. ancestors are the real
// directories above it, to refuse link cycles.
func (w *globWalker) visit(real, name string, ancestors []string) {
	fi, err := os.Stat(real)
	if err != nil {
		w.fail(fmt.Errorf("%q: %w", name, err))
		return
	}
	switch {
	case fi.IsDir():
		for _, a := range ancestors {
			if a == real && name != "" {
				w.fail(fmt.Errorf("%w: %q", ErrSymlinkCycle, name))
				return
			}
		}
		w.walk(real, name, append(ancestors[:len(ancestors):len(ancestors)], real))
	case fi.Mode().IsRegular():
		if matchPath(w.pat, name) {
			w.add(name, real)
		}
	default:
		if matchPath(w.pat, name) {
			w.fail(fmt.Errorf("%w: %q is %v", ErrNotRegularFile, name, fi.Mode().Type()))
		}
	}
}

// walk goes through the directory real, known as name ("" for the root).
func (w *globWalker) walk(real, name string, ancestors []string) {
	entries, err := os.ReadDir(real)
	if err != nil {
		w.fail(fmt.Errorf("%q: %w", displayName(name), err))
		return
	}
	for _, e := range entries {
		ename := e.Name()
		if name != "" {
			ename = name + "/" + ename
		}
		epath := filepath.Join(real, e.Name())
		matched := matchPath(w.pat, ename)
		switch t := e.Type(); {
		case t&fs.ModeSymlink != 0:
			if !matched && !mayMatchUnder(w.pat, ename) {
				continue
			}
			target, err := filepath.EvalSymlinks(epath)
			if err != nil {
				w.fail(fmt.Errorf("%q: a symbolic link that cannot be followed: %w", ename, err))
				continue
			}
			if !within(w.root, target) {
				w.fail(fmt.Errorf("%w: %q leads to %q", ErrSymlinkOutside, ename, target))
				continue
			}
			w.visit(target, ename, ancestors)
		case t.IsDir():
			if mayMatchUnder(w.pat, ename) {
				w.walk(epath, ename, append(ancestors[:len(ancestors):len(ancestors)], epath))
			}
		case t.IsRegular():
			if matched {
				w.add(ename, epath)
			}
		default:
			if matched {
				w.fail(fmt.Errorf("%w: %q is %v", ErrNotRegularFile, ename, t))
			}
		}
	}
}

func displayName(name string) string {
	if name == "" {
		return "."
	}
	return name
}

// collectGlobs returns the files the globs match under root (absolute,
// symbolic links resolved), sorted by name, each once. With mustMatch a
// glob that matches nothing is an error naming it. Every problem found is
// returned, joined.
func collectGlobs(root string, globs []string, mustMatch bool) ([]globFile, error) {
	all := map[string]string{}
	var errs []error
	for _, g := range globs {
		pat, err := cleanGlob(g)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		w := &globWalker{root: root, pat: pat, files: map[string]string{}}
		w.start()
		errs = append(errs, w.errs...)
		if len(w.files) == 0 && len(w.errs) == 0 && mustMatch {
			errs = append(errs, fmt.Errorf("%w: %q", ErrGlobNoMatch, g))
		}
		for n, p := range w.files {
			all[n] = p
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	out := make([]globFile, 0, len(all))
	for n, p := range all {
		out = append(out, globFile{name: n, path: p})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].name < out[j].name })
	return out, nil
}
