package scanreport

import (
	"fmt"
	"net/url"
	"path/filepath"
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
		Tool        sarifTool         `json:"tool"`
		Invocations []sarifInvocation `json:"invocations"`
		// OriginalURIBaseIDs says where %SRCROOT% was on the machine
		// that ran the scan.
		OriginalURIBaseIDs map[string]sarifArtifact `json:"originalUriBaseIds,omitempty"`
		Results            []sarifResult            `json:"results"`
	}
	sarifInvocation struct {
		ExecutionSuccessful        bool                `json:"executionSuccessful"`
		ToolExecutionNotifications []sarifNotification `json:"toolExecutionNotifications,omitempty"`
	}
	sarifNotification struct {
		Level     string          `json:"level"`
		Message   sarifText       `json:"message"`
		Locations []sarifLocation `json:"locations,omitempty"`
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
		URI       string `json:"uri"`
		URIBaseID string `json:"uriBaseId,omitempty"`
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

// srcRoot is the uriBaseId of relative locations, the one GitHub code
// scanning documents for paths relative to the repository root.
const srcRoot = "%SRCROOT%"

// SARIF converts r to a SARIF 2.1.0 log: one rule per vulnerability, one
// result per affected package, located in the lockfile (with its line when
// known). Suppressed findings are results with a suppression, as code
// scanning expects, never dropped. Relative paths are relative to
// %SRCROOT%, which originalUriBaseIds resolves to opts.SourceRoot when it
// is set; absolute paths are file URIs. The invocation records whether the
// scan was complete: files that could not be read make it unsuccessful,
// each an error notification naming the file; packages whose version did
// not parse are warning notifications.
func SARIF(r *scan.Result, opts Options) any {
	run := sarifRun{Tool: sarifTool{Driver: sarifDriver{
		Name: r.Scanner.Name, Version: r.Scanner.Version,
		InformationURI: "https://github.com/hallmark-dev/hallmark",
		Rules:          []sarifRule{},
	}}, Results: []sarifResult{}}
	if opts.SourceRoot != "" {
		run.OriginalURIBaseIDs = map[string]sarifArtifact{srcRoot: {URI: dirURI(opts.SourceRoot)}}
	}
	inv := sarifInvocation{ExecutionSuccessful: len(r.Failures) == 0}
	for _, f := range r.Failures {
		inv.ToolExecutionNotifications = append(inv.ToolExecutionNotifications, sarifNotification{
			Level:     "error",
			Message:   sarifText{Text: fmt.Sprintf("%s could not be read, its packages were not checked: %s", orDash(f.Path), f.Reason)},
			Locations: []sarifLocation{{PhysicalLocation: sarifPhysicalOf(scan.Location{Path: f.Path})}},
		})
	}
	for _, u := range r.Unparseable {
		inv.ToolExecutionNotifications = append(inv.ToolExecutionNotifications, sarifNotification{
			Level:     "warning",
			Message:   sarifText{Text: fmt.Sprintf("%s (%s) was not checked: %s", u.Package.Name, u.Package.Ecosystem, u.Reason)},
			Locations: []sarifLocation{{PhysicalLocation: sarifPhysicalOf(u.Package.Location)}},
		})
	}
	run.Invocations = []sarifInvocation{inv}
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
	p := sarifPhysical{ArtifactLocation: artifactOf(l.Path)}
	if l.Line > 0 {
		p.Region = &sarifRegion{StartLine: l.Line}
	}
	return p
}

// artifactOf locates a file: a relative path is a relative reference (a
// URI, percent-encoded) against %SRCROOT%; an absolute path a file URI
// with no base, since SARIF allows uriBaseId only on relative references.
func artifactOf(p string) sarifArtifact {
	p = filepath.ToSlash(firstNonEmpty(p, "."))
	if isAbs(p) {
		return sarifArtifact{URI: fileURI(p)}
	}
	// url.URL.String writes "./a:b" for a path whose first segment has a
	// colon, which would otherwise read as a scheme.
	return sarifArtifact{URI: (&url.URL{Path: p}).String(), URIBaseID: srcRoot}
}

// isAbs reports whether a slash-separated path is absolute, on Unix
// ("/x") or Windows ("C:/x", "//host/share").
func isAbs(p string) bool {
	if strings.HasPrefix(p, "/") {
		return true
	}
	return len(p) >= 3 && p[1] == ':' && p[2] == '/' && ('a' <= p[0]|0x20 && p[0]|0x20 <= 'z')
}

func fileURI(p string) string {
	if strings.HasPrefix(p, "//") { // a UNC path: //host/share/...
		host, rest, _ := strings.Cut(p[2:], "/")
		return (&url.URL{Scheme: "file", Host: host, Path: "/" + rest}).String()
	}
	if !strings.HasPrefix(p, "/") {
		p = "/" + p
	}
	return (&url.URL{Scheme: "file", Path: p}).String()
}

// dirURI is the file URI of a directory, with the final slash SARIF
// requires of a base.
func dirURI(dir string) string {
	u := fileURI(filepath.ToSlash(dir))
	if !strings.HasSuffix(u, "/") {
		u += "/"
	}
	return u
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
