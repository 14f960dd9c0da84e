package npmtest

import (
	"time"

	"github.com/hallmark-dev/hallmark/internal/sigtest"
)

// Signed is what FakeDocument made.
type Signed struct {
	Publish, Provenance, Document []byte
}

// FakeDocument makes the attestations document of name@version with
// tarball digest (hex sha512) on the fake Sigstore inst: the publish
// attestation signed with the registry key and logged at logged, and,
// unless w is nil, SLSA provenance signed keylessly by w's workflow with
// its GitHub claims.
func FakeDocument(inst *sigtest.Instance, reg *Registry, name, version, digest string, w *Workflow, logged time.Time) (*Signed, error) {
	pub, err := PublishStatement(name, version, digest)
	if err != nil {
		return nil, err
	}
	s := &Signed{}
	if s.Publish, err = inst.AttestWithKeyLogged(reg.Key, reg.KeyID, pub, logged, sigtest.BundleV02); err != nil {
		return nil, err
	}
	if w != nil {
		prov, err := ProvenanceStatement(name, version, digest, *w)
		if err != nil {
			return nil, err
		}
		if s.Provenance, err = inst.Attest(prov, sigtest.Options{Identity: w.SAN(), GitHub: w.Claims()}); err != nil {
			return nil, err
		}
	}
	s.Document, err = Document(s.Publish, s.Provenance)
	return s, err
}

// Claims are the Fulcio GitHub claims of a run of w on a push.
func (w Workflow) Claims() *sigtest.GitHubClaims {
	owner := w.Repo[:len(w.Repo)-len(lastPart(w.Repo))-1]
	return &sigtest.GitHubClaims{
		BuildSignerURI:         w.SAN(),
		BuildSignerDigest:      w.Commit,
		RunnerEnvironment:      "github-hosted",
		SourceRepositoryURI:    w.Repo,
		SourceRepositoryDigest: w.Commit,
		SourceRepositoryRef:    w.Ref,
		BuildConfigURI:         w.SAN(),
		BuildTrigger:           "push",
		RunInvocationURI:       w.Repo + "/actions/runs/1/attempts/1",
		SourceRepositoryOwner:  owner,
	}
}

func lastPart(s string) string {
	for i := len(s) - 1; i >= 0; i-- {
		if s[i] == '/' {
			return s[i+1:]
		}
	}
	return s
}
