package vulngate

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/hallmark-dev/hallmark/pkg/scan"
	"github.com/hallmark-dev/hallmark/pkg/verify"
)

var (
	now      = time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	artifact = Artifact{Name: "app.tgz", Digests: map[string]string{"sha256": strings.Repeat("ab", 32)}}
	otherSum = strings.Repeat("cd", 32)
)

func finding(id string, level scan.Level, purl string, aliases ...string) Finding {
	return Finding{ID: id, Aliases: aliases, Level: level, Package: Package{Ecosystem: "npm", Name: "lodash", Version: "4.17.15", PURL: purl}}
}

func att(bundle string, age time.Duration, fs ...Finding) Attestation {
	return Attestation{Bundle: bundle, Timestamps: []verify.Timestamp{{Kind: "tsa", Time: now.Add(-age)}}, Report: &Report{ScannerURI: "pkg:generic/x", Findings: fs}}
}

func vex(status string, vuln string, product scan.VEXProduct) *scan.VEXDocument {
	return &scan.VEXDocument{Source: "vex.json", Statements: []scan.VEXStatement{{
		Vulnerability: scan.VEXVulnerability{Name: vuln}, Products: []scan.VEXProduct{product}, Status: status,
	}}}
}

func byHash(alg, sum string) scan.VEXProduct {
	return scan.VEXProduct{ID: "app.tgz", Hashes: map[string]string{alg: sum}}
}

func TestEvaluate(t *testing.T) {
	high := finding("GHSA-0001", scan.LevelHigh, "pkg:npm/lodash@4.17.15", "CVE-2099-0001")
	medium := finding("GHSA-0002", scan.LevelMedium, "pkg:npm/minimist@1.2.0")
	unknown := finding("OSV-0003", scan.LevelUnknown, "pkg:npm/left-pad@1.0.0")
	critical := finding("GHSA-0004", scan.LevelCritical, "pkg:npm/lodash@4.17.15")
	sum := artifact.Digests["sha256"]
	tests := []struct {
		name      string
		policy    Policy
		atts      []Attestation
		want      []error // nil: passes
		offending []string
		covered   []string
		bundle    string
	}{
		{name: "young and clean", policy: Policy{MaxAge: time.Hour, FailOn: scan.LevelHigh}, atts: []Attestation{att("a", 59*time.Minute)}, bundle: "a"},
		{name: "just younger than max age", policy: Policy{MaxAge: time.Hour}, atts: []Attestation{att("a", time.Hour-time.Nanosecond)}},
		{name: "exactly max age is too old", policy: Policy{MaxAge: time.Hour}, atts: []Attestation{att("a", time.Hour)}, want: []error{ErrTooOld}},
		{name: "older than max age", policy: Policy{MaxAge: 7 * 24 * time.Hour}, atts: []Attestation{att("a", 8*24*time.Hour)}, want: []error{ErrTooOld}},
		{name: "no max age", policy: Policy{}, atts: []Attestation{att("a", 1000*24*time.Hour)}},
		{name: "a little in the future is clock skew", policy: Policy{MaxAge: time.Hour}, atts: []Attestation{att("a", -MaxClockSkew)}},
		{name: "far in the future", policy: Policy{MaxAge: time.Hour}, atts: []Attestation{att("a", -MaxClockSkew-time.Second)}, want: []error{ErrFuture}},
		{name: "newest by verified time wins", policy: Policy{MaxAge: time.Hour, FailOn: scan.LevelHigh},
			atts: []Attestation{att("old", 2*time.Hour, high), att("new", time.Minute), att("mid", 30*time.Minute, high)}, bundle: "new"},
		{name: "newest has the finding", policy: Policy{MaxAge: time.Hour, FailOn: scan.LevelHigh},
			atts: []Attestation{att("old", 50*time.Minute), att("new", time.Minute, high)}, bundle: "new", want: []error{ErrFindings}, offending: []string{"GHSA-0001"}},
		{name: "too old and findings: both reported", policy: Policy{MaxAge: time.Hour, FailOn: scan.LevelHigh},
			atts: []Attestation{att("a", 2*time.Hour, high)}, want: []error{ErrTooOld, ErrFindings}, offending: []string{"GHSA-0001"}},
		{name: "below the threshold", policy: Policy{FailOn: scan.LevelHigh}, atts: []Attestation{att("a", 0, medium)}},
		{name: "at the threshold", policy: Policy{FailOn: scan.LevelMedium}, atts: []Attestation{att("a", 0, medium)}, want: []error{ErrFindings}, offending: []string{"GHSA-0002"}},
		{name: "above the threshold", policy: Policy{FailOn: scan.LevelHigh}, atts: []Attestation{att("a", 0, critical, medium)}, want: []error{ErrFindings}, offending: []string{"GHSA-0004"}},
		{name: "unknown level counts at any threshold", policy: Policy{FailOn: scan.LevelCritical}, atts: []Attestation{att("a", 0, unknown)}, want: []error{ErrFindings}, offending: []string{"OSV-0003"}},
		{name: "no threshold counts every finding", policy: Policy{}, atts: []Attestation{att("a", 0, medium)}, want: []error{ErrFindings}, offending: []string{"GHSA-0002"}},
		{name: "vex not_affected by id and hash", policy: Policy{FailOn: scan.LevelHigh, VEX: []*scan.VEXDocument{vex("not_affected", "GHSA-0001", byHash("sha-256", sum))}},
			atts: []Attestation{att("a", 0, high)}, covered: []string{"GHSA-0001"}},
		{name: "vex fixed by alias", policy: Policy{FailOn: scan.LevelHigh, VEX: []*scan.VEXDocument{vex("fixed", "CVE-2099-0001", byHash("sha256", strings.ToUpper(sum)))}},
			atts: []Attestation{att("a", 0, high)}, covered: []string{"GHSA-0001"}},
		{name: "vex for another vulnerability", policy: Policy{FailOn: scan.LevelHigh, VEX: []*scan.VEXDocument{vex("not_affected", "GHSA-9999", byHash("sha-256", sum))}},
			atts: []Attestation{att("a", 0, high)}, want: []error{ErrFindings}, offending: []string{"GHSA-0001"}},
		{name: "vex for another product", policy: Policy{FailOn: scan.LevelHigh, VEX: []*scan.VEXDocument{vex("not_affected", "GHSA-0001", byHash("sha-256", otherSum))}},
			atts: []Attestation{att("a", 0, high)}, want: []error{ErrFindings}, offending: []string{"GHSA-0001"}},
		{name: "vex naming the package, not the artifact", policy: Policy{FailOn: scan.LevelHigh, VEX: []*scan.VEXDocument{vex("not_affected", "GHSA-0001", scan.VEXProduct{ID: "pkg:npm/lodash"})}},
			atts: []Attestation{att("a", 0, high)}, want: []error{ErrFindings}, offending: []string{"GHSA-0001"}},
		{name: "vex with an algorithm the artifact was not hashed with", policy: Policy{FailOn: scan.LevelHigh, VEX: []*scan.VEXDocument{vex("not_affected", "GHSA-0001", byHash("md5", sum))}},
			atts: []Attestation{att("a", 0, high)}, want: []error{ErrFindings}, offending: []string{"GHSA-0001"}},
		{name: "vex affected does not cover", policy: Policy{FailOn: scan.LevelHigh, VEX: []*scan.VEXDocument{vex("affected", "GHSA-0001", byHash("sha-256", sum))}},
			atts: []Attestation{att("a", 0, high)}, want: []error{ErrFindings}, offending: []string{"GHSA-0001"}},
		{name: "vex under_investigation does not cover", policy: Policy{FailOn: scan.LevelHigh, VEX: []*scan.VEXDocument{vex("under_investigation", "GHSA-0001", byHash("sha-256", sum))}},
			atts: []Attestation{att("a", 0, high)}, want: []error{ErrFindings}, offending: []string{"GHSA-0001"}},
		{name: "contradicting statements cover nothing", policy: Policy{FailOn: scan.LevelHigh, VEX: []*scan.VEXDocument{
			vex("not_affected", "GHSA-0001", byHash("sha-256", sum)), vex("affected", "CVE-2099-0001", byHash("sha-256", sum))}},
			atts: []Attestation{att("a", 0, high)}, want: []error{ErrFindings}, offending: []string{"GHSA-0001"}},
		{name: "vex subcomponent is the package", policy: Policy{FailOn: scan.LevelHigh, VEX: []*scan.VEXDocument{vex("not_affected", "GHSA-0001",
			scan.VEXProduct{Hashes: map[string]string{"sha-256": sum}, Subs: []scan.VEXProduct{{ID: "pkg:npm/lodash"}}})}},
			atts: []Attestation{att("a", 0, high)}, covered: []string{"GHSA-0001"}},
		{name: "vex subcomponent is another package", policy: Policy{FailOn: scan.LevelHigh, VEX: []*scan.VEXDocument{vex("not_affected", "GHSA-0001",
			scan.VEXProduct{Hashes: map[string]string{"sha-256": sum}, Subs: []scan.VEXProduct{{ID: "pkg:npm/minimist"}}})}},
			atts: []Attestation{att("a", 0, high)}, want: []error{ErrFindings}, offending: []string{"GHSA-0001"}},
		{name: "vex covers one of two", policy: Policy{FailOn: scan.LevelMedium, VEX: []*scan.VEXDocument{vex("not_affected", "GHSA-0001", byHash("sha-256", sum))}},
			atts: []Attestation{att("a", 0, high, medium)}, want: []error{ErrFindings}, offending: []string{"GHSA-0002"}, covered: []string{"GHSA-0001"}},
		{name: "no attestation", policy: Policy{MaxAge: time.Hour}, want: []error{ErrNoAttestation}},
		{name: "no verified timestamp", policy: Policy{MaxAge: time.Hour},
			atts: []Attestation{{Bundle: "a", Report: &Report{}}}, want: []error{ErrNoTimestamp}},
		{name: "incomplete scan", policy: Policy{MaxAge: time.Hour},
			atts: []Attestation{{Bundle: "a", Timestamps: []verify.Timestamp{{Kind: "tsa", Time: now}}, Report: &Report{Incomplete: []string{"file x was not read"}}}}, want: []error{ErrIncomplete}},
		{name: "earliest of a bundle's timestamps measures its age", policy: Policy{MaxAge: time.Hour},
			atts: []Attestation{{Bundle: "a", Report: &Report{}, Timestamps: []verify.Timestamp{{Kind: "tlog", Time: now.Add(-time.Minute)}, {Kind: "tsa", Time: now.Add(-2 * time.Hour)}}}},
			want: []error{ErrTooOld}},
	}
	all := []error{ErrNoAttestation, ErrNoTimestamp, ErrTooOld, ErrFuture, ErrIncomplete, ErrFindings}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := Evaluate(tt.policy, now, artifact, tt.atts)
			err := d.Err()
			if d.Passed != (err == nil) {
				t.Fatalf("Passed %v but Err %v", d.Passed, err)
			}
			if (len(tt.want) == 0) != d.Passed {
				t.Fatalf("Passed = %v, want %v (err %v)", d.Passed, len(tt.want) == 0, err)
			}
			for _, e := range all {
				wanted := false
				for _, w := range tt.want {
					wanted = wanted || w == e
				}
				if errors.Is(err, e) != wanted {
					t.Errorf("errors.Is(err, %q) = %v, want %v (err: %v)", e, !wanted, wanted, err)
				}
			}
			if len(d.Reasons) != len(tt.want) {
				t.Errorf("reasons %v, want %d", d.Reasons, len(tt.want))
			}
			if got := ids(d.Offending); strings.Join(got, ",") != strings.Join(tt.offending, ",") {
				t.Errorf("offending %v, want %v", got, tt.offending)
			}
			var cov []string
			for _, c := range d.Covered {
				cov = append(cov, c.Finding.ID)
				if c.VEX.Source != "vex.json" || (c.VEX.Status != "not_affected" && c.VEX.Status != "fixed") {
					t.Errorf("covered by %+v", c.VEX)
				}
			}
			if strings.Join(cov, ",") != strings.Join(tt.covered, ",") {
				t.Errorf("covered %v, want %v", cov, tt.covered)
			}
			if tt.bundle != "" && d.Bundle != tt.bundle {
				t.Errorf("bundle %q, want %q", d.Bundle, tt.bundle)
			}
		})
	}
}

func ids(fs []Finding) []string {
	var out []string
	for _, f := range fs {
		out = append(out, f.ID)
	}
	return out
}

func TestTooOldMessageSaysExpectedAndActual(t *testing.T) {
	d := Evaluate(Policy{MaxAge: 7 * 24 * time.Hour}, now, artifact, []Attestation{att("a", 8*24*time.Hour)})
	if len(d.Reasons) != 1 {
		t.Fatalf("reasons %v", d.Reasons)
	}
	msg := d.Reasons[0].Message
	for _, want := range []string{"192h0m0s old", "younger than 168h0m0s", "timestamp 2026-11-23T12:00:00Z", "tsa"} {
		if !strings.Contains(msg, want) {
			t.Errorf("message %q lacks %q", msg, want)
		}
	}
	if d.Timestamp == nil || !d.Timestamp.Time.Equal(now.Add(-8*24*time.Hour)) || time.Duration(d.Age) != 8*24*time.Hour {
		t.Errorf("timestamp %v age %v", d.Timestamp, time.Duration(d.Age))
	}
}
