package attest

import (
	"errors"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/encoding/protojson"
)

func TestVerificationSummary(t *testing.T) {
	s := VerificationSummary{
		VerifierID: "https://github.com/hallmark-dev/hallmark", VerifierVersion: map[string]string{"hallmark": "v1.0.0"},
		TimeVerified: time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC), ResourceURI: "pkg:generic/app.tgz?checksum=sha256:ab",
		Policy: ResourceRef{URI: "https://example.com/policy", Digest: map[string]string{"sha256": "cd"}},
		Inputs: []ResourceRef{{URI: "app.tgz.sigstore.json", Digest: map[string]string{"sha256": "ef"}}},
		Passed: true, VerifiedLevels: []string{SLSABuildLevel1},
	}
	for _, tt := range []struct {
		name   string
		edit   func(*VerificationSummary)
		wants  []string
		absent string
	}{
		{"passed", func(*VerificationSummary) {}, []string{`"verificationResult":"PASSED"`, `"verifiedLevels":["SLSA_BUILD_LEVEL_1"]`,
			`"verifier":{"id":"https://github.com/hallmark-dev/hallmark","version":{"hallmark":"v1.0.0"}}`, `"timeVerified":"2026-12-01T12:00:00Z"`,
			`"resourceUri":"pkg:generic/app.tgz?checksum=sha256:ab"`, `"policy":{"digest":{"sha256":"cd"},"uri":"https://example.com/policy"}`,
			`"inputAttestations":[{"digest":{"sha256":"ef"},"uri":"app.tgz.sigstore.json"}]`, `"slsaVersion":"1.0"`}, ""},
		{"passed without a level is level 0", func(s *VerificationSummary) { s.VerifiedLevels = nil }, []string{`"verifiedLevels":["SLSA_BUILD_LEVEL_0"]`}, ""},
		{"failed records FAILED whatever is given", func(s *VerificationSummary) { s.Passed = false },
			[]string{`"verificationResult":"FAILED"`, `"verifiedLevels":["FAILED"]`}, "SLSA_BUILD_LEVEL_1"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c := s
			tt.edit(&c)
			p, err := c.Predicate()
			if err != nil {
				t.Fatal(err)
			}
			data, _ := protojson.Marshal(p)
			got := strings.ReplaceAll(string(data), " ", "")
			if _, _, err := ReadPredicate("vsa", data); err != nil {
				t.Errorf("not a valid vsa predicate: %v", err)
			}
			for _, w := range tt.wants {
				if !strings.Contains(got, w) {
					t.Errorf("predicate lacks %s:\n%s", w, got)
				}
			}
			if tt.absent != "" && strings.Contains(got, tt.absent) {
				t.Errorf("predicate has %s:\n%s", tt.absent, got)
			}
		})
	}
	for _, edit := range []func(*VerificationSummary){
		func(s *VerificationSummary) { s.VerifierID = "" },
		func(s *VerificationSummary) { s.ResourceURI = "" },
		func(s *VerificationSummary) { s.Policy = ResourceRef{} },
	} {
		c := s
		edit(&c)
		if _, err := c.Predicate(); !errors.Is(err, ErrSummary) {
			t.Errorf("incomplete summary: err %v, want ErrSummary", err)
		}
	}
}
