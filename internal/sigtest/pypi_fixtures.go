package sigtest

import (
	"encoding/json"
	"fmt"

	"github.com/sigstore/sigstore-go/pkg/bundle"
	"google.golang.org/protobuf/encoding/protojson"
)

// PyPI fixtures: PEP 740 attestation and provenance objects of a sample
// sdist, made from bundles of the instance signed by GitHub workflows of
// PyPIRepository.
const (
	// PyPIRepository is the sample project's repository.
	PyPIRepository = "https://github.com/pypa/sampleproject"
	// PyPIPublishPredicate is PyPI's publish attestation predicate type.
	PyPIPublishPredicate = "https://docs.pypi.org/attestations/publish/v1"

	FilePyPISdist = "sampleproject-4.0.0.tar.gz"
	// FilePyPIAttestation is the sdist's publish attestation by
	// .github/workflows/release.yml at refs/tags/v4.0.0.
	FilePyPIAttestation = "sampleproject-4.0.0.tar.gz.publish.attestation"
	// FilePyPIProvenance is that attestation in a provenance object
	// naming the publisher github pypa/sampleproject release.yml.
	FilePyPIProvenance = "sampleproject-4.0.0.provenance"
	// FilePyPIOtherWorkflow is the sdist's publish attestation by
	// .github/workflows/pr.yml (same repository).
	FilePyPIOtherWorkflow = "sampleproject-4.0.0.pr-workflow.attestation"
	// FilePyPILyingProvenance is FilePyPIAttestation in a provenance
	// object whose (unsigned) publisher names workflow publish.yml.
	FilePyPILyingProvenance = "sampleproject-4.0.0.lying.provenance"
	// FilePyPITwoSubjects is an attestation whose statement names the
	// sdist and another file.
	FilePyPITwoSubjects = "sampleproject-4.0.0.two-subjects.attestation"
)

// PyPISdistContent is the sample sdist's bytes.
func PyPISdistContent() []byte { return []byte("sampleproject 4.0.0 sdist (fake)\n") }

// PEP740 is the PEP 740 attestation object (JSON) of a DSSE bundle (JSON):
// the certificate, the log entries (protobuf JSON), the RFC 3161
// timestamps (the optional field proposed for Rekor v2), the statement
// and the signature. It does not use pkg/ecosystem/pypi, which reads it.
func PEP740(bundleJSON []byte) ([]byte, error) {
	var b bundle.Bundle
	if err := b.UnmarshalJSON(bundleJSON); err != nil {
		return nil, fmt.Errorf("sigtest: %w", err)
	}
	vm := b.GetVerificationMaterial()
	env := b.GetDsseEnvelope()
	if env == nil || len(env.GetSignatures()) != 1 || vm.GetCertificate() == nil {
		return nil, fmt.Errorf("sigtest: PEP740 needs a v0.3 DSSE bundle with one signature")
	}
	var entries []json.RawMessage
	for _, e := range vm.GetTlogEntries() {
		raw, err := protojson.Marshal(e)
		if err != nil {
			return nil, fmt.Errorf("sigtest: %w", err)
		}
		entries = append(entries, raw)
	}
	var stamps [][]byte
	for _, ts := range vm.GetTimestampVerificationData().GetRfc3161Timestamps() {
		stamps = append(stamps, ts.GetSignedTimestamp())
	}
	type material struct {
		Certificate         []byte            `json:"certificate"`
		TransparencyEntries []json.RawMessage `json:"transparency_entries"`
		Timestamps          [][]byte          `json:"timestamps,omitempty"`
	}
	out, err := json.Marshal(map[string]any{
		"version":               1,
		"verification_material": material{vm.GetCertificate().GetRawBytes(), entries, stamps},
		"envelope":              map[string][]byte{"statement": env.GetPayload(), "signature": env.GetSignatures()[0].GetSig()},
	})
	if err != nil {
		return nil, fmt.Errorf("sigtest: %w", err)
	}
	return out, nil
}

// PEP740Provenance is a provenance object of one publisher (as PyPI
// writes it, e.g. {"kind": "GitHub", "repository": ..., "workflow": ...})
// and its attestation objects.
func PEP740Provenance(publisher map[string]any, attestations ...[]byte) ([]byte, error) {
	var as []json.RawMessage
	for _, a := range attestations {
		as = append(as, a)
	}
	out, err := json.Marshal(map[string]any{
		"version":             1,
		"attestation_bundles": []any{map[string]any{"publisher": publisher, "attestations": as}},
	})
	if err != nil {
		return nil, fmt.Errorf("sigtest: %w", err)
	}
	return out, nil
}

// addPyPIFiles adds the PEP 740 fixtures.
func addPyPIFiles(s *fixtureSet, inst *Instance) {
	sdist := PyPISdistContent()
	s.add(FilePyPISdist, "a sample sdist (fake content)", constant(sdist))
	attest := func(workflow string, subjects ...[2]string) func() ([]byte, error) {
		return func() ([]byte, error) {
			o, _ := githubWorkflow(PyPIRepository, workflow, "refs/tags/v4.0.0", PyPIRepository+"/actions/runs/7/attempts/1")
			o.BundleVersion = BundleV03
			var subs []subject
			for _, sub := range subjects {
				st, err := Statement(sub[0], []byte(sub[1]), PyPIPublishPredicate, nil)
				if err != nil {
					return nil, err
				}
				var one struct {
					Subject []subject `json:"subject"`
				}
				if err := json.Unmarshal(st, &one); err != nil {
					return nil, err
				}
				subs = append(subs, one.Subject...)
			}
			st, err := json.Marshal(map[string]any{"_type": InTotoStatementV1, "subject": subs, "predicateType": PyPIPublishPredicate, "predicate": map[string]any{}})
			if err != nil {
				return nil, err
			}
			b, err := inst.Attest(st, o)
			if err != nil {
				return nil, err
			}
			return PEP740(b)
		}
	}
	self := [2]string{FilePyPISdist, string(sdist)}
	s.add(FilePyPIAttestation, "PEP 740 publish attestation of "+FilePyPISdist+" by "+PyPIRepository+"/.github/workflows/release.yml@refs/tags/v4.0.0",
		attest(".github/workflows/release.yml", self))
	s.add(FilePyPIOtherWorkflow, "PEP 740 publish attestation of "+FilePyPISdist+" by .github/workflows/pr.yml of the same repository",
		attest(".github/workflows/pr.yml", self))
	s.add(FilePyPITwoSubjects, "PEP 740 attestation (release.yml) whose statement has two subjects: "+FilePyPISdist+" and sampleproject-4.0.0-py3-none-any.whl",
		attest(".github/workflows/release.yml", self, [2]string{"sampleproject-4.0.0-py3-none-any.whl", "wheel"}))
	provenance := func(workflow string) func() ([]byte, error) {
		return func() ([]byte, error) {
			return PEP740Provenance(map[string]any{"kind": "GitHub", "repository": "pypa/sampleproject", "workflow": workflow, "environment": nil},
				s.data(FilePyPIAttestation))
		}
	}
	s.add(FilePyPIProvenance, "provenance object: publisher GitHub pypa/sampleproject release.yml, with "+FilePyPIAttestation, provenance("release.yml"))
	s.add(FilePyPILyingProvenance, "provenance object whose unsigned publisher says publish.yml, with "+FilePyPIAttestation+" (signed by release.yml)", provenance("publish.yml"))
}
