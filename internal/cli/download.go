package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/hallmark-dev/hallmark/internal/source"
	"github.com/hallmark-dev/hallmark/internal/termtext"
	"github.com/hallmark-dev/hallmark/pkg/attest"
	"github.com/hallmark-dev/hallmark/pkg/verify"
)

// downloadOptions are the download command's flags.
type downloadOptions struct {
	repo, owner   string
	predicateType string
	dir           string
	github        githubFlags
	npm           npmDownloadOptions // download_npm.go
}

func (a *app) downloadCommand() *cobra.Command {
	o := &downloadOptions{}
	cmd := &cobra.Command{
		Use:   "download --repo OWNER/NAME [flags] ARTIFACT...",
		Short: "Download the GitHub attestations of artifacts for verifying later, offline",
		Long: `Download the attestations GitHub holds for each ARTIFACT (a file, or a digest
sha256:<hex>) from its attestations API, for the repository --repo or the
owner --owner, and write them in gh's format: DIR/sha256:<hex>.jsonl, one
bundle per line, written atomically. 'hallmark verify --bundle-dir DIR
--offline' verifies them later, on a machine without network.

Nothing is verified here. Requests are anonymous, which is enough for public
repositories; GH_TOKEN or GITHUB_TOKEN is sent when set. --api-url points at
GitHub Enterprise Server (https://HOST/api/v3).

--preset npm --lockfile package-lock.json downloads the npm registry's
attestations documents of every package of the lockfile instead (from
--registry, default https://registry.npmjs.org) into DIR/NAME@VERSION.json
(DIR/@SCOPE/NAME@VERSION.json), for 'hallmark verify --preset npm --lockfile
package-lock.json --attestations-dir DIR'. A package published without
provenance has no document, and is no failure.

Exit codes: 0 all written, 1 could not complete (no attestation, rate limit,
authentication, network), 2 usage error.`,
		Example: `  hallmark download --repo cli/cli gh_2.96.0_checksums.txt --dir attestations/
  hallmark verify --bundle-dir attestations/ --offline --repo cli/cli gh_2.96.0_checksums.txt`,
		Args: downloadArgs(&o.npm), // cobra.MinimumNArgs(1), but none with --preset npm
		RunE: a.runE(func(cmd *cobra.Command, args []string) error {
			if o.npm.preset != "" || o.npm.lockfile != "" {
				return a.runDownloadNPM(cmd.Context(), o)
			}
			return a.runDownload(cmd.Context(), o, args)
		}),
	}
	f := cmd.Flags()
	f.StringVar(&o.repo, "repo", "", "the GitHub repository `OWNER/NAME` whose attestations to fetch")
	f.StringVar(&o.owner, "owner", "", "the GitHub user or organisation `OWNER` whose attestations to fetch")
	f.StringVar(&o.predicateType, "type", "", "keep only attestations of this predicate `TYPE` (a short name such as slsaprovenance1, or a URI)")
	f.StringVar(&o.dir, "dir", ".", "the `DIR`ectory to write sha256:<hex>.jsonl files to")
	f.StringVar(&o.github.apiURL, "api-url", source.DefaultAPIURL, "GitHub's REST API `URL` (GitHub Enterprise Server: https://HOST/api/v3)")
	o.npm.bind(cmd) // --repo or --owner is required without --preset npm: see githubScope
	return cmd
}

// downloaded is one artifact's line of the JSON output.
type downloaded struct {
	Artifact string        `json:"artifact"`
	Digest   verify.Digest `json:"digest"`
	File     string        `json:"file,omitempty"`
	Bundles  int           `json:"bundles"`
	Reason   string        `json:"reason,omitempty"`
	Error    string        `json:"error,omitempty"`
}

func (a *app) runDownload(ctx context.Context, o *downloadOptions, args []string) error {
	scope, err := githubScope(o.repo, o.owner)
	if err != nil {
		return err
	}
	var wantType string
	if o.predicateType != "" {
		uri, ok := attest.PredicateType(o.predicateType)
		if !ok {
			return usageError(fmt.Errorf("--type %q is neither a known predicate type nor a URI", o.predicateType),
				"see 'hallmark attest --help' for the short names, or give the predicate type's URI")
		}
		wantType = uri
	}
	if st, err := os.Stat(o.dir); err != nil || !st.IsDir() {
		return usageError(fmt.Errorf("--dir %q is not a directory", o.dir), "create it first, or name another with --dir")
	}
	digests := make([]verify.Digest, len(args))
	for i, arg := range args {
		if digests[i], err = artifactDigest(ctx, arg); err != nil {
			return err
		}
	}
	fetched := githubClient(o.github).Fetch(ctx, scope, digests)
	var out []downloaded
	worst := ExitOK
	written := map[verify.Digest]string{}
	for i, arg := range args {
		d := digests[i]
		line := downloaded{Artifact: arg, Digest: d}
		f := fetched[d]
		bs, err := f.Bundles, f.Err
		if err == nil && wantType != "" {
			bs = byPredicateType(bs, wantType)
			if len(bs) == 0 {
				err = &source.APIError{Reason: source.ReasonNoAttestation, Digest: d,
					Err: fmt.Errorf("%d attestation(s) in %s, none of type %s", len(f.Bundles), scopeName(scope), wantType)}
			}
		}
		if err == nil {
			path, done := written[d]
			if !done {
				path = filepath.Join(o.dir, source.DownloadFileName(d))
				if werr := source.WriteJSONL(path, bs); werr != nil {
					err = fmt.Errorf("writing %s: %w", path, werr)
				} else {
					written[d] = path
				}
			}
			line.File, line.Bundles = path, len(bs)
		}
		if err != nil {
			worst = max(worst, ExitError)
			line.Reason, line.Error = string(source.ReasonOf(err)), err.Error()
			a.errorf("%s: %s", termtext.Quote(arg), termtext.Line(downloadMessage(err, d, scope)))
			for _, h := range sourceHints(err) {
				a.hintf("%s", h)
			}
		} else if a.output == "text" {
			fmt.Fprintf(a.stdio.Out, "wrote %d attestation(s) for %s (%s) to %s\n", line.Bundles, termtext.Quote(arg), d, termtext.Quote(line.File))
		}
		out = append(out, line)
	}
	if a.output == "json" {
		if err := a.printJSON(struct {
			SchemaVersion string       `json:"schemaVersion"`
			Downloads     []downloaded `json:"downloads"`
		}{"1", out}); err != nil {
			return err
		}
	}
	if worst != ExitOK {
		return errReported{worst}
	}
	return nil
}

// downloadMessage words a fetch failure; "no attestation" names the scope.
func downloadMessage(err error, d verify.Digest, scope source.Scope) string {
	var ae *source.APIError
	if errors.As(err, &ae) && ae.Reason == source.ReasonNoAttestation {
		if ae.Err != nil {
			return ae.Error()
		}
		return fmt.Sprintf("no attestation for %s in %s", d, scopeName(scope))
	}
	return err.Error()
}

func scopeName(s source.Scope) string {
	if s.Repo != "" {
		return "repository " + s.Repo
	}
	return "owner " + s.Owner
}

// byPredicateType keeps the bundles whose statement has predicate type uri.
func byPredicateType(bs []*source.Bundle, uri string) []*source.Bundle {
	var out []*source.Bundle
	for _, b := range bs {
		if b.Coverage.PredicateType == uri {
			out = append(out, b)
		}
	}
	return out
}
