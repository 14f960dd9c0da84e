package scan

import (
	"encoding/json"
	"math"
	"strings"

	gocvss20 "github.com/pandatix/go-cvss/20"
	gocvss30 "github.com/pandatix/go-cvss/30"
	gocvss31 "github.com/pandatix/go-cvss/31"
	gocvss40 "github.com/pandatix/go-cvss/40"
)

// Level is a qualitative severity.
type Level string

// Severity levels, in increasing order. LevelUnknown is a finding whose
// records carry no usable severity.
const (
	LevelUnknown  Level = "unknown"
	LevelLow      Level = "low"
	LevelMedium   Level = "medium"
	LevelHigh     Level = "high"
	LevelCritical Level = "critical"
)

// Rank orders levels: 0 for unknown, then 1 (low) to 4 (critical).
func (l Level) Rank() int {
	switch l {
	case LevelLow:
		return 1
	case LevelMedium:
		return 2
	case LevelHigh:
		return 3
	case LevelCritical:
		return 4
	}
	return 0
}

// ParseLevel parses a level name (case-insensitive; "moderate" is medium).
func ParseLevel(s string) (Level, bool) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "low":
		return LevelLow, true
	case "medium", "moderate":
		return LevelMedium, true
	case "high", "important":
		return LevelHigh, true
	case "critical":
		return LevelCritical, true
	}
	return LevelUnknown, false
}

// levelForScore maps a CVSS score to its qualitative rating.
func levelForScore(s float64) Level {
	switch {
	case s >= 9:
		return LevelCritical
	case s >= 7:
		return LevelHigh
	case s >= 4:
		return LevelMedium
	case s > 0:
		return LevelLow
	}
	return LevelUnknown
}

// SeverityScore is the severity of a finding: the highest CVSS base score
// among its records' vectors, or the database's qualitative severity.
type SeverityScore struct {
	// Type is CVSS_V2, CVSS_V3, CVSS_V4, or "database" for a qualitative
	// database_specific.severity; empty when unknown.
	Type   string  `json:"type,omitempty"`
	Score  float64 `json:"score,omitempty"`
	Vector string  `json:"vector,omitempty"`
	Level  Level   `json:"level"`
}

// ScoreCVSS computes the base score of a CVSS v2, v3.0, v3.1 or v4.0
// vector. ok is false when the vector does not parse.
func ScoreCVSS(vector string) (score float64, ok bool) {
	v := strings.TrimSpace(vector)
	switch {
	case strings.HasPrefix(v, "CVSS:4.0/"):
		c, err := gocvss40.ParseVector(v)
		if err != nil {
			return 0, false
		}
		return c.Score(), true
	case strings.HasPrefix(v, "CVSS:3.1/"):
		c, err := gocvss31.ParseVector(v)
		if err != nil {
			return 0, false
		}
		return c.BaseScore(), true
	case strings.HasPrefix(v, "CVSS:3.0/"):
		c, err := gocvss30.ParseVector(v)
		if err != nil {
			return 0, false
		}
		return c.BaseScore(), true
	default:
		c, err := gocvss20.ParseVector(strings.TrimPrefix(v, "CVSS:2.0/"))
		if err != nil {
			return 0, false
		}
		return c.BaseScore(), true
	}
}

// severityOf returns the record's severity: the highest-scoring CVSS
// vector (record-level and affected-level), else its
// database_specific.severity.
func severityOf(v *Vulnerability, aff *Affected) SeverityScore {
	best := SeverityScore{Level: LevelUnknown}
	consider := func(list []Severity) {
		for _, s := range list {
			switch s.Type {
			case "CVSS_V2", "CVSS_V3", "CVSS_V4":
				score, ok := ScoreCVSS(s.Score)
				if !ok {
					continue
				}
				score = math.Round(score*10) / 10
				if best.Type == "" || best.Type == "database" || score > best.Score {
					best = SeverityScore{Type: s.Type, Score: score, Vector: s.Score, Level: levelForScore(score)}
				}
			}
		}
	}
	consider(v.Severity)
	if aff != nil {
		consider(aff.Severity)
	}
	if best.Type != "" {
		return best
	}
	for _, raw := range []json.RawMessage{v.DatabaseSpecific, affDB(aff)} {
		if len(raw) == 0 {
			continue
		}
		var ds struct {
			Severity any `json:"severity"`
		}
		if json.Unmarshal(raw, &ds) != nil {
			continue
		}
		if s, ok := ds.Severity.(string); ok {
			if l, ok := ParseLevel(s); ok {
				return SeverityScore{Type: "database", Level: l}
			}
		}
	}
	return best
}

func affDB(a *Affected) json.RawMessage {
	if a == nil {
		return nil
	}
	return a.DatabaseSpecific
}

// maxSeverity returns the more severe of a and b (a CVSS score beats a
// qualitative level of the same rank).
func maxSeverity(a, b SeverityScore) SeverityScore {
	if b.Level.Rank() > a.Level.Rank() || (b.Level.Rank() == a.Level.Rank() && b.Score > a.Score) {
		return b
	}
	return a
}
