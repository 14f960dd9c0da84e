package verify_test

import (
	"errors"
	"testing"

	"github.com/hallmark-dev/hallmark/internal/sigtest"
	"github.com/hallmark-dev/hallmark/pkg/verify"
)

func TestGitHubPolicyValidation(t *testing.T) {
	tm := getWorld(t).tm
	base := func(f func(id *verify.Identity)) verify.Policy {
		id := &verify.Identity{SAN: sigtest.ReusableIdentity, Issuer: sigtest.GitHubIssuer}
		f(id)
		return verify.Policy{Identity: id}
	}
	for name, p := range map[string]verify.Policy{
		"ref glob without workflow": base(func(id *verify.Identity) {
			id.SourceRepositoryURI, id.SignerWorkflowRef = sigtest.DemoRepository, "refs/*"
		}),
		"bad ref glob": base(func(id *verify.Identity) {
			id.SourceRepositoryURI, id.SignerWorkflow, id.SignerWorkflowRef = sigtest.DemoRepository, "a/b/.github/workflows/c.yml", "refs/["
		}),
		"signer repository alone": base(func(id *verify.Identity) { id.SignerRepositoryURI = "https://github.com/a/b" }),
		"signer workflow alone":   base(func(id *verify.Identity) { id.SignerWorkflow = "a/b/.github/workflows/c.yml" }),
		"malformed signer repo": base(func(id *verify.Identity) {
			id.SourceRepositoryURI, id.SignerRepositoryURI = sigtest.DemoRepository, "https://github.com/a"
		}),
	} {
		if _, err := verify.New(tm, p); !errors.Is(err, verify.ErrPolicy) {
			t.Errorf("%s: New = %v, want ErrPolicy", name, err)
		}
	}
	// signer workflow with only an owner is a valid extra constraint.
	p := base(func(id *verify.Identity) {
		id.SourceRepositoryOwnerURI, id.SignerWorkflow = "https://github.com/a", "a/b/.github/workflows/c.yml"
	})
	if _, err := verify.New(tm, p); err != nil {
		t.Errorf("owner + signer workflow: New = %v, want nil", err)
	}
}

// TestAttestationPredicateType: gh's default predicate type applies to DSSE
// statements only; a message signature is not turned away.
func TestAttestationPredicateType(t *testing.T) {
	w := getWorld(t)
	p := demoPolicy()
	p.AttestationPredicateType = "https://cyclonedx.org/bom"
	v := mustVerifier(t, w.tm, p)
	if _, err := run(t, v, w.bundles["blob"], verify.FileArtifact(writeTemp(t, w.artifact))); err != nil {
		t.Errorf("message signature: %v, want accepted", err)
	}
	_, err := run(t, v, w.bundles["attest"], verify.FileArtifact(writeTemp(t, w.artifact)))
	var rej *verify.RejectedError
	if !errors.As(err, &rej) || rej.Cause != verify.CausePredicateType {
		t.Errorf("SLSA attestation against a CycloneDX default: %v, want CausePredicateType", err)
	}
	p.AttestationPredicateType = sigtest.SLSAProvenanceV1
	if _, err := run(t, mustVerifier(t, w.tm, p), w.bundles["attest"], verify.FileArtifact(writeTemp(t, w.artifact))); err != nil {
		t.Errorf("SLSA attestation against the SLSA default: %v, want accepted", err)
	}
	p.AttestationPredicateType = "not a type"
	if _, err := verify.New(w.tm, p); !errors.Is(err, verify.ErrPolicy) {
		t.Errorf("New with a bad default type: %v, want ErrPolicy", err)
	}
}
