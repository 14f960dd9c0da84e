package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/hallmark-dev/hallmark/internal/osvdb"
	"github.com/hallmark-dev/hallmark/internal/termtext"
)

func (a *app) dbCommand() *cobra.Command {
	var dir string
	cmd := &cobra.Command{
		Use:   "db",
		Short: "Manage the local OSV vulnerability database: import, update, status",
		Long: `'hallmark scan --offline' matches against a local copy of the OSV database,
kept in a bbolt file indexed by ecosystem and package name (default: hallmark/osv
in the user cache directory, or $HALLMARK_CACHE_DIR/osv; --db DIR elsewhere).

'db update' downloads osv.dev's per-ecosystem exports, 'db import' reads
exports or OSV records you already have; both replace the ecosystems they read
in one atomic step, so a failed run leaves the old database usable.`,
		Args: cobra.NoArgs,
		RunE: a.runE(func(*cobra.Command, []string) error {
			return usageError(fmt.Errorf("db needs a subcommand: import, update or status"), "run 'hallmark db --help' for usage")
		}),
	}
	cmd.PersistentFlags().StringVar(&dir, "db", "", "the database `DIR`")
	cmd.AddCommand(a.dbImportCommand(&dir), a.dbUpdateCommand(&dir), a.dbStatusCommand(&dir))
	return cmd
}

func (a *app) dbImportCommand(dir *string) *cobra.Command {
	return &cobra.Command{
		Use:   "import PATH...",
		Short: "Import osv.dev exports (all.zip) or directories of OSV records",
		Long: `Import OSV records: a directory in osv-scanner's offline layout
(DIR/osv-scalibr/<Ecosystem>/all.zip or DIR/osv-scanner/<Ecosystem>/all.zip), an
all.zip, or directories and files of OSV JSON/YAML records.`,
		Example: "  hallmark db import ~/osv-exports\n  hallmark db import npm/all.zip PyPI/all.zip",
		Args:    cobra.MinimumNArgs(1),
		RunE: a.runE(func(cmd *cobra.Command, args []string) error {
			d, err := dbDir(*dir)
			if err != nil {
				return err
			}
			res, err := osvdb.Import(cmd.Context(), d, args...)
			if err != nil {
				return interrupted("db import", err)
			}
			for _, w := range res.Warnings {
				a.warnf("%s", w)
			}
			return a.printImport(d, res)
		}),
	}
}

func (a *app) dbUpdateCommand(dir *string) *cobra.Command {
	var ecosystems []string
	var baseURL string
	cmd := &cobra.Command{
		Use:   "update",
		Short: "Download the OSV exports of ecosystems and import them",
		Long: `Download <base URL>/<Ecosystem>/all.zip for each ecosystem (default: those
already in the database, else npm, PyPI, Go, Maven, crates.io, RubyGems,
Packagist, NuGet), check sizes and hashes the server announces and every zip
entry's CRC, then import them atomically.`,
		Example: "  hallmark db update --ecosystem npm --ecosystem PyPI",
		Args:    cobra.NoArgs,
		RunE: a.runE(func(cmd *cobra.Command, _ []string) error {
			d, err := dbDir(*dir)
			if err != nil {
				return err
			}
			ecos := ecosystems
			if len(ecos) == 0 {
				ecos = defaultEcosystems(cmd, d)
			}
			bar := newProgressBar(a.stdio.Err)
			res, err := osvdb.Update(cmd.Context(), d, firstNonEmpty(baseURL, os.Getenv("HALLMARK_OSV_MIRROR")), ecos,
				osvdb.UpdateOptions{Progress: bar.update})
			bar.done()
			if errors.Is(err, context.Canceled) {
				return interrupted("db update", err)
			}
			if err != nil {
				return withHint(err, "the old database is unchanged; check the network or --base-url")
			}
			return a.printImport(d, res)
		}),
	}
	cmd.Flags().StringArrayVar(&ecosystems, "ecosystem", nil, "an OSV ecosystem to download, e.g. npm (repeatable)")
	cmd.Flags().StringVar(&baseURL, "base-url", "", "export mirror `URL` (env HALLMARK_OSV_MIRROR; default "+osvdb.DefaultBaseURL+")")
	return cmd
}

// interrupted says that an import stopped on Ctrl-C (or SIGTERM): imports
// are atomic, so the database is as it was.
func interrupted(verb string, err error) error {
	if errors.Is(err, context.Canceled) {
		return interruptHint(fmt.Errorf("%s interrupted: %w", verb, err), "the database is unchanged")
	}
	return err
}

// defaultEcosystems are those in the database, or a common set.
func defaultEcosystems(cmd *cobra.Command, dir string) []string {
	if st, err := osvdb.ReadStatus(cmd.Context(), dir); err == nil && len(st.Ecosystems) > 0 {
		var out []string
		for _, e := range st.Ecosystems {
			out = append(out, e.Ecosystem)
		}
		return out
	}
	return []string{"npm", "PyPI", "Go", "Maven", "crates.io", "RubyGems", "Packagist", "NuGet"}
}

func (a *app) dbStatusCommand(dir *string) *cobra.Command {
	return &cobra.Command{
		Use:   "status",
		Short: "Show the database's ecosystems, record counts and snapshot dates, and check it",
		Long: `List the database's ecosystems, record counts and snapshot dates, then read
every record and index entry and run bbolt's consistency check: a damaged
database (truncated, overwritten) is an error (exit 1); 'hallmark db import'
or 'hallmark db update' replaces it.`,
		Args: cobra.NoArgs,
		RunE: a.runE(func(cmd *cobra.Command, _ []string) error {
			d, err := dbDir(*dir)
			if err != nil {
				return err
			}
			st, err := osvdb.ReadStatus(cmd.Context(), d)
			if errors.Is(err, osvdb.ErrNoDatabase) {
				return withHint(err, "create it with 'hallmark db update' or 'hallmark db import PATH'")
			}
			if err != nil {
				return err
			}
			// The listing above read the ecosystems' info only: read the rest.
			n, err := osvdb.Check(cmd.Context(), d)
			if err != nil {
				return err
			}
			if a.output == "json" {
				return a.printJSON(struct {
					*osvdb.Status
					Sound bool `json:"sound"`
				}{st, true})
			}
			fmt.Fprintf(a.stdio.Out, "database: %s\n", termtext.Quote(st.Path))
			a.printEcosystems(st.Ecosystems)
			fmt.Fprintf(a.stdio.Out, "sound: %d records read, bbolt consistency check passed\n", n)
			return nil
		}),
	}
}

func (a *app) printImport(dir string, res *osvdb.ImportResult) error {
	if a.output == "json" {
		return a.printJSON(res)
	}
	fmt.Fprintf(a.stdio.Out, "database: %s\n", termtext.Quote(dir))
	a.printEcosystems(res.Ecosystems)
	return nil
}

func (a *app) printEcosystems(es []osvdb.EcosystemInfo) {
	for _, e := range es {
		snap := "-"
		if !e.Snapshot.IsZero() {
			snap = e.Snapshot.UTC().Format("2006-01-02")
		}
		fmt.Fprintf(a.stdio.Out, "  %-12s %8d records  snapshot %s  from %s\n", termtext.Quote(e.Ecosystem), e.Records, snap, termtext.Quote(e.Origin))
	}
}

// progressBar draws download progress on a terminal, and nothing
// elsewhere (CI logs stay clean).
type progressBar struct {
	w    io.Writer
	on   bool
	last time.Time
}

func newProgressBar(w io.Writer) *progressBar {
	return &progressBar{w: w, on: isTerminal(w)}
}

func (p *progressBar) update(pr osvdb.Progress) {
	if !p.on || time.Since(p.last) < 100*time.Millisecond && pr.Done != pr.Total {
		return
	}
	p.last = time.Now()
	if pr.Total > 0 {
		const width = 30
		n := int(float64(width) * float64(pr.Done) / float64(pr.Total))
		fmt.Fprintf(p.w, "\r%-12s [%s%s] %5.1f%% of %s", termtext.Quote(pr.Ecosystem), strings.Repeat("=", n), strings.Repeat(" ", width-n),
			100*float64(pr.Done)/float64(pr.Total), mib(pr.Total))
		return
	}
	fmt.Fprintf(p.w, "\r%-12s %s", termtext.Quote(pr.Ecosystem), mib(pr.Done))
}

func (p *progressBar) done() {
	if p.on && !p.last.IsZero() {
		fmt.Fprintln(p.w)
	}
}

func mib(n int64) string { return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20)) }

// isTerminal reports whether w is a terminal (not merely a character
// device: /dev/null is one too).
func isTerminal(w io.Writer) bool {
	if q, ok := w.(quietAfter); ok {
		w = q.w
	}
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}
