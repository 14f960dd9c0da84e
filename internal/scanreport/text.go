package scanreport

import (
	"bytes"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/hallmark-dev/hallmark/internal/termtext"
	"github.com/hallmark-dev/hallmark/pkg/scan"
)

// Text writes the findings as a table grouped by source file and package,
// with the fixed versions, then the unpinned packages and a summary line.
func Text(w io.Writer, r *scan.Result) error {
	var table bytes.Buffer
	tw := tabwriter.NewWriter(&table, 0, 0, 2, ' ', 0)
	var file, pkg string
	for _, f := range sorted(r) {
		if p := f.Package.Location.Path; p != file || file == "" {
			if file != "" {
				fmt.Fprintln(tw)
			}
			file, pkg = p, ""
			fmt.Fprintf(tw, "%s\n", q(orDash(p)))
		}
		if key := f.Package.Name + "@" + f.Package.Version; key != pkg {
			pkg = key
			groups := ""
			if len(f.Package.DepGroups) > 0 {
				groups = ", " + qjoin(f.Package.DepGroups, "/")
			}
			fmt.Fprintf(tw, "  %s %s (%s%s)\n", q(f.Package.Name), q(f.Package.Version), q(f.Package.Ecosystem), groups)
		}
		fixed := "no fix yet"
		if len(f.FixedVersions) > 0 {
			fixed = "fixed in " + qjoin(f.FixedVersions, ", ")
		}
		note := ""
		if s := f.Suppressed; s != nil {
			note = "\tsuppressed (" + s.Kind + ": " + q(firstNonEmpty(s.Reason, s.Justification, s.Status)) + ")"
		}
		fmt.Fprintf(tw, "    %s\t%s\t%s\t%s%s\n", q(f.ID), severityText(f.Severity), fixed, aliasText(f), note)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for line := range strings.Lines(table.String()) {
		// Empty last columns leave padding behind.
		if _, err := io.WriteString(w, strings.TrimRight(line, " \n")+"\n"); err != nil {
			return err
		}
	}
	if len(r.Unpinned) > 0 {
		fmt.Fprintf(w, "\nnot checked, not pinned to a version:\n")
		for _, p := range r.Unpinned {
			fmt.Fprintf(w, "  %s %s %s (%s)\n", q(orDash(p.Location.Path)), q(p.Name), q(p.Requirement), q(p.Ecosystem))
		}
	}
	if len(r.Unparseable) > 0 {
		fmt.Fprintf(w, "\nnot checked, the version does not parse:\n")
		for _, u := range r.Unparseable {
			fmt.Fprintf(w, "  %s %s: %s\n", q(orDash(u.Package.Location.Path)), q(u.Package.Name), termtext.Line(u.Reason))
		}
	}
	if len(r.Failures) > 0 {
		fmt.Fprintf(w, "\nnot checked, the file could not be read:\n")
		for _, f := range r.Failures {
			fmt.Fprintf(w, "  %s: %s\n", q(orDash(f.Path)), termtext.Line(f.Reason))
		}
	}
	if len(r.Findings) > 0 || len(r.Unpinned) > 0 || len(r.Unparseable) > 0 || len(r.Failures) > 0 {
		fmt.Fprintln(w)
	}
	_, err := fmt.Fprintln(w, Summary(r))
	return err
}

// Summary is the one-line count of a result. It counts distinct
// vulnerabilities (one per finding id, however many packages it affects)
// and package instances (one per entry in a file, as Result.Packages
// does), and the findings (vulnerability × instance) when they differ
// from the vulnerabilities, so that the numbers add up: 10,000 lockfiles
// each pinning one vulnerable lodash are "1 distinct vulnerability in
// 10000 of 10000 package instances (10000 findings)".
func Summary(r *scan.Result) string {
	findings, suppressed := 0, 0
	vulns := map[string]bool{}
	affected := map[string]bool{}
	for _, f := range r.Findings {
		if f.Suppressed != nil {
			suppressed++
			continue
		}
		findings++
		vulns[f.ID] = true
		affected[instanceKey(f.Package)] = true
	}
	s := fmt.Sprintf("%d distinct %s in %d of %d package %s", len(vulns), plural(len(vulns), "vulnerability", "vulnerabilities"),
		len(affected), r.Packages, plural(r.Packages, "instance", "instances"))
	if findings != len(vulns) {
		s += fmt.Sprintf(" (%d %s)", findings, plural(findings, "finding", "findings"))
	}
	if suppressed > 0 {
		s += fmt.Sprintf(", %d %s suppressed", suppressed, plural(suppressed, "finding", "findings"))
	}
	if len(r.Unpinned) > 0 {
		s += fmt.Sprintf(", %d unpinned not checked", len(r.Unpinned))
	}
	if n := len(r.Unparseable); n > 0 {
		s += fmt.Sprintf(", %d with an unparseable version not checked", n)
	}
	if n := len(r.Failures); n > 0 {
		s += fmt.Sprintf(", %d %s could not be read", n, plural(n, "file", "files"))
	}
	return s
}

// instanceKey identifies a package instance: one entry in one file.
func instanceKey(p scan.Package) string {
	return fmt.Sprintf("%s\x00%s\x00%s\x00%s\x00%d", p.Ecosystem, p.Name, p.Version, p.Location.Path, p.Location.Line)
}

func severityText(s scan.SeverityScore) string {
	if s.Score > 0 {
		return fmt.Sprintf("%s %.1f", q(string(s.Level)), s.Score)
	}
	return q(string(s.Level))
}

func aliasText(f scan.Finding) string {
	if len(f.Aliases) == 0 {
		return ""
	}
	return qjoin(f.Aliases, " ")
}

// q renders an untrusted value (every field of a result comes from a
// lockfile or an advisory) for a terminal line: printable text as it is,
// anything that could start a line or move the cursor quoted.
func q(s string) string { return termtext.Quote(s) }

// qjoin joins the rendered values with sep.
func qjoin(vals []string, sep string) string {
	out := make([]string, len(vals))
	for i, v := range vals {
		out[i] = q(v)
	}
	return strings.Join(out, sep)
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func firstNonEmpty(vals ...string) string {
	for _, v := range vals {
		if v != "" {
			return v
		}
	}
	return ""
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
