package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sort"
	"time"

	"github.com/sigstore/sigstore-go/pkg/root"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/hallmark-dev/hallmark/internal/termtext"
	"github.com/hallmark-dev/hallmark/internal/trust"
)

// trustFlags choose the trust root; verify and the trust commands share them.
type trustFlags struct {
	trustedRoot []string
	offline     bool
	mirror      string
	tufRoot     string
	ghMirror    string
	ghTUFRoot   string

	// loaded are the roots read from the --trusted-root files, for what
	// a verification summary says it trusted (not re-read: a FIFO reads once).
	loaded []*trust.Root
}

func (t *trustFlags) bind(f *pflag.FlagSet) {
	f.StringArrayVar(&t.trustedRoot, "trusted-root", nil, "a trusted_root.json `FILE` to trust, or JSONL of several roots; repeatable (env HALLMARK_TRUSTED_ROOT)")
	f.BoolVar(&t.offline, "offline", false, "never use the network: --trusted-root or the cached root only")
	f.StringVar(&t.mirror, "tuf-mirror", "", "TUF repository `URL` of the trust root (env HALLMARK_TUF_MIRROR; default the Sigstore public-good mirror)")
	f.StringVar(&t.tufRoot, "tuf-root", "", "initial TUF root.json `FILE` of --tuf-mirror (env HALLMARK_TUF_ROOT)")
	t.bindGitHub(f)
}

func (t *trustFlags) bindGitHub(f *pflag.FlagSet) {
	f.StringVar(&t.ghMirror, "github-tuf-mirror", "", "TUF repository `URL` of GitHub's trust root (env HALLMARK_GITHUB_TUF_MIRROR; default "+trust.GitHubMirror+")")
	f.StringVar(&t.ghTUFRoot, "github-tuf-root", "", "initial TUF root.json `FILE` of --github-tuf-mirror (env HALLMARK_GITHUB_TUF_ROOT; default the pinned root fetched from the mirror)")
}

// githubOptions are o's cache, clock and offline setting for GitHub's
// TUF repository (or --github-tuf-mirror's).
func (t *trustFlags) githubOptions(o trust.Options) (trust.Options, error) {
	o.MirrorURL, o.InitialRoot, o.Bootstrap = firstNonEmpty(t.ghMirror, os.Getenv("HALLMARK_GITHUB_TUF_MIRROR")), nil, nil
	if p := firstNonEmpty(t.ghTUFRoot, os.Getenv("HALLMARK_GITHUB_TUF_ROOT")); p != "" {
		data, err := os.ReadFile(p)
		if err != nil {
			return o, fmt.Errorf("reading GitHub's TUF root: %w", err)
		}
		o.InitialRoot = data
	} else if o.MirrorURL != "" {
		return o, usageError(errors.New("--github-tuf-mirror needs the mirror's initial root.json"), "pass it with --github-tuf-root FILE")
	}
	return trust.GitHubOptions(o), nil
}

// explicit reports whether the user named a trust root file.
func (t *trustFlags) explicit() bool {
	return len(t.rootFiles()) > 0
}

// rootFiles are the --trusted-root files, else $HALLMARK_TRUSTED_ROOT.
func (t *trustFlags) rootFiles() []string {
	if len(t.trustedRoot) > 0 {
		return t.trustedRoot
	}
	if p := os.Getenv("HALLMARK_TRUSTED_ROOT"); p != "" {
		return []string{p}
	}
	return nil
}

// withGitHub reports whether GitHub's root comes with the public-good one:
// no --trusted-root, and no other mirror unless GitHub's is named too.
func (t *trustFlags) withGitHub() bool {
	return !t.explicit() && (firstNonEmpty(t.mirror, os.Getenv("HALLMARK_TUF_MIRROR")) == "" ||
		firstNonEmpty(t.ghMirror, os.Getenv("HALLMARK_GITHUB_TUF_MIRROR")) != "")
}

func (t *trustFlags) options() (trust.Options, error) {
	var first string
	if files := t.rootFiles(); len(files) > 0 {
		first = files[0]
	}
	o := trust.Options{
		TrustedRootPath: first,
		Offline:         t.offline,
		MirrorURL:       firstNonEmpty(t.mirror, os.Getenv("HALLMARK_TUF_MIRROR")),
	}
	if o.TrustedRootPath != "" {
		return o, nil // the mirror is not used
	}
	if p := firstNonEmpty(t.tufRoot, os.Getenv("HALLMARK_TUF_ROOT")); p != "" {
		data, err := os.ReadFile(p)
		if err != nil {
			return o, fmt.Errorf("reading TUF root: %w", err)
		}
		o.InitialRoot = data
	} else if o.MirrorURL != "" {
		return o, usageError(errors.New("--tuf-mirror needs the mirror's initial root.json"), "pass it with --tuf-root FILE")
	}
	return o, nil
}

func firstNonEmpty(vals ...string) string {
	for _, v := range vals {
		if v != "" {
			return v
		}
	}
	return ""
}

// loadTrust loads the trust root and explains failures with hints.
func (a *app) loadTrust(ctx context.Context, t *trustFlags) (*trust.Root, error) {
	o, err := t.options()
	if err != nil {
		return nil, err
	}
	return a.loadRoot(ctx, o)
}

// loadTrusts loads every root verification trusts: each --trusted-root
// file (JSONL files give several), else the public-good root and GitHub's,
// each kept fresh through its TUF repository (or the --tuf-mirror one).
func (a *app) loadTrusts(ctx context.Context, t *trustFlags) ([]*trust.Root, error) {
	if files := t.rootFiles(); len(files) > 0 {
		rs, err := trust.LoadFiles(ctx, files)
		if err != nil {
			return nil, withHint(err, "pass a trusted_root.json, or JSONL of roots one a line ('gh attestation trusted-root' output), with --trusted-root")
		}
		for _, r := range rs {
			a.verbosef("trust root: %s %s", r.Source.Kind, termtext.Quote(r.Source.Path))
		}
		t.loaded = rs
		return rs, nil
	}
	r, err := a.loadTrust(ctx, t)
	if err != nil || !t.withGitHub() {
		return []*trust.Root{r}, err
	}
	o, err := t.options()
	if err != nil {
		return nil, err
	}
	if o, err = t.githubOptions(o); err != nil {
		return nil, err
	}
	gh, err := a.loadRoot(ctx, o)
	if err != nil {
		return nil, fmt.Errorf("GitHub's trust root (%s): %w", trust.GitHubMirror, err)
	}
	return []*trust.Root{r, gh}, nil
}

// loadRoot loads o's root and explains failures with hints.
func (a *app) loadRoot(ctx context.Context, o trust.Options) (*trust.Root, error) {
	r, err := trust.Load(ctx, o)
	switch {
	case errors.Is(err, trust.ErrNoCachedRoot):
		return nil, withHint(fmt.Errorf("--offline: %w", err),
			"run 'hallmark trust update' once while online, or pass --trusted-root FILE (e.g. from 'hallmark trust export')")
	case errors.Is(err, trust.ErrRefresh), errors.Is(err, trust.ErrBootstrap):
		return nil, withHint(err,
			"check the network, or use --offline to verify with the cached root, or --trusted-root FILE")
	case errors.Is(err, trust.ErrBadCache):
		return nil, withHint(err, "run 'hallmark trust update' to fetch the trust root and its TUF metadata again")
	case err != nil:
		return nil, err
	}
	if r.Source.Stale {
		fetched := r.Source.FetchedAt.Format(time.RFC3339)
		switch age := time.Since(r.Source.FetchedAt); {
		case age < 0:
			a.warnf("using the cached trust root fetched %s, a time in the future (is the clock right?); run 'hallmark trust update' when online", fetched)
		case r.Source.MetadataExpired:
			a.warnf("using the cached trust root fetched %s (%s ago), whose TUF metadata has expired; run 'hallmark trust update' when online",
				fetched, age.Round(time.Hour))
		default:
			a.warnf("using the cached trust root fetched %s (%s ago); run 'hallmark trust update' when online",
				fetched, age.Round(time.Hour))
		}
	}
	a.verbosef("trust root: %s %s", r.Source.Kind, termtext.Quote(r.Source.Path))
	return r, nil
}

func (a *app) trustCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "trust",
		Short: "Manage the Sigstore trust root: update, show, export",
		Long: `The trust root lists the certificate authorities, transparency logs and
timestamp authorities that verification trusts. By default it is the Sigstore
public-good root, fetched and verified through TUF and cached in the user cache
directory (or $HALLMARK_CACHE_DIR); 'verify' refreshes it when it is older than
a day, and uses the cached copy with --offline.`,
		Args: cobra.NoArgs,
		RunE: a.runE(func(*cobra.Command, []string) error {
			return usageError(errors.New("trust needs a subcommand: update, show or export"), "run 'hallmark trust --help' for usage")
		}),
	}
	cmd.AddCommand(a.trustUpdateCommand(), a.trustShowCommand(), a.trustExportCommand())
	return cmd
}

func (a *app) trustUpdateCommand() *cobra.Command {
	t := &trustFlags{}
	cmd := &cobra.Command{
		Use:   "update",
		Short: "Refresh the trust root through TUF now",
		Args:  cobra.NoArgs,
		RunE: a.runE(func(cmd *cobra.Command, _ []string) error {
			o, err := t.options()
			if err != nil {
				return err
			}
			r, err := trust.Update(cmd.Context(), o)
			if err != nil {
				return withHint(err, "check the network and the mirror URL")
			}
			var gh *trust.Root
			if t.withGitHub() {
				gho, err := t.githubOptions(o)
				if err != nil {
					return err
				}
				if gh, err = trust.Update(cmd.Context(), gho); err != nil {
					return withHint(fmt.Errorf("GitHub's trust root: %w", err), "check the network and --github-tuf-mirror ("+firstNonEmpty(gho.MirrorURL)+")")
				}
			}
			if a.output == "json" {
				if gh == nil {
					return a.printJSON(r.Source)
				}
				return a.printJSON(struct {
					trust.Source
					Additional []trust.Source `json:"additionalRoots"`
				}{r.Source, []trust.Source{gh.Source}})
			}
			for _, r := range []*trust.Root{r, gh} {
				if r != nil {
					fmt.Fprintf(a.stdio.Out, "updated trust root from %s, cached in %s\n", termtext.Quote(r.Source.Mirror), termtext.Quote(r.Source.Path))
				}
			}
			return nil
		}),
	}
	f := cmd.Flags()
	f.StringVar(&t.mirror, "tuf-mirror", "", "TUF repository `URL` (env HALLMARK_TUF_MIRROR)")
	f.StringVar(&t.tufRoot, "tuf-root", "", "initial TUF root.json `FILE` of --tuf-mirror (env HALLMARK_TUF_ROOT)")
	t.bindGitHub(f)
	return cmd
}

func (a *app) trustShowCommand() *cobra.Command {
	t := &trustFlags{}
	cmd := &cobra.Command{
		Use:   "show",
		Short: "Show which trust root verification uses, where it came from and what it trusts",
		Args:  cobra.NoArgs,
		RunE: a.runE(func(cmd *cobra.Command, _ []string) error {
			rs, err := a.loadTrusts(cmd.Context(), t)
			if err != nil {
				return err
			}
			s := summarizeRoot(rs[0])
			for _, r := range rs[1:] {
				s.Additional = append(s.Additional, summarizeRoot(r))
			}
			if a.output == "json" {
				return a.printJSON(s)
			}
			a.printRootSummary(s)
			for _, o := range s.Additional {
				fmt.Fprintln(a.stdio.Out)
				a.printRootSummary(o)
			}
			return nil
		}),
	}
	t.bind(cmd.Flags())
	return cmd
}

func (a *app) trustExportCommand() *cobra.Command {
	t := &trustFlags{}
	cmd := &cobra.Command{
		Use:   "export DIR",
		Short: "Write trusted_root.json (and the cached signing_config.json, if any) into DIR",
		Long: `Write the trust root that verification would use into DIR, for an
air-gapped machine: always trusted_root.json; and signing_config.json, the
signing config cached with a root fetched through TUF, when the mirror has
one (a --trusted-root FILE comes without one); and when several roots are
trusted (the public-good root and GitHub's, or several --trusted-root files),
trusted_roots.jsonl with all of them, one a line, to pass to --trusted-root
there. The files written are listed
on stdout. DIR is created if needed; on failure nothing that export created
is left behind.`,
		Example: `  hallmark trust export ./sigstore-trust
  # on the offline machine:
  hallmark verify --offline --trusted-root ./sigstore-trust/trusted_root.json ...`,
		Args: cobra.ExactArgs(1),
		RunE: a.runE(func(cmd *cobra.Command, args []string) error {
			rs, err := a.loadTrusts(cmd.Context(), t)
			if err != nil {
				return err
			}
			r := rs[0]
			var sc []byte
			if r.Source.Kind != "file" {
				o, err := t.options()
				if err != nil {
					return err
				}
				sc, err = trust.SigningConfig(o)
				switch {
				case errors.Is(err, os.ErrNotExist):
					sc = nil // optional: absent from some mirrors
				case errors.Is(err, trust.ErrBadCache):
					return withHint(err, "run 'hallmark trust update' to fetch the trust root and its TUF metadata again")
				case err != nil:
					return err
				}
			}
			paths, err := trust.Export(r, sc, args[0], rs[1:]...)
			if err != nil {
				return withHint(fmt.Errorf("exporting the trust root: %w", err), "check that the directory can be created and written, or choose another DIR")
			}
			if a.output == "json" {
				return a.printJSON(map[string]any{"files": paths, "source": r.Source})
			}
			for _, p := range paths {
				fmt.Fprintln(a.stdio.Out, termtext.Quote(p))
			}
			return nil
		}),
	}
	t.bind(cmd.Flags())
	return cmd
}

// rootSummary is the JSON shape of 'trust show'.
type rootSummary struct {
	Source trust.Source     `json:"source"`
	CAs    []authority      `json:"certificateAuthorities"`
	TSAs   []authority      `json:"timestampAuthorities"`
	Logs   []logDescription `json:"transparencyLogs"`
	CTLogs []logDescription `json:"ctLogs"`
	// Additional are the other roots trusted (GitHub's, more --trusted-root
	// files), each checked for the bundles its CAs issued.
	Additional []rootSummary `json:"additionalRoots,omitempty"`
}

type authority struct {
	URI       string    `json:"uri"`
	Subject   string    `json:"subject"`
	ValidFrom time.Time `json:"validFrom,omitzero"`
	ValidTo   time.Time `json:"validTo,omitzero"`
}

type logDescription struct {
	BaseURL   string    `json:"baseURL"`
	LogID     string    `json:"logId"`
	ValidFrom time.Time `json:"validFrom,omitzero"`
	ValidTo   time.Time `json:"validTo,omitzero"`
}

func summarizeRoot(r *trust.Root) rootSummary {
	s := rootSummary{Source: r.Source}
	for _, ca := range r.Trusted.FulcioCertificateAuthorities() {
		if f, ok := ca.(*root.FulcioCertificateAuthority); ok {
			s.CAs = append(s.CAs, authority{URI: f.URI, Subject: f.Root.Subject.String(), ValidFrom: f.ValidityPeriodStart, ValidTo: f.ValidityPeriodEnd})
		}
	}
	for _, ta := range r.Trusted.TimestampingAuthorities() {
		if t, ok := ta.(*root.SigstoreTimestampingAuthority); ok {
			subject := ""
			if t.Leaf != nil {
				subject = t.Leaf.Subject.String()
			} else if t.Root != nil {
				subject = t.Root.Subject.String()
			}
			s.TSAs = append(s.TSAs, authority{URI: t.URI, Subject: subject, ValidFrom: t.ValidityPeriodStart, ValidTo: t.ValidityPeriodEnd})
		}
	}
	s.Logs = describeLogs(r.Trusted.RekorLogs())
	s.CTLogs = describeLogs(r.Trusted.CTLogs())
	return s
}

func describeLogs(logs map[string]*root.TransparencyLog) []logDescription {
	var out []logDescription
	for id, l := range logs {
		out = append(out, logDescription{BaseURL: l.BaseURL, LogID: id, ValidFrom: l.ValidityPeriodStart, ValidTo: l.ValidityPeriodEnd})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].BaseURL != out[j].BaseURL {
			return out[i].BaseURL < out[j].BaseURL
		}
		return out[i].ValidFrom.Before(out[j].ValidFrom)
	})
	return out
}

func (a *app) printRootSummary(s rootSummary) {
	w := a.stdio.Out
	q := termtext.Quote // a trusted root is a file like any other
	fmt.Fprintf(w, "trust root: %s %s\n", s.Source.Kind, q(s.Source.Path))
	if s.Source.Mirror != "" {
		fmt.Fprintf(w, "mirror:     %s\n", q(s.Source.Mirror))
	}
	if !s.Source.FetchedAt.IsZero() {
		fmt.Fprintf(w, "fetched:    %s (%s ago)\n", s.Source.FetchedAt.Format(time.RFC3339), time.Since(s.Source.FetchedAt).Round(time.Minute))
	}
	section := func(title string, n int) { fmt.Fprintf(w, "\n%s (%d):\n", title, n) }
	section("certificate authorities", len(s.CAs))
	for _, c := range s.CAs {
		fmt.Fprintf(w, "  %s  %s  %s\n", q(c.URI), window(c.ValidFrom, c.ValidTo), q(c.Subject))
	}
	section("timestamp authorities", len(s.TSAs))
	for _, c := range s.TSAs {
		fmt.Fprintf(w, "  %s  %s  %s\n", q(c.URI), window(c.ValidFrom, c.ValidTo), q(c.Subject))
	}
	section("transparency logs", len(s.Logs))
	for _, l := range s.Logs {
		fmt.Fprintf(w, "  %s  %s  %s\n", q(l.BaseURL), window(l.ValidFrom, l.ValidTo), q(l.LogID))
	}
	section("certificate transparency logs", len(s.CTLogs))
	for _, l := range s.CTLogs {
		fmt.Fprintf(w, "  %s  %s  %s\n", q(l.BaseURL), window(l.ValidFrom, l.ValidTo), q(l.LogID))
	}
}

func window(from, to time.Time) string {
	f, t := "-", "now"
	if !from.IsZero() {
		f = from.UTC().Format("2006-01-02")
	}
	if !to.IsZero() {
		t = to.UTC().Format("2006-01-02")
	}
	return f + " .. " + t
}
