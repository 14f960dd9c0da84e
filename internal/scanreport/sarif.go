package scanreport

import (
	"fmt"
	"strings"

	"github.com/hallmark-dev/hallmark/pkg/scan"
)

// SARIF 2.1.0 document types: only the parts hallmark fills.
type (
	sarifLog struct {
		Schema  string     `json:"$schema"`
		Version string     `json:"version"`
		Runs    []sarifRun `json:"runs"`
	}
	sarifRun struct {
		Tool    sarifTool     `json:"tool"`
		Results []sarifResult `json:"results"`
	}
	sarifTool struct {
		Driver sarifDriver `json:"driver"`
	}
	sarifDriver struct {
		Name           string      `json:"name"`
		Version        string      `json:"version,omitempty"`
		InformationURI string      `json:"informationUri"`
		Rules          []sarifRule `json:"rules"`
	}
	sarifRule struct {
		ID               string         `json:"id"`
		ShortDescription sarifText      `json:"shortDescription"`
		FullDescription  *sarifText     `json:"fullDescription,omitempty"`
		HelpURI          string         `json:"helpUri"`
		Help             sarifText      `json:"help"`
		Properties       map[string]any `json:"properties,omitempty"`
	}
	sarifText struct {
		Text string `json:"text"`
	}
	sarifResult struct {
		RuleID       string             `json:"ruleId"`
		Level        string             `json:"level"`
		Message      sarifText          `json:"message"`
		Locations    []sarifLocation    `json:"locations"`
		Suppressions []sarifSuppression `json:"suppressions,omitempty"`
		Fingerprints map[string]string  `json:"partialFingerprints,omitempty"`
	}
	sarifLocation struct {
		PhysicalLocation sarifPhysical `json:"physicalLocation"`
	}
	sarifPhysical struct {
		ArtifactLocation sarifArtifact `json:"artifactLocation"`
		Region           *sarifRegion  `json:"region,omitempty"`
	}
	sarifArtifact struct {
		URI string `json:"uri"`
	}
	sarifRegion struct {
		StartLine int `json:"startLine"`
	}
	sarifSuppression struct {
		Kind          string `json:"kind"`
		Status        string `json:"status"`
		Justification string `json:"justification,omitempty"`
	}
)

const sarifSchema = "https://json.schemastore.org/sarif-2.1.0.json"

// SARIF converts r to a SARIF 2.1.0 log: one rule per vulnerability, one
// result per affected package, located in the lockfile (with its line when
// known). Suppressed findings are results with a suppression, as code
// scanning expects, never dropped.
func SARIF(r *scan.Result) any {
	run := sarifRun{Tool: sarifTool{Driver: sarifDriver{
		Name: r.Scanner.Name, Version: r.Scanner.Version,
		InformationURI: "https://github.com/hallmark-dev/hallmark",
		Rules:          []sarifRule{},
	}}, Results: []sarifResult{}}
	seen := map[string]bool{}
	for _, f := range sorted(r) {
		if !seen[f.ID] {
			seen[f.ID] = true
			run.Tool.Driver.Rules = append(run.Tool.Driver.Rules, sarifRuleOf(f))
		}
		res := sarifResult{
			RuleID: f.ID,
			Level:  sarifLevel(f.Severity.Level),
			Message: sarifText{Text: fmt.Sprintf("%s %s (%s) is affected by %s%s", f.Package.Name, f.Package.Version,
				f.Package.Ecosystem, f.ID, fixSentence(f))},
			Locations:    []sarifLocation{{PhysicalLocation: sarifPhysicalOf(f.Package.Location)}},
			Fingerprints: map[string]string{"hallmark/v1": contentID(f.ID, f.Package.Ecosystem, f.Package.Name, f.Package.Version, f.Package.Location.Path)},
		}
		if s := f.Suppressed; s != nil {
			res.Suppressions = []sarifSuppression{{Kind: "external", Status: "accepted",
				Justification: strings.TrimSpace(s.Kind + ": " + firstNonEmpty(s.Reason, s.Justification, s.Status))}}
		}
		run.Results = append(run.Results, res)
	}
	return sarifLog{Schema: sarifSchema, Version: "2.1.0", Runs: []sarifRun{run}}
}

func sarifRuleOf(f scan.Finding) sarifRule {
	summary := firstNonEmpty(f.Summary, f.ID)
	rule := sarifRule{
		ID:               f.ID,
		ShortDescription: sarifText{Text: summary},
		HelpURI:          osvURL(f.ID),
		Help:             sarifText{Text: fmt.Sprintf("%s: %s. See %s", f.ID, summary, osvURL(f.ID))},
		Properties:       map[string]any{"tags": []string{"security", "vulnerability"}},
	}
	if len(f.Aliases) > 0 {
		rule.FullDescription = &sarifText{Text: summary + " (aliases: " + strings.Join(f.Aliases, ", ") + ")"}
	}
	if f.Severity.Score > 0 {
		// GitHub code scanning reads this property to rank alerts.
		rule.Properties["security-severity"] = fmt.Sprintf("%.1f", f.Severity.Score)
	}
	return rule
}

func sarifPhysicalOf(l scan.Location) sarifPhysical {
	p := sarifPhysical{ArtifactLocation: sarifArtifact{URI: firstNonEmpty(l.Path, ".")}}
	if l.Line > 0 {
		p.Region = &sarifRegion{StartLine: l.Line}
	}
	return p
}

func sarifLevel(l scan.Level) string {
	switch l {
	case scan.LevelCritical, scan.LevelHigh:
		return "error"
	case scan.LevelMedium, scan.LevelUnknown:
		return "warning"
	}
	return "note"
}

func fixSentence(f scan.Finding) string {
	if h := fixHint(f); h != "" {
		return "; " + h
	}
	return "; no fixed version is known"
}
