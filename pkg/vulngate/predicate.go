// Package vulngate turns a scan result into a signed-attestation predicate
// (in-toto vulns v0.2) and decides, at verify time, whether the newest
// verified scan attestation of an artifact lets it through: young enough
// by its verified timestamp, and no finding at or above a severity that a
// VEX statement about the artifact does not cover.
//
// It is pure: it reads predicates and verify results handed to it, and
// never verifies a bundle itself (pkg/verify does that) or reads a file.
package vulngate

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	vulnsv02 "github.com/in-toto/attestation/go/predicates/vulns/v02"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/types/known/structpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/hallmark-dev/hallmark/pkg/attest"
	"github.com/hallmark-dev/hallmark/pkg/scan"
)

// PredicateType is the in-toto vulnerability predicate hallmark writes.
const PredicateType = attest.TypeVuln

// Severity methods hallmark records for a finding: the CVSS version of its
// base score ("CVSS_V3", "CVSS_V4", ...) with the score, and MethodLevel
// with the qualitative level (low, medium, high, critical, unknown).
const MethodLevel = "level"

// AnnotationKey is the key of the one annotation object hallmark adds to
// each result: the package, the other ids of the vulnerability and whether
// a suppression applied at scan time. See Annotation.
const AnnotationKey = "hallmark"

// Annotation is what hallmark records about a finding beyond its id and
// severities, under annotations[0].hallmark.
type Annotation struct {
	// Aliases are the finding's other ids (the OSV records' ids and
	// aliases), which VEX statements may name instead of id.
	Aliases []string `json:"aliases,omitempty"`
	Package Package  `json:"package"`
	Summary string   `json:"summary,omitempty"`
	// FixedVersions are the versions that fix it, when known.
	FixedVersions []string `json:"fixedVersions,omitempty"`
	// Suppressed is the scan-time suppression (--vex, osv-scanner.toml).
	// The gate does not honour it: only VEX given at verify time counts.
	Suppressed *scan.Suppression `json:"suppressed,omitempty"`
}

// Package names the affected package of a finding.
type Package struct {
	Ecosystem string `json:"ecosystem"`
	Name      string `json:"name"`
	Version   string `json:"version,omitempty"`
	PURL      string `json:"purl,omitempty"`
	// Path is the scanned file the package was found in.
	Path string `json:"path,omitempty"`
}

// Extension is what hallmark adds at the top of the predicate, next to
// scanner and metadata (in-toto consumers ignore fields they do not know):
// the vulnerability data per ecosystem, which scanner.db (one database)
// cannot hold, and what the scan could not read.
type Extension struct {
	// Databases are the data used, one per ecosystem: source, snapshot
	// date, record count.
	Databases []scan.Database `json:"databases"`
	// Incomplete lists what the scan could not check (files that could
	// not be read, ecosystems the database lacks), when it was accepted
	// with --allow-incomplete. A gate refuses such a scan.
	Incomplete []string `json:"incomplete,omitempty"`
}

// ScannerURI is the scanner.uri of a scanner: hallmark's Go module PURL
// (with its version when it is a release), or pkg:generic/NAME.
func ScannerURI(s scan.Scanner) string {
	base := "pkg:generic/" + s.Name
	if s.Name == "" || s.Name == "hallmark" {
		base = "pkg:golang/github.com/hallmark-dev/hallmark"
	}
	if s.Version != "" && s.Version != "devel" && !strings.ContainsAny(s.Version, " /?#@()") {
		return base + "@" + s.Version
	}
	return base
}

// Predicate makes the in-toto vulns v0.2 predicate of a scan: scanner.uri
// and version; scanner.db with the osv.dev API URL when the data came from
// it and, as lastUpdate, the oldest snapshot of the ecosystems' data (the
// per-ecosystem data is in the Extension's databases); one result per
// finding, suppressed ones included and marked, with its id, its
// severities and the Annotation; and metadata.scanStartedOn (started, the
// time extraction began; res.StartedAt when zero) and scanFinishedOn.
func Predicate(res *scan.Result, started time.Time) (*structpb.Struct, error) {
	if res == nil {
		return nil, errors.New("vulngate: no scan result")
	}
	if started.IsZero() || started.After(res.StartedAt) {
		started = res.StartedAt
	}
	version := res.Scanner.Version
	db := &vulnsv02.VulnDatabase{}
	var oldest time.Time
	// uri is the osv.dev API URL when every ecosystem's data came from it.
	uri, first := "", true
	for _, d := range res.Databases {
		if d.Missing {
			continue
		}
		if !d.Snapshot.IsZero() && (oldest.IsZero() || d.Snapshot.Before(oldest)) {
			oldest = d.Snapshot
		}
		u, online := strings.CutPrefix(d.Source, "osv.dev API ")
		switch {
		case first && online:
			uri = u
		case !online || u != uri:
			uri = ""
		}
		first = false
	}
	if oldest.IsZero() {
		// No database was consulted (no packages): the data is as of
		// the scan.
		oldest = res.StartedAt
	}
	db.LastUpdate = timestamppb.New(oldest.UTC())
	if uri != "" {
		db.Uri = &uri
	}
	p := &vulnsv02.Vulns{
		Scanner: &vulnsv02.Scanner{Uri: ScannerURI(res.Scanner), Db: db, Result: []*vulnsv02.Result{}},
		Metadata: &vulnsv02.ScanMetadata{
			ScanStartedOn:  timestamppb.New(started.UTC()),
			ScanFinishedOn: timestamppb.New(res.FinishedAt.UTC()),
		},
	}
	if version != "" {
		p.Scanner.Version = &version
	}
	for _, f := range res.Findings {
		r, err := result(f)
		if err != nil {
			return nil, err
		}
		p.Scanner.Result = append(p.Scanner.Result, r)
	}
	data, err := protojson.Marshal(p)
	if err != nil {
		return nil, err
	}
	st := &structpb.Struct{}
	if err := protojson.Unmarshal(data, st); err != nil {
		return nil, err
	}
	ext := Extension{Databases: res.Databases, Incomplete: incomplete(res)}
	if ext.Databases == nil {
		ext.Databases = []scan.Database{}
	}
	v, err := toValue(ext)
	if err != nil {
		return nil, err
	}
	for k, x := range v.GetStructValue().GetFields() {
		st.Fields[k] = x
	}
	return st, nil
}

// incomplete lists what a result did not check: unreadable files and
// ecosystems without data.
func incomplete(res *scan.Result) []string {
	var out []string
	for _, f := range res.Failures {
		out = append(out, fmt.Sprintf("file %q was not read: %s", f.Path, f.Reason))
	}
	for _, d := range res.Databases {
		if d.Missing {
			out = append(out, fmt.Sprintf("the database has no data for %q", d.Ecosystem))
		}
	}
	return out
}

func result(f scan.Finding) (*vulnsv02.Result, error) {
	r := &vulnsv02.Result{Id: f.ID}
	if s := f.Severity; s.Type != "" && s.Type != "database" && s.Score > 0 {
		r.Severity = append(r.Severity, &vulnsv02.Result_Severity{Method: s.Type, Score: strconv.FormatFloat(s.Score, 'f', 1, 64)})
	}
	level := f.Severity.Level
	if level == "" {
		level = scan.LevelUnknown
	}
	r.Severity = append(r.Severity, &vulnsv02.Result_Severity{Method: MethodLevel, Score: string(level)})
	var aliases []string
	for _, id := range append(append([]string{}, f.IDs...), f.Aliases...) {
		if id != f.ID && !slices.Contains(aliases, id) {
			aliases = append(aliases, id)
		}
	}
	sort.Strings(aliases)
	a := Annotation{
		Aliases: aliases,
		Package: Package{Ecosystem: f.Package.Ecosystem, Name: f.Package.Name, Version: f.Package.Version,
			PURL: f.Package.PURL, Path: f.Package.Location.Path},
		Summary:       f.Summary,
		FixedVersions: f.FixedVersions,
		Suppressed:    f.Suppressed,
	}
	v, err := toValue(map[string]any{AnnotationKey: a})
	if err != nil {
		return nil, err
	}
	r.Annotations = []*structpb.Struct{v.GetStructValue()}
	return r, nil
}

// toValue converts a JSON-encodable value to a structpb value.
func toValue(x any) (*structpb.Value, error) {
	data, err := json.Marshal(x)
	if err != nil {
		return nil, err
	}
	v := &structpb.Value{}
	if err := protojson.Unmarshal(data, v); err != nil {
		return nil, err
	}
	return v, nil
}

// Report is a decoded vulns v0.2 predicate: what a signed scan says.
type Report struct {
	ScannerURI     string `json:"scannerUri"`
	ScannerVersion string `json:"scannerVersion,omitempty"`
	// DatabaseUpdated is scanner.db.lastUpdate.
	DatabaseUpdated time.Time       `json:"databaseUpdated,omitzero"`
	Databases       []scan.Database `json:"databases,omitempty"`
	Incomplete      []string        `json:"incomplete,omitempty"`
	// StartedOn and FinishedOn are the predicate's own claims; the gate
	// never measures age by them.
	StartedOn  time.Time `json:"scanStartedOn,omitzero"`
	FinishedOn time.Time `json:"scanFinishedOn,omitzero"`
	Findings   []Finding `json:"findings"`
}

// Finding is one result of the predicate.
type Finding struct {
	ID         string     `json:"id"`
	Aliases    []string   `json:"aliases,omitempty"`
	Severities []Severity `json:"severities,omitempty"`
	// Level is the highest level the severities give (unknown when none
	// is understood).
	Level   scan.Level `json:"level"`
	Package Package    `json:"package"`
}

// Severity is one severity entry: a method and its score.
type Severity struct {
	Method string `json:"method"`
	Score  string `json:"score"`
}

// IDs are the finding's id and aliases.
func (f Finding) IDs() []string { return append([]string{f.ID}, f.Aliases...) }

// ErrPredicate is returned (wrapped) for a predicate that is not a vulns
// v0.2 predicate.
var ErrPredicate = errors.New("not an in-toto vulns v0.2 predicate")

// MaxPredicateSize bounds a predicate DecodePredicate reads.
const MaxPredicateSize = attest.MaxDocumentSize

// DecodePredicate reads a vulns v0.2 predicate, from hallmark or any other
// scanner: scanner.uri and every result's id are required; severities are
// read as a qualitative level (low, moderate/medium, high, critical, in
// any case, as the "level" method, NVD and others write them) or as a CVSS
// base score from 0 to 10; a finding whose severities give neither is of
// unknown level, which every threshold counts.
func DecodePredicate(data []byte) (*Report, error) {
	if len(data) > MaxPredicateSize {
		return nil, fmt.Errorf("%w: larger than %d bytes", ErrPredicate, MaxPredicateSize)
	}
	p := &vulnsv02.Vulns{}
	if err := (protojson.UnmarshalOptions{DiscardUnknown: true}).Unmarshal(data, p); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrPredicate, err)
	}
	if p.GetScanner().GetUri() == "" {
		return nil, fmt.Errorf("%w: scanner.uri is missing", ErrPredicate)
	}
	var ext Extension
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&ext); err != nil {
		// A field of another shape under one of hallmark's names: the
		// predicate is someone else's; its spec fields still count, and a
		// claim of completeness it cannot make is refused.
		ext = Extension{Incomplete: []string{"the predicate's databases or incomplete field does not parse: " + err.Error()}}
	}
	r := &Report{
		ScannerURI:     p.GetScanner().GetUri(),
		ScannerVersion: p.GetScanner().GetVersion(),
		Databases:      ext.Databases,
		Incomplete:     ext.Incomplete,
		StartedOn:      p.GetMetadata().GetScanStartedOn().AsTime(),
		FinishedOn:     p.GetMetadata().GetScanFinishedOn().AsTime(),
		Findings:       []Finding{},
	}
	if lu := p.GetScanner().GetDb().GetLastUpdate(); lu != nil {
		r.DatabaseUpdated = lu.AsTime()
	}
	if p.GetMetadata().GetScanStartedOn() == nil {
		r.StartedOn = time.Time{}
	}
	if p.GetMetadata().GetScanFinishedOn() == nil {
		r.FinishedOn = time.Time{}
	}
	for i, res := range p.GetScanner().GetResult() {
		if res.GetId() == "" {
			return nil, fmt.Errorf("%w: scanner.result[%d].id is missing", ErrPredicate, i)
		}
		f := Finding{ID: res.GetId(), Level: scan.LevelUnknown}
		for _, s := range res.GetSeverity() {
			f.Severities = append(f.Severities, Severity{Method: s.GetMethod(), Score: s.GetScore()})
			if l := levelOf(s.GetScore()); l.Rank() > f.Level.Rank() {
				f.Level = l
			}
		}
		for _, an := range res.GetAnnotations() {
			v, ok := an.GetFields()[AnnotationKey]
			if !ok {
				continue
			}
			raw, err := protojson.Marshal(v)
			if err != nil {
				continue
			}
			var a Annotation
			if json.Unmarshal(raw, &a) == nil {
				f.Aliases, f.Package = a.Aliases, a.Package
			}
			break
		}
		r.Findings = append(r.Findings, f)
	}
	return r, nil
}

// levelOf reads a severity score: a level name, or a CVSS base score
// mapped to its qualitative rating (CVSS v3/v4: 0.1-3.9 low, 4.0-6.9
// medium, 7.0-8.9 high, 9.0-10.0 critical). Anything else is unknown.
func levelOf(score string) scan.Level {
	if l, ok := scan.ParseLevel(score); ok {
		return l
	}
	f, err := strconv.ParseFloat(strings.TrimSpace(score), 64)
	if err != nil || !(f > 0 && f <= 10) {
		return scan.LevelUnknown
	}
	switch {
	case f >= 9:
		return scan.LevelCritical
	case f >= 7:
		return scan.LevelHigh
	case f >= 4:
		return scan.LevelMedium
	}
	return scan.LevelLow
}
