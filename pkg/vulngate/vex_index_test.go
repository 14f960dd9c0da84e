package vulngate

import (
	"testing"

	"github.com/hallmark-dev/hallmark/pkg/scan"
)

// TestCoversOrderAndContradiction: the first covering statement in
// document order is the one reported, whichever of the finding's ids it
// names, and one contradicting statement anywhere, even after 100,000
// others, covers nothing; a statement naming the finding twice counts once.
func TestCoversOrderAndContradiction(t *testing.T) {
	f := finding("GHSA-0001", scan.LevelHigh, "pkg:npm/lodash@4.17.15", "CVE-2099-0001")
	product := byHash("sha-256", artifact.Digests["sha256"])
	st := func(status string, v scan.VEXVulnerability) scan.VEXStatement {
		return scan.VEXStatement{Vulnerability: v, Products: []scan.VEXProduct{product}, Status: status}
	}
	doc := &scan.VEXDocument{Source: "a.json", Statements: []scan.VEXStatement{
		st("not_affected", scan.VEXVulnerability{Name: "OTHER-1"}),
		st("fixed", scan.VEXVulnerability{Name: "CVE-2099-0001", Aliases: []string{"GHSA-0001", "CVE-2099-0001"}}),
		st("not_affected", scan.VEXVulnerability{Name: "GHSA-0001"}),
	}}
	ref, ok := Covers([]*scan.VEXDocument{doc}, artifact, f)
	if !ok || ref.Statement != 1 || ref.ID != "CVE-2099-0001" || ref.Status != "fixed" || ref.Source != "a.json" {
		t.Fatalf("Covers = %+v, %v; want statement 1 (fixed, by CVE-2099-0001)", ref, ok)
	}

	big := manyVEX(100_000, []Finding{f})
	if _, ok := Covers([]*scan.VEXDocument{big}, artifact, f); !ok {
		t.Fatal("the big document's not_affected statement does not cover the finding")
	}
	later := &scan.VEXDocument{Source: "b.json", Statements: []scan.VEXStatement{st("under_investigation", scan.VEXVulnerability{ID: "CVE-2099-0001"})}}
	if ref, ok := Covers([]*scan.VEXDocument{big, later}, artifact, f); ok {
		t.Fatalf("covered by %+v despite an under_investigation statement", ref)
	}
	d := Evaluate(Policy{FailOn: scan.LevelHigh, VEX: []*scan.VEXDocument{big, later}}, now, artifact, []Attestation{att("a", 1, f)})
	if d.Passed || len(d.Offending) != 1 {
		t.Fatalf("Evaluate passed %v with %d offending, want the contradicted finding offending", d.Passed, len(d.Offending))
	}
}
