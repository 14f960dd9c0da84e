// Package lock is hallmark's lock file: trust on first use for the
// publishers of packages, and drift caught afterwards.
//
// A lock file (hallmark.lock, meant to be reviewed and committed) records
// for each package of an ecosystem who signed its provenance: the signer
// kind, the OIDC issuer, the source repository, the workflow (and the
// reusable workflow that signed, if another) and the pattern of the refs
// seen. The first verified result of a package pins its entry; a later
// one must match it, and a change (another repository, workflow or
// issuer, a ref outside the pattern, provenance gone) is a *DriftError
// unless the Lock was opened to update. The lock never verifies anything
// itself: it compares results pkg/verify (or an ecosystem package on top
// of it) has already verified.
//
// The format is TOML, sorted by ecosystem and name, one [[package]] table
// per entry:
//
//	# hallmark.lock ...
//	version = 1
//
//	[[package]]
//	ecosystem = "pypi"
//	name = "sampleproject"
//	signer = "github"
//	issuer = "https://token.actions.githubusercontent.com"
//	repository = "https://github.com/pypa/sampleproject"
//	workflow = ".github/workflows/release.yml"
//	ref = "refs/tags/*"
//
// A Lock is safe for concurrent use: verify many packages, then Save once.
package lock

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path/filepath"
	"slices"
	"strings"
	"sync"

	"github.com/BurntSushi/toml"

	"github.com/hallmark-dev/hallmark/internal/atomicfile"
	"github.com/hallmark-dev/hallmark/internal/ctxio"
	"github.com/hallmark-dev/hallmark/pkg/verify"
)

// FormatVersion is the version of the lock file format.
const FormatVersion = 1

// MaxFileSize is the largest lock file Open reads.
const MaxFileSize = 32 << 20

// header opens every lock file written.
const header = `# hallmark.lock: who signed each package's provenance, pinned on first use
# by 'hallmark verify --lock'. Review and commit it. A verify whose signer
# differs from its entry is refused until accepted with --update-lock.
`

// file is the TOML document.
type file struct {
	Version  int     `toml:"version"`
	Packages []Entry `toml:"package"`
}

// ErrDamaged is wrapped by every *ParseError.
var ErrDamaged = errors.New("damaged lock file")

// ParseError is a lock file that cannot be read: where and why.
type ParseError struct {
	Path string
	// Line is 1-based; 0 when the error has no line.
	Line int
	Msg  string
}

func (e *ParseError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("%s:%d: %s: %s", e.Path, e.Line, ErrDamaged, e.Msg)
	}
	return fmt.Sprintf("%s: %s: %s", e.Path, ErrDamaged, e.Msg)
}

// Unwrap lets errors.Is(err, ErrDamaged) hold.
func (e *ParseError) Unwrap() error { return ErrDamaged }

type key struct{ ecosystem, name string }

func keyOf(e Entry) key { return key{e.Ecosystem, e.Name} }

// Parse reads a lock file's content (path names it in errors). Unknown
// keys, a version other than FormatVersion, an invalid entry and a package
// listed twice are errors with their line.
func Parse(path string, data []byte) ([]Entry, error) {
	var f file
	md, err := toml.Decode(string(data), &f)
	if err != nil {
		var pe toml.ParseError
		if errors.As(err, &pe) {
			line := pe.Position.Line
			if st := pe.Position.Start; st >= 0 && st <= len(data) {
				// The line of the offset itself: an error found at a line's
				// newline is that line's.
				line = bytes.Count(data[:st], []byte("\n")) + 1
			}
			return nil, &ParseError{Path: path, Line: line, Msg: pe.Message}
		}
		return nil, &ParseError{Path: path, Line: typeErrorLine(data, err), Msg: err.Error()}
	}
	lines := newLineIndex(data)
	if und := md.Undecoded(); len(und) > 0 {
		k := und[0]
		return nil, &ParseError{Path: path, Line: lines.key(k), Msg: fmt.Sprintf("unknown key %q", k.String())}
	}
	if !md.IsDefined("version") {
		return nil, &ParseError{Path: path, Line: 1, Msg: "no version (want version = 1)"}
	}
	if f.Version != FormatVersion {
		return nil, &ParseError{Path: path, Line: lines.topKey("version"), Msg: fmt.Sprintf("version %d, want %d", f.Version, FormatVersion)}
	}
	seen := map[key]int{}
	for i, e := range f.Packages {
		line := lines.table(i)
		if err := e.validate(); err != nil {
			var fe *fieldError
			if errors.As(err, &fe) {
				line = lines.field(i, fe.field)
			}
			return nil, &ParseError{Path: path, Line: line, Msg: fmt.Sprintf("package %d: %v", i+1, err)}
		}
		if eco, name := Key(e.Ecosystem, e.Name); eco != e.Ecosystem || name != e.Name {
			return nil, &ParseError{Path: path, Line: lines.field(i, "name"), Msg: fmt.Sprintf("package %d: %s name %q is not normalised (want %q)", i+1, e.Ecosystem, e.Name, name)}
		}
		if j, dup := seen[keyOf(e)]; dup {
			return nil, &ParseError{Path: path, Line: line, Msg: fmt.Sprintf("%s package %q is listed twice (also package %d)", e.Ecosystem, e.Name, j+1)}
		}
		seen[keyOf(e)] = i
	}
	return f.Packages, nil
}

// typeErrorLine finds the line of a decode error that names a line
// ("toml: line 3 (last key "x"): ..."); 0 if none.
func typeErrorLine(_ []byte, err error) int {
	var n int
	if _, scanErr := fmt.Sscanf(err.Error(), "toml: line %d", &n); scanErr == nil {
		return n
	}
	return 0
}

// lineIndex finds the lines of the [[package]] tables and their keys, for
// errors found after decoding (BurntSushi/toml keeps no positions).
type lineIndex struct {
	lines  []string
	tables []int // 0-based line of each [[package]] header
}

func newLineIndex(data []byte) lineIndex {
	li := lineIndex{lines: strings.Split(string(data), "\n")}
	for i, l := range li.lines {
		if strings.ReplaceAll(strings.TrimSpace(stripComment(l)), " ", "") == "[[package]]" {
			li.tables = append(li.tables, i)
		}
	}
	return li
}

func stripComment(l string) string {
	if i := strings.Index(l, "#"); i >= 0 && !strings.Contains(l[:i], `"`) {
		return l[:i]
	}
	return l
}

// table is the 1-based line of package i's header, 0 if not found.
func (li lineIndex) table(i int) int {
	if i < len(li.tables) {
		return li.tables[i] + 1
	}
	return 0
}

// field is the line of key field in package i, else its header's.
func (li lineIndex) field(i int, field string) int {
	if i >= len(li.tables) {
		return 0
	}
	end := len(li.lines)
	if i+1 < len(li.tables) {
		end = li.tables[i+1]
	}
	for n := li.tables[i] + 1; n < end; n++ {
		if isKeyLine(li.lines[n], field) {
			return n + 1
		}
	}
	return li.tables[i] + 1
}

// topKey is the line of a key before the first table.
func (li lineIndex) topKey(field string) int {
	end := len(li.lines)
	if len(li.tables) > 0 {
		end = li.tables[0]
	}
	for n := 0; n < end; n++ {
		if isKeyLine(li.lines[n], field) {
			return n + 1
		}
	}
	return 0
}

// key is the line of an undecoded key: in a package table, or at the top.
func (li lineIndex) key(k toml.Key) int {
	last := k[len(k)-1]
	if len(k) >= 2 && k[0] == "package" {
		for i := range li.tables {
			if l := li.field(i, last); l != li.tables[i]+1 {
				return l
			}
		}
	}
	if l := li.topKey(last); l > 0 {
		return l
	}
	for n, l := range li.lines {
		if strings.Contains(l, last) {
			return n + 1
		}
	}
	return 0
}

func isKeyLine(line, field string) bool {
	k, _, ok := strings.Cut(line, "=")
	k = strings.Trim(strings.TrimSpace(k), `"'`)
	return ok && k == field
}

// Encode writes entries as a lock file: the header, the version, the
// entries sorted by ecosystem and name.
func Encode(entries []Entry) ([]byte, error) {
	sorted := slices.Clone(entries)
	slices.SortFunc(sorted, func(a, b Entry) int {
		if c := strings.Compare(a.Ecosystem, b.Ecosystem); c != 0 {
			return c
		}
		return strings.Compare(a.Name, b.Name)
	})
	var buf bytes.Buffer
	buf.WriteString(header)
	enc := toml.NewEncoder(&buf)
	enc.Indent = ""
	if err := enc.Encode(file{Version: FormatVersion, Packages: sorted}); err != nil {
		return nil, fmt.Errorf("encoding the lock file: %w", err)
	}
	return buf.Bytes(), nil
}

// Options say how Open treats changes.
type Options struct {
	// Update accepts drift: an entry that differs is replaced, one whose
	// package has no provenance any more is removed (--update-lock).
	Update bool
}

// Lock is a lock file in memory.
type Lock struct {
	path   string
	opts   Options
	mu     sync.Mutex
	loaded []byte // the file's content when opened; nil if it did not exist
	exists bool
	// base is the file's entries when opened, cur the entries now.
	base, cur map[key]Entry
}

// Open reads the lock file at path; a missing file is an empty lock (it
// is created by the first Save with an entry). A file that cannot be
// parsed is a *ParseError and is never overwritten: Open fails.
func Open(path string, opts Options) (*Lock, error) {
	l := &Lock{path: path, opts: opts, base: map[key]Entry{}, cur: map[key]Entry{}}
	data, exists, err := readFile(path)
	if err != nil {
		return nil, err
	}
	l.loaded, l.exists = data, exists
	if !exists {
		return l, nil
	}
	entries, err := Parse(path, data)
	if err != nil {
		return nil, err
	}
	for _, e := range entries {
		l.base[keyOf(e)] = e
		l.cur[keyOf(e)] = e
	}
	return l, nil
}

func readFile(path string) ([]byte, bool, error) {
	if err := atomicfile.CheckTarget(path); err != nil {
		return nil, false, fmt.Errorf("lock file: %w", err)
	}
	// Never blocks: a symbolic link to a named pipe is opened without
	// waiting for a writer, and refused.
	f, err := ctxio.OpenRegular(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("reading the lock file: %w", err)
	}
	defer f.Close()
	var buf bytes.Buffer
	if _, err := buf.ReadFrom(io.LimitReader(f, MaxFileSize+1)); err != nil {
		return nil, false, fmt.Errorf("reading the lock file: %w", err)
	}
	if buf.Len() > MaxFileSize {
		return nil, false, &ParseError{Path: path, Msg: fmt.Sprintf("larger than %d bytes", MaxFileSize)}
	}
	return buf.Bytes(), true, nil
}

// Path is the lock file's path.
func (l *Lock) Path() string { return l.path }

// Entry is the package's entry, if the lock has one.
func (l *Lock) Entry(ecosystem, name string) (Entry, bool) {
	eco, n := Key(ecosystem, name)
	l.mu.Lock()
	defer l.mu.Unlock()
	e, ok := l.cur[key{eco, n}]
	return e, ok
}

// ChangeKind says what Check did.
type ChangeKind string

// The kinds of Change.
const (
	Pinned  ChangeKind = "pinned"  // first use: the entry was added
	Matched ChangeKind = "matched" // the entry agrees
	Updated ChangeKind = "updated" // drift accepted (Options.Update)
	Removed ChangeKind = "removed" // provenance gone, accepted (Options.Update)
)

// Change is what Check or Missing did to a package's entry.
type Change struct {
	Kind  ChangeKind `json:"kind"`
	Entry Entry      `json:"entry"`
	// Old is the entry before an update or removal.
	Old *Entry `json:"old,omitempty"`
	// Diffs are the fields that changed (updates).
	Diffs []Diff `json:"diffs,omitempty"`
}

// ErrDrift is wrapped by every *DriftError.
var ErrDrift = errors.New("the signer differs from the lock file")

// DriftError is a verified package whose signer is not the one its entry
// pinned, or that has no provenance any more.
type DriftError struct {
	Old Entry
	// New is nil when the package now has no provenance.
	New   *Entry
	Diffs []Diff
}

func (e *DriftError) Error() string {
	if e.New == nil {
		return fmt.Sprintf("%s: %s package %q had provenance (%s) and now has none", ErrDrift, e.Old.Ecosystem, e.Old.Name, e.Old)
	}
	var parts []string
	for _, d := range e.Diffs {
		parts = append(parts, fmt.Sprintf("%s %q, now %q", d.Field, d.Old, d.New))
	}
	return fmt.Sprintf("%s: %s package %q: locked %s", ErrDrift, e.Old.Ecosystem, e.Old.Name, strings.Join(parts, "; "))
}

// Unwrap lets errors.Is(err, ErrDrift) hold.
func (e *DriftError) Unwrap() error { return ErrDrift }

// CauseDrift is the verify.Cause of a drift refused: the package verified,
// but its signer is not the one the lock file pinned.
const CauseDrift verify.Cause = "lock-drift"

// Rejection is the drift as a *verify.RejectedError (CauseDrift, Err the
// DriftError): every changed field, the locked value expected against the
// one seen now, so that it is reported like any other refusal.
func (e *DriftError) Rejection() *verify.RejectedError {
	r := &verify.RejectedError{Cause: CauseDrift, Err: e,
		Reason: fmt.Sprintf("the signer of %s package %q differs from the lock file's entry", e.Old.Ecosystem, e.Old.Name)}
	if e.New == nil {
		r.Reason = fmt.Sprintf("%s package %q had provenance when the lock file pinned it, and now has none", e.Old.Ecosystem, e.Old.Name)
		r.Comparisons = []verify.Comparison{{Field: "provenance", Expected: e.Old.String(), Actual: "none"}}
		return r
	}
	for _, d := range e.Diffs {
		r.Comparisons = append(r.Comparisons, verify.Comparison{Field: d.Field, Expected: fmt.Sprintf("%q (locked)", d.Old), Actual: d.New})
	}
	return r
}

// Check compares an observed entry (see Observe) with the lock: no entry
// pins it (Pinned), an equal one matches (Matched), another is drift: a
// *DriftError, or with Options.Update the entry replaced (Updated).
func (l *Lock) Check(observed Entry) (Change, error) {
	if err := observed.validate(); err != nil {
		return Change{}, fmt.Errorf("lock: %w", err)
	}
	k := keyOf(observed)
	l.mu.Lock()
	defer l.mu.Unlock()
	old, ok := l.cur[k]
	if !ok {
		l.cur[k] = stored(observed)
		return Change{Kind: Pinned, Entry: stored(observed)}, nil
	}
	d := diff(old, observed)
	if len(d) == 0 {
		return Change{Kind: Matched, Entry: old}, nil
	}
	if !l.opts.Update {
		o := stored(observed)
		return Change{}, &DriftError{Old: old, New: &o, Diffs: d}
	}
	l.cur[k] = stored(observed)
	return Change{Kind: Updated, Entry: stored(observed), Old: &old, Diffs: d}, nil
}

// stored is the entry as the file keeps it.
func stored(e Entry) Entry {
	e.seenRef = ""
	return e
}

// CheckResult is Check of Observe(ecosystem, name, r).
func (l *Lock) CheckResult(ecosystem, name string, r *verify.Result) (Change, error) {
	e, err := Observe(ecosystem, name, r)
	if err != nil {
		return Change{}, err
	}
	return l.Check(e)
}

// Missing records that a package has no provenance: fine for a package
// the lock does not know (nothing is pinned), drift for one it does
// (a *DriftError with New nil), or with Options.Update its entry removed.
func (l *Lock) Missing(ecosystem, name string) (*Change, error) {
	eco, n := Key(ecosystem, name)
	k := key{eco, n}
	l.mu.Lock()
	defer l.mu.Unlock()
	old, ok := l.cur[k]
	if !ok {
		return nil, nil
	}
	if !l.opts.Update {
		return nil, &DriftError{Old: old}
	}
	delete(l.cur, k)
	return &Change{Kind: Removed, Entry: old, Old: &old}, nil
}

// Changed reports whether Save would write.
func (l *Lock) Changed() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return !mapsEqual(l.base, l.cur)
}

func mapsEqual(a, b map[key]Entry) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

// ErrConflict: the lock file changed on disk, since Open, in an entry this
// Lock changes too.
var ErrConflict = errors.New("the lock file was changed by another run")

// Save writes the lock file once, atomically, if an entry changed; it
// reports whether it wrote. Changes made on disk since Open (another
// hallmark run) are kept: the file is read again and this Lock's own
// changes applied to it, unless both changed one entry (ErrConflict) or
// the file no longer parses (a *ParseError).
func (l *Lock) Save() (bool, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if mapsEqual(l.base, l.cur) {
		return false, nil
	}
	unlock, err := lockDir(filepath.Dir(l.path))
	if err != nil {
		return false, err
	}
	defer unlock()
	now, exists, err := readFile(l.path)
	if err != nil {
		return false, err
	}
	disk := map[key]Entry{}
	if exists {
		entries, err := Parse(l.path, now)
		if err != nil {
			return false, err
		}
		for _, e := range entries {
			disk[keyOf(e)] = e
		}
	}
	if exists != l.exists || !bytes.Equal(now, l.loaded) {
		for k := range union(l.base, l.cur) {
			mine, other := changedEntry(l.base, l.cur, k), changedEntry(l.base, disk, k)
			if mine && other && !sameEntry(l.cur, disk, k) {
				return false, fmt.Errorf("%w: %s package %q was changed there too; run again", ErrConflict, k.ecosystem, k.name)
			}
		}
	}
	for k := range union(l.base, l.cur) {
		if !changedEntry(l.base, l.cur, k) {
			continue
		}
		if e, ok := l.cur[k]; ok {
			disk[k] = e
		} else {
			delete(disk, k)
		}
	}
	entries := make([]Entry, 0, len(disk))
	for _, e := range disk {
		entries = append(entries, e)
	}
	data, err := Encode(entries)
	if err != nil {
		return false, err
	}
	if err := atomicfile.Write(l.path, data, 0o644); err != nil {
		return false, fmt.Errorf("writing the lock file: %w", err)
	}
	l.loaded, l.exists = data, true
	l.base = disk
	l.cur = make(map[key]Entry, len(disk))
	for k, e := range disk {
		l.cur[k] = e
	}
	return true, nil
}

func union(a, b map[key]Entry) map[key]bool {
	out := map[key]bool{}
	for k := range a {
		out[k] = true
	}
	for k := range b {
		out[k] = true
	}
	return out
}

func changedEntry(base, now map[key]Entry, k key) bool {
	a, okA := base[k]
	b, okB := now[k]
	return okA != okB || a != b
}

func sameEntry(a, b map[key]Entry, k key) bool {
	x, okX := a[k]
	y, okY := b[k]
	return okX == okY && x == y
}
