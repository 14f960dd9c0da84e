package cli

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/spf13/cobra"

	"github.com/hallmark-dev/hallmark/internal/atomicfile"
	"github.com/hallmark-dev/hallmark/internal/ctxhttp"
	"github.com/hallmark-dev/hallmark/internal/ctxio"
	"github.com/hallmark-dev/hallmark/internal/source/oci"
	"github.com/hallmark-dev/hallmark/internal/termtext"
	"github.com/hallmark-dev/hallmark/pkg/ecosystem/npm"
)

// npmDownloadOptions are download's --preset npm flags.
type npmDownloadOptions struct {
	preset   string
	lockfile string
	registry string
}

func (n *npmDownloadOptions) bind(cmd *cobra.Command) {
	f := cmd.Flags()
	f.StringVar(&n.preset, "preset", "", "npm: download the npm registry's attestations documents of a lockfile's packages (with --lockfile)")
	f.StringVar(&n.lockfile, "lockfile", "", "--preset npm: the package-lock.json `FILE` whose packages to fetch")
	f.StringVar(&n.registry, "registry", npm.DefaultRegistry, "--preset npm: the npm registry's `URL`")
	for _, name := range []string{"repo", "owner", "type", "api-url"} {
		cmd.MarkFlagsMutuallyExclusive("preset", name)
	}
}

// downloadArgs is download's argument rule: --preset npm takes none.
func downloadArgs(n *npmDownloadOptions) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if n.preset != "" {
			if len(args) > 0 {
				return usageError(fmt.Errorf("--preset npm fetches the packages of --lockfile, but %d artifact(s) were given", len(args)))
			}
			return nil
		}
		return cobra.MinimumNArgs(1)(cmd, args)
	}
}

// checkNPMRegistry refuses a --registry that is not an https URL, or plain
// HTTP to a loopback host (a test registry): over plain HTTP anyone on the
// way could answer 404 for every package, which reads as "published
// without provenance".
func checkNPMRegistry(s string) error {
	u, err := url.Parse(s)
	switch {
	case err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") || u.User != nil:
		return usageError(fmt.Errorf("--registry %s is not an https://HOST[/PATH] URL", termtext.Quote(s)), "pass the registry's base URL, e.g. "+npm.DefaultRegistry)
	case u.Scheme == "http" && !oci.IsLoopback(u.Host):
		return usageError(fmt.Errorf("--registry %s is plain HTTP: anyone on the way could hide the packages' attestations", termtext.Quote(s)),
			"serve the registry over https (plain HTTP is accepted only to localhost)")
	}
	return nil
}

// npmScopeDir makes DIR/@SCOPE for a scoped package, refusing one that is
// a symbolic link or no directory: the documents are written inside --dir
// only.
func npmScopeDir(dir string, p npm.Package) error {
	scope := p.Scope()
	if scope == "" {
		return nil
	}
	path := filepath.Join(dir, scope)
	err := os.Mkdir(path, 0o755)
	if err == nil || !errors.Is(err, fs.ErrExist) {
		return err
	}
	st, err := os.Lstat(path)
	if err != nil {
		return err
	}
	if !st.IsDir() {
		return fmt.Errorf("%s is a %s, not a directory: the documents are written inside --dir only", termtext.Quote(path), map[bool]string{true: "symbolic link", false: "file"}[st.Mode()&fs.ModeSymlink != 0])
	}
	return nil
}

// npmDownloaded is one package's line of the JSON output.
type npmDownloaded struct {
	Package string `json:"package"`
	File    string `json:"file,omitempty"`
	// Status is "written", "no-attestations", "error" or "not-fetched"
	// (not tried after the registry failed as a whole).
	Status string `json:"status"`
	Error  string `json:"error,omitempty"`
}

// npmFetchers bounds the requests under way at once.
const npmFetchers = 8

// runDownloadNPM fetches the attestations document of every registry
// package of the lockfile into DIR/NAME@VERSION.json (npm.Package.FileName),
// each written atomically. A package without attestations is no failure.
func (a *app) runDownloadNPM(ctx context.Context, o *downloadOptions) error {
	n := &o.npm
	switch {
	case n.preset != "npm":
		return usageError(fmt.Errorf("download --preset must be npm, not %q", n.preset))
	case n.lockfile == "":
		return usageError(errors.New("download --preset npm needs --lockfile FILE"), "name the package-lock.json whose packages to fetch")
	}
	if err := checkNPMRegistry(n.registry); err != nil {
		return err
	}
	if st, err := os.Stat(o.dir); err != nil || !st.IsDir() {
		return usageError(fmt.Errorf("--dir %q is not a directory", o.dir), "create it first, or name another with --dir")
	}
	data, err := ctxio.ReadFile(ctx, n.lockfile, npm.MaxLockfileSize)
	if err != nil {
		return fmt.Errorf("reading --lockfile: %w", err)
	}
	locked, skipped, err := npm.ParseLockfile(data)
	if err != nil {
		return usageError(fmt.Errorf("--lockfile %s: %w", termtext.Quote(n.lockfile), err))
	}
	client := &npm.Client{
		HTTP:      &http.Client{Timeout: time.Minute, Transport: ctxhttp.Transport(ctx, nil)},
		Registry:  n.registry,
		UserAgent: "hallmark",
	}
	out := make([]npmDownloaded, len(locked))
	// A registry that is down, silent or rate limiting fails every
	// package the same way, a minute each: the first such failure stops
	// the fetches not yet made.
	fetchCtx, stopFetching := context.WithCancelCause(ctx)
	defer stopFetching(nil)
	var wg sync.WaitGroup
	sem := make(chan struct{}, npmFetchers)
	for i, l := range locked {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			line := npmDownloaded{Package: l.String()}
			if fetchCtx.Err() != nil {
				line.Status = "not-fetched"
				out[i] = line
				return
			}
			doc, err := client.FetchDocument(fetchCtx, l.Package)
			if err == nil {
				path := filepath.Join(o.dir, filepath.FromSlash(l.FileName()))
				if err = npmScopeDir(o.dir, l.Package); err == nil {
					err = atomicfile.Write(path, doc, 0o644)
				}
				if err != nil {
					err = fmt.Errorf("writing %s: %w", termtext.Quote(path), err)
				} else {
					line.File = path
				}
			}
			switch {
			case err == nil:
				line.Status = "written"
			case errors.Is(err, npm.ErrNoAttestations):
				line.Status = "no-attestations"
			case ctx.Err() == nil && errors.Is(err, context.Canceled):
				line.Status = "not-fetched" // cancelled by another's failure
			default:
				if errors.Is(err, npm.ErrUnavailable) {
					stopFetching(err)
				}
				line.Status, line.Error = "error", err.Error()
			}
			out[i] = line
		}()
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return err
	}
	worst := ExitOK
	written, none, notFetched := 0, 0, 0
	for _, line := range out {
		switch line.Status {
		case "written":
			written++
			a.verbosef("wrote %s to %s", termtext.Quote(line.Package), termtext.Quote(line.File))
		case "no-attestations":
			none++
			a.verbosef("%s: no attestations (published without provenance)", termtext.Quote(line.Package))
		case "not-fetched":
			notFetched++
		default:
			worst = ExitError
			a.errorf("%s: %s", termtext.Quote(line.Package), termtext.Line(line.Error))
		}
	}
	if notFetched > 0 {
		worst = ExitError
		a.errorf("%d package(s) not fetched: the registry is failing (%s)", notFetched, termtext.Line(context.Cause(fetchCtx).Error()))
	}
	if worst != ExitOK {
		a.hintf("check the network and --registry %s; the documents already written are complete, and a second run fetches them again", termtext.Quote(n.registry))
	}
	if a.output == "json" {
		if err := a.printJSON(struct {
			SchemaVersion string          `json:"schemaVersion"`
			Preset        string          `json:"preset"`
			Downloads     []npmDownloaded `json:"downloads"`
			Skipped       []npm.Skipped   `json:"skipped,omitempty"`
		}{"1", "npm", out, skipped}); err != nil {
			return err
		}
	} else {
		fmt.Fprintf(a.stdio.Out, "wrote %d attestations document(s) to %s; %d package(s) have none; %d failed; %d lockfile entries skipped\n",
			written, termtext.Quote(o.dir), none, len(out)-written-none, len(skipped))
	}
	if worst != ExitOK {
		return errReported{worst}
	}
	return nil
}
