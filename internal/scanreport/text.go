package scanreport

import (
	"bytes"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

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
			fmt.Fprintf(tw, "%s\n", orDash(p))
		}
		if key := f.Package.Name + "@" + f.Package.Version; key != pkg {
			pkg = key
			groups := ""
			if len(f.Package.DepGroups) > 0 {
				groups = ", " + strings.Join(f.Package.DepGroups, "/")
			}
			fmt.Fprintf(tw, "  %s %s (%s%s)\n", f.Package.Name, f.Package.Version, f.Package.Ecosystem, groups)
		}
		fixed := "no fix yet"
		if len(f.FixedVersions) > 0 {
			fixed = "fixed in " + strings.Join(f.FixedVersions, ", ")
		}
		note := ""
		if s := f.Suppressed; s != nil {
			note = "\tsuppressed (" + s.Kind + ": " + firstNonEmpty(s.Reason, s.Justification, s.Status) + ")"
		}
		fmt.Fprintf(tw, "    %s\t%s\t%s\t%s%s\n", f.ID, severityText(f.Severity), fixed, aliasText(f), note)
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
			fmt.Fprintf(w, "  %s %s %s (%s)\n", orDash(p.Location.Path), p.Name, p.Requirement, p.Ecosystem)
		}
	}
	if len(r.Findings) > 0 || len(r.Unpinned) > 0 {
		fmt.Fprintln(w)
	}
	_, err := fmt.Fprintln(w, Summary(r))
	return err
}

// Summary is the one-line count of a result.
func Summary(r *scan.Result) string {
	active, suppressed := 0, 0
	pkgs := map[string]bool{}
	for _, f := range r.Findings {
		if f.Suppressed != nil {
			suppressed++
			continue
		}
		active++
		pkgs[f.Package.Ecosystem+"/"+f.Package.Name+"@"+f.Package.Version] = true
	}
	s := fmt.Sprintf("%d %s in %d of %d packages", active, plural(active, "vulnerability", "vulnerabilities"), len(pkgs), r.Packages)
	if suppressed > 0 {
		s += fmt.Sprintf(", %d suppressed", suppressed)
	}
	if len(r.Unpinned) > 0 {
		s += fmt.Sprintf(", %d unpinned not checked", len(r.Unpinned))
	}
	return s
}

func severityText(s scan.SeverityScore) string {
	if s.Score > 0 {
		return fmt.Sprintf("%s %.1f", s.Level, s.Score)
	}
	return string(s.Level)
}

func aliasText(f scan.Finding) string {
	if len(f.Aliases) == 0 {
		return ""
	}
	return strings.Join(f.Aliases, " ")
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
