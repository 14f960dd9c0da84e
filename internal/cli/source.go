package cli

import (
	"context"
	"crypto"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/hallmark-dev/hallmark/internal/source"
	"github.com/hallmark-dev/hallmark/internal/trust"
	"github.com/hallmark-dev/hallmark/pkg/verify"
)

// githubFlags choose where on GitHub attestations are fetched from: shared
// by 'download' and 'verify --from github'.
type githubFlags struct {
	apiURL string
}

// githubClient is the attestations API client for the flags: the token
// from GH_TOKEN or GITHUB_TOKEN, the cache under hallmark's cache directory.
func githubClient(f githubFlags) *source.GitHub {
	g := &source.GitHub{
		APIURL:      f.apiURL,
		Token:       source.TokenFromEnv(),
		Client:      &http.Client{Timeout: 2 * time.Minute},
		Concurrency: 8,
		UserAgent:   "hallmark",
	}
	if dir, err := trust.DefaultCacheDir(); err == nil {
		g.CacheDir = filepath.Join(dir, "attestations")
	}
	return g
}

// githubScope is the --repo/--owner pair as an API scope.
func githubScope(repo, owner string) (source.Scope, error) {
	if repo == "" && owner == "" {
		return source.Scope{}, usageError(errors.New("attestations are fetched from GitHub for a repository or an owner: neither was given"),
			"pass --repo OWNER/NAME (or --owner OWNER for an organisation's attestations)")
	}
	if repo != "" {
		o, n, ok := strings.Cut(repo, "/")
		if !ok || o == "" || n == "" || strings.Contains(n, "/") {
			return source.Scope{}, usageError(fmt.Errorf("--repo %q is not of the form OWNER/NAME", repo))
		}
		if owner != "" && !strings.EqualFold(owner, o) {
			return source.Scope{}, usageError(fmt.Errorf("--owner %q and --repo %q name different owners", owner, repo))
		}
	}
	return source.Scope{Repo: repo, Owner: owner}, nil
}

// artifactDigest is the SHA-256 digest of arg: a sha256:HEX argument as
// given, a file by hashing it.
func artifactDigest(ctx context.Context, arg string) (verify.Digest, error) {
	if verify.IsDigest(arg) {
		alg, hex, _ := strings.Cut(arg, ":")
		if alg != "sha256" {
			return verify.Digest{}, usageError(fmt.Errorf("artifact %q: GitHub indexes attestations by sha256 digests, not %s", arg, alg))
		}
		if _, err := verify.ParseDigest(arg); err != nil {
			return verify.Digest{}, usageError(err)
		}
		return verify.Digest{Algorithm: alg, Value: strings.ToLower(hex)}, nil
	}
	f, err := os.Open(arg)
	if err != nil {
		return verify.Digest{}, withHint(fmt.Errorf("reading artifact: %w", err),
			fmt.Sprintf("check the path of the artifact %q; for a file that is not at hand, pass its digest as sha256:<hex>", arg))
	}
	defer func() { _ = f.Close() }()
	sum, err := verify.HashReader(ctx, f, crypto.SHA256)
	if err != nil {
		return verify.Digest{}, fmt.Errorf("reading artifact %s: %w", arg, err)
	}
	return verify.Digest{Algorithm: "sha256", Value: fmt.Sprintf("%x", sum)}, nil
}

// sourceHints says what to do about a failure to get attestations.
func sourceHints(err error) []string {
	var ae *source.APIError
	if !errors.As(err, &ae) {
		return nil
	}
	switch ae.Reason {
	case source.ReasonRateLimited:
		if !ae.Token {
			return []string{"set GH_TOKEN or GITHUB_TOKEN (any token, no scope needed for public repositories) to lift the anonymous rate limit"}
		}
		return []string{"wait for the rate limit to reset, or download the attestations once with 'hallmark download' and verify with --bundle-dir"}
	case source.ReasonAuth:
		return []string{"a private repository's attestations need a token that can read it, in GH_TOKEN or GITHUB_TOKEN"}
	case source.ReasonNetwork:
		return []string{"check the network or --api-url; offline, verify downloaded attestations with --bundle-dir DIR --offline"}
	case source.ReasonNoAttestation:
		return []string{"check --repo/--owner: attestations are looked up by the artifact's digest in that repository or owner"}
	}
	return nil
}
