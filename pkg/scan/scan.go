package scan

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"
)

// SchemaVersion is the version of the Result JSON schema.
const SchemaVersion = "1"

// Query asks a Source for the candidate records of one package.
type Query struct {
	// Ecosystem is canonical and may carry a suffix ("Debian:11").
	Ecosystem string
	// Name is normalized with NormalizeName.
	Name string
	// RawName is the name as the package spelled it (osv.dev matches
	// names exactly in some ecosystems: npm "JSONStream", crates.io
	// "serde_json").
	RawName string
	// Version and Commit let an online source filter server-side; a local
	// source may ignore them and return every record of the name.
	Version string
	Commit  string
	// PURL is the package's PURL, when it has one.
	PURL string
}

// Source returns OSV records that may affect packages. Matching is always
// redone by Scan, so a source may return more records than apply.
type Source interface {
	// Query returns, for each query, its candidate records (same order and
	// length as qs).
	Query(ctx context.Context, qs []Query) ([][]*Vulnerability, error)
	// Databases describes the data behind each ecosystem (base names, as
	// BaseEcosystem returns them). An ecosystem the source has no data for
	// is returned with Missing set.
	Databases(ctx context.Context, ecosystems []string) ([]Database, error)
}

// Database describes the vulnerability data used for one ecosystem.
type Database struct {
	Ecosystem string `json:"ecosystem"`
	// Source is where the data came from: "osv.dev API <url>" or the
	// local database path and the export it was imported from.
	Source string `json:"source"`
	// Snapshot is the newest record modification time (or the export's
	// date); for an online source, the time of the query.
	Snapshot time.Time `json:"snapshot,omitzero"`
	Records  int       `json:"records,omitempty"`
	Missing  bool      `json:"missing,omitempty"`
}

// Scanner names the program that produced a Result.
type Scanner struct {
	Name    string `json:"name"`
	Version string `json:"version"`
}

// Options tune Scan. The zero value is valid.
type Options struct {
	// Scanner is recorded in the result (default "hallmark", "devel").
	Scanner Scanner
	// AllowIncomplete turns an ecosystem missing from the source into a
	// warning instead of an error.
	AllowIncomplete bool
	// Ignore and VEX suppress findings (kept in the result, marked).
	Ignore *IgnoreConfig
	VEX    []*VEXDocument
	// Now is the clock (withdrawn records, ignoreUntil); default time.Now.
	Now func() time.Time
}

// Result is the outcome of a scan; it is also the versioned JSON schema
// (schemaVersion) that renderers and attestations read.
type Result struct {
	SchemaVersion string     `json:"schemaVersion"`
	Scanner       Scanner    `json:"scanner"`
	Databases     []Database `json:"databases"`
	StartedAt     time.Time  `json:"startedAt"`
	FinishedAt    time.Time  `json:"finishedAt"`
	// Packages is the number of package instances scanned (matched,
	// unpinned and unparseable): one per entry in a file, so a package
	// pinned in two lockfiles counts twice.
	Packages int       `json:"packages"`
	Findings []Finding `json:"findings"`
	Unpinned []Package `json:"unpinned,omitempty"`
	// Unparseable are the packages whose version is not a version in
	// their ecosystem's scheme ("not a version!!" in npm): named, never
	// matched.
	Unparseable []Unparseable `json:"unparseable,omitempty"`
	Warnings    []Warning     `json:"warnings,omitempty"`
	// Files are the files the packages were read from, and Failures the
	// files that were found but could not be read or parsed: their
	// packages are missing, so the scan is incomplete. Scan fills
	// neither; the caller that extracted the packages does.
	Files    []File        `json:"files,omitempty"`
	Failures []FileFailure `json:"failures,omitempty"`
}

// File is a file packages were read from.
type File struct {
	// Path is the file, as Location.Path shows files.
	Path string `json:"path"`
	// Extractor is the format it was read as.
	Extractor string `json:"extractor"`
	// Packages is how many packages it contributed.
	Packages int `json:"packages"`
}

// FileFailure is a file that was found but could not be read or parsed.
type FileFailure struct {
	// Path is the file, as Location.Path shows files.
	Path string `json:"path"`
	// Extractor is the format that was tried, empty when none was.
	Extractor string `json:"extractor,omitempty"`
	// Reason says in words why the file could not be read.
	Reason string `json:"reason"`
}

// Unparseable is a package whose version could not be parsed, and why.
type Unparseable struct {
	Package Package `json:"package"`
	Reason  string  `json:"reason"`
}

// Finding is one vulnerability (a group of records that are aliases of one
// another) affecting one package.
type Finding struct {
	// ID is the preferred identifier of the group (the first record id in
	// a stable order: GHSA, then others, by id).
	ID string `json:"id"`
	// IDs are the ids of the matching records, sorted.
	IDs []string `json:"ids"`
	// Aliases are all other identifiers the records name (CVE, GHSA, ...).
	Aliases  []string      `json:"aliases,omitempty"`
	Summary  string        `json:"summary,omitempty"`
	Severity SeverityScore `json:"severity"`
	// FixedVersions lists the fixed versions of the package's affected
	// ranges, in the records' order, without duplicates.
	FixedVersions []string     `json:"fixedVersions,omitempty"`
	Package       Package      `json:"package"`
	Modified      time.Time    `json:"modified,omitzero"`
	References    []string     `json:"references,omitempty"`
	Suppressed    *Suppression `json:"suppressed,omitempty"`
}

// Suppression says why a finding does not count.
type Suppression struct {
	// Kind is "ignore" (an osv-scanner.toml entry) or "vex".
	Kind string `json:"kind"`
	// ID is the identifier the rule named.
	ID     string `json:"id"`
	Reason string `json:"reason,omitempty"`
	// Status is the VEX status (not_affected, fixed).
	Status        string `json:"status,omitempty"`
	Justification string `json:"justification,omitempty"`
	// Source is the file the rule came from.
	Source string `json:"source,omitempty"`
}

// Warning is something the scan could not decide; it names the package
// when there is one.
type Warning struct {
	Package *Package `json:"package,omitempty"`
	// ID is the record concerned, when there is one.
	ID      string `json:"id,omitempty"`
	Message string `json:"message"`
}

// MissingEcosystemError is returned by Scan when scanned packages belong
// to ecosystems the source has no data for.
type MissingEcosystemError struct {
	Ecosystems []string
}

func (e *MissingEcosystemError) Error() string {
	return fmt.Sprintf("the vulnerability database has no data for %s", strings.Join(quoteAll(e.Ecosystems), ", "))
}

func quoteAll(s []string) []string {
	out := make([]string, len(s))
	for i, x := range s {
		out[i] = fmt.Sprintf("%q", x)
	}
	return out
}

// ErrNoSource is returned when Scan is called without a source.
var ErrNoSource = errors.New("no vulnerability source")

// ctxCheckEvery is how many packages are sorted between two checks of the
// context: often enough that a cancelled scan of a million packages stops
// at once, seldom enough to cost nothing.
const ctxCheckEvery = 4096

// Scan matches pkgs against the records db returns. Unpinned packages are
// listed in Result.Unpinned and not matched; undecidable matches are
// warnings, never silent misses.
func Scan(ctx context.Context, db Source, pkgs []Package, opts Options) (*Result, error) {
	if db == nil {
		return nil, ErrNoSource
	}
	now := time.Now
	if opts.Now != nil {
		now = opts.Now
	}
	res := &Result{
		SchemaVersion: SchemaVersion,
		Scanner:       opts.Scanner,
		StartedAt:     now().UTC(),
		Findings:      []Finding{},
	}
	if res.Scanner.Name == "" {
		res.Scanner = Scanner{Name: "hallmark", Version: "devel"}
	}
	res.Packages = len(pkgs)

	type item struct {
		pkg                     Package
		eco, name, raw, version string
	}
	var items []item
	ecoSet := map[string]bool{}
	for i, p := range pkgs {
		if i%ctxCheckEvery == 0 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
		}
		if p.Unpinned() {
			res.Unpinned = append(res.Unpinned, p)
			continue
		}
		eco, name, raw, version := identify(p)
		if eco == "" || name == "" {
			pp := p
			res.Warnings = append(res.Warnings, Warning{Package: &pp, Message: "package has no ecosystem or name: not matched"})
			continue
		}
		if version == "" && p.Commit == "" {
			pp := p
			res.Warnings = append(res.Warnings, Warning{Package: &pp, Message: "package has no version: not matched"})
			continue
		}
		if version != "" {
			if _, err := parseVersion(RangeEcosystem, eco, version); errors.Is(err, ErrInvalidVersion) {
				res.Unparseable = append(res.Unparseable, Unparseable{Package: p, Reason: err.Error()})
				continue
			}
		}
		items = append(items, item{pkg: p, eco: eco, name: name, raw: raw, version: version})
		ecoSet[BaseEcosystem(eco)] = true
	}
	ecos := make([]string, 0, len(ecoSet))
	for e := range ecoSet {
		ecos = append(ecos, e)
	}
	sort.Strings(ecos)
	if len(ecos) > 0 {
		dbs, err := db.Databases(ctx, ecos)
		if err != nil {
			return nil, err
		}
		res.Databases = dbs
		var missing []string
		for _, d := range dbs {
			if d.Missing {
				missing = append(missing, d.Ecosystem)
			}
		}
		if len(missing) > 0 {
			if !opts.AllowIncomplete {
				return nil, &MissingEcosystemError{Ecosystems: missing}
			}
			for _, m := range missing {
				res.Warnings = append(res.Warnings, Warning{Message: fmt.Sprintf("the vulnerability database has no data for %q: its packages were not checked", m)})
			}
		}
	}
	if res.Databases == nil {
		res.Databases = []Database{}
	}

	qs := make([]Query, len(items))
	for i, it := range items {
		qs[i] = Query{Ecosystem: it.eco, Name: it.name, RawName: it.raw, Version: it.version, Commit: it.pkg.Commit, PURL: it.pkg.PURL}
	}
	var cands [][]*Vulnerability
	if len(qs) > 0 {
		var err error
		cands, err = db.Query(ctx, qs)
		if err != nil {
			return nil, err
		}
		if len(cands) != len(qs) {
			return nil, fmt.Errorf("vulnerability source answered %d queries for %d", len(cands), len(qs))
		}
	}
	t := now()
	for i, it := range items {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		vc := &versionCache{eco: it.eco, version: it.version}
		var matched []match
		warned := map[string]bool{} // one warning per package and cause
		for _, v := range cands[i] {
			if v == nil || v.IsWithdrawn(t) {
				continue
			}
			m, ok, err := matchRecord(v, it.eco, it.name, vc, it.pkg.Commit)
			if err != nil && !warned[err.Error()] {
				warned[err.Error()] = true
				pp := it.pkg
				res.Warnings = append(res.Warnings, Warning{Package: &pp, ID: v.ID,
					Message: fmt.Sprintf("%s %s@%s: %v: the record could not be fully evaluated", it.eco, it.name, it.version, err)})
			}
			if ok {
				matched = append(matched, m)
			}
		}
		for _, f := range group(matched) {
			f.Package = it.pkg
			if f.Package.PURL == "" {
				f.Package.PURL = packagePURL(it.pkg)
			}
			res.Findings = append(res.Findings, f)
		}
	}
	applySuppressions(res.Findings, opts, t)
	res.FinishedAt = now().UTC()
	return res, nil
}

type match struct {
	v   *Vulnerability
	aff []*Affected
}

// matchRecord evaluates every affected entry of v for the package.
func matchRecord(v *Vulnerability, eco, name string, vc *versionCache, commit string) (match, bool, error) {
	m := match{v: v}
	var errs []error
	for i := range v.Affected {
		a := &v.Affected[i]
		if !sameEcosystem(a, eco) || !sameName(a, eco, name) {
			continue
		}
		ok, err := affects(a, vc, commit)
		if err != nil {
			errs = append(errs, err)
		}
		if ok {
			m.aff = append(m.aff, a)
		}
	}
	return m, len(m.aff) > 0, errors.Join(errs...)
}

func affectedIdentity(a *Affected) (eco, name string) {
	eco, name = a.Package.Ecosystem, a.Package.Name
	if (eco == "" || name == "") && a.Package.PURL != "" {
		if pu, ok := ParsePURL(a.Package.PURL); ok {
			if e, n, ok := pu.EcosystemName(); ok {
				if eco == "" {
					eco = e
				}
				if name == "" {
					name = n
				}
			}
		}
	}
	return NormalizeEcosystem(eco), name
}

// sameEcosystem compares base ecosystems, and suffixes when both have one
// ("Debian:11" matches "Debian:11" and "Debian", not "Debian:12").
func sameEcosystem(a *Affected, eco string) bool {
	ae, _ := affectedIdentity(a)
	ab, as, _ := strings.Cut(ae, ":")
	pb, ps, _ := strings.Cut(eco, ":")
	if ab != pb {
		return false
	}
	return as == "" || ps == "" || as == ps
}

func sameName(a *Affected, eco, name string) bool {
	_, an := affectedIdentity(a)
	return NormalizeName(eco, an) == name
}

// group merges matched records that name one another (by id or alias) into
// one finding each.
func group(ms []match) []Finding {
	if len(ms) == 0 {
		return nil
	}
	parent := make([]int, len(ms))
	for i := range parent {
		parent[i] = i
	}
	find := func(i int) int {
		for parent[i] != i {
			parent[i] = parent[parent[i]]
			i = parent[i]
		}
		return i
	}
	owner := map[string]int{}
	for i, m := range ms {
		for _, id := range append([]string{m.v.ID}, m.v.Aliases...) {
			if j, ok := owner[id]; ok {
				parent[find(i)] = find(j)
			} else {
				owner[id] = i
			}
		}
	}
	groups := map[int][]match{}
	var roots []int
	for i := range ms {
		r := find(i)
		if _, ok := groups[r]; !ok {
			roots = append(roots, r)
		}
		groups[r] = append(groups[r], ms[i])
	}
	var out []Finding
	for _, r := range roots {
		out = append(out, makeFinding(groups[r]))
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

func idRank(id string) int {
	switch {
	case strings.HasPrefix(id, "GHSA-"):
		return 0
	case strings.HasPrefix(id, "CVE-"):
		return 2
	}
	return 1
}

func makeFinding(ms []match) Finding {
	f := Finding{Severity: SeverityScore{Level: LevelUnknown}}
	ids := map[string]bool{}
	for _, m := range ms {
		f.IDs = append(f.IDs, m.v.ID)
		ids[m.v.ID] = true
	}
	sort.Strings(f.IDs)
	f.ID = slices.MinFunc(f.IDs, func(a, b string) int {
		if c := idRank(a) - idRank(b); c != 0 {
			return c
		}
		return strings.Compare(a, b)
	})
	aliases := map[string]bool{}
	fixed := map[string]bool{}
	refs := map[string]bool{}
	for _, m := range ms {
		for _, a := range m.v.Aliases {
			if !ids[a] {
				aliases[a] = true
			}
		}
		if f.Summary == "" || m.v.ID == f.ID && m.v.Summary != "" {
			f.Summary = m.v.Summary
		}
		if m.v.Modified.After(f.Modified) {
			f.Modified = m.v.Modified
		}
		for _, a := range m.aff {
			f.Severity = maxSeverity(f.Severity, severityOf(m.v, a))
			for _, r := range a.Ranges {
				if r.Type == RangeGit {
					continue
				}
				for _, e := range r.Events {
					if e.Fixed != "" && !fixed[e.Fixed] {
						fixed[e.Fixed] = true
						f.FixedVersions = append(f.FixedVersions, e.Fixed)
					}
				}
			}
		}
		for _, r := range m.v.References {
			if r.URL != "" && !refs[r.URL] && len(refs) < 20 {
				refs[r.URL] = true
				f.References = append(f.References, r.URL)
			}
		}
	}
	for a := range aliases {
		f.Aliases = append(f.Aliases, a)
	}
	sort.Strings(f.Aliases)
	return f
}

// PackageIdentity returns the entry's canonical ecosystem and its package
// name (taken from the PURL when the entry has no name), not normalized.
func (a *Affected) PackageIdentity() (eco, name string) { return affectedIdentity(a) }
