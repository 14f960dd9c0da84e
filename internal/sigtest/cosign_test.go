package sigtest

import (
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"
)

// TestCosignForms checks the files written in cosign's legacy forms field
// by field against the bundle they come from, and that a Rekor v2 bundle,
// which has no SET, is refused.
func TestCosignForms(t *testing.T) {
	inst, err := New()
	if err != nil {
		t.Fatal(err)
	}
	blob, err := inst.SignBlob([]byte(DemoArtifact), Options{})
	if err != nil {
		t.Fatal(err)
	}
	b, err := parseBundle(blob)
	if err != nil {
		t.Fatal(err)
	}
	legacy, err := CosignLegacyBundle(blob)
	if err != nil {
		t.Fatal(err)
	}
	var l cosignLegacy
	if err := json.Unmarshal(legacy, &l); err != nil {
		t.Fatal(err)
	}
	entry := b.GetVerificationMaterial().GetTlogEntries()[0]
	sig := base64.StdEncoding.EncodeToString(b.GetMessageSignature().GetSignature())
	certPEM, err := base64.StdEncoding.DecodeString(l.Cert)
	if err != nil {
		t.Fatal(err)
	}
	switch {
	case l.Base64Signature != sig:
		t.Errorf("base64Signature %q, want %q", l.Base64Signature, sig)
	case !strings.HasPrefix(string(certPEM), "-----BEGIN CERTIFICATE-----"):
		t.Errorf("cert is not a base64 PEM certificate: %q", certPEM)
	case l.RekorBundle == nil || string(l.RekorBundle.SignedEntryTimestamp) != string(entry.GetInclusionPromise().GetSignedEntryTimestamp()):
		t.Errorf("rekorBundle SET differs: %+v", l.RekorBundle)
	case l.RekorBundle.Payload.Body != base64.StdEncoding.EncodeToString(entry.GetCanonicalizedBody()) ||
		l.RekorBundle.Payload.IntegratedTime != entry.GetIntegratedTime() || l.RekorBundle.Payload.LogIndex != entry.GetLogIndex() ||
		len(l.RekorBundle.Payload.LogID) != 64:
		t.Errorf("rekorBundle payload differs: %+v", l.RekorBundle.Payload)
	}
	s, c, err := CosignDetached(blob)
	if err != nil || string(s) != sig || string(c) != l.Cert {
		t.Errorf("CosignDetached = %q, %q, %v", s, c, err)
	}

	st, err := Statement("a", []byte(DemoArtifact), SLSAProvenanceV1, nil)
	if err != nil {
		t.Fatal(err)
	}
	v2, err := inst.Attest(st, Options{RekorV2: true})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := CosignLegacyBundle(v2); err == nil || !strings.Contains(err.Error(), "no SET") {
		t.Errorf("CosignLegacyBundle of a Rekor v2 bundle: error = %v, want one about the missing SET", err)
	}
}
