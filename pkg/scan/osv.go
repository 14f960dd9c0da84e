package scan

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// Vulnerability is one OSV record, as defined by the OSV schema
// (https://ossf.github.io/osv-schema/). Unknown fields are ignored.
type Vulnerability struct {
	SchemaVersion    string          `json:"schema_version,omitempty"`
	ID               string          `json:"id"`
	Modified         time.Time       `json:"modified"`
	Published        *time.Time      `json:"published,omitempty"`
	Withdrawn        *time.Time      `json:"withdrawn,omitempty"`
	Aliases          []string        `json:"aliases,omitempty"`
	Related          []string        `json:"related,omitempty"`
	Upstream         []string        `json:"upstream,omitempty"`
	Summary          string          `json:"summary,omitempty"`
	Details          string          `json:"details,omitempty"`
	Severity         []Severity      `json:"severity,omitempty"`
	Affected         []Affected      `json:"affected,omitempty"`
	References       []Reference     `json:"references,omitempty"`
	DatabaseSpecific json.RawMessage `json:"database_specific,omitempty"`
}

// Severity is an OSV severity entry: a scoring system and its vector or
// score.
type Severity struct {
	Type  string `json:"type"`
	Score string `json:"score"`
}

// Affected is one entry of an OSV record's affected list.
type Affected struct {
	Package           AffectedPackage `json:"package"`
	Severity          []Severity      `json:"severity,omitempty"`
	Ranges            []Range         `json:"ranges,omitempty"`
	Versions          []string        `json:"versions,omitempty"`
	EcosystemSpecific json.RawMessage `json:"ecosystem_specific,omitempty"`
	DatabaseSpecific  json.RawMessage `json:"database_specific,omitempty"`
}

// AffectedPackage identifies the package an Affected entry is about.
type AffectedPackage struct {
	Ecosystem string `json:"ecosystem"`
	Name      string `json:"name"`
	PURL      string `json:"purl,omitempty"`
}

// Range is an OSV range: a type (SEMVER, ECOSYSTEM or GIT) and its events.
type Range struct {
	Type             string          `json:"type"`
	Repo             string          `json:"repo,omitempty"`
	Events           []Event         `json:"events"`
	DatabaseSpecific json.RawMessage `json:"database_specific,omitempty"`
}

// Event is one OSV range event; exactly one field is set.
type Event struct {
	Introduced   string `json:"introduced,omitempty"`
	Fixed        string `json:"fixed,omitempty"`
	LastAffected string `json:"last_affected,omitempty"`
	Limit        string `json:"limit,omitempty"`
}

// Reference is an OSV reference link.
type Reference struct {
	Type string `json:"type"`
	URL  string `json:"url"`
}

// Range types defined by the OSV schema.
const (
	RangeSemver    = "SEMVER"
	RangeEcosystem = "ECOSYSTEM"
	RangeGit       = "GIT"
)

// ErrInvalidRecord is returned (wrapped) for an OSV record that cannot be
// parsed or lacks an id.
var ErrInvalidRecord = errors.New("invalid OSV record")

// ParseVulnerability parses one OSV record in JSON.
func ParseVulnerability(data []byte) (*Vulnerability, error) {
	var v Vulnerability
	if err := json.Unmarshal(data, &v); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalidRecord, err)
	}
	if v.ID == "" {
		return nil, fmt.Errorf("%w: no id", ErrInvalidRecord)
	}
	return &v, nil
}

// IsWithdrawn reports whether the record has been withdrawn (at or before
// now).
func (v *Vulnerability) IsWithdrawn(now time.Time) bool {
	return v.Withdrawn != nil && !v.Withdrawn.IsZero() && !v.Withdrawn.After(now)
}
