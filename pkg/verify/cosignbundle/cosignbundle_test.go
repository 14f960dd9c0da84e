package cosignbundle_test

import (
	"context"
	"crypto"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/sigstore/sigstore-go/pkg/root"

	"github.com/hallmark-dev/hallmark/internal/keys"
	"github.com/hallmark-dev/hallmark/internal/sigtest"
	"github.com/hallmark-dev/hallmark/pkg/verify"
	"github.com/hallmark-dev/hallmark/pkg/verify/cosignbundle"
)

// world is one fake Sigstore instance and what it signed, in cosign's
// legacy forms: made once per test binary.
type world struct {
	tm       root.TrustedMaterial
	artifact []byte
	key      crypto.Signer

	blob, other, attestation, keyBundle []byte // Sigstore bundles
	legacy, otherLegacy, attestLegacy   []byte // the same as cosign legacy bundles
	keyLegacy                           []byte
	keyLogged                           []byte // key-signed and logged, the key in cert
	sig, cert                           []byte // detached pair of blob
	keySig                              []byte // detached signature of keyBundle
}

var (
	worldOnce sync.Once
	theWorld  *world
	worldErr  error
)

func getWorld(tb testing.TB) *world {
	tb.Helper()
	worldOnce.Do(func() { theWorld, worldErr = newWorld() })
	if worldErr != nil {
		tb.Fatalf("making fixtures: %v", worldErr)
	}
	return theWorld
}

func newWorld() (*world, error) {
	inst, err := sigtest.New()
	if err != nil {
		return nil, err
	}
	w := &world{artifact: []byte(sigtest.DemoArtifact)}
	if w.tm, err = inst.TrustedRoot(); err != nil {
		return nil, err
	}
	if w.key, err = sigtest.GenerateKey(sigtest.KeyECDSAP256); err != nil {
		return nil, err
	}
	stmt, err := sigtest.Statement("artifact.txt", w.artifact, sigtest.SLSAProvenanceV1, nil)
	if err != nil {
		return nil, err
	}
	steps := []func() error{
		func() (err error) {
			w.blob, err = inst.SignBlob(w.artifact, sigtest.Options{GitHub: sigtest.DemoClaims()})
			return
		},
		func() (err error) {
			w.other, err = inst.SignBlob(w.artifact, sigtest.Options{Identity: sigtest.EmailIdentity, Issuer: sigtest.EmailIssuer})
			return
		},
		func() (err error) { w.attestation, err = inst.Attest(stmt, sigtest.Options{}); return },
		func() (err error) { w.keyBundle, err = sigtest.SignBlobWithKey(w.key, w.artifact); return },
		func() (err error) { w.legacy, err = sigtest.CosignLegacyBundle(w.blob); return },
		func() (err error) { w.otherLegacy, err = sigtest.CosignLegacyBundle(w.other); return },
		func() (err error) { w.attestLegacy, err = sigtest.CosignLegacyBundle(w.attestation); return },
		func() (err error) { w.keyLegacy, err = sigtest.CosignLegacyBundle(w.keyBundle); return },
		func() error {
			logged, err := inst.SignBlobWithKeyLogged(w.key, w.artifact)
			if err != nil {
				return err
			}
			if w.keyLogged, err = sigtest.CosignLegacyBundle(logged); err != nil {
				return err
			}
			// cosign writes the public key where a certificate would be.
			pub, err := sigtest.PublicKeyPEM(w.key.Public())
			if err != nil {
				return err
			}
			var m map[string]any
			if err := json.Unmarshal(w.keyLogged, &m); err != nil {
				return err
			}
			m["cert"] = base64.StdEncoding.EncodeToString(pub)
			w.keyLogged, err = json.Marshal(m)
			return err
		},
		func() (err error) { w.sig, w.cert, err = sigtest.CosignDetached(w.blob); return },
		func() (err error) { w.keySig, _, err = sigtest.CosignDetached(w.keyBundle); return },
	}
	for _, step := range steps {
		if err := step(); err != nil {
			return nil, err
		}
	}
	return w, nil
}

func demoPolicy() verify.Policy {
	return verify.Policy{Identity: &verify.Identity{SAN: sigtest.DemoIdentity, Issuer: sigtest.GitHubIssuer}}
}

func sha256Of(b []byte) *cosignbundle.Digest {
	sum := sha256.Sum256(b)
	return &cosignbundle.Digest{Algorithm: "sha256", Value: sum[:]}
}

func digestArtifact(t *testing.T, b []byte) verify.Artifact {
	t.Helper()
	a, err := verify.ParseDigest("sha256:" + hex.EncodeToString(sha256Of(b).Value))
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// edit decodes a legacy bundle, lets change edit it as a generic JSON
// object, and encodes it again.
func edit(t testing.TB, legacy []byte, change func(m map[string]any)) []byte {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(legacy, &m); err != nil {
		t.Fatal(err)
	}
	change(m)
	out, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func payload(m map[string]any) map[string]any {
	return m["rekorBundle"].(map[string]any)["Payload"].(map[string]any)
}

// flipSignature flips one byte of the base64Signature.
func flipSignature(t testing.TB, legacy []byte) []byte {
	return edit(t, legacy, func(m map[string]any) {
		sig, err := base64.StdEncoding.DecodeString(m["base64Signature"].(string))
		if err != nil {
			t.Fatal(err)
		}
		sig[len(sig)-5] ^= 0x01
		m["base64Signature"] = base64.StdEncoding.EncodeToString(sig)
	})
}

// toBundle is the reading path: recognise, parse, convert.
func toBundle(t *testing.T, data []byte) (*cosignbundle.Legacy, error) {
	t.Helper()
	if !cosignbundle.IsLegacy(data) {
		t.Fatalf("IsLegacy(%.60s...) = false", data)
	}
	return cosignbundle.Parse(data)
}

// TestVerify reads cosign's forms and verifies them with package verify:
// sigstore-go does every check, and each tampering is rejected for its
// reason.
func TestVerify(t *testing.T) {
	w := getWorld(t)
	keyPolicy := verify.Policy{Key: w.key.Public(), InsecureIgnoreTlog: true}
	withEntryOf := func(legacy []byte) func(*cosignbundle.Legacy) {
		return func(l *cosignbundle.Legacy) {
			other, err := cosignbundle.Parse(legacy)
			if err != nil {
				t.Fatal(err)
			}
			l.Entry = other.Entry
		}
	}
	tests := []struct {
		name     string
		legacy   []byte // a legacy bundle, or
		sig      []byte // a detached pair
		cert     []byte
		change   func(*cosignbundle.Legacy)
		digest   bool // pass the artifact digest to Bundle
		policy   verify.Policy
		tm       bool // pass the trust root (default: for keyless)
		artifact []byte
		want     verify.Cause // "" verified
	}{
		{name: "keyless legacy bundle", legacy: w.legacy, policy: demoPolicy()},
		{name: "attest-blob legacy bundle", legacy: w.attestLegacy, policy: demoPolicy()},
		{name: "key legacy bundle without log", legacy: w.keyLegacy, digest: true, policy: keyPolicy},
		{name: "key legacy bundle with log entry", legacy: w.keyLogged, tm: true, policy: verify.Policy{Key: w.key.Public()}},
		{name: "detached keyless pair with the entry of a legacy bundle", sig: w.sig, cert: w.cert, change: withEntryOf(w.legacy), policy: demoPolicy()},
		{name: "detached key signature", sig: w.keySig, digest: true, policy: keyPolicy},
		{name: "detached pair, certificate as plain PEM", sig: w.sig, cert: mustB64Decode(t, w.cert), change: withEntryOf(w.legacy), policy: demoPolicy()},

		{name: "another artifact", legacy: w.legacy, policy: demoPolicy(), artifact: sigtest.TamperedArtifact(), want: verify.CauseArtifact},
		{name: "key signature over another artifact", legacy: w.keyLegacy, digest: true, policy: keyPolicy, artifact: sigtest.TamperedArtifact(), want: verify.CauseSignature},
		{name: "signature byte flipped", legacy: flipSignature(t, w.legacy), policy: demoPolicy(), want: verify.CauseTlog},
		{name: "key signature byte flipped", legacy: flipSignature(t, w.keyLegacy), digest: true, policy: keyPolicy, want: verify.CauseSignature},
		{name: "certificate that does not match the logged body", legacy: w.legacy, policy: demoPolicy(), want: verify.CauseTlog,
			change: func(l *cosignbundle.Legacy) {
				o, err := cosignbundle.Parse(w.otherLegacy)
				if err != nil {
					t.Fatal(err)
				}
				l.Certificate = o.Certificate
			}},
		{name: "SET over another body", legacy: w.legacy, policy: demoPolicy(), want: verify.CauseTlog,
			change: func(l *cosignbundle.Legacy) {
				o, err := cosignbundle.Parse(w.otherLegacy)
				if err != nil {
					t.Fatal(err)
				}
				l.Entry.InclusionPromise = o.Entry.InclusionPromise
			}},
		{name: "integrated time changed after logging", legacy: w.legacy, policy: demoPolicy(), want: verify.CauseTlog,
			change: func(l *cosignbundle.Legacy) { l.Entry.IntegratedTime++ }},
		{name: "keyless detached pair without a log entry", sig: w.sig, cert: w.cert, digest: true, policy: demoPolicy(), want: verify.CauseTlog},
		{name: "keyless detached pair without a log entry, log ignored", sig: w.sig, cert: w.cert, digest: true,
			policy: verify.Policy{Identity: demoPolicy().Identity, InsecureIgnoreTlog: true}, want: verify.CauseTimestamp},
		{name: "key signature without log, log required", legacy: w.keyLegacy, digest: true, tm: true,
			policy: verify.Policy{Key: w.key.Public()}, want: verify.CauseTlog},
		{name: "logged key bundle, another key", legacy: w.keyLogged, tm: true, policy: verify.Policy{Key: otherKey(t)}, want: verify.CauseTlog},
		{name: "logged key bundle, signature byte flipped", legacy: flipSignature(t, w.keyLogged), tm: true, policy: verify.Policy{Key: w.key.Public()}, want: verify.CauseTlog},
		{name: "another signer", legacy: w.otherLegacy, policy: demoPolicy(), want: verify.CauseIdentity},
		{name: "keyless bundle under a key policy", legacy: w.legacy, policy: keyPolicy, want: verify.CauseSignerKind},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var l *cosignbundle.Legacy
			var err error
			if tc.legacy != nil {
				l, err = toBundle(t, tc.legacy)
			} else {
				l, err = cosignbundle.Detached(tc.sig, tc.cert)
			}
			if err != nil {
				t.Fatalf("reading: %v", err)
			}
			if tc.change != nil {
				tc.change(l)
			}
			artifact := w.artifact
			if tc.artifact != nil {
				artifact = tc.artifact
			}
			var d *cosignbundle.Digest
			if tc.digest {
				if !l.NeedsDigest() {
					t.Fatal("NeedsDigest() = false without a hashedrekord entry")
				}
				if _, err := l.Bundle(nil); !errors.Is(err, cosignbundle.ErrNeedDigest) {
					t.Fatalf("Bundle(nil) error = %v, want ErrNeedDigest", err)
				}
				d = sha256Of(artifact)
			} else if l.NeedsDigest() && l.Envelope == nil {
				t.Fatal("NeedsDigest() = true with a hashedrekord entry")
			}
			b, err := l.Bundle(d)
			if err != nil {
				t.Fatalf("Bundle: %v", err)
			}
			var tm root.TrustedMaterial = w.tm
			if tc.policy.Key != nil && !tc.tm {
				tm = nil
			}
			v, err := verify.New(tm, tc.policy)
			if err != nil {
				t.Fatal(err)
			}
			res, err := v.Verify(context.Background(), b, digestArtifact(t, artifact))
			if tc.want == "" {
				if err != nil {
					t.Fatalf("Verify: %v", err)
				}
				if !res.Verified || res.Signer == nil {
					t.Fatalf("incomplete result %+v", res)
				}
				if l.Entry != nil && (len(res.TlogEntries) != 1 || len(res.Timestamps) != 1 || res.Timestamps[0].Kind != "tlog") {
					t.Fatalf("log entry or its time not recorded: %+v %+v", res.TlogEntries, res.Timestamps)
				}
				return
			}
			var rej *verify.RejectedError
			if !errors.As(err, &rej) {
				t.Fatalf("Verify error = %v, want a rejection with cause %s", err, tc.want)
			}
			t.Logf("rejected: %v", err)
			if rej.Cause != tc.want {
				t.Fatalf("cause = %s (%v), want %s", rej.Cause, err, tc.want)
			}
		})
	}
}

func otherKey(t testing.TB) crypto.PublicKey {
	k, err := sigtest.GenerateKey(sigtest.KeyECDSAP256)
	if err != nil {
		t.Fatal(err)
	}
	return k.Public()
}

func mustB64Decode(t testing.TB, b []byte) []byte {
	t.Helper()
	out, err := base64.StdEncoding.DecodeString(string(b))
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestParseFields checks what Parse takes from each field.
func TestParseFields(t *testing.T) {
	w := getWorld(t)
	l, err := cosignbundle.Parse(w.legacy)
	if err != nil {
		t.Fatal(err)
	}
	if l.Certificate == nil || l.PublicKey != nil || len(l.Signature) == 0 || l.Envelope != nil {
		t.Fatalf("keyless bundle read as %+v", l)
	}
	e := l.Entry
	if e == nil || e.GetKindVersion().GetKind() != "hashedrekord" || e.GetKindVersion().GetVersion() != "0.0.1" ||
		len(e.GetInclusionPromise().GetSignedEntryTimestamp()) == 0 || e.GetIntegratedTime() == 0 || len(e.GetLogId().GetKeyId()) != 32 {
		t.Fatalf("log entry read as %+v", e)
	}
	d, ok := l.LoggedDigest()
	if !ok || d.Algorithm != "sha256" || hex.EncodeToString(d.Value) != hex.EncodeToString(sha256Of(w.artifact).Value) {
		t.Fatalf("LoggedDigest() = %+v, %v", d, ok)
	}

	a, err := cosignbundle.Parse(w.attestLegacy)
	if err != nil {
		t.Fatal(err)
	}
	if a.Envelope == nil || a.Signature != nil || a.Envelope.GetPayloadType() != sigtest.InTotoPayloadType ||
		a.Entry.GetKindVersion().GetKind() != "dsse" || a.NeedsDigest() {
		t.Fatalf("attestation read as %+v", a)
	}
	if d, ok := a.LoggedDigest(); ok {
		t.Fatalf("a dsse entry has no artifact digest, got %+v", d)
	}

	// cosign writes the public key into cert for key-signed bundles.
	pem, err := sigtest.PublicKeyPEM(w.key.Public())
	if err != nil {
		t.Fatal(err)
	}
	k, err := cosignbundle.Parse(edit(t, w.keyLegacy, func(m map[string]any) { m["cert"] = base64.StdEncoding.EncodeToString(pem) }))
	if err != nil {
		t.Fatal(err)
	}
	if k.Certificate != nil || !keys.SamePublicKey(k.PublicKey, w.key.Public()) || k.Entry != nil {
		t.Fatalf("key bundle read as %+v", k)
	}
	b, err := k.Bundle(sha256Of(w.artifact))
	if err != nil {
		t.Fatal(err)
	}
	if b.GetVerificationMaterial().GetPublicKey().GetHint() == "" {
		t.Fatal("no public key hint")
	}
}

// TestIsLegacy tells cosign's legacy bundle from Sigstore bundles and from
// anything else.
func TestIsLegacy(t *testing.T) {
	w := getWorld(t)
	tests := []struct {
		name string
		data string
		want bool
	}{
		{"keyless legacy", string(w.legacy), true},
		{"key legacy", string(w.keyLegacy), true},
		{"attestation legacy", string(w.attestLegacy), true},
		{"field case as cosign reads it", `{"base64signature":"MEUC"}`, true},
		{"sigstore bundle", string(w.blob), false},
		{"sigstore bundle with a base64Signature", `{"mediaType":"application/vnd.dev.sigstore.bundle.v0.3+json","base64Signature":"x"}`, false},
		{"no base64Signature", `{"cert":"x"}`, false},
		{"array", `[{"base64Signature":"x"}]`, false},
		{"not JSON", `MEUCIQ==`, false},
		{"empty", ``, false},
	}
	for _, tc := range tests {
		if got := cosignbundle.IsLegacy([]byte(tc.data)); got != tc.want {
			t.Errorf("%s: IsLegacy = %v, want %v", tc.name, got, tc.want)
		}
	}
}

// TestMalformed rejects broken input with ErrMalformed, naming the field.
func TestMalformed(t *testing.T) {
	w := getWorld(t)
	set := func(path, value string) []byte {
		return edit(t, w.legacy, func(m map[string]any) {
			switch path {
			case "SignedEntryTimestamp":
				m["rekorBundle"].(map[string]any)[path] = value
			case "body", "logID":
				payload(m)[path] = value
			default:
				m[path] = value
			}
		})
	}
	num := func(field string, v any) []byte {
		return edit(t, w.legacy, func(m map[string]any) { payload(m)[field] = v })
	}
	otherPEM := "-----BEGIN PRIVATE KEY-----\nMAA=\n-----END PRIVATE KEY-----\n"
	tests := []struct {
		name, data, inErr string
	}{
		{"not JSON", "{", "cosign legacy bundle"},
		{"no signature", `{"cert":""}`, "no base64Signature"},
		{"empty signature", `{"base64Signature":""}`, "empty signature"},
		{"signature not base64", string(set("base64Signature", "not base64!")), "base64Signature"},
		{"cert not base64", string(set("cert", "%%%")), "cert: "},
		{"cert not PEM", string(set("cert", base64.StdEncoding.EncodeToString([]byte("hello")))), "no PEM block"},
		{"cert PEM of a private key", string(set("cert", base64.StdEncoding.EncodeToString([]byte(otherPEM)))), "neither a CERTIFICATE"},
		{"cert not a certificate", string(set("cert", base64.StdEncoding.EncodeToString([]byte("-----BEGIN CERTIFICATE-----\nMAA=\n-----END CERTIFICATE-----\n")))), "certificate: "},
		{"no SET", string(set("SignedEntryTimestamp", "")), "no SignedEntryTimestamp"},
		{"body not base64", string(set("body", "%%%")), "Payload.body is not base64"},
		{"body not a string", string(num("body", 12)), "Payload.body is not a base64 string"},
		{"body not an entry", string(set("body", base64.StdEncoding.EncodeToString([]byte("[]")))), "not a Rekor entry"},
		{"body without kind", string(set("body", base64.StdEncoding.EncodeToString([]byte(`{"apiVersion":"0.0.1"}`)))), "no kind"},
		{"log ID not hex", string(set("logID", "zz")), "Payload.logID"},
		{"negative index", string(num("logIndex", -1)), "negative"},
		{"no integrated time", string(num("integratedTime", 0)), "integratedTime"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := cosignbundle.Parse([]byte(tc.data))
			if !errors.Is(err, cosignbundle.ErrMalformed) {
				t.Fatalf("Parse error = %v, want ErrMalformed", err)
			}
			if !strings.Contains(err.Error(), tc.inErr) {
				t.Fatalf("Parse error %q does not contain %q", err, tc.inErr)
			}
		})
	}

	// A body sigstore-go does not know is refused when the bundle is built.
	l, err := cosignbundle.Parse(set("body", base64.StdEncoding.EncodeToString([]byte(`{"apiVersion":"0.0.1","kind":"rekord","spec":{}}`))))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := l.Bundle(sha256Of(w.artifact)); !errors.Is(err, cosignbundle.ErrMalformed) {
		t.Fatalf("Bundle of a rekord entry: error = %v, want ErrMalformed", err)
	}
	if _, err := l.Bundle(&cosignbundle.Digest{Algorithm: "md5", Value: []byte{1}}); err == nil {
		t.Fatal("Bundle accepted an md5 digest")
	}
}

// TestDetachedMalformed covers the detached files.
func TestDetachedMalformed(t *testing.T) {
	w := getWorld(t)
	pubPEM, err := sigtest.PublicKeyPEM(w.key.Public())
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name      string
		sig, cert []byte
	}{
		{"empty signature", nil, w.cert},
		{"blank signature", []byte(" \n"), nil},
		{"certificate not PEM", w.sig, []byte("garbage")},
		{"a public key as certificate", w.sig, pubPEM},
	}
	for _, tc := range tests {
		if _, err := cosignbundle.Detached(tc.sig, tc.cert); !errors.Is(err, cosignbundle.ErrMalformed) {
			t.Errorf("%s: Detached error = %v, want ErrMalformed", tc.name, err)
		}
	}
	// A trailing newline, as an editor leaves it, is fine; raw signature
	// bytes are taken as they are, as cosign does.
	l, err := cosignbundle.Detached(append(append([]byte{}, w.keySig...), '\n'), nil)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := cosignbundle.Detached(l.Signature, nil)
	if err != nil || string(raw.Signature) != string(l.Signature) {
		t.Fatalf("raw signature read as %x, %v", raw.Signature, err)
	}
	// Raw bytes are binary: a byte that happens to be white space (a DER
	// signature may end in 0x0a or 0x20) is part of the signature.
	for _, edge := range [][]byte{append([]byte{0x30, 0x45, 0x02}, ' ', 0x0a), {0x0a, 0x30, 0x45, 0x02, 0x21}} {
		got, err := cosignbundle.Detached(edge, nil)
		if err != nil || string(got.Signature) != string(edge) {
			t.Errorf("raw signature %x read as %x, %v", edge, got.Signature, err)
		}
	}
}

// sharedDir is ../shared/fixtures/cosign-interop, or "" when absent.
func sharedDir(tb testing.TB) string {
	dir := filepath.Join("..", "..", "..", "..", "shared", "fixtures", "cosign-interop")
	if _, err := os.Stat(dir); err != nil {
		tb.Logf("%s not found: cosign-made fixtures skipped", dir)
		return ""
	}
	return dir
}

// TestCosignMade verifies a legacy bundle that cosign v2.6.5 itself made
// (sign-blob --key --tlog-upload=false --bundle), when the shared fixtures
// are present.
func TestCosignMade(t *testing.T) {
	dir := sharedDir(t)
	if dir == "" {
		t.Skip("../shared/fixtures/cosign-interop is absent")
	}
	read := func(name string) []byte {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if errors.Is(err, fs.ErrNotExist) {
			t.Skipf("%s is absent", name)
		}
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	data, artifact, keyPEM := read("art-1MiB.cosign-bundle.json"), read("art-1MiB.bin"), read("cosign.pub")
	pub, err := keys.ParsePublicKeyPEM(keyPEM)
	if err != nil {
		t.Fatal(err)
	}
	l, err := toBundle(t, data)
	if err != nil {
		t.Fatal(err)
	}
	if !l.NeedsDigest() || l.Entry != nil || l.Certificate != nil {
		t.Fatalf("cosign's key bundle without log read as %+v", l)
	}
	v, err := verify.New(nil, verify.Policy{Key: pub, InsecureIgnoreTlog: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name     string
		artifact []byte
		ok       bool
	}{
		{"its artifact", artifact, true},
		{"another artifact", []byte("not the artifact"), false},
	} {
		b, err := l.Bundle(sha256Of(tc.artifact))
		if err != nil {
			t.Fatal(err)
		}
		_, err = v.Verify(context.Background(), b, digestArtifact(t, tc.artifact))
		if tc.ok && err != nil {
			t.Errorf("%s: %v", tc.name, err)
		}
		if !tc.ok && !verify.IsRejected(err) {
			t.Errorf("%s: error = %v, want a rejection", tc.name, err)
		}
	}
	// The Sigstore bundle next to it is not a legacy one.
	if cosignbundle.IsLegacy(read("art-1MiB.sigstore.json")) {
		t.Error("IsLegacy(art-1MiB.sigstore.json) = true")
	}
}

// TestRealBundles rewrites real Sigstore bundles logged in the public-good
// Rekor v1 log as cosign legacy bundles and verifies them against the
// public-good root: the SET that Rekor signed must verify over the payload
// as this package rebuilds it, for hashedrekord, dsse and intoto entries.
// Skipped when the shared fixtures are absent.
func TestRealBundles(t *testing.T) {
	dir := filepath.Join("..", "..", "..", "..", "shared", "fixtures", "real-bundles")
	tm, err := root.NewTrustedRootFromPath(filepath.Join(dir, "trusted-roots", "public-good.json"))
	if errors.Is(err, fs.ErrNotExist) {
		t.Skipf("%s is absent: real bundles skipped", dir)
	}
	if err != nil {
		t.Fatal(err)
	}
	const beacon = "https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/.github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main"
	const sigstoreJS = "https://github.com/sigstore/sigstore-js/.github/workflows/release.yml@refs/heads/main"
	for _, tc := range []struct {
		dir, san, kind string
		// foreignProvenance: the conformance statement describes another
		// repository's build than the beacon's certificate; this test is
		// about the log entry, so that check is off.
		foreignProvenance bool
	}{
		{"b1-conf-happy-v0.3", beacon, "hashedrekord", false},
		{"b2-sigstorejs-2.0.0-provenance", sigstoreJS, "intoto", false},
		{"b3-conf-intoto-dsse-v3", beacon, "dsse", true},
		{"b5-sigstorejs-1.3.0-provenance", sigstoreJS, "intoto", false},
	} {
		t.Run(tc.dir, func(t *testing.T) {
			data, err := os.ReadFile(filepath.Join(dir, tc.dir, "bundle.sigstore.json"))
			if err != nil {
				t.Fatal(err)
			}
			legacy, err := sigtest.CosignLegacyBundle(data)
			if err != nil {
				t.Fatal(err)
			}
			l, err := toBundle(t, legacy)
			if err != nil {
				t.Fatal(err)
			}
			if got := l.Entry.GetKindVersion().GetKind(); got != tc.kind {
				t.Fatalf("entry kind %q, want %q", got, tc.kind)
			}
			b, err := l.Bundle(nil)
			if err != nil {
				t.Fatal(err)
			}
			v, err := verify.New(tm, verify.Policy{Identity: &verify.Identity{SAN: tc.san, Issuer: sigtest.GitHubIssuer},
				InsecureIgnoreProvenance: tc.foreignProvenance})
			if err != nil {
				t.Fatal(err)
			}
			artifact := filepath.Join(dir, tc.dir, "artifact")
			if _, err := v.Verify(context.Background(), b, verify.FileArtifact(artifact)); err != nil {
				t.Fatalf("Verify: %v", err)
			}
			// The SET is Rekor's signature over exactly this payload.
			l.Entry.LogIndex++
			b, err = l.Bundle(nil)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := v.Verify(context.Background(), b, verify.FileArtifact(artifact)); !verify.IsRejected(err) {
				t.Fatalf("Verify with another log index: error = %v, want a rejection", err)
			}
		})
	}
}
