package scanreport

import (
	"fmt"
	"time"

	"github.com/hallmark-dev/hallmark/pkg/scan"
)

// OpenVEX document (v0.2.0): the parts hallmark fills.
type (
	openVEXDoc struct {
		Context    string             `json:"@context"`
		ID         string             `json:"@id"`
		Author     string             `json:"author"`
		Timestamp  time.Time          `json:"timestamp"`
		Version    int                `json:"version"`
		Tooling    string             `json:"tooling,omitempty"`
		Statements []openVEXStatement `json:"statements"`
	}
	openVEXStatement struct {
		Vulnerability   openVEXVuln      `json:"vulnerability"`
		Products        []openVEXProduct `json:"products"`
		Status          string           `json:"status"`
		Justification   string           `json:"justification,omitempty"`
		ImpactStatement string           `json:"impact_statement,omitempty"`
		ActionStatement string           `json:"action_statement,omitempty"`
		StatusNotes     string           `json:"status_notes,omitempty"`
	}
	openVEXVuln struct {
		ID      string   `json:"@id"`
		Name    string   `json:"name"`
		Aliases []string `json:"aliases,omitempty"`
	}
	openVEXProduct struct {
		ID string `json:"@id"`
	}
)

// OpenVEX converts r to an OpenVEX document: "affected" for each finding,
// with the upgrade as the action; a suppressed finding carries the status
// and justification of the VEX statement that suppressed it, or
// "under_investigation" with the ignore reason as notes.
func OpenVEX(r *scan.Result) any {
	doc := openVEXDoc{
		Context:    "https://openvex.dev/ns/v0.2.0",
		Author:     r.Scanner.Name,
		Timestamp:  r.FinishedAt.UTC(),
		Version:    1,
		Tooling:    r.Scanner.Name + " " + r.Scanner.Version,
		Statements: []openVEXStatement{},
	}
	var ids []string
	for _, f := range sorted(r) {
		st := openVEXStatement{
			Vulnerability: openVEXVuln{ID: osvURL(f.ID), Name: f.ID, Aliases: f.Aliases},
			Products:      []openVEXProduct{{ID: purlOf(f.Package)}},
			Status:        "affected",
		}
		st.ActionStatement = fixHint(f)
		if st.ActionStatement == "" {
			st.ActionStatement = "no fixed version is known: remove or replace " + f.Package.Name
		}
		if s := f.Suppressed; s != nil {
			st.ActionStatement = ""
			switch {
			case s.Kind == "vex" && s.Status != "":
				st.Status, st.Justification, st.ImpactStatement = s.Status, s.Justification, s.Reason
			default:
				st.Status = "under_investigation"
				st.StatusNotes = fmt.Sprintf("ignored by %s: %s", firstNonEmpty(s.Source, s.Kind), s.Reason)
			}
		}
		doc.Statements = append(doc.Statements, st)
		ids = append(ids, f.ID, purlOf(f.Package), st.Status)
	}
	doc.ID = "https://openvex.dev/docs/hallmark/" + contentID(append(ids, doc.Timestamp.Format(time.RFC3339Nano))...)[:32]
	return doc
}
