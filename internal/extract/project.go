package extract

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

var (
	// ErrOutsideProject is the cause of a refusal to open a path that leads
	// outside the project: a symbolic link, a requirements "-r" include or
	// a pom.xml parent.
	ErrOutsideProject = errors.New("leads outside the project")
	// ErrNotRegular is the cause of a refusal to read a named pipe, a
	// device or a socket as a lockfile: reading it could block or never end.
	ErrNotRegular = errors.New("not a regular file")
	// ErrTooLarge is the cause of a refusal to read a file over
	// [Options.MaxFileSize].
	ErrTooLarge = errors.New("larger than the size limit")
)

// DefaultMaxFileSize is the largest lockfile, manifest or SBOM read when
// [Options.MaxFileSize] is zero.
const DefaultMaxFileSize Size = 256 << 20

// Size is a number of bytes, spelt with an optional binary or decimal unit
// ("512KiB", "256MiB", "1GiB", "300MB", "1048576"). It implements the flag
// and pflag Value interfaces.
type Size int64

var sizeUnits = []struct {
	suffix string
	factor int64
}{
	{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30},
	{"KB", 1e3}, {"MB", 1e6}, {"GB", 1e9}, {"B", 1},
}

// String spells the size with the largest binary unit that divides it.
func (s Size) String() string {
	for _, u := range []struct {
		suffix string
		factor Size
	}{{"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}} {
		if s != 0 && s%u.factor == 0 {
			return strconv.FormatInt(int64(s/u.factor), 10) + u.suffix
		}
	}
	return strconv.FormatInt(int64(s), 10)
}

// words spells the size for a message: "256MiB", "1000 bytes".
func (s Size) words() string {
	if t := s.String(); strings.HasSuffix(t, "B") {
		return t
	}
	return strconv.FormatInt(int64(s), 10) + " bytes"
}

// Set parses a size such as "512MiB".
func (s *Size) Set(v string) error {
	t := strings.TrimSpace(v)
	factor := int64(1)
	for _, u := range sizeUnits {
		if len(t) > len(u.suffix) && strings.EqualFold(t[len(t)-len(u.suffix):], u.suffix) {
			t, factor = strings.TrimSpace(t[:len(t)-len(u.suffix)]), u.factor
			break
		}
	}
	n, err := strconv.ParseInt(t, 10, 64)
	if err != nil || n <= 0 || n > (1<<62)/factor {
		return fmt.Errorf("%q is not a size such as 512MiB or 1GiB", v)
	}
	*s = Size(n * factor)
	return nil
}

// Type names the value in flag help.
func (*Size) Type() string { return "SIZE" }

// project is the directory tree an extraction is confined to. Every file is
// opened through an [os.Root], so neither a symbolic link nor a reference
// inside a lockfile (a requirements "-r" include, a pom.xml parent) can make
// hallmark read a file outside it, such as ~/.netrc, into a report.
type project struct {
	dir     string // absolute
	root    *os.Root
	escapes error // the os package's "path escapes from parent" error
	max     int64
	ctx     context.Context
}

func openProject(ctx context.Context, dir string, max int64) (*project, error) {
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, err
	}
	p := &project{dir: dir, root: root, max: max, ctx: ctx}
	// The os package does not export the error of a path that escapes a
	// root; learn it from a path that always does.
	if _, err := root.Stat(".."); err != nil {
		p.escapes = errors.Unwrap(err)
	}
	return p, nil
}

func (p *project) close() { p.root.Close() }

// classify turns the root's escape error into ErrOutsideProject.
func (p *project) classify(op, name string, err error) error {
	if err == nil {
		return nil
	}
	if p.escapes != nil && errors.Is(err, p.escapes) {
		return &fs.PathError{Op: op, Path: name, Err: ErrOutsideProject}
	}
	return err
}

// stat returns the file name (slash-separated, relative to the project)
// refers to, following links that stay inside the project.
func (p *project) stat(name string) (fs.FileInfo, error) {
	info, err := p.root.Stat(name)
	if err = p.classify("stat", name, err); errors.Is(err, ErrOutsideProject) {
		if inside, ok := p.resolve(name); ok {
			return p.root.Stat(inside)
		}
	}
	return info, err
}

// resolve follows the links of name, which the root refused, and returns
// its path inside the project if it has one: an absolute link to a file of
// the project. The result is opened through the root again, so a link
// changed meanwhile is still confined.
func (p *project) resolve(name string) (string, bool) {
	if escaping(name) {
		return "", false
	}
	target, err := filepath.EvalSymlinks(filepath.Join(p.dir, filepath.FromSlash(name)))
	if err != nil {
		return "", false
	}
	top, err := filepath.EvalSymlinks(p.dir)
	if err != nil {
		return "", false
	}
	rel, err := filepath.Rel(top, target)
	if err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) || filepath.IsAbs(rel) {
		return "", false
	}
	return filepath.ToSlash(rel), true
}

// open opens a regular file of at most p.max bytes, or a directory, without
// ever blocking on a named pipe.
func (p *project) open(name string) (fs.File, error) {
	if err := p.ctx.Err(); err != nil {
		return nil, err
	}
	f, err := p.root.OpenFile(name, openFlags, 0)
	if err = p.classify("open", name, err); errors.Is(err, ErrOutsideProject) {
		if inside, ok := p.resolve(name); ok {
			f, err = p.root.OpenFile(inside, openFlags, 0)
		}
	}
	if err != nil {
		return nil, err
	}
	info, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	switch {
	case info.IsDir():
		return f, nil
	case !info.Mode().IsRegular():
		f.Close()
		return nil, &fs.PathError{Op: "open", Path: name, Err: notRegular(info.Mode())}
	case info.Size() > p.max:
		f.Close()
		return nil, &fs.PathError{Op: "open", Path: name, Err: &sizeError{max: p.max}}
	}
	return &boundedFile{f: f, info: info, ctx: p.ctx, max: p.max}, nil
}

// readFile reads a small regular file (a .gitignore) of at most limit bytes.
func (p *project) readFile(name string, limit int64) ([]byte, error) {
	f, err := p.open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, ok := f.(*boundedFile)
	if !ok {
		return nil, &fs.PathError{Op: "read", Path: name, Err: errors.New("is a directory")}
	}
	b.max = min(b.max, limit)
	return io.ReadAll(b)
}

func (p *project) readDir(name string) ([]fs.DirEntry, error) {
	f, err := p.open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	d, ok := f.(fs.ReadDirFile)
	if !ok {
		return nil, &fs.PathError{Op: "readdir", Path: name, Err: errors.New("not a directory")}
	}
	return d.ReadDir(-1)
}

// notRegular says what kind of file mode is.
func notRegular(mode fs.FileMode) error {
	kind := "a special file"
	switch {
	case mode&fs.ModeNamedPipe != 0:
		kind = "a named pipe"
	case mode&fs.ModeCharDevice != 0:
		kind = "a character device"
	case mode&fs.ModeDevice != 0:
		kind = "a device"
	case mode&fs.ModeSocket != 0:
		kind = "a socket"
	case mode&fs.ModeDir != 0:
		kind = "a directory"
	}
	return fmt.Errorf("%w (%s)", ErrNotRegular, kind)
}

type sizeError struct{ max int64 }

func (e *sizeError) Error() string {
	return fmt.Sprintf("%v of %s", ErrTooLarge, Size(e.max).words())
}
func (e *sizeError) Unwrap() error { return ErrTooLarge }

// boundedFile reads at most max bytes of a regular file, and stops when the
// context is cancelled: a file that grows while it is read (or a device
// swapped in after the checks) cannot make a scan run away.
type boundedFile struct {
	f        *os.File
	info     fs.FileInfo
	ctx      context.Context
	max      int64
	n        int64
	exceeded bool
}

func (b *boundedFile) Stat() (fs.FileInfo, error) { return b.info, nil }
func (b *boundedFile) Close() error               { return b.f.Close() }

func (b *boundedFile) Read(p []byte) (int, error) {
	if err := b.ctx.Err(); err != nil {
		return 0, err
	}
	if b.n >= b.max {
		var one [1]byte
		if n, err := b.f.Read(one[:]); n == 0 {
			return 0, err
		}
		b.exceeded = true
		return 0, &sizeError{max: b.max}
	}
	if int64(len(p)) > b.max-b.n {
		p = p[:b.max-b.n]
	}
	n, err := b.f.Read(p)
	b.n += int64(n)
	return n, err
}

func (b *boundedFile) ReadAt(p []byte, off int64) (int, error) {
	if err := b.ctx.Err(); err != nil {
		return 0, err
	}
	if off >= b.max {
		if n, _ := b.f.ReadAt(make([]byte, 1), off); n > 0 {
			b.exceeded = true
			return 0, &sizeError{max: b.max}
		}
		return 0, io.EOF
	}
	short := false
	if int64(len(p)) > b.max-off {
		p, short = p[:b.max-off], true
	}
	n, err := b.f.ReadAt(p, off)
	if short && err == nil {
		// ReadAt must explain a short read; the file goes on past the
		// limit only if there is a byte after it.
		if m, _ := b.f.ReadAt(make([]byte, 1), b.max); m > 0 {
			b.exceeded = true
			return n, &sizeError{max: b.max}
		}
		return n, io.EOF
	}
	return n, err
}

// confinedFS is the filesystem an extractor reads references through: the
// project, with every refusal recorded so that it can be reported.
type confinedFS struct {
	p *project
	// reportMissing records includes that could not be opened for any
	// reason (requirements "-r" files), not only refusals: a missing
	// include hides packages.
	reportMissing bool
	refused       []refusal
}

type refusal struct {
	name string
	err  error
}

// escaping reports whether a slash-separated path leaves the directory it is
// relative to.
func escaping(name string) bool {
	return name == ".." || strings.HasPrefix(name, "../") || strings.HasPrefix(name, "/")
}

func (c *confinedFS) check(op, name string) error {
	if fs.ValidPath(name) {
		return nil
	}
	if escaping(name) {
		return &fs.PathError{Op: op, Path: name, Err: ErrOutsideProject}
	}
	return &fs.PathError{Op: op, Path: name, Err: fs.ErrInvalid}
}

func (c *confinedFS) refuse(name string, err error) {
	if errors.Is(err, ErrOutsideProject) || errors.Is(err, ErrNotRegular) || errors.Is(err, ErrTooLarge) ||
		c.reportMissing && !errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded) {
		c.refused = append(c.refused, refusal{name, err})
	}
}

func (c *confinedFS) Open(name string) (fs.File, error) {
	err := c.check("open", name)
	var f fs.File
	if err == nil {
		f, err = c.p.open(name)
	}
	if err != nil {
		c.refuse(name, err)
		return nil, err
	}
	return f, nil
}

func (c *confinedFS) Stat(name string) (fs.FileInfo, error) {
	err := c.check("stat", name)
	var info fs.FileInfo
	if err == nil {
		info, err = c.p.stat(name)
	}
	// "../pom.xml" from the top of the project is where Maven looks for a
	// parent by default, not a reference the file makes: refused quietly.
	if err != nil && name != "../pom.xml" {
		c.refuse(name, err)
	}
	return info, err
}

func (c *confinedFS) ReadDir(name string) ([]fs.DirEntry, error) {
	if err := c.check("readdir", name); err != nil {
		c.refuse(name, err)
		return nil, err
	}
	entries, err := c.p.readDir(name)
	if err != nil {
		c.refuse(name, err)
	}
	return entries, err
}

// ReadFile reads a file found beside the scanned files, such as an
// osv-scanner.toml next to a scanned directory, under the rules lockfiles
// are read by: inside the project (a link leading outside is
// ErrOutsideProject), a regular file (a named pipe is ErrNotRegular, never
// blocking), at most max bytes (ErrTooLarge; zero means
// [DefaultMaxFileSize]). Errors are *fs.PathError naming name.
func ReadFile(ctx context.Context, name string, max Size) ([]byte, error) {
	if max <= 0 {
		max = DefaultMaxFileSize
	}
	abs, err := filepath.Abs(name)
	if err != nil {
		return nil, err
	}
	p, err := openProject(ctx, projectRoot(filepath.Dir(abs)), int64(max))
	if err != nil {
		return nil, err
	}
	defer p.close()
	rel, err := filepath.Rel(p.dir, abs)
	if err != nil {
		return nil, err
	}
	b, err := p.readFile(filepath.ToSlash(rel), int64(max))
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return nil, &fs.PathError{Op: pe.Op, Path: name, Err: pe.Err}
	}
	return b, err
}
