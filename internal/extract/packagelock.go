package extract

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path"
	"path/filepath"
	"slices"

	cpb "github.com/google/osv-scalibr/binary/proto/config_go_proto"
	"github.com/google/osv-scalibr/extractor"
	"github.com/google/osv-scalibr/extractor/filesystem"
	"github.com/google/osv-scalibr/extractor/filesystem/language/javascript/metadata"
	scalibrlock "github.com/google/osv-scalibr/extractor/filesystem/language/javascript/packagelockjson"
	"github.com/google/osv-scalibr/inventory"

	"github.com/hallmark-dev/hallmark/internal/ctxio"
	"github.com/hallmark-dev/hallmark/internal/extract/packagelockjson"
)

// packageLockExtractor reads package-lock.json and npm-shrinkwrap.json in
// linear time, with exactly the packages of osv-scalibr's packagelockjson
// extractor, which it wraps.
//
// osv-scalibr v0.5.3 finds each package's line with a gjson lookup from the
// start of the file, so a lockfile of n packages costs O(n²) (seconds of CPU
// at 10k packages, see BenchmarkPackageLockScalibr). This reader instead:
//   - decodes the file once with encoding/json into the same types
//     (package packagelockjson), so it accepts and refuses the same files
//     with the same messages, and reads the "peer" flag in the same pass;
//   - indexes, in one scan, the byte offset where gjson would find each
//     entry (packagelock_offsets.go), so that every line is the line
//     osv-scalibr reports;
//   - hands osv-scalibr's extractor each entry on its own, a document of one
//     package, so names, versions, commits, repositories, sources and
//     dependency groups are osv-scalibr's own reading of the entry;
//   - merges the entries osv-scalibr would merge (same name and version or
//     commit) as it does: groups united (no group wins: production), the
//     most public source kept.
//
// Where osv-scalibr takes the line, version text and repository of a merged
// package from whichever entry Go's map order visits last, this reader takes
// the first entry in the file, so its output does not change from run to run.
type packageLockExtractor struct {
	filesystem.Extractor // osv-scalibr's: Name, Version, Requirements, FileRequired
}

func newPackageLockExtractor(cfg *cpb.PluginConfig) (filesystem.Extractor, error) {
	ex, err := scalibrlock.New(cfg)
	if err != nil {
		return nil, err
	}
	return packageLockExtractor{ex}, nil
}

// Extract reads one lockfile.
func (e packageLockExtractor) Extract(ctx context.Context, input *filesystem.ScanInput) (inventory.Inventory, error) {
	// npm reads npm-shrinkwrap.json instead of a package-lock.json beside it.
	if filepath.Base(input.Path) == "package-lock.json" && input.FS != nil {
		shrinkwrap := path.Join(filepath.ToSlash(filepath.Dir(input.Path)), "npm-shrinkwrap.json")
		if f, err := input.FS.Open(shrinkwrap); err == nil {
			f.Close()
			return inventory.Inventory{}, nil
		}
	}
	b, err := io.ReadAll(ctxio.Reader(ctx, input.Reader))
	if err != nil {
		return inventory.Inventory{}, fmt.Errorf("could not read: %w", err)
	}
	groups, err := readPackageLock(ctx, e.Extractor, b, input.Path)
	if err != nil {
		return inventory.Inventory{}, err
	}
	pkgs := make([]*extractor.Package, len(groups))
	for i, g := range groups {
		pkgs[i] = g.pkgs[0]
	}
	return inventory.Inventory{Packages: pkgs}, nil
}

// lockGroup is one package of a lockfile: the entries osv-scalibr merges
// into it, first in the file first, and pkgs[i], the package as reported
// when entry i supplies the line, version text and repository. pkgs[0] is
// the one reported.
type lockGroup struct {
	entries []lockEntry
	pkgs    []*extractor.Package
}

// lockEntry is one entry of the lockfile, as osv-scalibr reads it alone.
type lockEntry struct {
	pkg  *extractor.Package
	pos  lockPos
	path *lockPath // install path (v2) or chain of names (v1): the tie-break
}

// lockPath is a key below the keys of its parent: a chain that shares its
// ancestors, so that a deep v1 tree costs no more than its size.
type lockPath struct {
	parent *lockPath
	key    string
}

// keys returns the chain from the root.
func (p *lockPath) keys() []string {
	var ks []string
	for ; p != nil; p = p.parent {
		ks = append(ks, p.key)
	}
	slices.Reverse(ks)
	return ks
}

// readPackageLock reads a lockfile's packages, in the order of their first
// entry in the file.
//
// Decoding a lockfile of 600k packages takes seconds, in calls that take no
// context (json.Unmarshal, the offset walk, the final sort): it runs aside,
// and Ctrl-C stops the wait; the work left behind ends on its own.
func readPackageLock(ctx context.Context, ex filesystem.Extractor, b []byte, file string) ([]lockGroup, error) {
	type result struct {
		groups []lockGroup
		err    error
		panic  any
	}
	done := make(chan result, 1)
	go func() {
		var r result
		defer func() {
			// osv-scalibr's entry parser may panic: hand the panic to
			// the caller's goroutine, where safeExtract recovers it.
			r.panic = recover()
			done <- r
		}()
		r.groups, r.err = decodePackageLock(ctx, ex, b, file)
	}()
	select {
	case r := <-done:
		if r.panic != nil {
			panic(r.panic)
		}
		return r.groups, r.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// decodePackageLock is readPackageLock without the wait on ctx.
func decodePackageLock(ctx context.Context, ex filesystem.Extractor, b []byte, file string) ([]lockGroup, error) {
	// The same call, target type and messages as osv-scalibr's.
	var lock *packagelockjson.LockFile
	if err := json.Unmarshal(b, &lock); err != nil {
		return nil, fmt.Errorf("could not extract: %w", err)
	}
	if lock == nil {
		return nil, errors.New("could not extract: decoded null JSON value")
	}
	r := &lockReader{ctx: ctx, ex: ex, keys: map[string]int{}}
	var err error
	if lock.Packages != nil {
		err = r.packages(lock.Packages, lockPackageOffsets(b))
	} else {
		err = r.dependencies(lock.Dependencies, lockDependencyOffsets(b), nil)
	}
	if err != nil {
		return nil, err
	}
	return r.finish(file, lockPeers(lock.Packages)), nil
}

// lockReader collects a lockfile's entries into packages.
type lockReader struct {
	ctx    context.Context
	ex     filesystem.Extractor
	keys   map[string]int // merge key -> index in groups
	groups []lockGroup
	n      int    // entries read, to check ctx now and then
	doc    []byte // reused for each entry's document
}

// v2Entry is what osv-scalibr reads of a "packages" entry.
type v2Entry struct {
	Name        string `json:"name,omitempty"`
	Version     string `json:"version"`
	Resolved    string `json:"resolved"`
	Link        bool   `json:"link,omitempty"`
	Dev         bool   `json:"dev,omitempty"`
	DevOptional bool   `json:"devOptional,omitempty"`
	Optional    bool   `json:"optional,omitempty"`
	InBundle    bool   `json:"inBundle,omitempty"`
}

// v1Entry is what osv-scalibr reads of a "dependencies" entry, besides the
// entries nested in it.
type v1Entry struct {
	Version  string `json:"version"`
	Resolved string `json:"resolved"`
	Dev      bool   `json:"dev,omitempty"`
	Optional bool   `json:"optional,omitempty"`
}

// packages reads the entries of a v2/v3 "packages" map; offs are where gjson
// finds them.
func (r *lockReader) packages(pkgs map[string]packagelockjson.Package, offs map[string]lockPos) error {
	for key, p := range pkgs {
		pos, ok := offs[key]
		if !ok {
			pos = lockPos{off: -1}
		}
		pkg, err := r.entry("packages", key, v2Entry{
			Name: p.Name, Version: p.Version, Resolved: p.Resolved, Link: p.Link,
			Dev: p.Dev, DevOptional: p.DevOptional, Optional: p.Optional, InBundle: p.InBundle,
		})
		if err != nil {
			return err
		}
		if pkg == nil { // the root project or a link: not a package
			continue
		}
		version := pkg.Version
		if pkg.SourceCode != nil && pkg.SourceCode.Commit != "" {
			version = pkg.SourceCode.Commit
		}
		r.add(pkg.Name+"@"+version, lockEntry{pkg: pkg, pos: pos, path: &lockPath{key: key}})
	}
	return nil
}

// dependencies reads a v1 "dependencies" tree, the nested entries of an
// entry first as osv-scalibr does; offs is the tree of where gjson finds
// them and chain the names above.
func (r *lockReader) dependencies(deps map[string]packagelockjson.Dependency, offs *lockNode, chain *lockPath) error {
	for name, d := range deps {
		node := offs.child(name)
		here := &lockPath{parent: chain, key: name}
		if d.Dependencies != nil {
			if err := r.dependencies(d.Dependencies, node, here); err != nil {
				return err
			}
		}
		pkg, err := r.entry("dependencies", name, v1Entry{Version: d.Version, Resolved: d.Resolved, Dev: d.Dev, Optional: d.Optional})
		if err != nil {
			return err
		}
		if pkg == nil {
			continue
		}
		version := d.Version
		if pkg.SourceCode != nil && pkg.SourceCode.Commit != "" {
			version = pkg.SourceCode.Commit
		}
		pos := lockPos{off: -1}
		if node != nil && node.pos.off >= 0 {
			pos = node.pos
		}
		r.add(pkg.Name+"@"+version, lockEntry{pkg: pkg, pos: pos, path: here})
	}
	return nil
}

// entry has osv-scalibr read a lockfile holding only this entry.
func (r *lockReader) entry(section, key string, v any) (*extractor.Package, error) {
	if r.n++; r.n%1024 == 0 {
		if err := r.ctx.Err(); err != nil {
			return nil, err
		}
	}
	k, err := json.Marshal(key)
	if err != nil {
		return nil, err
	}
	e, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	doc := append(r.doc[:0], `{"`...)
	doc = append(doc, section...)
	doc = append(doc, `":{`...)
	doc = append(doc, k...)
	doc = append(doc, ':')
	doc = append(doc, e...)
	doc = append(doc, "}}"...)
	r.doc = doc
	// A file named npm-shrinkwrap.json: no package-lock.json precedence check.
	inv, err := r.ex.Extract(r.ctx, &filesystem.ScanInput{Path: "npm-shrinkwrap.json", Reader: bytes.NewReader(doc)})
	if err != nil {
		return nil, fmt.Errorf("entry %q: %w", key, err)
	}
	switch len(inv.Packages) {
	case 0:
		return nil, nil
	case 1:
		return inv.Packages[0], nil
	default:
		return nil, fmt.Errorf("entry %q: %d packages from one entry", key, len(inv.Packages))
	}
}

func (r *lockReader) add(key string, e lockEntry) {
	i, ok := r.keys[key]
	if !ok {
		i = len(r.groups)
		r.keys[key] = i
		r.groups = append(r.groups, lockGroup{})
	}
	r.groups[i].entries = append(r.groups[i].entries, e)
}

// compare orders entries as they come in the file; entries gjson would not
// find (a key spelt "Packages", say) come last, by path.
func (a lockEntry) compare(b lockEntry) int {
	if (a.pos.off < 0) != (b.pos.off < 0) {
		if a.pos.off < 0 {
			return 1
		}
		return -1
	}
	if c := cmp.Compare(a.pos.off, b.pos.off); c != 0 {
		return c
	}
	return slices.Compare(a.path.keys(), b.path.keys())
}

// finish merges each group as osv-scalibr does and orders the groups.
func (r *lockReader) finish(file string, peers map[string]bool) []lockGroup {
	for gi := range r.groups {
		g := &r.groups[gi]
		slices.SortFunc(g.entries, lockEntry.compare)
		groups, source := mergeLockEntries(g.entries)
		g.pkgs = make([]*extractor.Package, len(g.entries))
		for i, e := range g.entries {
			p := *e.pkg
			dg := groups
			if peers[p.Name+"@"+p.Version] && !slices.Contains(dg, "peer") {
				dg = append(slices.Clip(dg), "peer")
			}
			p.Metadata = &metadata.JavascriptPackageMetadata{DepGroupVals: dg, Source: source}
			p.Location = extractor.LocationFromPathAndLine(file, e.pos.line)
			g.pkgs[i] = &p
		}
	}
	slices.SortFunc(r.groups, func(a, b lockGroup) int { return a.entries[0].compare(b.entries[0]) })
	return r.groups
}

// mergeLockEntries returns the dependency groups and source of a package
// osv-scalibr merges from entries: an entry in no group makes it a
// production dependency (no group); otherwise the groups are united, sorted.
// The most public source wins.
func mergeLockEntries(entries []lockEntry) ([]string, metadata.NPMPackageSource) {
	meta := func(e lockEntry) *metadata.JavascriptPackageMetadata {
		m, _ := e.pkg.Metadata.(*metadata.JavascriptPackageMetadata)
		if m == nil {
			m = &metadata.JavascriptPackageMetadata{}
		}
		return m
	}
	first := meta(entries[0])
	groups, source := first.DepGroupVals, first.Source
	if groups == nil {
		groups = []string{}
	}
	if len(entries) == 1 {
		return groups, source
	}
	var all []string
	prod := false
	for _, e := range entries {
		m := meta(e)
		if len(m.DepGroupVals) == 0 {
			prod = true
		}
		all = append(all, m.DepGroupVals...)
		if sourceRank(m.Source) > sourceRank(source) {
			source = m.Source
		}
	}
	if prod {
		return []string{}, source
	}
	slices.Sort(all)
	return slices.Compact(all), source
}

func sourceRank(s metadata.NPMPackageSource) int {
	switch s {
	case metadata.PublicRegistry:
		return 3
	case metadata.Other:
		return 2
	case metadata.Local:
		return 1
	}
	return 0
}

// lockPeers returns name@version of the v2/v3 entries marked "peer": true,
// which osv-scalibr does not report as a dependency group. An entry's name
// is its "name", else its install path after the last "node_modules/".
func lockPeers(pkgs map[string]packagelockjson.Package) map[string]bool {
	peers := map[string]bool{}
	for key, p := range pkgs {
		if !p.IsPeer() {
			continue
		}
		name := p.Name
		if name == "" {
			_, name, _ = cutLast(key, "node_modules/")
		}
		peers[name+"@"+p.Version] = true
	}
	return peers
}
