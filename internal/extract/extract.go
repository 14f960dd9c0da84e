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
	"github.com/google/osv-scalibr/extractor/filesystem/language/python/requirements"
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
	// MaxFileSize is the largest lockfile, manifest or SBOM read; a larger
	// one is a failure of that file. Zero means [DefaultMaxFileSize].
	MaxFileSize Size
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
	// Warnings are problems that did not stop the extraction (SBOM
	// components without a package URL, a reference in a lockfile refused
	// because it leads outside the project, a .gitignore not read).
	Warnings []string `json:"warnings,omitempty"`
	// Failures are the files that were found but could not be read or
	// parsed.
	Failures []FileFailure `json:"failures,omitempty"`
}

// FileResult records one file read by one extractor: its Path is the file
// as reached from the path given to [Extract], that path joined with the
// file's path below it ("sub/app/package-lock.json" for the argument "sub"),
// so relative to the working directory when the argument was relative and
// absolute when it was absolute; two arguments never give two files the
// same Path. It is the scan result's File, so a scan reports it as it is.
type FileResult = scan.File

// FileFailure is a file that was found but could not be read or parsed, as
// the scan result reports it.
type FileFailure = scan.FileFailure

var (
	// ErrUnknownFormat is the cause of a [FileError] for a file given
	// explicitly that no extractor recognises.
	ErrUnknownFormat = errors.New("not a recognised lockfile, manifest or SBOM")
	// ErrMalformed is the cause of a [FileError] for a file an extractor
	// could not parse (including an extractor that panicked on it, then
	// also a *[PanicError]).
	ErrMalformed = errors.New("malformed")
)

// PanicError is an extractor's panic, recovered: osv-scalibr's parsers are
// not all hardened against hostile input. It is classified as
// [ErrMalformed]; the fuzzers treat it as a bug.
type PanicError struct {
	Value any
}

func (e *PanicError) Error() string { return fmt.Sprintf("extractor panicked: %v", e.Value) }

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

// Extract reads every path. A file must be in a format an extractor
// recognises (otherwise a [FileError] wrapping [ErrUnknownFormat]); a
// directory is walked recursively and files no extractor recognises are
// skipped. A directory with nothing recognised is not an error: the result
// is simply empty.
//
// A file that is recognised but cannot be read or parsed (malformed, over
// [Options.MaxFileSize], a named pipe or device, a symbolic link leading
// outside the project, unreadable) is a [FileFailure] in Result.Failures,
// never an error: the walk goes on and every other file is read. The error
// is for the whole run: the context cancelled, a path that does not exist,
// a file of unknown format given explicitly.
//
// Every file is read inside its project: the git work tree holding the
// path, else the directory given (for a file given, its directory).
// Links and references inside lockfiles (requirements "-r" includes,
// pom.xml parents) that lead outside it are refused with a warning.
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
	x.max = int64(opts.MaxFileSize)
	if x.max <= 0 {
		x.max = int64(DefaultMaxFileSize)
	}
	var errs []error
	for _, p := range paths {
		if err := ctx.Err(); err != nil {
			return x.res, err
		}
		if err := x.extractPath(p); err != nil {
			if ctx.Err() != nil {
				return x.res, ctx.Err()
			}
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
	max  int64
	res  *Result
}

// input is one path given to Extract.
type input struct {
	base   string // absolute directory the display paths start from
	prefix string // base as the user wrote it ("" for the working directory)
	// p confines what is read (the file itself, a pom.xml's parent, a
	// requirements file's -r include) to the enclosing git work tree,
	// else base.
	p *project
}

func (x *run) newInput(base, prefix string) (*input, error) {
	p, err := openProject(x.ctx, projectRoot(base), x.max)
	if err != nil {
		return nil, err
	}
	return &input{base: base, prefix: prefix, p: p}, nil
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

// rel returns the slash-separated path of abs below the project root.
func (in *input) rel(abs string) string {
	r, err := filepath.Rel(in.p.dir, abs)
	if err != nil {
		return filepath.ToSlash(abs)
	}
	return filepath.ToSlash(r)
}

// display shows a path relative to the project root as reached from the
// path the user gave.
func (in *input) display(rel string) string {
	abs := filepath.Join(in.p.dir, filepath.FromSlash(rel))
	r, err := filepath.Rel(in.base, abs)
	if err != nil {
		r = abs
	}
	return path.Join(filepath.ToSlash(in.prefix), filepath.ToSlash(r))
}

// fail records a file that could not be read or parsed.
func (x *run) fail(disp, extractor string, err error) {
	x.res.Failures = append(x.res.Failures, FileFailure{Path: disp, Extractor: extractor, Reason: reason(err, extractor)})
}

// reason says in words why a file could not be read, without its path.
func reason(err error, extractor string) string {
	var se *sizeError
	switch {
	case errors.As(err, &se):
		return fmt.Sprintf("larger than the size limit of %s, not read (raise it with --max-file-size)", Size(se.max).words())
	case errors.Is(err, ErrNotRegular), errors.Is(err, ErrOutsideProject):
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		if errors.Is(err, ErrOutsideProject) {
			return "a symbolic link that leads outside the project, not read"
		}
		return fmt.Sprintf("%v, not read", err)
	case errors.Is(err, ErrMalformed):
		var fe *FileError
		if errors.As(err, &fe) {
			return fmt.Sprintf("malformed %s: %v", formatNoun(extractor), fe.Err)
		}
	}
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return fmt.Sprintf("could not be read: %v", pe.Err)
	}
	return fmt.Sprintf("could not be read: %v", err)
}

func (x *run) extractPath(p string) error {
	abs, err := filepath.Abs(p)
	if err != nil {
		return fmt.Errorf("%s: %w", p, err)
	}
	info, err := os.Stat(abs)
	if errors.Is(err, fs.ErrNotExist) {
		// A path on the command line that is not there stops the scan,
		// named as it was given.
		return &fs.PathError{Op: "scan", Path: p, Err: fs.ErrNotExist}
	}
	clean := filepath.Clean(p)
	if err != nil {
		x.fail(filepath.ToSlash(clean), "", err)
		return nil
	}
	if info.IsDir() {
		in, err := x.newInput(abs, clean)
		if err != nil {
			x.fail(filepath.ToSlash(clean), "", err)
			return nil
		}
		defer in.p.close()
		rel, patterns := x.parentGitignores(in)
		return x.walk(in, in.rel(abs), rel, patterns)
	}
	dir := filepath.Dir(clean)
	if dir == "." {
		dir = ""
	}
	in, err := x.newInput(filepath.Dir(abs), dir)
	if err != nil {
		x.fail(filepath.ToSlash(clean), "", err)
		return nil
	}
	defer in.p.close()
	rel := in.rel(abs)
	if lst, err := os.Lstat(abs); err == nil {
		info = lst // the file as named: a link is followed inside the project only
	}
	matched, err := x.extractFile(in, rel, info)
	if err != nil {
		return err
	}
	if !matched {
		return &FileError{Path: in.display(rel), Kind: ErrUnknownFormat}
	}
	return nil
}

// walk reads the directory rel (slash-separated, below the project root;
// comps are its components) with the .gitignore patterns of its ancestors.
func (x *run) walk(in *input, rel string, comps []string, patterns []gitignore.Pattern) error {
	if err := x.ctx.Err(); err != nil {
		return err
	}
	entries, err := in.p.readDir(rel)
	if err != nil {
		if x.ctx.Err() != nil {
			return x.ctx.Err()
		}
		// A directory that cannot be read may hold lockfiles: a failure,
		// never a silent skip. Ignore it in .gitignore to scan without it.
		x.fail(in.display(rel), "", err)
		return nil
	}
	if !x.opts.NoGitignore {
		patterns = append(slices.Clip(patterns), x.readGitignore(in, path.Join(rel, ".gitignore"), comps)...)
	}
	matcher := gitignore.NewMatcher(patterns)
	for _, e := range entries {
		if err := x.ctx.Err(); err != nil {
			return err
		}
		name := e.Name()
		child := path.Join(rel, name)
		childComps := append(slices.Clip(comps), name)
		typ := e.Type()
		if typ&fs.ModeSymlink != 0 {
			// Follow links to files inside the project, never links to
			// directories: a walk cannot loop, a linked lockfile is still
			// read, and a link leading outside is refused (a failure when
			// an extractor claims its name).
			if matcher.Match(childComps, false) {
				continue
			}
			info, err := in.p.stat(child)
			if err != nil {
				if lst, lerr := e.Info(); lerr == nil {
					x.failClaimed(in, child, lst, err)
				}
				continue
			}
			if info.IsDir() {
				continue
			}
			if _, err := x.extractFile(in, child, info); err != nil {
				return err
			}
			continue
		}
		switch {
		case typ.IsDir():
			if slices.Contains(x.skip, name) || matcher.Match(childComps, true) {
				continue
			}
			if err := x.walk(in, child, childComps, patterns); err != nil {
				return err
			}
		default:
			if matcher.Match(childComps, false) {
				continue
			}
			info, err := e.Info()
			if err != nil {
				if errors.Is(err, fs.ErrNotExist) {
					continue // removed since the directory was read
				}
				x.fail(in.display(child), "", err)
				continue
			}
			if _, err := x.extractFile(in, child, info); err != nil {
				return err
			}
		}
	}
	return nil
}

// failClaimed records err as the failure of the file rel when an extractor
// claims its name; other files are not lockfiles and are skipped silently.
func (x *run) failClaimed(in *input, rel string, info fs.FileInfo, err error) {
	if len(x.claimed(rel, info)) > 0 {
		x.fail(in.display(rel), "", err)
	}
}

// parentGitignores returns the path components of the scanned directory
// below the project root and the patterns of the .gitignore files above it
// in the project, so that a walk of a subdirectory ignores what git does.
func (x *run) parentGitignores(in *input) ([]string, []gitignore.Pattern) {
	relPath := in.rel(in.base)
	if relPath == "." || escaping(relPath) {
		return []string{}, nil
	}
	rel := strings.Split(relPath, "/")
	if x.opts.NoGitignore {
		return rel, nil
	}
	var patterns []gitignore.Pattern
	for i := range rel {
		patterns = append(patterns, x.readGitignore(in, path.Join(path.Join(rel[:i]...), ".gitignore"), rel[:i])...)
	}
	return rel, patterns
}

// maxGitignore bounds a .gitignore file read.
const maxGitignore = 4 << 20

func (x *run) readGitignore(in *input, name string, domain []string) []gitignore.Pattern {
	b, err := in.p.readFile(name, maxGitignore)
	if err != nil {
		if !errors.Is(err, fs.ErrNotExist) {
			x.res.Warnings = append(x.res.Warnings, fmt.Sprintf("%s: not read: %v", in.display(name), unwrapPath(err)))
		}
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

func unwrapPath(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

type fileAPI struct {
	path string
	info fs.FileInfo
}

func (f *fileAPI) Path() string               { return f.path }
func (f *fileAPI) Stat() (fs.FileInfo, error) { return f.info, nil }

// claimed returns the extractors that recognise the file rel (by name;
// info is what Stat shows them).
func (x *run) claimed(rel string, info fs.FileInfo) []loaded {
	api := &fileAPI{path: rel, info: info}
	var ls []loaded
	for _, l := range x.exs {
		if safeFileRequired(l.ex, api) {
			ls = append(ls, l)
		}
	}
	return ls
}

// extractFile runs every extractor that recognises the file rel; matched
// reports whether any did. A file that cannot be read or parsed is a
// failure in the result; the error is the context's.
func (x *run) extractFile(in *input, rel string, info fs.FileInfo) (matched bool, err error) {
	ls := x.claimed(rel, info)
	if len(ls) == 0 {
		return false, nil
	}
	disp := in.display(rel)
	// One check before any extractor: a link leading outside, a pipe or
	// device, or a file over the limit is never opened.
	fi, err := in.p.stat(rel)
	switch {
	case err != nil:
	case !fi.Mode().IsRegular():
		err = notRegular(fi.Mode())
	case fi.Size() > x.max:
		err = &sizeError{max: x.max}
	}
	if err != nil {
		x.fail(disp, "", err)
		return true, nil
	}
	for _, l := range ls {
		inv, err := x.runExtractor(in, l, rel, disp, fi)
		if x.ctx.Err() != nil {
			return true, x.ctx.Err()
		}
		if err != nil {
			x.fail(disp, l.name, err)
			continue
		}
		n := x.add(inv, l.plugin, func(p string) string {
			if p == rel || p == "" {
				return disp
			}
			return in.display(p)
		}, disp)
		x.res.Files = append(x.res.Files, FileResult{Path: disp, Extractor: l.name, Packages: n})
	}
	return true, nil
}

// runExtractor runs one extractor on one file, through the project's
// bounded reader and confined filesystem. A refused reference is a warning;
// a file the extractor cannot parse is a *FileError wrapping ErrMalformed.
func (x *run) runExtractor(in *input, l loaded, rel, disp string, info fs.FileInfo) (inventory.Inventory, error) {
	f, err := in.p.open(rel)
	if err != nil {
		return inventory.Inventory{}, err
	}
	defer f.Close()
	fsys := &confinedFS{p: in.p, reportMissing: l.name == requirements.Name}
	inv, err := safeExtract(x.ctx, l.ex, &filesystem.ScanInput{FS: fsys, Path: rel, Root: in.p.dir, Info: info, Reader: f})
	seen := map[string]bool{}
	for _, r := range fsys.refused {
		if seen[r.name] {
			continue
		}
		seen[r.name] = true
		x.res.Warnings = append(x.res.Warnings, fmt.Sprintf("%s: not reading %s, which it refers to: %v", disp, in.display(r.name), refusalReason(r.err)))
	}
	if b, ok := f.(*boundedFile); ok && b.exceeded {
		return inventory.Inventory{}, &sizeError{max: x.max}
	}
	if err != nil {
		if errors.Is(err, ErrTooLarge) || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
			return inventory.Inventory{}, err
		}
		return inventory.Inventory{}, &FileError{Path: disp, Extractor: l.name, Kind: ErrMalformed, Err: renamed{err, rel, disp}}
	}
	return inv, nil
}

func refusalReason(err error) string {
	err = unwrapPath(err)
	if errors.Is(err, ErrOutsideProject) {
		return "it is outside the project"
	}
	return err.Error()
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

// safeExtract runs an extractor, turning a panic into a *PanicError.
func safeExtract(ctx context.Context, ex filesystem.Extractor, in *filesystem.ScanInput) (inv inventory.Inventory, err error) {
	defer func() {
		if r := recover(); r != nil {
			inv, err = inventory.Inventory{}, &PanicError{Value: r}
		}
	}()
	return ex.Extract(ctx, in)
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
