package scanreport

import (
	"fmt"
	"io"
	"net/url"
	"strings"

	"github.com/hallmark-dev/hallmark/internal/termtext"
	"github.com/hallmark-dev/hallmark/pkg/scan"
)

// Markdown writes a summary and a findings table for a pull request
// comment or a job summary.
func Markdown(w io.Writer, r *scan.Result) error {
	fmt.Fprintf(w, "## Vulnerability scan\n\n%s.\n", Summary(r))
	if len(r.Findings) > 0 {
		fmt.Fprintf(w, "\n| Package | Version | Ecosystem | Vulnerability | Severity | Fixed in | Source |\n")
		fmt.Fprintf(w, "| --- | --- | --- | --- | --- | --- | --- |\n")
		for _, f := range sorted(r) {
			id := fmt.Sprintf("[%s](%s)", mdEscape(f.ID), osvURL(url.PathEscape(f.ID)))
			if f.Suppressed != nil {
				id = "~~" + id + "~~ (suppressed: " + mdEscape(firstNonEmpty(f.Suppressed.Reason, f.Suppressed.Justification, f.Suppressed.Status)) + ")"
			}
			fmt.Fprintf(w, "| %s | %s | %s | %s | %s | %s | %s |\n",
				mdEscape(f.Package.Name), mdEscape(f.Package.Version), mdEscape(f.Package.Ecosystem), id,
				severityText(f.Severity), mdEscape(orDash(strings.Join(f.FixedVersions, ", "))), mdEscape(orDash(f.Package.Location.Path)))
		}
	}
	if len(r.Unpinned) > 0 {
		fmt.Fprintf(w, "\nNot checked (not pinned to a version):\n\n")
		for _, p := range r.Unpinned {
			fmt.Fprintf(w, "- `%s %s` (%s, %s)\n", mdEscape(p.Name), mdEscape(p.Requirement), mdEscape(p.Ecosystem), mdEscape(orDash(p.Location.Path)))
		}
	}
	if len(r.Unparseable) > 0 {
		fmt.Fprintf(w, "\nNot checked (the version does not parse):\n\n")
		for _, u := range r.Unparseable {
			fmt.Fprintf(w, "- `%s` (%s, %s): %s\n", mdEscape(u.Package.Name), mdEscape(u.Package.Ecosystem), mdEscape(orDash(u.Package.Location.Path)), mdEscape(u.Reason))
		}
	}
	if len(r.Failures) > 0 {
		fmt.Fprintf(w, "\n**Not checked: these files could not be read.**\n\n")
		for _, f := range r.Failures {
			fmt.Fprintf(w, "- `%s`: %s\n", mdEscape(orDash(f.Path)), mdEscape(f.Reason))
		}
	}
	return nil
}

// mdEscape keeps user text from breaking the table or the terminal: a value
// with a control, bidi or invalid byte is quoted first (see termtext), so
// no newline is left to end a row.
func mdEscape(s string) string {
	return mdReplacer.Replace(termtext.Quote(s))
}

var mdReplacer = strings.NewReplacer("|", `\|`, "`", "'")
