package cli

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"flag"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/sigstore/sigstore-go/pkg/root"

	"github.com/hallmark-dev/hallmark/internal/sigtest"
	"github.com/hallmark-dev/hallmark/pkg/ecosystem/github"
	"github.com/hallmark-dev/hallmark/pkg/verify"
)

// policyFlags are the identity flags of verify, in FuzzIdentityPolicy's
// argument order.
var policyFlags = []string{"--certificate-identity", "--certificate-identity-regexp", "--certificate-oidc-issuer",
	"--certificate-oidc-issuer-regexp", "--repo", "--signer-workflow", "--source-ref", "--source-digest", "--trigger",
	"--owner", "--signer-repo", "--signer-digest", "--hostname", "--deny-self-hosted-runners"}

// boolPolicyFlags are the policyFlags that take no value: a seed holds
// "true" when the flag is present.
var boolPolicyFlags = map[string]bool{"--deny-self-hosted-runners": true}

// scriptPolicySeeds returns the identity flag values of every 'hallmark
// verify' command line in testdata/script, in policyFlags order, each
// combination once.
func scriptPolicySeeds(t testing.TB) [][]string {
	paths, err := filepath.Glob(filepath.Join("..", "..", "testdata", "script", "*.txtar"))
	if err != nil {
		t.Fatal(err)
	}
	var seeds [][]string
	seen := map[string]bool{}
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		for _, line := range strings.Split(string(data), "\n") {
			if !strings.Contains(line, "hallmark verify ") {
				continue
			}
			words := strings.Fields(line)
			vals := make([]string, len(policyFlags))
			found := false
			for i := 0; i < len(words); i++ {
				for k, flag := range policyFlags {
					switch {
					case words[i] == flag && boolPolicyFlags[flag]:
						vals[k], found = "true", true
					case words[i] == flag && i+1 < len(words):
						vals[k], found = strings.Trim(words[i+1], "'"), true
					}
				}
			}
			if key := strings.Join(vals, "\x00"); found && !seen[key] {
				seen[key] = true
				seeds = append(seeds, vals)
			}
		}
	}
	return seeds
}

// fuzzWorld is one fake Sigstore instance for FuzzIdentityPolicy.
var fuzzWorld struct {
	once sync.Once
	inst *sigtest.Instance
	tm   *root.TrustedRoot
	err  error
}

// FuzzIdentityPolicy is a property test of the flags → policy builder: the
// policy it builds must never be weaker than the flags. It builds the policy
// from fuzzed flags, signs a bundle whose certificate has fuzzed claims (or,
// for an empty claim, the one the flags ask for), and whenever the policy
// accepts that bundle, checks independently that the verified certificate
// has the identity, issuer and claims the flags asked for. A builder error
// must be a usage error.
func FuzzIdentityPolicy(f *testing.F) {
	seeds := scriptPolicySeeds(f)
	if len(seeds) < 10 {
		f.Fatalf("found only %d verify command lines with identity flags in testdata/script", len(seeds))
	}
	demo, reusable := sigtest.DemoClaims(), sigtest.ReusableClaims()
	for _, s := range seeds {
		deny := s[13] == "true"
		for _, c := range []*sigtest.GitHubClaims{demo, reusable} {
			f.Add(s[0], s[1], s[2], s[3], s[4], s[5], s[6], s[7], s[8], s[9], s[10], s[11], s[12], deny,
				c.BuildSignerURI, sigtest.GitHubIssuer, c.SourceRepositoryURI, c.BuildSignerURI, c.SourceRepositoryRef, c.SourceRepositoryDigest, c.BuildTrigger,
				sigtest.DemoOwner, c.BuildSignerDigest, c.RunnerEnvironment)
			// The same on a self-hosted runner.
			f.Add(s[0], s[1], s[2], s[3], s[4], s[5], s[6], s[7], s[8], s[9], s[10], s[11], s[12], deny,
				c.BuildSignerURI, sigtest.GitHubIssuer, c.SourceRepositoryURI, c.BuildSignerURI, c.SourceRepositoryRef, c.SourceRepositoryDigest, c.BuildTrigger,
				sigtest.DemoOwner, c.BuildSignerDigest, "self-hosted")
		}
		// The same flags against a certificate with the claims they ask
		// for.
		f.Add(s[0], s[1], s[2], s[3], s[4], s[5], s[6], s[7], s[8], s[9], s[10], s[11], s[12], deny, "", "", "", "", "", "", "", "", "", "")
	}
	f.Add("", "", "", "", "mallory/lookalike", "hallmark-dev/shared-workflows/.github/workflows/build.yml", "", "", "", "", "", "", "", false,
		sigtest.ReusableIdentity, sigtest.GitHubIssuer, "https://github.com/hallmark-dev/demo", sigtest.ReusableIdentity, "", "", "", "", "", "")
	f.Add("", "", "", "", "", "hallmark-dev/shared-workflows/.github/workflows/build.yml@refs/heads/*", "", "", "", "mallory", "", "", "", false,
		sigtest.ReusableIdentity, sigtest.GitHubIssuer, "https://github.com/mallory/x", sigtest.ReusableIdentity, "", "", "", "https://github.com/hallmark-dev", "", "")
	f.Add("", "", "", "", "", "", "", "", "", "mallory", "hallmark-dev/shared-workflows", "", "", false,
		"https://github.com/hallmark-dev/shared-workflows-evil/.github/workflows/build.yml@refs/heads/main", "", "", "", "", "", "", "https://github.com/mallory", "", "")
	f.Add("", "", "", "", "acme/app", "", "", "", "", "", "", "", "octo.ghe.com", true,
		"", sigtest.GitHubIssuer, "", "", "", "", "", "", "", "")
	fuzzWorld.once.Do(func() {
		if fuzzWorld.inst, fuzzWorld.err = sigtest.New(); fuzzWorld.err == nil {
			fuzzWorld.tm, fuzzWorld.err = fuzzWorld.inst.TrustedRoot()
		}
	})
	if fuzzWorld.err != nil {
		f.Fatal(fuzzWorld.err)
	}
	artifact := []byte(sigtest.DemoArtifact)
	sum := sha256.Sum256(artifact)
	digest := "sha256:" + hex.EncodeToString(sum[:])

	var accepted atomic.Int64
	defer func() {
		// The seeds must exercise the property, not only rejections.
		if fl := flag.Lookup("test.fuzz"); fl != nil && fl.Value.String() == "" && accepted.Load() == 0 {
			f.Error("no seed bundle was accepted: the property was never checked")
		}
	}()
	f.Fuzz(func(t *testing.T, identity, identityRegexp, issuer, issuerRegexp, repo, signerWorkflow, sourceRef, sourceDigest, trigger,
		owner, signerRepo, signerDigest, hostname string, denySelfHosted bool,
		certSAN, certIssuer, certRepo, certSigner, certRef, certDigest, certTrigger, certOwner, certSignerDigest, certRunner string) {
		o := &verifyOptions{identity: identity, identityRegexp: identityRegexp, issuer: issuer, issuerRegexp: issuerRegexp,
			repo: repo, signerWorkflow: signerWorkflow, sourceRef: sourceRef, sourceDigest: sourceDigest, trigger: trigger,
			gh: ghPolicyFlags{owner: owner, signerRepo: signerRepo, signerDigest: signerDigest, hostname: hostname, denySelfHosted: denySelfHosted}}
		if !o.identityFlagsSet() {
			return // no policy at all: a usage error before the builder
		}
		id, err := o.identityPolicy()
		if err == nil {
			err = checkIdentityComplete(id)
		}
		if err != nil {
			if exitCode(err) != ExitUsage {
				t.Fatalf("builder error %v has exit code %d, want %d", err, exitCode(err), ExitUsage)
			}
			return
		}
		v, err := verify.New(fuzzWorld.tm, verify.Policy{Identity: id})
		if err != nil {
			if !errors.Is(err, verify.ErrPolicy) {
				t.Fatalf("verify.New: %v, want an ErrPolicy error", err)
			}
			return
		}

		// The certificate: fuzzed claims, or those the flags ask for.
		host := "https://github.com"
		if hostname != "" {
			host = "https://" + strings.ToLower(hostname)
		}
		ghIssuer, _ := github.IssuerFor(hostname)
		wfPath, refGlob, hasGlob := strings.Cut(signerWorkflow, "@")
		wfURI := wfPath
		if !strings.HasPrefix(wfPath, "https://") {
			wfURI = host + "/" + strings.TrimPrefix(wfPath, "/")
		}
		repoURI := host + "/" + repo
		ownerURI := host + "/" + owner
		if repo == "" {
			repoURI = ownerURI + "/app"
		} else if owner == "" {
			ownerURI, _, _ = strings.Cut(repoURI[len(host)+1:], "/")
			ownerURI = host + "/" + ownerURI
		}
		signerRepoURI := host + "/" + signerRepo
		ref := or(certRef, sourceRef, "refs/heads/main")
		natural := repoURI + "/.github/workflows/release.yml@" + ref
		switch {
		case signerWorkflow != "":
			natural = wfURI + "@" + ref
		case signerRepo != "":
			natural = signerRepoURI + "/.github/workflows/build.yml@" + ref
		}
		claims := &sigtest.GitHubClaims{
			SourceRepositoryURI:    or(certRepo, repoURI),
			BuildSignerURI:         or(certSigner, natural),
			SourceRepositoryRef:    ref,
			SourceRepositoryDigest: or(certDigest, sourceDigest),
			BuildTrigger:           or(certTrigger, trigger),
			SourceRepositoryOwner:  or(certOwner, ownerURI),
			BuildSignerDigest:      or(certSignerDigest, signerDigest),
			RunnerEnvironment:      or(certRunner, "github-hosted"),
		}
		opts := sigtest.Options{Identity: or(certSAN, identity, natural), Issuer: or(certIssuer, issuer, ghIssuer), GitHub: claims}
		bundleJSON, err := fuzzWorld.inst.SignBlob(artifact, opts)
		if errors.Is(err, sigtest.ErrInstanceExpired) {
			t.Skip("the sigtest instance expired")
		}
		if err != nil {
			return // a claim no certificate can carry
		}
		b, err := verify.ParseBundle(bundleJSON)
		if err != nil {
			t.Fatalf("ParseBundle: %v", err)
		}
		a, err := verify.ParseDigest(digest)
		if err != nil {
			t.Fatal(err)
		}
		res, err := v.Verify(context.Background(), b, a)
		if err != nil {
			if !verify.IsRejected(err) {
				t.Fatalf("Verify: %v, want a rejection", err)
			}
			return
		}
		accepted.Add(1)

		// Accepted: the certificate must have all that the flags asked.
		s := res.Signer
		gh := s.GitHub
		if gh == nil {
			gh = &verify.GitHubClaims{}
		}
		fail := func(what, got string) {
			t.Fatalf("accepted a certificate whose %s is %q for flags %+v", what, got, o)
		}
		if identity != "" && s.SAN != identity {
			fail("SAN", s.SAN)
		}
		if identityRegexp != "" && !wholeMatch(identityRegexp, s.SAN) {
			fail("SAN", s.SAN)
		}
		if issuer != "" && s.Issuer != issuer {
			fail("issuer", s.Issuer)
		}
		if issuerRegexp != "" && !wholeMatch(issuerRegexp, s.Issuer) {
			fail("issuer", s.Issuer)
		}
		if issuer == "" && issuerRegexp == "" && (repo != "" || owner != "" || signerWorkflow != "" || signerRepo != "") && s.Issuer != ghIssuer {
			fail("issuer", s.Issuer)
		}
		if hostname != "" && repo == "" && owner == "" {
			t.Fatalf("accepted with --hostname %q but no --repo or --owner", hostname)
		}
		ownSAN := identity == "" && identityRegexp == "" && signerWorkflow == "" && signerRepo == ""
		if repo != "" {
			if gh.SourceRepository != repoURI {
				fail("source repository", gh.SourceRepository)
			}
			if ownSAN && !strings.HasPrefix(s.SAN, repoURI+"/") {
				fail("SAN", s.SAN)
			}
		}
		if owner != "" {
			if gh.SourceOwner != ownerURI {
				fail("source repository owner", gh.SourceOwner)
			}
			if ownSAN && !strings.HasPrefix(s.SAN, ownerURI+"/") {
				fail("SAN", s.SAN)
			}
		}
		if (signerWorkflow != "" || signerRepo != "") && repo == "" && owner == "" {
			t.Fatalf("accepted with --signer-workflow %q / --signer-repo %q but no --repo or --owner", signerWorkflow, signerRepo)
		}
		if signerWorkflow != "" {
			at := strings.LastIndex(gh.SignerWorkflow, "@")
			if at < 0 || gh.SignerWorkflow[:at] != wfURI {
				fail("signer workflow", gh.SignerWorkflow)
			}
			if ok, err := path.Match(refGlob, gh.SignerWorkflow[at+1:]); hasGlob && (err != nil || !ok) {
				fail("signer workflow ref", gh.SignerWorkflow)
			}
			if identity == "" && identityRegexp == "" && !strings.HasPrefix(s.SAN, wfURI+"@") {
				fail("SAN", s.SAN)
			}
		}
		if signerRepo != "" {
			if !strings.HasPrefix(gh.SignerWorkflow, signerRepoURI+"/.github/workflows/") {
				fail("signer workflow", gh.SignerWorkflow)
			}
			if identity == "" && identityRegexp == "" && !strings.HasPrefix(s.SAN, signerRepoURI+"/") {
				fail("SAN", s.SAN)
			}
		}
		if signerDigest != "" && gh.SignerDigest != signerDigest {
			fail("signer digest", gh.SignerDigest)
		}
		if denySelfHosted && gh.RunnerEnvironment != "github-hosted" {
			fail("runner environment", gh.RunnerEnvironment)
		}
		if sourceRef != "" && gh.SourceRef != sourceRef {
			fail("source ref", gh.SourceRef)
		}
		if sourceDigest != "" && gh.SourceDigest != sourceDigest {
			fail("source digest", gh.SourceDigest)
		}
		if trigger != "" && gh.Trigger != trigger {
			fail("trigger", gh.Trigger)
		}
	})
}

// or returns the first non-empty value.
func or(vals ...string) string {
	for _, v := range vals {
		if v != "" {
			return v
		}
	}
	return ""
}

// wholeMatch reports whether pattern matches all of s: by definition, the
// pattern wrapped in ^(?:...)$ matches s.
func wholeMatch(pattern, s string) bool {
	ok, err := regexp.MatchString("^(?:"+pattern+")$", s)
	return err == nil && ok
}
