// Package scanreport renders a scan.Result for people and machines: a text
// table, JSON, SARIF 2.1.0, OpenVEX, CycloneDX 1.6 VEX and Markdown. Every
// renderer is a pure function of the result, so the same result always
// renders to the same bytes (identifiers derived from content, times from
// the result), and each is tested against a small golden file.
package scanreport

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/hallmark-dev/hallmark/pkg/scan"
)

// Formats lists the output formats, in the order help text shows them.
var Formats = []string{"text", "json", "sarif", "openvex", "cyclonedx", "markdown"}

// Options is what renderers need besides the result.
type Options struct {
	// SourceRoot is the absolute directory that the result's relative
	// paths are relative to: the working directory of the scan. SARIF
	// names it as the %SRCROOT% base of its locations; when empty, the
	// base is left for the consumer to resolve (GitHub code scanning
	// resolves it to the repository's checkout).
	SourceRoot string
}

// Render writes r to w in format.
func Render(w io.Writer, format string, r *scan.Result) error {
	return RenderWith(w, format, r, Options{})
}

// RenderWith writes r to w in format with opts. The first write error is
// returned, whatever the format.
func RenderWith(w io.Writer, format string, r *scan.Result, opts Options) error {
	sw := &stickyWriter{w: w}
	err := render(sw, format, r, opts)
	if sw.err != nil {
		return sw.err
	}
	return err
}

func render(w io.Writer, format string, r *scan.Result, opts Options) error {
	switch format {
	case "text":
		return Text(w, r)
	case "json":
		return writeJSON(w, r)
	case "sarif":
		return writeJSON(w, SARIF(r, opts))
	case "openvex":
		return writeJSON(w, OpenVEX(r))
	case "cyclonedx":
		return writeJSON(w, CycloneDX(r))
	case "markdown":
		return Markdown(w, r)
	}
	return fmt.Errorf("unknown output format %q (want one of %s)", format, strings.Join(Formats, ", "))
}

// stickyWriter keeps the first write error and fails every later write,
// so renderers that print line by line cannot lose an error midway.
type stickyWriter struct {
	w   io.Writer
	err error
}

func (s *stickyWriter) Write(p []byte) (int, error) {
	if s.err != nil {
		return 0, s.err
	}
	n, err := s.w.Write(p)
	if err == nil && n < len(p) {
		err = io.ErrShortWrite
	}
	s.err = err
	return n, err
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}

// sorted returns the findings ordered by file, package, then severity
// (highest first) and id: the order every renderer uses.
func sorted(r *scan.Result) []scan.Finding {
	fs := append([]scan.Finding(nil), r.Findings...)
	sort.SliceStable(fs, func(i, j int) bool {
		a, b := fs[i], fs[j]
		if a.Package.Location.Path != b.Package.Location.Path {
			return a.Package.Location.Path < b.Package.Location.Path
		}
		if a.Package.Name != b.Package.Name {
			return a.Package.Name < b.Package.Name
		}
		if a.Package.Version != b.Package.Version {
			return a.Package.Version < b.Package.Version
		}
		if ra, rb := a.Severity.Level.Rank(), b.Severity.Level.Rank(); ra != rb {
			return ra > rb
		}
		return a.ID < b.ID
	})
	return fs
}

// purlOf is the package's PURL, or a stable stand-in when it has none.
func purlOf(p scan.Package) string {
	if p.PURL != "" {
		return p.PURL
	}
	return fmt.Sprintf("pkg:generic/%s@%s?ecosystem=%s", p.Name, p.Version, p.Ecosystem)
}

// contentID derives a stable identifier from parts.
func contentID(parts ...string) string {
	h := sha256.New()
	for _, p := range parts {
		h.Write([]byte(p))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil))
}

// fixHint is "upgrade to X" for a finding with fixed versions.
func fixHint(f scan.Finding) string {
	if len(f.FixedVersions) == 0 {
		return ""
	}
	return "upgrade " + f.Package.Name + " to " + strings.Join(f.FixedVersions, " or ")
}

// osvURL is the finding's page on osv.dev.
func osvURL(id string) string { return "https://osv.dev/vulnerability/" + id }
