package npm_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/hallmark-dev/hallmark/internal/npmtest"
	"github.com/hallmark-dev/hallmark/pkg/ecosystem/npm"
	"github.com/hallmark-dev/hallmark/pkg/verify"
)

// TestRegistrySignature checks the packument's registry signature: the
// right key and message verify; another integrity, another key, a key
// outside its validity at the publish time and an edited signature do not.
func TestRegistrySignature(t *testing.T) {
	now := time.Now()
	reg, err := npmtest.NewRegistry(now.Add(-48*time.Hour), time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	keysJSON, _ := reg.KeysJSON()
	keys, err := npm.ParseKeys(keysJSON)
	if err != nil {
		t.Fatal(err)
	}
	other, _ := npmtest.NewRegistry(now.Add(-48*time.Hour), time.Time{})
	otherJSON, _ := other.KeysJSON()
	otherKeys, _ := npm.ParseKeys(otherJSON)
	old := *reg
	old.End = now.Add(-24 * time.Hour)
	oldJSON, _ := old.KeysJSON()
	oldKeys, _ := npm.ParseKeys(oldJSON)

	integrity := npmtest.Integrity(tarball)
	digest, _ := npm.ParseIntegrity(integrity)
	pk, err := reg.Packument(pkgName, map[string]string{pkgVersion: integrity}, now.Add(-time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	p, _ := npm.ParsePackage(pkgName, pkgVersion)
	parse := func(data []byte) *npm.Packument {
		t.Helper()
		out, err := npm.ParsePackument(data)
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	if sig, err := parse(pk).VerifyRegistrySignature(keys, p, digest, now); err != nil || sig.KeyID != reg.KeyID {
		t.Fatalf("good packument: %+v, %v", sig, err)
	}
	otherDigest, _ := npm.ParseIntegrity(npmtest.Integrity([]byte("other")))
	edited := []byte(strings.Replace(string(pk), `"sig":"ME`, `"sig":"MF`, 1))
	wrongPkg, _ := npm.ParsePackage("@acme/right-pad", pkgVersion)
	tests := []struct {
		name   string
		data   []byte
		keys   npm.Keys
		pkg    npm.Package
		digest verify.Digest
		cause  verify.Cause
	}{
		{"another tarball", pk, keys, p, otherDigest, verify.CauseArtifact},
		{"another registry's keys", pk, otherKeys, p, digest, npm.CauseRegistrySignature},
		{"key expired before publishing", pk, oldKeys, p, digest, npm.CauseRegistrySignature},
		{"edited signature", edited, keys, p, digest, npm.CauseRegistrySignature},
		{"another package", pk, keys, wrongPkg, digest, npm.CauseRegistrySignature},
	}
	for _, tc := range tests {
		_, err := parse(tc.data).VerifyRegistrySignature(tc.keys, tc.pkg, tc.digest, now)
		var rej *verify.RejectedError
		if !errors.As(err, &rej) || rej.Cause != tc.cause {
			t.Errorf("%s: got %v, want cause %q", tc.name, err, tc.cause)
		}
	}
	missing, _ := npm.ParsePackage(pkgName, "9.9.9")
	if _, err := parse(pk).VerifyRegistrySignature(keys, missing, digest, now); !errors.Is(err, npm.ErrPackument) || verify.IsRejected(err) {
		t.Errorf("missing version: %v", err)
	}
	for name, in := range map[string]string{"not json": "{", "no name": `{"versions": {}}`, "no versions": `{"name": "a"}`} {
		if _, err := npm.ParsePackument([]byte(in)); !errors.Is(err, npm.ErrPackument) {
			t.Errorf("%s: %v", name, err)
		}
	}
}
