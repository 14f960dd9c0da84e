package npm_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hallmark-dev/hallmark/internal/npmtest"
	"github.com/hallmark-dev/hallmark/pkg/ecosystem/npm"
)

func TestParsePackage(t *testing.T) {
	tests := []struct {
		name, version string
		ok            bool
		purl, file    string
	}{
		{"left-pad", "1.3.0", true, "pkg:npm/left-pad@1.3.0", "left-pad@1.3.0.json"},
		{"@playwright/cli", "0.1.1", true, "pkg:npm/%40playwright/cli@0.1.1", "@playwright/cli@0.1.1.json"},
		{"JSONStream", "1.3.5", true, "pkg:npm/JSONStream@1.3.5", "JSONStream@1.3.5.json"},
		{"a", "1.0.0-beta.1+build.5", true, "pkg:npm/a@1.0.0-beta.1+build.5", "a@1.0.0-beta.1+build.5.json"},
		{"..", "1.0.0", false, "", ""},
		{"@scope/..", "1.0.0", false, "", ""},
		{"@../x", "1.0.0", false, "", ""},
		{"a/b", "1.0.0", false, "", ""},
		{"@s/a/b", "1.0.0", false, "", ""},
		{".hidden", "1.0.0", false, "", ""},
		{"_under", "1.0.0", false, "", ""},
		{"a", "../1", false, "", ""},
		{"a", "1/2", false, "", ""},
		{"a", "", false, "", ""},
		{"", "1.0.0", false, "", ""},
		{"a b", "1.0.0", false, "", ""},
		{strings.Repeat("a", 215), "1.0.0", false, "", ""},
	}
	for _, tc := range tests {
		p, err := npm.ParsePackage(tc.name, tc.version)
		if !tc.ok {
			if !errors.Is(err, npm.ErrPackage) {
				t.Errorf("%q@%q: got %v, want ErrPackage", tc.name, tc.version, err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%q@%q: %v", tc.name, tc.version, err)
			continue
		}
		if p.PURL() != tc.purl || p.FileName() != tc.file {
			t.Errorf("%q@%q: purl %q file %q", tc.name, tc.version, p.PURL(), p.FileName())
		}
	}
	if p, err := npm.ParseSpec("@playwright/cli@0.1.1"); err != nil || p.Name != "@playwright/cli" || p.Version != "0.1.1" {
		t.Errorf("ParseSpec = %+v, %v", p, err)
	}
	if _, err := npm.ParseSpec("@playwright/cli"); !errors.Is(err, npm.ErrPackage) {
		t.Errorf("ParseSpec without version: %v", err)
	}
}

func TestParseIntegrity(t *testing.T) {
	data := []byte("x")
	hex := npmtest.SHA512(data)
	sri := npmtest.Integrity(data)
	tests := []struct {
		in string
		ok bool
	}{
		{sri, true},
		{"sha1-abc " + sri, true},
		{sri + "?foo", true},
		{"sha512:" + hex, true},
		{"SHA512:" + strings.ToUpper(hex), true},
		{"sha256:" + hex[:64], false},
		{"sha512:" + hex[:100], false},
		{"sha1-2jmj7l5rSw0yVb/vlWAYkK/YBwk=", false},
		{"sha512-AAAA", false},
		{"", false},
		{"nonsense", false},
	}
	for _, tc := range tests {
		d, err := npm.ParseIntegrity(tc.in)
		if !tc.ok {
			if !errors.Is(err, npm.ErrIntegrity) {
				t.Errorf("%q: got %v, want ErrIntegrity", tc.in, err)
			}
			continue
		}
		if err != nil || d.Algorithm != "sha512" || d.Value != hex || npm.Integrity(d) != sri {
			t.Errorf("%q: %v %v", tc.in, d, err)
		}
	}
}

func TestParseKeys(t *testing.T) {
	reg, err := npmtest.NewRegistry(mustTime(t, "2025-01-13T00:00:00Z"), mustTime(t, "2026-01-01T00:00:00Z"))
	if err != nil {
		t.Fatal(err)
	}
	good, err := reg.KeysJSON()
	if err != nil {
		t.Fatal(err)
	}
	keys, err := npm.ParseKeys(good)
	if err != nil {
		t.Fatal(err)
	}
	k, ok := keys.Lookup(reg.KeyID, npm.UsageAttestations)
	if !ok || !k.ValidAt(mustTime(t, "2025-06-01T00:00:00Z")) || k.ValidAt(mustTime(t, "2026-01-01T00:00:00Z")) || k.ValidAt(mustTime(t, "2025-01-12T23:59:59Z")) {
		t.Fatalf("lookup %v %+v", ok, k)
	}
	if _, ok := keys.Lookup(reg.KeyID, "npm:other"); ok {
		t.Fatal("found a key of an unknown usage")
	}
	bad := map[string]string{
		"not json":          `{`,
		"no keys":           `{"keys": []}`,
		"unknown usage":     strings.Replace(string(good), `"npm:signatures"`, `"npm:whatever"`, 1),
		"other key type":    strings.Replace(string(good), `PKIX_ECDSA_P256_SHA_256`, `PKIX_ED25519`, 1),
		"no start":          strings.Replace(string(good), `"start"`, `"begin"`, 1),
		"bad raw bytes":     `{"keys":[{"keyId":"a","keyUsage":"npm:signatures","publicKey":{"rawBytes":"AAAA","keyDetails":"PKIX_ECDSA_P256_SHA_256","validFor":{"start":"2025-01-01T00:00:00Z"}}}]}`,
		"ends before start": strings.Replace(string(good), `"2026-01-01T00:00:00Z"`, `"2024-01-01T00:00:00Z"`, 1),
		"no key id":         strings.Replace(string(good), reg.KeyID, "", 1),
	}
	for name, in := range bad {
		if _, err := npm.ParseKeys([]byte(in)); !errors.Is(err, npm.ErrKeys) {
			t.Errorf("%s: got %v, want ErrKeys", name, err)
		}
	}
	// The real keys.json, when ../shared is there.
	if dir := sharedEcosystems(); dir != "" {
		raw, err := os.ReadFile(filepath.Join(dir, "npm", "keys", "npm-registry-keys.json"))
		if err != nil {
			t.Fatal(err)
		}
		keys, err := npm.ParseKeys(raw)
		if err != nil || len(keys) != 4 || len(keys.IDs(npm.UsageAttestations)) != 2 {
			t.Fatalf("real keys: %d, %v", len(keys), err)
		}
	}
}

func TestParseDocument(t *testing.T) {
	k := newKit(t)
	s := k.doc(t, pkgName, pkgVersion, npmtest.SHA512(tarball), &k.workflow)
	if d := parseDoc(t, s.Document); d.Publish == nil || d.Provenance == nil || d.ProvenanceType != npm.ProvenanceV1 {
		t.Fatalf("document %+v", d)
	}
	if p, err := parseDoc(t, s.Document).Package(); err != nil || p.Name != pkgName || p.Version != pkgVersion {
		t.Fatalf("Package() = %+v, %v", p, err)
	}
	twice, _ := npmtest.Document(s.Publish, s.Provenance)
	twice = []byte(strings.Replace(string(twice), `]}`, `,{"predicateType":"`+npm.PublishPredicateType+`","bundle":`+string(s.Publish)+`}]}`, 1))
	bad := map[string]string{
		"not json":         `{`,
		"no attestations":  `{}`,
		"no publish":       `{"attestations": [{"predicateType": "https://slsa.dev/provenance/v1", "bundle": ` + string(s.Provenance) + `}]}`,
		"publish twice":    string(twice),
		"null bundle":      `{"attestations": [{"predicateType": "` + npm.PublishPredicateType + `", "bundle": null}]}`,
		"not a bundle":     `{"attestations": [{"predicateType": "` + npm.PublishPredicateType + `", "bundle": {"mediaType": "x"}}]}`,
		"trailing data":    string(s.Document) + ` {}`,
		"too many entries": `{"attestations": [` + strings.Repeat(`{"predicateType":"x","bundle":{}},`, 16) + `{"predicateType":"x","bundle":{}}]}`,
	}
	for name, in := range bad {
		if _, err := npm.ParseDocument([]byte(in)); !errors.Is(err, npm.ErrDocument) {
			t.Errorf("%s: got %v, want ErrDocument", name, err)
		}
	}
}

func TestParseLockfile(t *testing.T) {
	sri := npmtest.Integrity([]byte("a"))
	lock := `{"lockfileVersion": 3, "packages": {
		"": {"name": "app"},
		"node_modules/a": {"version": "1.0.0", "integrity": "` + sri + `"},
		"node_modules/b/node_modules/a": {"version": "1.0.0", "integrity": "` + sri + `"},
		"node_modules/@s/c": {"version": "2.0.0", "integrity": "` + sri + `"},
		"node_modules/alias": {"name": "real", "version": "3.0.0", "integrity": "` + sri + `"},
		"node_modules/linked": {"resolved": "../x", "link": true},
		"node_modules/gitdep": {"version": "1.0.0", "resolved": "git+ssh://git@github.com/a/b.git#abc"},
		"node_modules/old": {"version": "1.0.0", "integrity": "sha1-2jmj7l5rSw0yVb/vlWAYkK/YBwk="},
		"packages/workspace": {"version": "1.0.0"}
	}}`
	locked, skipped, err := npm.ParseLockfile([]byte(lock))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, l := range locked {
		got = append(got, l.String())
	}
	if strings.Join(got, " ") != "@s/c@2.0.0 a@1.0.0 real@3.0.0" || len(locked[1].Paths) != 2 || len(skipped) != 4 {
		t.Fatalf("locked %v (%+v), skipped %+v", got, locked, skipped)
	}
	bad := map[string]string{
		"v1":              `{"lockfileVersion": 1, "dependencies": {}}`,
		"v4":              `{"lockfileVersion": 4, "packages": {}}`,
		"not json":        `[`,
		"two integrities": `{"lockfileVersion": 3, "packages": {"node_modules/a": {"version": "1.0.0", "integrity": "` + sri + `"}, "node_modules/b/node_modules/a": {"version": "1.0.0", "integrity": "` + npmtest.Integrity([]byte("b")) + `"}}}`,
	}
	for name, in := range bad {
		if _, _, err := npm.ParseLockfile([]byte(in)); !errors.Is(err, npm.ErrLockfile) {
			t.Errorf("%s: got %v, want ErrLockfile", name, err)
		}
	}
}

func mustTime(t *testing.T, s string) (out time.Time) {
	t.Helper()
	out, err := time.Parse(time.RFC3339, s)
	if err != nil {
		t.Fatal(err)
	}
	return out
}
