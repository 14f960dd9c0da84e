package sigtest

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
)

// Fixtures of gh attestation verify's policy vocabulary: artifact.txt signed
// with a source repository owner claim, on a self-hosted runner, and on a
// GitHub Enterprise Cloud tenant (TenantHost).
const (
	FileOwnerBundle      = "owner.sigstore.json"
	FileSelfHostedBundle = "self-hosted.sigstore.json"
	FileTenantBundle     = "tenant.sigstore.json"
	// DemoOwner is the source repository owner URI of the demo.
	DemoOwner = "https://github.com/hallmark-dev"
	// TenantHost is the GitHub Enterprise Cloud (data residency) host of
	// FileTenantBundle, whose repository is TenantRepository.
	TenantHost       = "octo.ghe.com"
	TenantRepository = "https://" + TenantHost + "/acme/app"
	// TenantIssuer is the GitHub Actions issuer of TenantHost.
	TenantIssuer = "https://token.actions.octo.ghe.com"
)

// Homebrew bottle fixtures: bottles and their attestations (SLSA provenance
// v1 statements signed by a workflow of HomebrewCoreRepository).
const (
	// HomebrewCoreRepository is Homebrew/homebrew-core's URI.
	HomebrewCoreRepository = "https://github.com/Homebrew/homebrew-core"
	// HomebrewWorkflow is the homebrew-core workflow that signs bottles.
	HomebrewWorkflow = HomebrewCoreRepository + "/.github/workflows/publish-commit-bottles.yml@refs/heads/main"
	// HomebrewRun is the workflow run of the bottle attestations.
	HomebrewRun = HomebrewCoreRepository + "/actions/runs/424242/attempts/1"
	// BackfillRepository is the backfill attestations' repository.
	BackfillRepository = "https://github.com/trailofbits/homebrew-brew-verify"

	FileBottle            = "jq--1.7.1.arm64_sonoma.bottle.tar.gz"
	FileBottleAttestation = "jq-bottle.sigstore.json"
	// FileBottleOtherRepo is the jq statement signed by a workflow of
	// another repository (octo/homebrew-core).
	FileBottleOtherRepo   = "jq-bottle-other-repo.sigstore.json"
	FileAllBottle         = "ca-certificates--2024-03-11.all.bottle.tar.gz"
	FileAllBottleAttest   = "ca-certificates-bottle.sigstore.json"
	FileBackfillBottle    = "wget--1.21.4.sonoma.bottle.tar.gz"
	FileBackfillAttest    = "wget-backfill.sigstore.json"
	BackfillBottleURL     = "https://ghcr.io/v2/homebrew/core/wget/blobs/sha256:wget-bottle"
	allBottleSubject      = "ca-certificates--2024-03-11.arm64_sonoma.bottle.tar.gz"
	bottleSiblingSubject  = "jq--1.7.1.x86_64_linux.bottle.tar.gz"
	bottleSiblingContents = "jq 1.7.1 bottle for x86_64_linux\n"
)

// BottleContent returns the bytes of a bottle fixture.
func BottleContent(name string) []byte { return []byte("bottle " + name + "\n") }

// githubWorkflow is a workflow run for the fixtures: its certificate claims
// and a SLSA v1 predicate that agrees with them.
func githubWorkflow(repo, path, ref, run string) (Options, map[string]any) {
	id := repo + "/" + path + "@" + ref
	o := Options{Identity: id, Issuer: GitHubIssuer, GitHub: &GitHubClaims{
		BuildSignerURI: id, BuildSignerDigest: DemoDigest, RunnerEnvironment: "github-hosted",
		SourceRepositoryURI: repo, SourceRepositoryDigest: DemoDigest, SourceRepositoryRef: ref,
		BuildConfigURI: id, BuildTrigger: "push", RunInvocationURI: run,
	}}
	predicate := map[string]any{
		"buildDefinition": map[string]any{
			"buildType": "https://actions.github.io/buildtypes/workflow/v1",
			"externalParameters": map[string]any{
				"workflow": map[string]any{"ref": ref, "repository": repo, "path": path},
			},
		},
		"runDetails": map[string]any{"builder": map[string]any{"id": id}},
	}
	return o, predicate
}

// statementOf is an in-toto v1 statement with several subjects (name ->
// content).
func statementOf(predicate any, subjects [][2]string) ([]byte, error) {
	var subs []subject
	for _, s := range subjects {
		d := sha256.Sum256([]byte(s[1]))
		subs = append(subs, subject{Name: s[0], Digest: map[string]string{"sha256": hex.EncodeToString(d[:])}})
	}
	b, err := json.Marshal(map[string]any{"_type": InTotoStatementV1, "subject": subs, "predicateType": SLSAProvenanceV1, "predicate": predicate})
	if err != nil {
		return nil, fmt.Errorf("sigtest: encoding statement: %w", err)
	}
	return b, nil
}

// addGitHubFiles adds the owner, runner, tenant and Homebrew fixtures.
func addGitHubFiles(s *fixtureSet, inst *Instance) {
	artifact := []byte(DemoArtifact)
	owned := func(change func(c *GitHubClaims)) func() ([]byte, error) {
		return func() ([]byte, error) {
			c := DemoClaims()
			c.SourceRepositoryOwner = DemoOwner
			change(c)
			return inst.SignBlob(artifact, Options{Identity: DemoIdentity, Issuer: GitHubIssuer, GitHub: c})
		}
	}
	s.add(FileOwnerBundle, "artifact.txt signed like artifact.txt.sigstore.json, with the source repository owner claim "+DemoOwner,
		owned(func(*GitHubClaims) {}))
	s.add(FileSelfHostedBundle, "owner.sigstore.json's signer on a self-hosted runner (runner environment self-hosted)",
		owned(func(c *GitHubClaims) { c.RunnerEnvironment = "self-hosted" }))
	s.add(FileTenantBundle, "artifact.txt signed by a workflow of "+TenantRepository+" (GitHub Enterprise Cloud tenant), issuer "+TenantIssuer,
		func() ([]byte, error) {
			o, _ := githubWorkflow(TenantRepository, ".github/workflows/release.yml", "refs/heads/main", TenantRepository+"/actions/runs/1/attempts/1")
			o.Issuer = TenantIssuer
			o.GitHub.SourceRepositoryOwner = "https://" + TenantHost + "/acme"
			return inst.SignBlob(artifact, o)
		})

	core, corePred := githubWorkflow(HomebrewCoreRepository, ".github/workflows/publish-commit-bottles.yml", "refs/heads/main", HomebrewRun)
	attest := func(o Options, predicate any, subjects ...[2]string) func() ([]byte, error) {
		return func() ([]byte, error) {
			st, err := statementOf(predicate, subjects)
			if err != nil {
				return nil, err
			}
			return inst.Attest(st, o)
		}
	}
	for _, b := range []string{FileBottle, FileAllBottle, FileBackfillBottle} {
		s.add(b, "a bottle (fake content)", constant(BottleContent(b)))
	}
	jq := [][2]string{{bottleSiblingSubject, bottleSiblingContents}, {FileBottle, string(BottleContent(FileBottle))}}
	s.add(FileBottleAttestation, "SLSA v1 attestation of "+FileBottle+" (and a sibling bottle) by "+HomebrewWorkflow,
		attest(core, corePred, jq...))
	other, otherPred := githubWorkflow("https://github.com/octo/homebrew-core", ".github/workflows/publish-commit-bottles.yml", "refs/heads/main",
		"https://github.com/octo/homebrew-core/actions/runs/1/attempts/1")
	s.add(FileBottleOtherRepo, "the statement of jq-bottle.sigstore.json signed by a workflow of https://github.com/octo/homebrew-core",
		attest(other, otherPred, jq...))
	s.add(FileAllBottleAttest, "SLSA v1 attestation whose subject "+allBottleSubject+" has the bytes of "+FileAllBottle+" (brew bottle --merge)",
		attest(core, corePred, [2]string{allBottleSubject, string(BottleContent(FileAllBottle))}))
	back, backPred := githubWorkflow(BackfillRepository, ".github/workflows/backfill_signatures.yml", "refs/heads/main",
		BackfillRepository+"/actions/runs/1/attempts/1")
	sum := sha256.Sum256([]byte(BackfillBottleURL))
	s.add(FileBackfillAttest, "backfill attestation of "+FileBackfillBottle+" (subject sha256("+BackfillBottleURL+")--FILE) by "+BackfillRepository+", made now: after the 2024-03-14 cutoff",
		attest(back, backPred, [2]string{hex.EncodeToString(sum[:]) + "--" + FileBackfillBottle, string(BottleContent(FileBackfillBottle))}))
}
