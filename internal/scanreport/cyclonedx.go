package scanreport

import (
	"fmt"
	"strings"
	"time"

	"github.com/hallmark-dev/hallmark/pkg/scan"
)

// CycloneDX 1.6 VEX document: the parts hallmark fills.
type (
	cdxBOM struct {
		BOMFormat       string     `json:"bomFormat"`
		SpecVersion     string     `json:"specVersion"`
		SerialNumber    string     `json:"serialNumber"`
		Version         int        `json:"version"`
		Metadata        cdxMeta    `json:"metadata"`
		Components      []cdxComp  `json:"components"`
		Vulnerabilities []cdxVulnT `json:"vulnerabilities"`
	}
	cdxMeta struct {
		Timestamp  time.Time     `json:"timestamp"`
		Tools      cdxTools      `json:"tools"`
		Properties []cdxProperty `json:"properties,omitempty"`
	}
	cdxProperty struct {
		Name  string `json:"name"`
		Value string `json:"value"`
	}
	cdxTools struct {
		Components []cdxComp `json:"components"`
	}
	cdxComp struct {
		Type    string `json:"type"`
		BOMRef  string `json:"bom-ref,omitempty"`
		Name    string `json:"name"`
		Version string `json:"version,omitempty"`
		PURL    string `json:"purl,omitempty"`
	}
	cdxVulnT struct {
		BOMRef         string        `json:"bom-ref"`
		ID             string        `json:"id"`
		Source         cdxSource     `json:"source"`
		References     []cdxRef      `json:"references,omitempty"`
		Ratings        []cdxRating   `json:"ratings,omitempty"`
		Description    string        `json:"description,omitempty"`
		Recommendation string        `json:"recommendation,omitempty"`
		Affects        []cdxAffects  `json:"affects"`
		Analysis       *cdxAnalysisT `json:"analysis,omitempty"`
	}
	cdxSource struct {
		Name string `json:"name"`
		URL  string `json:"url"`
	}
	cdxRef struct {
		ID     string    `json:"id"`
		Source cdxSource `json:"source"`
	}
	cdxRating struct {
		Score    float64 `json:"score,omitempty"`
		Severity string  `json:"severity"`
		Method   string  `json:"method,omitempty"`
		Vector   string  `json:"vector,omitempty"`
	}
	cdxAffects struct {
		Ref string `json:"ref"`
	}
	cdxAnalysisT struct {
		State         string `json:"state"`
		Justification string `json:"justification,omitempty"`
		Detail        string `json:"detail,omitempty"`
	}
)

// CycloneDX converts r to a CycloneDX 1.6 VEX BOM: the affected packages
// as components, each finding as a vulnerability that affects one, rated by
// its CVSS score or qualitative severity. Suppressed findings carry an
// analysis (not_affected / resolved from VEX, or in_triage with the ignore
// reason).
func CycloneDX(r *scan.Result) any {
	bom := cdxBOM{
		BOMFormat: "CycloneDX", SpecVersion: "1.6", Version: 1,
		Metadata: cdxMeta{Timestamp: r.FinishedAt.UTC(), Tools: cdxTools{Components: []cdxComp{
			{Type: "application", Name: r.Scanner.Name, Version: r.Scanner.Version}}}},
		Components:      []cdxComp{},
		Vulnerabilities: []cdxVulnT{},
	}
	// What was not checked, so that the BOM does not read as complete.
	for _, f := range r.Failures {
		bom.Metadata.Properties = append(bom.Metadata.Properties, cdxProperty{Name: "hallmark:scan:unreadable-file", Value: orDash(f.Path) + ": " + f.Reason})
	}
	for _, u := range r.Unparseable {
		bom.Metadata.Properties = append(bom.Metadata.Properties, cdxProperty{Name: "hallmark:scan:unparseable-version",
			Value: fmt.Sprintf("%s (%s) in %s: %s", u.Package.Name, u.Package.Ecosystem, orDash(u.Package.Location.Path), u.Reason)})
	}
	seen := map[string]bool{}
	var ids []string
	for _, f := range sorted(r) {
		ref := purlOf(f.Package)
		if !seen[ref] {
			seen[ref] = true
			bom.Components = append(bom.Components, cdxComp{Type: "library", BOMRef: ref, Name: f.Package.Name, Version: f.Package.Version, PURL: f.Package.PURL})
		}
		v := cdxVulnT{
			BOMRef:         f.ID + "/" + ref,
			ID:             f.ID,
			Source:         cdxSource{Name: "OSV", URL: osvURL(f.ID)},
			Description:    f.Summary,
			Recommendation: fixHint(f),
			Affects:        []cdxAffects{{Ref: ref}},
		}
		for _, a := range f.Aliases {
			v.References = append(v.References, cdxRef{ID: a, Source: aliasSource(a)})
		}
		if f.Severity.Level != scan.LevelUnknown || f.Severity.Score > 0 {
			v.Ratings = []cdxRating{{Score: f.Severity.Score, Severity: string(f.Severity.Level), Method: cdxMethod(f.Severity), Vector: f.Severity.Vector}}
		}
		if s := f.Suppressed; s != nil {
			v.Analysis = cdxAnalysis(s)
		}
		bom.Vulnerabilities = append(bom.Vulnerabilities, v)
		ids = append(ids, v.BOMRef)
	}
	bom.SerialNumber = "urn:uuid:" + uuidFrom(contentID(append(ids, bom.Metadata.Timestamp.Format(time.RFC3339Nano))...))
	return bom
}

func cdxAnalysis(s *scan.Suppression) *cdxAnalysisT {
	if s.Kind == "vex" {
		switch s.Status {
		case "not_affected":
			return &cdxAnalysisT{State: "not_affected", Justification: cdxJustification(s.Justification), Detail: s.Reason}
		case "fixed":
			return &cdxAnalysisT{State: "resolved", Detail: s.Reason}
		}
	}
	return &cdxAnalysisT{State: "in_triage", Detail: strings.TrimSpace("ignored: " + s.Reason)}
}

// cdxJustification maps OpenVEX justifications to CycloneDX's.
func cdxJustification(j string) string {
	switch j {
	case "component_not_present":
		return "requires_dependency"
	case "vulnerable_code_not_present":
		return "code_not_present"
	case "vulnerable_code_not_in_execute_path":
		return "code_not_reachable"
	case "vulnerable_code_cannot_be_controlled_by_adversary":
		return "requires_environment"
	case "inline_mitigations_already_exist":
		return "protected_by_mitigating_control"
	}
	return ""
}

func cdxMethod(s scan.SeverityScore) string {
	switch {
	case strings.HasPrefix(s.Vector, "CVSS:4.0/"):
		return "CVSSv4"
	case strings.HasPrefix(s.Vector, "CVSS:3.1/"):
		return "CVSSv31"
	case strings.HasPrefix(s.Vector, "CVSS:3.0/"):
		return "CVSSv3"
	case s.Vector != "":
		return "CVSSv2"
	}
	return "other"
}

func aliasSource(id string) cdxSource {
	switch {
	case strings.HasPrefix(id, "CVE-"):
		return cdxSource{Name: "NVD", URL: "https://nvd.nist.gov/vuln/detail/" + id}
	case strings.HasPrefix(id, "GHSA-"):
		return cdxSource{Name: "GitHub", URL: "https://github.com/advisories/" + id}
	}
	return cdxSource{Name: "OSV", URL: osvURL(id)}
}

// uuidFrom formats the first 128 bits of a hex digest as a version 5-style
// UUID, so the serial number is stable for the same content.
func uuidFrom(hexDigest string) string {
	b := []byte(hexDigest[:32])
	b[12] = '5'
	b[16] = "89ab"[strings.IndexByte("0123456789abcdef", b[16])%4]
	return string(b[0:8]) + "-" + string(b[8:12]) + "-" + string(b[12:16]) + "-" + string(b[16:20]) + "-" + string(b[20:32])
}
