package npm_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/sigstore/sigstore-go/pkg/root"

	"github.com/hallmark-dev/hallmark/internal/npmtest"
	"github.com/hallmark-dev/hallmark/internal/sigtest"
	"github.com/hallmark-dev/hallmark/pkg/ecosystem/github"
	"github.com/hallmark-dev/hallmark/pkg/ecosystem/npm"
	"github.com/hallmark-dev/hallmark/pkg/verify"
)

// kit is a fake Sigstore, a registry key and the documents of two packages.
type kit struct {
	inst     *sigtest.Instance
	tm       root.TrustedMaterial
	reg      *npmtest.Registry
	keys     npm.Keys
	workflow npmtest.Workflow
}

const (
	pkgName    = "@acme/left-pad"
	pkgVersion = "1.2.3"
)

var tarball = []byte("left-pad tarball\n")

func newKit(t testing.TB) *kit {
	t.Helper()
	inst, err := sigtest.New()
	if err != nil {
		t.Fatal(err)
	}
	tm, err := inst.TrustedRoot()
	if err != nil {
		t.Fatal(err)
	}
	reg, err := npmtest.NewRegistry(time.Now().Add(-time.Hour), time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	k := &kit{inst: inst, tm: tm, reg: reg, workflow: npmtest.Workflow{Repo: "https://github.com/acme/left-pad",
		Path: ".github/workflows/publish.yml", Ref: "refs/tags/v1.2.3", Commit: sigtest.DemoDigest}}
	k.keys = k.parseKeys(t, reg)
	return k
}

func (k *kit) parseKeys(t testing.TB, regs ...*npmtest.Registry) npm.Keys {
	t.Helper()
	raw, err := regs[0].KeysJSON(regs[1:]...)
	if err != nil {
		t.Fatal(err)
	}
	keys, err := npm.ParseKeys(raw)
	if err != nil {
		t.Fatal(err)
	}
	return keys
}

func (k *kit) doc(t *testing.T, name, version, digest string, w *npmtest.Workflow) *npmtest.Signed {
	t.Helper()
	s, err := npmtest.FakeDocument(k.inst, k.reg, name, version, digest, w, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func parseDoc(t *testing.T, data []byte) *npm.Document {
	t.Helper()
	d, err := npm.ParseDocument(data)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func repoPolicy(t *testing.T, repo, workflow string) npm.Policy {
	t.Helper()
	id, err := github.RepoIdentity(repo)
	if err != nil {
		t.Fatal(err)
	}
	id.SignerWorkflow = workflow
	return npm.Policy{Identity: id}
}

// TestVerify checks which rejection each way a document can fail gives,
// and what is accepted.
func TestVerify(t *testing.T) {
	k := newKit(t)
	digest := npmtest.SHA512(tarball)
	other := npmtest.SHA512([]byte("another tarball\n"))
	good := k.doc(t, pkgName, pkgVersion, digest, &k.workflow)

	// A publish attestation of another package (same tarball), next to
	// the right provenance.
	foreign := k.doc(t, "@acme/right-pad", pkgVersion, digest, nil)
	copied, err := npmtest.Document(foreign.Publish, good.Provenance)
	if err != nil {
		t.Fatal(err)
	}
	// A provenance that vouches for two packages.
	twoSubjects, err := npmtest.Statement(npmtest.ProvenancePredicateType, map[string]any{},
		[2]string{npmtest.PURL(pkgName, pkgVersion), digest}, [2]string{npmtest.PURL("@acme/right-pad", pkgVersion), digest})
	if err != nil {
		t.Fatal(err)
	}
	twoBundle, err := k.inst.Attest(twoSubjects, sigtest.Options{Identity: k.workflow.SAN(), GitHub: k.workflow.Claims()})
	if err != nil {
		t.Fatal(err)
	}
	twoDoc, err := npmtest.Document(good.Publish, twoBundle)
	if err != nil {
		t.Fatal(err)
	}
	// A publish predicate naming another version (subject right).
	badPred, err := npmtest.Statement(npmtest.PublishPredicateType, map[string]string{"name": pkgName, "version": "9.9.9"},
		[2]string{npmtest.PURL(pkgName, pkgVersion), digest})
	if err != nil {
		t.Fatal(err)
	}
	badPredBundle, err := k.inst.AttestWithKeyLogged(k.reg.Key, k.reg.KeyID, badPred, time.Now(), sigtest.BundleV02)
	if err != nil {
		t.Fatal(err)
	}
	badPredDoc, err := npmtest.Document(badPredBundle, good.Provenance)
	if err != nil {
		t.Fatal(err)
	}
	// Keys: another registry's only; this one's, expired an hour ago.
	stranger, err := npmtest.NewRegistry(time.Now().Add(-time.Hour), time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	expired := *k.reg
	expired.Start, expired.End = time.Now().Add(-48*time.Hour), time.Now().Add(-time.Hour)
	notYet := *k.reg
	notYet.Start = time.Now().Add(time.Hour)

	const repo, wf = "acme/left-pad", "acme/left-pad/.github/workflows/publish.yml"
	tests := []struct {
		name    string
		doc     []byte // nil: no document
		digest  string
		keys    npm.Keys
		policy  npm.Policy
		cause   verify.Cause // "" = no error
		status  npm.Status
		subject string // the bundle the rejection names
	}{
		{name: "verified", doc: good.Document, policy: repoPolicy(t, repo, wf), status: npm.StatusVerified},
		{name: "verified, repository only", doc: good.Document, policy: repoPolicy(t, repo, ""), status: npm.StatusVerified},
		{name: "another repository", doc: good.Document, policy: repoPolicy(t, "acme/other", ""), cause: verify.CauseIdentity, subject: "provenance"},
		{name: "another workflow", doc: good.Document, policy: repoPolicy(t, repo, "acme/left-pad/.github/workflows/other.yml"), cause: verify.CauseIdentity, subject: "provenance"},
		{name: "another tarball", doc: good.Document, digest: other, policy: repoPolicy(t, repo, ""), cause: verify.CauseArtifact, subject: "publish attestation"},
		{name: "publish attestation of another package", doc: copied, policy: repoPolicy(t, repo, ""), cause: npm.CauseSubject, subject: "publish attestation"},
		{name: "provenance of two packages", doc: twoDoc, policy: repoPolicy(t, repo, ""), cause: npm.CauseSubject, subject: "provenance"},
		{name: "publish predicate of another version", doc: badPredDoc, policy: repoPolicy(t, repo, ""), cause: npm.CausePredicate, subject: "publish attestation"},
		{name: "unknown registry key", doc: good.Document, keys: k.parseKeys(t, stranger), policy: repoPolicy(t, repo, ""), cause: npm.CauseRegistryKey, subject: "publish attestation"},
		{name: "registry key expired", doc: good.Document, keys: k.parseKeys(t, &expired), policy: repoPolicy(t, repo, ""), cause: npm.CauseRegistryKey, subject: "publish attestation"},
		{name: "registry key not yet valid", doc: good.Document, keys: k.parseKeys(t, &notYet), policy: repoPolicy(t, repo, ""), cause: npm.CauseRegistryKey, subject: "publish attestation"},
		{name: "no provenance, identity given", doc: k.doc(t, pkgName, pkgVersion, digest, nil).Document, policy: repoPolicy(t, repo, ""), cause: npm.CauseNoProvenance},
		{name: "no document, identity given", policy: repoPolicy(t, repo, ""), cause: npm.CauseNoProvenance},
		{name: "no provenance, any signer", doc: k.doc(t, pkgName, pkgVersion, digest, nil).Document, policy: npm.Policy{AnySigner: true}, status: npm.StatusNoProvenance},
		{name: "no provenance, required", doc: k.doc(t, pkgName, pkgVersion, digest, nil).Document, policy: npm.Policy{AnySigner: true, RequireProvenance: true}, cause: npm.CauseNoProvenance},
		{name: "no document, any signer", policy: npm.Policy{AnySigner: true}, status: npm.StatusNoDocument},
		{name: "any signer", doc: good.Document, policy: npm.Policy{AnySigner: true}, status: npm.StatusVerified},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			keys := tc.keys
			if keys == nil {
				keys = k.keys
			}
			v, err := npm.New([]root.TrustedMaterial{k.tm}, keys, tc.policy)
			if err != nil {
				t.Fatal(err)
			}
			var doc *npm.Document
			if tc.doc != nil {
				doc = parseDoc(t, tc.doc)
			}
			d := digest
			if tc.digest != "" {
				d = tc.digest
			}
			pkg, err := npm.ParsePackage(pkgName, pkgVersion)
			if err != nil {
				t.Fatal(err)
			}
			res, err := v.Verify(context.Background(), pkg, verify.Digest{Algorithm: "sha512", Value: d}, doc)
			if tc.cause == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				if res.Status != tc.status || res.Verified != (tc.status == npm.StatusVerified) || res.Error != nil {
					t.Fatalf("status %q verified %v, want %q", res.Status, res.Verified, tc.status)
				}
				if tc.status == npm.StatusVerified && (res.Repository() != k.workflow.Repo || res.Signer().SAN != k.workflow.SAN() ||
					res.PublishKey.ID != k.reg.KeyID || res.PURL != "pkg:npm/%40acme/left-pad@1.2.3" || res.Ecosystem != "npm") {
					t.Fatalf("result %+v", res)
				}
				return
			}
			var rej *verify.RejectedError
			if !errors.As(err, &rej) || rej.Cause != tc.cause {
				t.Fatalf("got %v, want a rejection with cause %q", err, tc.cause)
			}
			if res.Verified || res.Status != npm.StatusRejected || res.Error == nil || res.Error.Cause != tc.cause {
				t.Fatalf("result %+v", res)
			}
			if tc.subject != "" && !startsWith(rej.Reason, tc.subject+": ") {
				t.Fatalf("reason %q does not name the %s", rej.Reason, tc.subject)
			}
		})
	}
}

func startsWith(s, prefix string) bool { return len(s) >= len(prefix) && s[:len(prefix)] == prefix }

// TestNewPolicy checks the policies New refuses.
func TestNewPolicy(t *testing.T) {
	k := newKit(t)
	id, _ := github.RepoIdentity("acme/left-pad")
	for name, p := range map[string]npm.Policy{
		"neither identity nor any signer": {},
		"both":                            {Identity: id, AnySigner: true},
	} {
		if _, err := npm.New([]root.TrustedMaterial{k.tm}, k.keys, p); !errors.Is(err, verify.ErrPolicy) {
			t.Errorf("%s: got %v, want ErrPolicy", name, err)
		}
	}
	if _, err := npm.New(nil, k.keys, npm.Policy{AnySigner: true}); !errors.Is(err, verify.ErrPolicy) {
		t.Errorf("no trust root: got %v, want ErrPolicy", err)
	}
}
