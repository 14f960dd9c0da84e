package scan

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/BurntSushi/toml"
)

// ErrInvalidIgnoreFile and ErrInvalidVEX are returned (wrapped) for
// suppression inputs that do not parse.
var (
	ErrInvalidIgnoreFile = errors.New("invalid ignore file")
	ErrInvalidVEX        = errors.New("invalid OpenVEX document")
)

// IgnoreConfig is the part of an osv-scanner.toml file hallmark honours:
// its [[IgnoredVulns]] entries.
type IgnoreConfig struct {
	// Source is the file name, recorded in suppressions.
	Source       string
	IgnoredVulns []IgnoredVuln
}

// IgnoredVuln is one [[IgnoredVulns]] entry.
type IgnoredVuln struct {
	ID string `toml:"id"`
	// IgnoreUntil, when set, ends the suppression (the finding counts
	// again from that time on).
	IgnoreUntil time.Time `toml:"ignoreUntil"`
	Reason      string    `toml:"reason"`
}

// ParseIgnoreFile parses an osv-scanner.toml-compatible ignore file. Keys
// it does not know (PackageOverrides, ...) are ignored.
func ParseIgnoreFile(name string, data []byte) (*IgnoreConfig, error) {
	var raw struct {
		IgnoredVulns []struct {
			ID          string `toml:"id"`
			IgnoreUntil any    `toml:"ignoreUntil"`
			Reason      string `toml:"reason"`
		} `toml:"IgnoredVulns"`
	}
	if _, err := toml.Decode(string(data), &raw); err != nil {
		return nil, fmt.Errorf("%w %s: %v", ErrInvalidIgnoreFile, name, err)
	}
	cfg := &IgnoreConfig{Source: name}
	for i, e := range raw.IgnoredVulns {
		if strings.TrimSpace(e.ID) == "" {
			return nil, fmt.Errorf("%w %s: IgnoredVulns entry %d has no id", ErrInvalidIgnoreFile, name, i+1)
		}
		iv := IgnoredVuln{ID: strings.TrimSpace(e.ID), Reason: e.Reason}
		switch u := e.IgnoreUntil.(type) {
		case nil:
		case time.Time:
			iv.IgnoreUntil = u
		case string:
			t, err := parseLooseTime(u)
			if err != nil {
				return nil, fmt.Errorf("%w %s: %s: ignoreUntil %q: %v", ErrInvalidIgnoreFile, name, iv.ID, u, err)
			}
			iv.IgnoreUntil = t
		default:
			return nil, fmt.Errorf("%w %s: %s: ignoreUntil is not a date", ErrInvalidIgnoreFile, name, iv.ID)
		}
		cfg.IgnoredVulns = append(cfg.IgnoredVulns, iv)
	}
	return cfg, nil
}

func parseLooseTime(s string) (time.Time, error) {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, nil
		}
	}
	return time.Time{}, errors.New("not a date")
}

// VEXDocument is the part of an OpenVEX document suppression uses.
type VEXDocument struct {
	Source     string
	ID         string         `json:"@id"`
	Statements []VEXStatement `json:"statements"`
}

// VEXStatement is one OpenVEX statement.
type VEXStatement struct {
	Vulnerability   VEXVulnerability `json:"vulnerability"`
	Products        []VEXProduct     `json:"products"`
	Status          string           `json:"status"`
	Justification   string           `json:"justification,omitempty"`
	ImpactStatement string           `json:"impact_statement,omitempty"`
	StatusNotes     string           `json:"status_notes,omitempty"`
}

// VEXVulnerability names the vulnerability of a statement; OpenVEX v0.0.x
// wrote it as a bare string.
type VEXVulnerability struct {
	Name    string   `json:"name"`
	ID      string   `json:"@id,omitempty"`
	Aliases []string `json:"aliases,omitempty"`
}

// UnmarshalJSON accepts both the object and the bare string form.
func (v *VEXVulnerability) UnmarshalJSON(b []byte) error {
	var s string
	if json.Unmarshal(b, &s) == nil {
		*v = VEXVulnerability{Name: s}
		return nil
	}
	type plain VEXVulnerability
	var p plain
	if err := json.Unmarshal(b, &p); err != nil {
		return err
	}
	*v = VEXVulnerability(p)
	return nil
}

// VEXProduct is a product of a statement, identified by PURL (its @id or
// identifiers.purl) or by its hashes, with optional subcomponents.
type VEXProduct struct {
	ID          string            `json:"@id"`
	Identifiers map[string]string `json:"identifiers,omitempty"`
	// Hashes are the product's digests by OpenVEX algorithm name
	// ("sha-256": hex); verify --type vuln matches the artifact by them.
	Hashes map[string]string `json:"hashes,omitempty"`
	Subs   []VEXProduct      `json:"subcomponents,omitempty"`
}

// PURL is the product's package URL: its @id when that is a PURL, else
// identifiers.purl.
func (p VEXProduct) PURL() string { return p.purl() }

// PURLMatches reports whether a VEX product PURL covers a package PURL:
// same type, namespace and name (normalized as the ecosystem does); a
// product without a version covers every version.
func PURLMatches(product, pkg string) bool { return purlMatches(product, pkg) }

// UnmarshalJSON accepts OpenVEX v0.0.x's bare PURL strings too.
func (p *VEXProduct) UnmarshalJSON(b []byte) error {
	var s string
	if json.Unmarshal(b, &s) == nil {
		*p = VEXProduct{ID: s}
		return nil
	}
	type plain VEXProduct
	var q plain
	if err := json.Unmarshal(b, &q); err != nil {
		return err
	}
	*p = VEXProduct(q)
	return nil
}

func (p VEXProduct) purl() string {
	if strings.HasPrefix(p.ID, "pkg:") {
		return p.ID
	}
	return p.Identifiers["purl"]
}

// ParseVEX parses an OpenVEX document.
func ParseVEX(name string, data []byte) (*VEXDocument, error) {
	var d VEXDocument
	if err := json.Unmarshal(data, &d); err != nil {
		return nil, fmt.Errorf("%w %s: %v", ErrInvalidVEX, name, err)
	}
	if d.Statements == nil {
		return nil, fmt.Errorf("%w %s: no statements", ErrInvalidVEX, name)
	}
	for i, s := range d.Statements {
		if s.Vulnerability.Name == "" && s.Vulnerability.ID == "" {
			return nil, fmt.Errorf("%w %s: statement %d names no vulnerability", ErrInvalidVEX, name, i+1)
		}
		switch s.Status {
		case "not_affected", "affected", "fixed", "under_investigation":
		default:
			return nil, fmt.Errorf("%w %s: statement %d has status %q", ErrInvalidVEX, name, i+1, s.Status)
		}
	}
	d.Source = name
	return &d, nil
}

// purlMatches reports whether a VEX product PURL covers the package PURL:
// same type, namespace and name; a product without a version covers every
// version.
func purlMatches(product, pkg string) bool {
	pp, ok1 := ParsePURL(product)
	kp, ok2 := ParsePURL(pkg)
	if !ok1 || !ok2 || pp.Type != kp.Type {
		return false
	}
	eco, _, _ := kp.EcosystemName()
	if !strings.EqualFold(pp.Namespace, kp.Namespace) ||
		NormalizeName(eco, pp.Name) != NormalizeName(eco, kp.Name) {
		return false
	}
	return pp.Version == "" || pp.Version == kp.Version || strings.TrimPrefix(pp.Version, "v") == strings.TrimPrefix(kp.Version, "v")
}

func findingIDs(f *Finding) []string {
	return append(append([]string{}, f.IDs...), f.Aliases...)
}

func applySuppressions(fs []Finding, opts Options, now time.Time) {
	for i := range fs {
		f := &fs[i]
		ids := findingIDs(f)
		if opts.Ignore != nil {
			for _, iv := range opts.Ignore.IgnoredVulns {
				if !slices.Contains(ids, iv.ID) {
					continue
				}
				if !iv.IgnoreUntil.IsZero() && !now.Before(iv.IgnoreUntil) {
					continue
				}
				f.Suppressed = &Suppression{Kind: "ignore", ID: iv.ID, Reason: iv.Reason, Source: opts.Ignore.Source}
				break
			}
		}
		if f.Suppressed != nil {
			continue
		}
		for _, d := range opts.VEX {
			if s := vexSuppression(d, f, ids); s != nil {
				f.Suppressed = s
				break
			}
		}
	}
}

func vexSuppression(d *VEXDocument, f *Finding, ids []string) *Suppression {
	if d == nil {
		return nil
	}
	for _, st := range d.Statements {
		if st.Status != "not_affected" && st.Status != "fixed" {
			continue
		}
		names := append([]string{st.Vulnerability.Name, st.Vulnerability.ID}, st.Vulnerability.Aliases...)
		var hit string
		for _, n := range names {
			if n != "" && slices.Contains(ids, n) {
				hit = n
				break
			}
		}
		if hit == "" {
			continue
		}
		if !vexProductsMatch(st.Products, f.Package.PURL) {
			continue
		}
		reason := st.ImpactStatement
		if reason == "" {
			reason = st.StatusNotes
		}
		return &Suppression{Kind: "vex", ID: hit, Status: st.Status, Justification: st.Justification, Reason: reason, Source: d.Source}
	}
	return nil
}

func vexProductsMatch(ps []VEXProduct, purl string) bool {
	if purl == "" {
		return false
	}
	for _, p := range ps {
		if u := p.purl(); u != "" && purlMatches(u, purl) {
			return true
		}
		for _, s := range p.Subs {
			if u := s.purl(); u != "" && purlMatches(u, purl) {
				return true
			}
		}
	}
	return false
}

// FailOn returns the findings that count against a --fail-on threshold:
// those not suppressed whose level is at or above min. A finding of
// unknown severity counts whatever the threshold (fail closed). An empty
// min (LevelUnknown) counts every unsuppressed finding.
func FailOn(fs []Finding, min Level) []Finding {
	var out []Finding
	for _, f := range fs {
		if f.Suppressed != nil {
			continue
		}
		if min.Rank() == 0 || f.Severity.Level.Rank() == 0 || f.Severity.Level.Rank() >= min.Rank() {
			out = append(out, f)
		}
	}
	return out
}
