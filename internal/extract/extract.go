// Package extract turns lockfiles, manifests, SBOMs and directories into the
// packages hallmark scans, using the filesystem extractors of osv-scalibr
// (the extraction engine under osv-scanner v2).
//
// The extractors are imported one by one (see [Formats]) rather than through
// osv-scalibr's plugin lists or osv-scanner's library layer, whose package
// initialisation would cost every hallmark process ~140 ms; building the
// extractors is deferred to the first call.
//
// Conventions, shared with osv-scanner where users know them:
//   - Ecosystems are OSV ecosystem names (npm, PyPI, Go, Maven, crates.io,
//     RubyGems, Packagist, NuGet, Pub, Hex, CRAN, SwiftURL, ConanCenter, ...).
//   - go.mod's go (or toolchain) directive is the package "stdlib" in Go.
//   - A requirement that is not an exact pin (requirements.txt ">=", "~=",
//     "<", "!=", wildcards, a bare name; an unresolved Maven property) keeps
//     Version empty and the specifier in Requirement: it is reported as
//     unpinned and never matched as its floor (osv-scanner#3025).
//   - Dependency groups (npm prod/dev/optional/peer, Maven scopes, Python and
//     Composer dev groups) are kept in DepGroups; [Options.NoDev] drops the
//     packages that are only in development groups.
package extract

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"

	"github.com/go-git/go-git/v5/plumbing/format/gitignore"
	"github.com/google/osv-scalibr/extractor/filesystem"
	scalibrfs "github.com/google/osv-scalibr/fs"
	"github.com/google/osv-scalibr/inventory"

	"github.com/hallmark-dev/hallmark/pkg/scan"
)

// Options tunes an extraction. The zero value is the default: directories are
// walked recursively, honouring .gitignore, and every dependency group kept.
type Options struct {
	// NoDev drops packages that belong only to development dependency groups
	// (npm/Composer/Python/Pub "dev", Maven "test").
	NoDev bool
	// NoGitignore walks files that .gitignore files exclude.
	NoGitignore bool
	// SkipDirs are directory names never descended into; nil means
	// [DefaultSkipDirs]. Directories given explicitly are always read.
	SkipDirs []string
}

// DefaultSkipDirs are the directory names a walk does not descend into:
// version-control metadata and installed or vendored dependency trees, whose
// manifests describe packages the project's own lockfile already pins.
var DefaultSkipDirs = []string{".git", ".hg", ".svn", "node_modules", "vendor", "bower_components", ".venv", "__pycache__"}

// Result is what an extraction found.
type Result struct {
	// Packages found, ordered by location path, ecosystem, name, version.
	Packages []scan.Package `json:"packages"`
	// Files that an extractor read, in walk order.
	Files []FileResult `json:"files"`
	// Warnings are problems that did not stop the extraction (an unreadable
	// directory inside a walk, SBOM components without a package URL).
	Warnings []string `json:"warnings,omitempty"`
	// Failures are the files that were found but could not be read or
	// parsed.
	Failures []FileFailure `json:"failures,omitempty"`
}

// FileResult records one file read by one extractor.
type FileResult struct {
	// Path relative to the scanned root (as given, for files named
	// explicitly).
	Path string `json:"path"`
	// Extractor is the osv-scalibr extractor name ("javascript/packagelockjson").
	Extractor string `json:"extractor"`
	// Packages is how many packages the file contributed after filtering.
	Packages int `json:"packages"`
}

// FileFailure is a file that was found but could not be read or parsed.
type FileFailure struct {
	// Path is the file as displayed in Result.
	Path string `json:"path"`
	// Extractor is the format that was tried, empty when none was.
	Extractor string `json:"extractor,omitempty"`
	// Reason says in words why the file could not be read.
	Reason string `json:"reason"`
}

var (
	// ErrUnknownFormat is the cause of a [FileError] for a file given
	// explicitly that no extractor recognises.
	ErrUnknownFormat = errors.New("not a recognised lockfile, manifest or SBOM")
	// ErrMalformed is the cause of a [FileError] for a file an extractor
	// could not parse (including an extractor that panicked on it).
	ErrMalformed = errors.New("malformed")
)

// FileError is an error about one file. errors.Is(err, ErrUnknownFormat) and
// errors.Is(err, ErrMalformed) classify it.
type FileError struct {
	Path      string // as displayed in Result
	Extractor string // empty when no extractor was involved
	Kind      error  // ErrUnknownFormat, ErrMalformed, or nil (I/O errors)
	Err       error  // the underlying error, if any
}

func (e *FileError) Error() string {
	switch {
	case e.Kind == ErrUnknownFormat && e.Err != nil:
		return fmt.Sprintf("%s: %v", e.Path, e.Err)
	case e.Kind == ErrUnknownFormat:
		return fmt.Sprintf("%s: %v", e.Path, ErrUnknownFormat)
	case e.Kind == ErrMalformed:
		return fmt.Sprintf("%s: malformed %s: %v", e.Path, formatNoun(e.Extractor), e.Err)
	default:
		return fmt.Sprintf("%s: %v", e.Path, e.Err)
	}
}

// Unwrap returns the classification and the underlying error.
func (e *FileError) Unwrap() []error {
	var errs []error
	if e.Kind != nil {
		errs = append(errs, e.Kind)
	}
	if e.Err != nil {
		errs = append(errs, e.Err)
	}
	return errs
}

// formatNoun turns "javascript/packagelockjson" into "packagelockjson file".
func formatNoun(extractor string) string {
	if extractor == "" {
		return "file"
	}
	return path.Base(extractor) + " file"
}

// Extract reads every path: a file must be in a format an extractor
// recognises (otherwise a [FileError] wrapping [ErrUnknownFormat]); a
// directory is walked recursively and files no extractor recognises are
// skipped. A directory with nothing recognised is not an error: the result
// is simply empty. A file an extractor cannot parse is a [FileError]
// wrapping [ErrMalformed]; the walk goes on and every such error is
// returned, joined, with the partial result.
func Extract(ctx context.Context, paths []string, opts Options) (*Result, error) {
	exs, err := extractors()
	if err != nil {
		return nil, fmt.Errorf("initialising extractors: %w", err)
	}
	x := &run{ctx: ctx, opts: opts, exs: exs, res: &Result{}}
	x.skip = opts.SkipDirs
	if x.skip == nil {
		x.skip = DefaultSkipDirs
	}
	var errs []error
	for _, p := range paths {
		if err := ctx.Err(); err != nil {
			return x.res, err
		}
		if err := x.extractPath(p); err != nil {
			errs = append(errs, err)
		}
	}
	x.finish()
	return x.res, errors.Join(errs...)
}

type run struct {
	ctx  context.Context
	opts Options
	exs  []loaded
	skip []string
	res  *Result
	errs []error
}

// input is one path given to Extract: absolute paths are shown relative to
// base, prefixed with prefix.
type input struct {
	base   string // absolute directory
	prefix string // display prefix ("" or the directory as the user wrote it)
	// fsRoot confines what extractors may open besides the file itself
	// (a pom.xml's parent, a requirements file's -r include): the
	// enclosing git work tree, else base.
	fsRoot string
	fsys   scalibrfs.FS
}

func newInput(base, prefix string) input {
	root := projectRoot(base)
	return input{base: base, prefix: prefix, fsRoot: root, fsys: scalibrfs.DirFS(root)}
}

// projectRoot returns the top of the git work tree holding dir, or dir
// itself outside one. Extractors follow references in the files they read
// (pom.xml parents, requirements -r includes); confining them to the
// project keeps a hostile lockfile from pulling files such as ~/.netrc into
// a report.
func projectRoot(dir string) string {
	for d := dir; ; {
		if _, err := os.Lstat(filepath.Join(d, ".git")); err == nil {
			return d
		}
		parent := filepath.Dir(d)
		if parent == d {
			return dir
		}
		d = parent
	}
}

// contains reports whether the link target of abs lies inside the project.
func (in input) contains(abs string) bool {
	target, err := filepath.EvalSymlinks(abs)
	if err != nil {
		return false
	}
	root, err := filepath.EvalSymlinks(in.fsRoot)
	if err != nil {
		return false
	}
	rel, err := filepath.Rel(root, target)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator))
}

func (in input) display(abs string) string {
	rel, err := filepath.Rel(in.base, abs)
	if err != nil {
		rel = abs
	}
	return path.Join(filepath.ToSlash(in.prefix), filepath.ToSlash(rel))
}

func (x *run) extractPath(p string) error {
	abs, err := filepath.Abs(p)
	if err != nil {
		return fmt.Errorf("%s: %w", p, err)
	}
	info, err := os.Stat(abs)
	if err != nil {
		return err // *fs.PathError names the path
	}
	if info.IsDir() {
		in := newInput(abs, "")
		x.errs = nil
		rel, patterns := x.parentGitignores(in)
		if err := x.walk(in, abs, rel, patterns); err != nil {
			return err
		}
		return errors.Join(x.errs...)
	}
	dir := filepath.Dir(filepath.Clean(p))
	if dir == "." {
		dir = ""
	}
	in := newInput(filepath.Dir(abs), dir)
	matched, err := x.extractFile(in, abs, info)
	if err != nil {
		return err
	}
	if !matched {
		return &FileError{Path: in.display(abs), Kind: ErrUnknownFormat}
	}
	return nil
}

// walk reads the directory abs (rel are its path components below the
// project root) with the .gitignore patterns of its ancestors.
func (x *run) walk(in input, abs string, rel []string, patterns []gitignore.Pattern) error {
	if err := x.ctx.Err(); err != nil {
		return err
	}
	entries, err := os.ReadDir(abs)
	if err != nil {
		if abs == in.base {
			return err
		}
		x.res.Warnings = append(x.res.Warnings, fmt.Sprintf("skipping directory %s: %v", in.display(abs), errors.Unwrap(err)))
		return nil
	}
	if !x.opts.NoGitignore {
		patterns = append(slices.Clip(patterns), readGitignore(filepath.Join(abs, ".gitignore"), rel)...)
	}
	matcher := gitignore.NewMatcher(patterns)
	for _, e := range entries {
		name := e.Name()
		child := filepath.Join(abs, name)
		childRel := append(slices.Clip(rel), name)
		typ := e.Type()
		var info fs.FileInfo
		if typ&fs.ModeSymlink != 0 {
			// Follow links to files inside the project, never links to
			// directories: a walk cannot loop, a linked lockfile is still
			// read, and a hostile link cannot pull in ~/.netrc.
			if info, err = os.Stat(child); err != nil || !info.Mode().IsRegular() || !in.contains(child) {
				continue
			}
			typ = 0
		}
		switch {
		case typ.IsDir():
			if slices.Contains(x.skip, name) || matcher.Match(childRel, true) {
				continue
			}
			if err := x.walk(in, child, childRel, patterns); err != nil {
				return err
			}
		case typ.IsRegular():
			if matcher.Match(childRel, false) {
				continue
			}
			if _, err := x.extractFile(in, child, info); err != nil {
				x.errs = append(x.errs, err)
			}
		}
	}
	return nil
}

// parentGitignores returns the path components of the scanned directory
// below the project root and the patterns of the .gitignore files above it
// in the project, so that a walk of a subdirectory ignores what git does.
func (x *run) parentGitignores(in input) ([]string, []gitignore.Pattern) {
	relPath, err := filepath.Rel(in.fsRoot, in.base)
	if err != nil || relPath == "." {
		return []string{}, nil
	}
	rel := strings.Split(filepath.ToSlash(relPath), "/")
	if x.opts.NoGitignore {
		return rel, nil
	}
	var patterns []gitignore.Pattern
	dir := in.fsRoot
	for i := range rel {
		patterns = append(patterns, readGitignore(filepath.Join(dir, ".gitignore"), rel[:i])...)
		dir = filepath.Join(dir, rel[i])
	}
	return rel, patterns
}

func readGitignore(file string, domain []string) []gitignore.Pattern {
	b, err := os.ReadFile(file)
	if err != nil {
		return nil
	}
	var ps []gitignore.Pattern
	for line := range strings.SplitSeq(string(b), "\n") {
		line = strings.TrimSuffix(line, "\r")
		if strings.HasPrefix(line, "#") || strings.TrimSpace(line) == "" {
			continue
		}
		ps = append(ps, gitignore.ParsePattern(line, slices.Clone(domain)))
	}
	return ps
}

type fileAPI struct {
	path string
	abs  string
	info fs.FileInfo
}

func (f *fileAPI) Path() string { return f.path }
func (f *fileAPI) Stat() (fs.FileInfo, error) {
	if f.info == nil {
		info, err := os.Stat(f.abs)
		if err != nil {
			return nil, err
		}
		f.info = info
	}
	return f.info, nil
}

// extractFile runs every extractor that recognises the file; matched
// reports whether any did.
func (x *run) extractFile(in input, abs string, info fs.FileInfo) (matched bool, err error) {
	fsys, root := in.fsys, in.fsRoot
	rel, err := filepath.Rel(root, abs)
	if err != nil {
		return false, err
	}
	rel = filepath.ToSlash(rel)
	api := &fileAPI{path: rel, abs: abs, info: info}
	disp := in.display(abs)
	for _, l := range x.exs {
		if !safeFileRequired(l.ex, api) {
			continue
		}
		matched = true
		inv, err := runExtractor(x.ctx, l.ex, fsys, root, rel, abs, api)
		if err != nil {
			fe := &FileError{Path: disp, Extractor: l.name, Err: renamed{err, rel, disp}}
			if !errors.Is(err, fs.ErrNotExist) && !errors.Is(err, fs.ErrPermission) && !errors.Is(err, context.Canceled) {
				fe.Kind = ErrMalformed
			}
			return true, fe
		}
		n := x.add(inv, l.plugin, func(p string) string {
			if p == rel || p == "" {
				return disp
			}
			return in.display(filepath.Join(root, filepath.FromSlash(p)))
		}, disp)
		x.res.Files = append(x.res.Files, FileResult{Path: disp, Extractor: l.name, Packages: n})
	}
	return matched, nil
}

// renamed shows an extractor's error with the file's path as the user knows
// it, rather than relative to the filesystem root.
type renamed struct {
	err      error
	from, to string
}

func (r renamed) Error() string {
	if r.from == "" {
		return r.err.Error()
	}
	return strings.ReplaceAll(r.err.Error(), r.from, r.to)
}
func (r renamed) Unwrap() error { return r.err }

func safeFileRequired(ex filesystem.Extractor, api filesystem.FileAPI) (ok bool) {
	defer func() {
		if recover() != nil {
			ok = false
		}
	}()
	return ex.FileRequired(api)
}

// runExtractor runs one extractor on one file, turning a panic into an error:
// osv-scalibr's parsers are not all hardened against hostile input.
func runExtractor(ctx context.Context, ex filesystem.Extractor, fsys scalibrfs.FS, root, rel, abs string, api *fileAPI) (inv inventory.Inventory, err error) {
	f, err := os.Open(abs)
	if err != nil {
		return inv, err
	}
	defer f.Close()
	info, err := api.Stat()
	if err != nil {
		return inv, err
	}
	defer func() {
		if r := recover(); r != nil {
			inv, err = inventory.Inventory{}, fmt.Errorf("extractor panicked: %v", r)
		}
	}()
	return ex.Extract(ctx, &filesystem.ScanInput{FS: fsys, Path: rel, Root: root, Info: info, Reader: f})
}

// add converts and appends an inventory's packages, returning how many were
// kept.
func (x *run) add(inv inventory.Inventory, pl plugin, locate func(string) string, file string) int {
	n, noPURL := 0, 0
	for _, p := range inv.Packages {
		sp, ok := convert(p, pl, locate)
		if !ok {
			if pl.ecosystem == "" {
				noPURL++
			}
			continue
		}
		if x.opts.NoDev && DevOnly(sp) {
			continue
		}
		x.res.Packages = append(x.res.Packages, sp)
		n++
	}
	if noPURL > 0 {
		x.res.Warnings = append(x.res.Warnings, fmt.Sprintf("%s: %d components without a known ecosystem (no package URL) skipped", file, noPURL))
	}
	return n
}

func (x *run) finish() {
	slices.SortStableFunc(x.res.Packages, func(a, b scan.Package) int {
		return cmp.Or(
			cmp.Compare(a.Location.Path, b.Location.Path),
			cmp.Compare(a.Ecosystem, b.Ecosystem),
			cmp.Compare(a.Name, b.Name),
			cmp.Compare(a.Version, b.Version),
			cmp.Compare(a.Location.Line, b.Location.Line),
		)
	})
}
