package attest

import (
	"errors"
	"time"

	vsav1 "github.com/in-toto/attestation/go/predicates/vsa/v1"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/types/known/structpb"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// The verificationResult values of a SLSA verification summary, and the
// verifiedLevels entry of a failed one.
const (
	VSAPassed = "PASSED"
	VSAFailed = "FAILED"
)

// SLSA build levels a verification summary can record.
const (
	SLSABuildLevel0 = "SLSA_BUILD_LEVEL_0"
	SLSABuildLevel1 = "SLSA_BUILD_LEVEL_1"
	SLSABuildLevel2 = "SLSA_BUILD_LEVEL_2"
)

// ResourceRef names a resource by URI and digests (algorithm: hex), as
// the summary's policy and inputAttestations do.
type ResourceRef struct {
	URI    string
	Digest map[string]string
}

// VerificationSummary is what a SLSA verification summary v1
// (https://slsa.dev/verification_summary/v1) records about one
// verification.
type VerificationSummary struct {
	// VerifierID identifies the verifier (a URI); VerifierVersion is
	// verifier.version, component: version.
	VerifierID      string
	VerifierVersion map[string]string
	TimeVerified    time.Time
	// ResourceURI is the artifact as its consumers know it.
	ResourceURI string
	// Policy is the policy verified against: for a policy file its
	// digest, for flags the digest of their canonical JSON.
	Policy ResourceRef
	// Inputs are the attestations the decision was made on.
	Inputs []ResourceRef
	Passed bool
	// VerifiedLevels are the levels established (SLSA_BUILD_LEVEL_N, one
	// per track); a failed summary records FAILED whatever is given.
	VerifiedLevels []string
}

// ErrSummary is returned for a summary that lacks a required field.
var ErrSummary = errors.New("incomplete verification summary")

// Predicate makes the summary's predicate (slsaVersion 1.0), checked
// like any vsa predicate ReadPredicate reads.
func (s VerificationSummary) Predicate() (*structpb.Struct, error) {
	if s.VerifierID == "" || s.ResourceURI == "" || len(s.Policy.Digest) == 0 && s.Policy.URI == "" {
		return nil, ErrSummary
	}
	p := &vsav1.VerificationSummary{
		Verifier:           &vsav1.VerificationSummary_Verifier{Id: s.VerifierID},
		ResourceUri:        s.ResourceURI,
		Policy:             &vsav1.VerificationSummary_Policy{Uri: s.Policy.URI, Digest: s.Policy.Digest},
		VerificationResult: VSAFailed,
		VerifiedLevels:     []string{VSAFailed},
		SlsaVersion:        "1.0",
	}
	if !s.TimeVerified.IsZero() {
		p.TimeVerified = timestamppb.New(s.TimeVerified.UTC())
	}
	if s.Passed {
		p.VerificationResult, p.VerifiedLevels = VSAPassed, s.VerifiedLevels
		if len(p.VerifiedLevels) == 0 {
			p.VerifiedLevels = []string{SLSABuildLevel0}
		}
	}
	for _, in := range s.Inputs {
		p.InputAttestations = append(p.InputAttestations, &vsav1.VerificationSummary_InputAttestation{Uri: in.URI, Digest: in.Digest})
	}
	data, err := protojson.Marshal(p)
	if err != nil {
		return nil, err
	}
	st, _, err := ReadPredicate(TypeVSA, data)
	if err != nil {
		return nil, err
	}
	if len(s.VerifierVersion) > 0 {
		// verifier.version is in the SLSA spec, not in the in-toto Go
		// type of this version.
		fields := map[string]any{}
		for k, v := range s.VerifierVersion {
			fields[k] = v
		}
		ver, err := structpb.NewStruct(fields)
		if err != nil {
			return nil, err
		}
		st.GetFields()["verifier"].GetStructValue().GetFields()["version"] = structpb.NewStructValue(ver)
	}
	return st, nil
}
