package verify_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/sigstore/sigstore-go/pkg/root"

	"github.com/hallmark-dev/hallmark/internal/sigtest"
	"github.com/hallmark-dev/hallmark/pkg/attest"
	"github.com/hallmark-dev/hallmark/pkg/verify"
)

// attestWorld holds attestations whose statements the statement checks read:
// GitHub Actions provenance that agrees with its certificate and some that
// does not, a link, an SPDX SBOM, a message signature.
type attestWorld struct {
	tm       *root.TrustedRoot
	artifact []byte
	bundles  map[string][]byte
}

var (
	attestOnce     sync.Once
	theAttestWorld *attestWorld
	attestErr      error
)

// githubProvenance is the provenance actions/attest-build-provenance makes
// for the demo release workflow, as the demo claims describe it.
func githubProvenance() map[string]any {
	return map[string]any{
		"buildDefinition": map[string]any{
			"buildType": attest.BuildTypeGitHub,
			"externalParameters": map[string]any{
				"workflow": map[string]any{"ref": sigtest.DemoRef, "repository": sigtest.DemoRepository, "path": ".github/workflows/release.yml"},
			},
			"resolvedDependencies": []any{map[string]any{
				"uri":    "git+" + sigtest.DemoRepository + "@" + sigtest.DemoRef,
				"digest": map[string]any{"gitCommit": sigtest.DemoDigest},
			}},
		},
		"runDetails": map[string]any{"builder": map[string]any{"id": sigtest.DemoIdentity}},
	}
}

// edit returns githubProvenance changed by f.
func edit(f func(p map[string]any)) map[string]any {
	p := githubProvenance()
	f(p)
	return p
}

func workflowOf(p map[string]any) map[string]any {
	return p["buildDefinition"].(map[string]any)["externalParameters"].(map[string]any)["workflow"].(map[string]any)
}

func getAttestWorld(t testing.TB) *attestWorld {
	t.Helper()
	attestOnce.Do(func() { theAttestWorld, attestErr = makeAttestWorld() })
	if attestErr != nil {
		t.Fatalf("making fixtures: %v", attestErr)
	}
	return theAttestWorld
}

func makeAttestWorld() (*attestWorld, error) {
	inst, err := sigtest.New()
	if err != nil {
		return nil, err
	}
	w := &attestWorld{artifact: []byte(sigtest.DemoArtifact), bundles: map[string][]byte{}}
	if w.tm, err = inst.TrustedRoot(); err != nil {
		return nil, err
	}
	gh := sigtest.Options{GitHub: sigtest.DemoClaims()}
	email := sigtest.Options{Identity: sigtest.EmailIdentity, Issuer: sigtest.EmailIssuer}
	statements := []struct {
		name, typ string
		predicate map[string]any
		o         sigtest.Options
	}{
		{"provenance", attest.TypeSLSAProvenance1, githubProvenance(), gh},
		{"provenance-other-repo", attest.TypeSLSAProvenance1, edit(func(p map[string]any) {
			workflowOf(p)["repository"] = sigtest.ForeignRepository
		}), gh},
		{"provenance-everything-differs", attest.TypeSLSAProvenance1, edit(func(p map[string]any) {
			wf := workflowOf(p)
			wf["repository"], wf["ref"], wf["path"] = sigtest.ForeignRepository, "refs/heads/evil", ".github/workflows/evil.yml"
			bd := p["buildDefinition"].(map[string]any)
			bd["resolvedDependencies"] = []any{map[string]any{"uri": "git+" + sigtest.ForeignRepository, "digest": map[string]any{"gitCommit": strings.Repeat("0", 40)}}}
			p["runDetails"] = map[string]any{"builder": map[string]any{"id": "https://github.com/evil/builder"}}
		}), gh},
		{"provenance-no-claims", attest.TypeSLSAProvenance1, githubProvenance(), email},
		{"provenance-other-builder-type", attest.TypeSLSAProvenance1, map[string]any{
			"buildDefinition": map[string]any{"buildType": "https://example.com/build/v1", "externalParameters": map[string]any{}},
			"runDetails":      map[string]any{"builder": map[string]any{"id": "https://ci.example.com/builder"}},
		}, gh},
		{"provenance-unparseable", attest.TypeSLSAProvenance1, map[string]any{"buildDefinition": "not an object"}, gh},
		{"link", attest.TypeLink, map[string]any{
			"name": "build", "command": []any{"make", "dist"},
			"materials":  []any{map[string]any{"name": "main.c", "digest": map[string]any{"sha256": strings.Repeat("ab", 32)}}},
			"byproducts": map[string]any{"return-value": 2},
		}, email},
		{"spdx", "https://spdx.dev/Document/v2.2", map[string]any{"spdxVersion": "SPDX-2.2"}, email},
	}
	for _, s := range statements {
		stmt, err := sigtest.Statement(sigtest.FileArtifact, w.artifact, s.typ, s.predicate)
		if err != nil {
			return nil, err
		}
		if w.bundles[s.name], err = inst.Attest(stmt, s.o); err != nil {
			return nil, err
		}
	}
	if w.bundles["blob"], err = inst.SignBlob(w.artifact, gh); err != nil {
		return nil, err
	}
	return w, nil
}

func TestStatementChecks(t *testing.T) {
	w := getAttestWorld(t)
	emailPolicy := keyless(sigtest.EmailIdentity, sigtest.EmailIssuer)
	withType := func(p verify.Policy, typ string) verify.Policy { p.PredicateType = typ; return p }
	withBuilder := func(p verify.Policy, id string) verify.Policy { p.BuilderID = id; return p }
	tests := []struct {
		name   string
		bundle string
		policy verify.Policy
		cause  verify.Cause // "" = accepted
		// mismatched are the fields of the comparisons that must not match.
		mismatched []string
		check      func(t *testing.T, r *verify.Result)
	}{
		{name: "agreeing provenance, any type", bundle: "provenance", policy: demoPolicy(),
			check: func(t *testing.T, r *verify.Result) {
				p := r.Statement.Provenance
				want := verify.Provenance{BuildType: attest.BuildTypeGitHub, Builder: sigtest.DemoIdentity, SourceRepository: sigtest.DemoRepository,
					SourceRef: sigtest.DemoRef, SourceCommit: sigtest.DemoDigest, Workflow: ".github/workflows/release.yml"}
				if p == nil || *p != want {
					t.Errorf("provenance summary = %+v, want %+v", p, want)
				}
			}},
		{name: "short name", bundle: "provenance", policy: withType(demoPolicy(), "slsaprovenance1")},
		{name: "short name, other case", bundle: "provenance", policy: withType(demoPolicy(), "SLSAProvenance1")},
		{name: "uri", bundle: "provenance", policy: withType(demoPolicy(), attest.TypeSLSAProvenance1)},
		{name: "builder pinned", bundle: "provenance", policy: withBuilder(demoPolicy(), sigtest.DemoIdentity)},
		{name: "spdxjson names every SPDX version", bundle: "spdx", policy: withType(emailPolicy, "spdxjson")},
		{name: "an SPDX URI names only itself", bundle: "spdx", policy: withType(emailPolicy, attest.TypeSPDX),
			cause: verify.CausePredicateType, mismatched: []string{"predicate type"}},
		{name: "wrong type", bundle: "provenance", policy: withType(demoPolicy(), "spdxjson"),
			cause: verify.CausePredicateType, mismatched: []string{"predicate type"}},
		{name: "wrong type uri", bundle: "link", policy: withType(emailPolicy, "https://example.com/other/v1"),
			cause: verify.CausePredicateType, mismatched: []string{"predicate type"}},
		{name: "type of a message signature", bundle: "blob", policy: withType(demoPolicy(), "slsaprovenance1"),
			cause: verify.CauseNotAttestation},
		{name: "repository differs from the certificate", bundle: "provenance-other-repo", policy: demoPolicy(),
			cause: verify.CauseProvenance, mismatched: []string{"provenance workflow repository", "provenance workflow"}},
		{name: "every field differs", bundle: "provenance-everything-differs", policy: demoPolicy(), cause: verify.CauseProvenance,
			mismatched: []string{"provenance workflow repository", "provenance workflow ref", "provenance workflow", "provenance source commit", "provenance builder"}},
		{name: "the cross-check needs no identity rule: a key-less policy by SAN only", bundle: "provenance-other-repo",
			policy: verify.Policy{Identity: &verify.Identity{SANRegexp: ".*", Issuer: sigtest.GitHubIssuer}},
			cause:  verify.CauseProvenance, mismatched: []string{"provenance workflow repository", "provenance workflow"}},
		{name: "skipped statement checks", bundle: "provenance-other-repo", policy: verify.Policy{Identity: demoPolicy().Identity, SkipStatementChecks: true}},
		{name: "no GitHub claims: the check is skipped and says so", bundle: "provenance-no-claims", policy: emailPolicy,
			check: func(t *testing.T, r *verify.Result) {
				for _, s := range r.SkippedChecks {
					if s.Check == verify.CheckProvenance {
						return
					}
				}
				t.Errorf("skipped checks = %+v, want %s", r.SkippedChecks, verify.CheckProvenance)
			}},
		{name: "other build types are not cross-checked", bundle: "provenance-other-builder-type", policy: demoPolicy()},
		{name: "builder differs", bundle: "provenance-other-builder-type", policy: withBuilder(demoPolicy(), "https://ci.example.com/other"),
			cause: verify.CauseProvenance, mismatched: []string{"builder"}},
		{name: "builder of a statement that is not provenance", bundle: "link", policy: withBuilder(emailPolicy, "https://ci.example.com/b"),
			cause: verify.CauseProvenance, mismatched: []string{"builder"}},
		{name: "unparseable provenance", bundle: "provenance-unparseable", policy: demoPolicy(), cause: verify.CauseProvenance},
		{name: "link summary", bundle: "link", policy: withType(emailPolicy, "link"),
			check: func(t *testing.T, r *verify.Result) {
				l := r.Statement.Link
				if l == nil || l.Name != "build" || strings.Join(l.Command, " ") != "make dist" || l.ExitCode == nil || *l.ExitCode != 2 ||
					len(l.Materials) != 1 || l.Materials[0].Name != "main.c" || len(l.Products) != 1 || l.Products[0].Name != sigtest.FileArtifact {
					t.Errorf("link summary = %+v", l)
				}
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := mustVerifier(t, w.tm, tt.policy)
			r, err := run(t, v, w.bundles[tt.bundle], verify.FileArtifact(writeArtifact(t, w.artifact)))
			if tt.cause == "" {
				if err != nil {
					t.Fatalf("rejected: %v", err)
				}
				if tt.check != nil {
					tt.check(t, r)
				}
				return
			}
			var rej *verify.RejectedError
			if !errors.As(err, &rej) || rej.Cause != tt.cause {
				t.Fatalf("err = %v, want a rejection with cause %s", err, tt.cause)
			}
			var got []string
			for _, c := range rej.Comparisons {
				if !c.Match {
					got = append(got, c.Field)
					if !strings.Contains(err.Error(), c.Actual) || !strings.Contains(err.Error(), c.Expected) {
						t.Errorf("the message %q does not name both sides of %+v", err, c)
					}
				}
			}
			if strings.Join(got, ",") != strings.Join(tt.mismatched, ",") {
				t.Errorf("mismatched fields = %q, want %q", got, tt.mismatched)
			}
		})
	}
}

func TestPolicyPredicateTypeValidated(t *testing.T) {
	w := getAttestWorld(t)
	p := demoPolicy()
	p.PredicateType = "no-such-type"
	if _, err := verify.New(w.tm, p); !errors.Is(err, verify.ErrPolicy) {
		t.Fatalf("New = %v, want ErrPolicy", err)
	}
}

func writeArtifact(t *testing.T, data []byte) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), sigtest.FileArtifact)
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// InsecureIgnoreProvenance accepts provenance the certificate contradicts,
// and says that the check was skipped.
func TestInsecureIgnoreProvenance(t *testing.T) {
	w := getAttestWorld(t)
	p := demoPolicy()
	p.InsecureIgnoreProvenance = true
	r, err := run(t, mustVerifier(t, w.tm, p), w.bundles["provenance-other-repo"], verify.FileArtifact(writeArtifact(t, w.artifact)))
	if err != nil {
		t.Fatalf("rejected: %v", err)
	}
	for _, s := range r.SkippedChecks {
		if s.Check == verify.CheckProvenance && strings.Contains(s.Reason, "insecure-ignore-provenance") {
			return
		}
	}
	t.Errorf("skipped checks %+v do not list %s", r.SkippedChecks, verify.CheckProvenance)
}
