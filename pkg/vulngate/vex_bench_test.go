package vulngate

import (
	"fmt"
	"testing"
	"time"

	"github.com/hallmark-dev/hallmark/pkg/scan"
)

// manyVEX is a VEX document of n statements about other vulnerabilities
// than the findings', and one not_affected statement about each finding.
func manyVEX(n int, findings []Finding) *scan.VEXDocument {
	d := &scan.VEXDocument{Source: "big.json"}
	product := byHash("sha-256", artifact.Digests["sha256"])
	for i := range n {
		d.Statements = append(d.Statements, scan.VEXStatement{Vulnerability: scan.VEXVulnerability{Name: fmt.Sprintf("CVE-2000-%07d", i)},
			Products: []scan.VEXProduct{product}, Status: "not_affected"})
	}
	for _, f := range findings {
		d.Statements = append(d.Statements, scan.VEXStatement{Vulnerability: scan.VEXVulnerability{Name: f.ID},
			Products: []scan.VEXProduct{product}, Status: "not_affected"})
	}
	return d
}

func manyFindings(n int) []Finding {
	fs := make([]Finding, n)
	for i := range fs {
		fs[i] = finding(fmt.Sprintf("GHSA-%06d", i), scan.LevelHigh, "pkg:npm/lodash@4.17.15", fmt.Sprintf("CVE-2099-%06d", i))
	}
	return fs
}

// BenchmarkEvaluateManyVEX: a scan of 1,000 findings against a VEX
// document of 100,000 statements, every finding covered by the last ones.
func BenchmarkEvaluateManyVEX(b *testing.B) {
	fs := manyFindings(1000)
	p := Policy{MaxAge: time.Hour, FailOn: scan.LevelHigh, VEX: []*scan.VEXDocument{manyVEX(100_000, fs)}}
	atts := []Attestation{att("a", time.Minute, fs...)}
	b.ResetTimer()
	for b.Loop() {
		d := Evaluate(p, now, artifact, atts)
		if !d.Passed || len(d.Covered) != len(fs) {
			b.Fatalf("passed %v, %d covered", d.Passed, len(d.Covered))
		}
	}
}
