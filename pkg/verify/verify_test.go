package verify_test

import (
	"bytes"
	"context"
	"crypto"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/sigstore/sigstore-go/pkg/root"

	"github.com/hallmark-dev/hallmark/internal/keys"
	"github.com/hallmark-dev/hallmark/internal/sigtest"
	"github.com/hallmark-dev/hallmark/pkg/ecosystem/github"
	"github.com/hallmark-dev/hallmark/pkg/verify"
)

// world is one fake Sigstore instance with bundles made for these tests.
type world struct {
	tm       *root.TrustedRoot
	noTSA    *root.TrustedRoot // the same instance without its timestamp authority
	other    *root.TrustedRoot // another instance
	artifact []byte
	bundles  map[string][]byte
	keys     map[string][]byte // PEM public keys by kind
}

var (
	worldOnce sync.Once
	theWorld  *world
	worldErr  error
)

func getWorld(t testing.TB) *world {
	t.Helper()
	worldOnce.Do(func() { theWorld, worldErr = makeWorld() })
	if worldErr != nil {
		t.Fatalf("making fixtures: %v", worldErr)
	}
	return theWorld
}

func makeWorld() (*world, error) {
	inst, err := sigtest.New()
	if err != nil {
		return nil, err
	}
	w := &world{artifact: []byte(sigtest.DemoArtifact), bundles: map[string][]byte{}, keys: map[string][]byte{}}
	if w.tm, err = inst.TrustedRoot(); err != nil {
		return nil, err
	}
	w.noTSA, err = root.NewTrustedRoot(root.TrustedRootMediaType01, w.tm.FulcioCertificateAuthorities(), w.tm.CTLogs(), nil, w.tm.RekorLogs())
	if err != nil {
		return nil, err
	}
	other, err := sigtest.New()
	if err != nil {
		return nil, err
	}
	if w.other, err = other.TrustedRoot(); err != nil {
		return nil, err
	}
	stmt, err := sigtest.Statement(sigtest.FileArtifact, w.artifact, sigtest.SLSAProvenanceV1, map[string]any{"buildDefinition": map[string]any{}})
	if err != nil {
		return nil, err
	}
	mk := func(name string, f func() ([]byte, error)) {
		if err != nil {
			return
		}
		w.bundles[name], err = f()
	}
	mk("blob", func() ([]byte, error) {
		return inst.SignBlob(w.artifact, sigtest.Options{GitHub: sigtest.DemoClaims()})
	})
	mk("blob-v01", func() ([]byte, error) {
		return inst.SignBlob(w.artifact, sigtest.Options{BundleVersion: sigtest.BundleV01})
	})
	mk("attest", func() ([]byte, error) { return inst.Attest(stmt, sigtest.Options{GitHub: sigtest.DemoClaims()}) })
	mk("rekor2", func() ([]byte, error) {
		return inst.Attest(stmt, sigtest.Options{RekorV2: true, Identity: sigtest.EmailIdentity, Issuer: sigtest.EmailIssuer})
	})
	mk("reusable", func() ([]byte, error) {
		return inst.SignBlob(w.artifact, sigtest.Options{Identity: sigtest.ReusableIdentity, GitHub: sigtest.ReusableClaims()})
	})
	mk("reusable-foreign", func() ([]byte, error) {
		c := sigtest.ReusableClaims()
		c.SourceRepositoryURI = sigtest.ForeignRepository
		return inst.SignBlob(w.artifact, sigtest.Options{Identity: sigtest.ReusableIdentity, GitHub: c})
	})
	mk("expired", func() ([]byte, error) { return inst.SignBlob(w.artifact, sigtest.Options{ExpiredCert: true}) })
	mk("no-tlog", func() ([]byte, error) { return inst.SignBlob(w.artifact, sigtest.Options{NoTlog: true}) })
	mk("no-tsa", func() ([]byte, error) { return inst.SignBlob(w.artifact, sigtest.Options{NoTimestamp: true}) })
	mk("no-tlog-no-tsa", func() ([]byte, error) {
		return inst.SignBlob(w.artifact, sigtest.Options{NoTlog: true, NoTimestamp: true})
	})
	for _, kind := range sigtest.KeyKinds() {
		signer, kerr := sigtest.GenerateKey(kind)
		if kerr != nil {
			return nil, kerr
		}
		if w.keys[kind], err = sigtest.PublicKeyPEM(signer.Public()); err != nil {
			return nil, err
		}
		mk("key-"+kind, func() ([]byte, error) { return sigtest.SignBlobWithKey(signer, w.artifact) })
	}
	return w, err
}

func keyless(san, issuer string) verify.Policy {
	return verify.Policy{Identity: &verify.Identity{SAN: san, Issuer: issuer}}
}

func demoPolicy() verify.Policy { return keyless(sigtest.DemoIdentity, sigtest.GitHubIssuer) }

func digestOf(b []byte) string {
	sum := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(sum[:])
}

func mustVerifier(t *testing.T, tm root.TrustedMaterial, p verify.Policy) *verify.Verifier {
	t.Helper()
	v, err := verify.New(tm, p)
	if err != nil {
		t.Fatalf("verify.New: %v", err)
	}
	return v
}

func run(t *testing.T, v *verify.Verifier, bundleJSON []byte, a verify.Artifact) (*verify.Result, error) {
	t.Helper()
	b, err := verify.ParseBundle(bundleJSON)
	if err != nil {
		t.Fatalf("ParseBundle: %v", err)
	}
	return v.Verify(context.Background(), b, a)
}

func TestVerifyAccepts(t *testing.T) {
	w := getWorld(t)
	tests := []struct {
		name      string
		bundle    string
		policy    verify.Policy
		artifact  func() verify.Artifact
		check     func(t *testing.T, r *verify.Result)
		rekorV    int
		predicate string
	}{
		{name: "message signature from a file", bundle: "blob", policy: demoPolicy(), rekorV: 1},
		{name: "bundle v0.1", bundle: "blob-v01", policy: demoPolicy(), rekorV: 1},
		{name: "dsse attestation", bundle: "attest", policy: demoPolicy(), rekorV: 1, predicate: sigtest.SLSAProvenanceV1},
		{name: "rekor v2 with a timestamp authority", bundle: "rekor2", policy: keyless(sigtest.EmailIdentity, sigtest.EmailIssuer), rekorV: 2,
			predicate: sigtest.SLSAProvenanceV1},
		{name: "digest instead of file", bundle: "blob", policy: demoPolicy(), rekorV: 1,
			artifact: func() verify.Artifact {
				a, err := verify.ParseDigest(digestOf(w.artifact))
				if err != nil {
					t.Fatal(err)
				}
				return a
			}},
		{name: "stream", bundle: "blob", policy: demoPolicy(), rekorV: 1,
			artifact: func() verify.Artifact { return verify.ReaderArtifact("-", bytes.NewReader(w.artifact)) }},
		{name: "anchored regexps matching whole values", bundle: "blob", rekorV: 1, policy: verify.Policy{Identity: &verify.Identity{
			SANRegexp: `https://github\.com/hallmark-dev/demo/.*`, IssuerRegexp: `https://token\.actions\.githubusercontent\.com`}}},
		{name: "github claims", bundle: "blob", rekorV: 1, policy: verify.Policy{Identity: &verify.Identity{
			SAN: sigtest.DemoIdentity, Issuer: sigtest.GitHubIssuer, SourceRepositoryURI: sigtest.DemoRepository,
			SourceRef: sigtest.DemoRef, SourceDigest: sigtest.DemoDigest, Trigger: "push",
			SignerWorkflow: "hallmark-dev/demo/.github/workflows/release.yml"}},
			check: func(t *testing.T, r *verify.Result) {
				gh := r.Signer.GitHub
				if gh == nil || gh.SourceRepository != sigtest.DemoRepository || gh.SourceRef != sigtest.DemoRef {
					t.Errorf("GitHub claims = %+v", gh)
				}
			}},
		{name: "reusable workflow pinned by signer workflow", bundle: "reusable", rekorV: 1, policy: func() verify.Policy {
			id, err := github.RepoIdentity("hallmark-dev/demo")
			if err != nil {
				t.Fatal(err)
			}
			id.SANRegexp = `https://github\.com/hallmark-dev/shared-workflows/\.github/workflows/build\.yml@.*`
			id.SignerWorkflow = "hallmark-dev/shared-workflows/.github/workflows/build.yml"
			return verify.Policy{Identity: id}
		}()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := mustVerifier(t, w.tm, tt.policy)
			a := verify.FileArtifact(writeTemp(t, w.artifact))
			if tt.artifact != nil {
				a = tt.artifact()
			}
			r, err := run(t, v, w.bundles[tt.bundle], a)
			if err != nil {
				t.Fatalf("Verify: %v", err)
			}
			if !r.Verified || r.Error != nil {
				t.Fatalf("result not verified: %+v", r)
			}
			if r.Digest == nil || r.Digest.String() != digestOf(w.artifact) {
				t.Errorf("digest = %v, want %s", r.Digest, digestOf(w.artifact))
			}
			if r.Signer == nil || r.Signer.Kind != "certificate" || r.Signer.SAN == "" || r.Signer.Issuer == "" {
				t.Errorf("signer = %+v", r.Signer)
			}
			if len(r.TlogEntries) != 1 || r.TlogEntries[0].RekorVersion != tt.rekorV {
				t.Errorf("tlog entries = %+v, want one Rekor v%d entry", r.TlogEntries, tt.rekorV)
			}
			if len(r.Timestamps) == 0 {
				t.Error("no verified timestamps reported")
			}
			if tt.predicate != "" && (r.Statement == nil || r.Statement.PredicateType != tt.predicate) {
				t.Errorf("statement = %+v, want predicate %s", r.Statement, tt.predicate)
			}
			if tt.check != nil {
				tt.check(t, r)
			}
		})
	}
}

func TestVerifyRejects(t *testing.T) {
	w := getWorld(t)
	tampered := sigtest.TamperedArtifact()
	tests := []struct {
		name     string
		tm       root.TrustedMaterial
		bundle   string
		policy   verify.Policy
		artifact []byte
		cause    verify.Cause
		field    string // a comparison that must be reported as a mismatch
	}{
		{name: "wrong identity", bundle: "blob", policy: keyless("https://github.com/evil/repo/.github/workflows/x.yml@refs/heads/main", sigtest.GitHubIssuer),
			cause: verify.CauseIdentity, field: "identity (SAN)"},
		{name: "wrong issuer", bundle: "blob", policy: keyless(sigtest.DemoIdentity, "https://accounts.google.com"),
			cause: verify.CauseIdentity, field: "issuer"},
		{name: "unanchored prefix pattern does not match", bundle: "blob",
			policy: verify.Policy{Identity: &verify.Identity{SANRegexp: `https://github\.com/hallmark-dev`, Issuer: sigtest.GitHubIssuer}},
			cause:  verify.CauseIdentity, field: "identity (SAN)"},
		{name: "pattern cannot match a suffix either", bundle: "blob",
			policy: verify.Policy{Identity: &verify.Identity{SANRegexp: `refs/tags/v1\.0\.0`, Issuer: sigtest.GitHubIssuer}},
			cause:  verify.CauseIdentity, field: "identity (SAN)"},
		{name: "wrong source ref", bundle: "blob",
			policy: verify.Policy{Identity: &verify.Identity{SAN: sigtest.DemoIdentity, Issuer: sigtest.GitHubIssuer, SourceRef: "refs/heads/main"}},
			cause:  verify.CauseIdentity, field: "source ref"},
		{name: "reusable workflow without signer workflow", bundle: "reusable",
			policy: func() verify.Policy {
				id, _ := github.RepoIdentity("hallmark-dev/demo")
				return verify.Policy{Identity: id}
			}(),
			cause: verify.CauseIdentity, field: "identity (SAN)"},
		{name: "wrong signer workflow", bundle: "blob",
			policy: verify.Policy{Identity: &verify.Identity{SAN: sigtest.DemoIdentity, Issuer: sigtest.GitHubIssuer,
				SourceRepositoryURI: sigtest.DemoRepository, SignerWorkflow: "hallmark-dev/demo/.github/workflows/other.yml"}},
			cause: verify.CauseIdentity, field: "signer workflow"},
		{name: "reusable workflow called from a foreign repository", bundle: "reusable-foreign",
			policy: func() verify.Policy {
				id, _ := github.RepoIdentity("hallmark-dev/demo")
				id.SANRegexp = `https://github\.com/hallmark-dev/shared-workflows/\.github/workflows/build\.yml@.*`
				id.SignerWorkflow = "hallmark-dev/shared-workflows/.github/workflows/build.yml"
				return verify.Policy{Identity: id}
			}(),
			cause: verify.CauseIdentity, field: "source repository"},
		{name: "tampered artifact", bundle: "blob", policy: demoPolicy(), artifact: tampered,
			cause: verify.CauseArtifact, field: "artifact digest"},
		{name: "artifact is not a subject", bundle: "attest", policy: demoPolicy(), artifact: tampered,
			cause: verify.CauseArtifact, field: "artifact digest"},
		{name: "certificate expired, no timestamp", bundle: "expired", policy: demoPolicy(), cause: verify.CauseCertTime},
		{name: "certificate from another instance", tm: w.other, bundle: "no-tlog", policy: verify.Policy{Identity: demoPolicy().Identity, InsecureIgnoreTlog: true},
			cause: verify.CauseCertificate},
		{name: "no log entry", bundle: "no-tlog", policy: demoPolicy(), cause: verify.CauseTlog},
		{name: "another instance", tm: w.other, bundle: "blob", policy: demoPolicy(), cause: verify.CauseCertificate},
		{name: "rekor v2 without a TSA in the root", tm: w.noTSA, bundle: "rekor2",
			policy: keyless(sigtest.EmailIdentity, sigtest.EmailIssuer), cause: verify.CauseRekorV2TSA},
		{name: "key-signed bundle, keyless policy", bundle: "key-ecdsa-p256", policy: demoPolicy(), cause: verify.CauseSignerKind},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tm := tt.tm
			if tm == nil {
				tm = w.tm
			}
			art := tt.artifact
			if art == nil {
				art = w.artifact
			}
			v := mustVerifier(t, tm, tt.policy)
			r, err := run(t, v, w.bundles[tt.bundle], verify.FileArtifact(writeTemp(t, art)))
			var rej *verify.RejectedError
			if !errors.As(err, &rej) {
				t.Fatalf("Verify error = %v, want a *RejectedError", err)
			}
			if rej.Cause != tt.cause {
				t.Errorf("cause = %q, want %q (%v)", rej.Cause, tt.cause, err)
			}
			if r.Verified || r.Error == nil || r.Error.Kind != "rejected" || r.Error.Cause != tt.cause {
				t.Errorf("result = %+v, error %+v", r, r.Error)
			}
			if tt.field != "" && !hasMismatch(rej.Comparisons, tt.field) {
				t.Errorf("comparisons %+v lack a mismatch of %q", rej.Comparisons, tt.field)
			}
		})
	}
}

func hasMismatch(cs []verify.Comparison, field string) bool {
	for _, c := range cs {
		if c.Field == field && !c.Match && c.Expected != "" {
			return true
		}
	}
	return false
}

// An identity rejection lists every field asked for, matching or not.
func TestIdentityComparisonsShowWholePicture(t *testing.T) {
	w := getWorld(t)
	v := mustVerifier(t, w.tm, keyless("someone@example.com", sigtest.GitHubIssuer))
	_, err := run(t, v, w.bundles["blob"], verify.FileArtifact(writeTemp(t, w.artifact)))
	var rej *verify.RejectedError
	if !errors.As(err, &rej) {
		t.Fatalf("err = %v", err)
	}
	want := []verify.Comparison{
		{Field: "identity (SAN)", Expected: `"someone@example.com"`, Actual: sigtest.DemoIdentity, Match: false},
		{Field: "issuer", Expected: `"` + sigtest.GitHubIssuer + `"`, Actual: sigtest.GitHubIssuer, Match: true},
	}
	if len(rej.Comparisons) != len(want) {
		t.Fatalf("comparisons = %+v, want %+v", rej.Comparisons, want)
	}
	for i := range want {
		if rej.Comparisons[i] != want[i] {
			t.Errorf("comparison %d = %+v, want %+v", i, rej.Comparisons[i], want[i])
		}
	}
	if !strings.Contains(err.Error(), sigtest.DemoIdentity) {
		t.Errorf("error text %q does not name the actual identity", err)
	}
}

func TestVerifyKeys(t *testing.T) {
	w := getWorld(t)
	for _, kind := range sigtest.KeyKinds() {
		t.Run(kind, func(t *testing.T) {
			pub := parseKey(t, w.keys[kind])
			v := mustVerifier(t, nil, verify.Policy{Key: pub, InsecureIgnoreTlog: true})
			r, err := run(t, v, w.bundles["key-"+kind], verify.FileArtifact(writeTemp(t, w.artifact)))
			if err != nil {
				t.Fatalf("Verify: %v", err)
			}
			if r.Signer == nil || r.Signer.Kind != "key" || !strings.HasPrefix(r.Signer.KeyFingerprint, "sha256:") {
				t.Errorf("signer = %+v", r.Signer)
			}
			_, err = run(t, v, w.bundles["key-"+kind], verify.FileArtifact(writeTemp(t, sigtest.TamperedArtifact())))
			if !verify.IsRejected(err) {
				t.Errorf("tampered artifact: err = %v, want a rejection", err)
			}
		})
	}
	t.Run("another key", func(t *testing.T) {
		v := mustVerifier(t, nil, verify.Policy{Key: parseKey(t, w.keys["ecdsa-p384"]), InsecureIgnoreTlog: true})
		_, err := run(t, v, w.bundles["key-ecdsa-p256"], verify.FileArtifact(writeTemp(t, w.artifact)))
		if !verify.IsRejected(err) {
			t.Errorf("err = %v, want a rejection", err)
		}
	})
	t.Run("log required by default", func(t *testing.T) {
		v := mustVerifier(t, w.tm, verify.Policy{Key: parseKey(t, w.keys["ecdsa-p256"])})
		_, err := run(t, v, w.bundles["key-ecdsa-p256"], verify.FileArtifact(writeTemp(t, w.artifact)))
		var rej *verify.RejectedError
		if !errors.As(err, &rej) || rej.Cause != verify.CauseTlog {
			t.Errorf("err = %v, want a %s rejection", err, verify.CauseTlog)
		}
	})
	t.Run("certificate-signed bundle, key policy", func(t *testing.T) {
		v := mustVerifier(t, w.tm, verify.Policy{Key: parseKey(t, w.keys["ecdsa-p256"])})
		_, err := run(t, v, w.bundles["blob"], verify.FileArtifact(writeTemp(t, w.artifact)))
		var rej *verify.RejectedError
		if !errors.As(err, &rej) || rej.Cause != verify.CauseSignerKind {
			t.Errorf("err = %v, want a %s rejection", err, verify.CauseSignerKind)
		}
	})
}

func TestPolicyValidation(t *testing.T) {
	w := getWorld(t)
	key := parseKey(t, w.keys["ed25519"])
	tests := []struct {
		name string
		tm   root.TrustedMaterial
		p    verify.Policy
	}{
		{"no identity and no key", w.tm, verify.Policy{}},
		{"identity and key", w.tm, verify.Policy{Identity: demoPolicy().Identity, Key: key}},
		{"no SAN", w.tm, keyless("", sigtest.GitHubIssuer)},
		{"no issuer", w.tm, keyless(sigtest.DemoIdentity, "")},
		{"bad pattern", w.tm, verify.Policy{Identity: &verify.Identity{SANRegexp: "(", Issuer: sigtest.GitHubIssuer}}},
		{"pattern escaping the anchors", w.tm, verify.Policy{Identity: &verify.Identity{SANRegexp: "x)|(.*", Issuer: sigtest.GitHubIssuer}}},
		{"issuer pattern escaping the anchors", w.tm, verify.Policy{Identity: &verify.Identity{SAN: "a", IssuerRegexp: ".*)|(x"}}},
		{"signer workflow without a source repository", w.tm, verify.Policy{Identity: &verify.Identity{
			SANRegexp: `https://github\.com/hallmark-dev/shared-workflows/.*`, Issuer: sigtest.GitHubIssuer,
			SignerWorkflow: "hallmark-dev/shared-workflows/.github/workflows/build.yml"}}},
		{"malformed signer workflow", w.tm, verify.Policy{Identity: &verify.Identity{
			SAN: sigtest.DemoIdentity, Issuer: sigtest.GitHubIssuer, SourceRepositoryURI: sigtest.DemoRepository, SignerWorkflow: "foo"}}},
		{"negative threshold", w.tm, verify.Policy{Identity: demoPolicy().Identity, MinTimestamps: -1}},
		{"keyless without a root", nil, demoPolicy()},
		{"key with log but without a root", nil, verify.Policy{Key: key}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := verify.New(tt.tm, tt.p); !errors.Is(err, verify.ErrPolicy) {
				t.Errorf("New error = %v, want ErrPolicy", err)
			}
		})
	}
}

func TestParseDigest(t *testing.T) {
	good := strings.Repeat("ab", 32)
	tests := []struct {
		in   string
		ok   bool
		want string
	}{
		{"sha256:" + good, true, "sha256:" + good},
		{"SHA256:" + strings.ToUpper(good), true, "sha256:" + good},
		{"sha512:" + strings.Repeat("cd", 64), true, "sha512:" + strings.Repeat("cd", 64)},
		{"sha384:" + strings.Repeat("ef", 48), true, "sha384:" + strings.Repeat("ef", 48)},
		{"sha256:" + good[:62], false, ""},
		{"sha256:zz" + good[2:], false, ""},
		{"md5:" + good[:32], false, ""},
		{"sha256", false, ""},
	}
	for _, tt := range tests {
		a, err := verify.ParseDigest(tt.in)
		if tt.ok != (err == nil) {
			t.Errorf("ParseDigest(%q) error = %v, want ok=%v", tt.in, err, tt.ok)
			continue
		}
		if !tt.ok {
			if !errors.Is(err, verify.ErrBadDigest) {
				t.Errorf("ParseDigest(%q) error = %v, want ErrBadDigest", tt.in, err)
			}
			continue
		}
		if a.Name != tt.in {
			t.Errorf("ParseDigest(%q).Name = %q", tt.in, a.Name)
		}
	}
}

// A digest argument must use an algorithm the bundle signed.
func TestDigestAlgorithmMismatch(t *testing.T) {
	w := getWorld(t)
	v := mustVerifier(t, w.tm, demoPolicy())
	a, err := verify.ParseDigest("sha512:" + strings.Repeat("00", 64))
	if err != nil {
		t.Fatal(err)
	}
	_, err = run(t, v, w.bundles["blob"], a)
	var rej *verify.RejectedError
	if !errors.As(err, &rej) || rej.Cause != verify.CauseArtifact {
		t.Fatalf("err = %v, want an artifact rejection", err)
	}
}

func TestParseBundleMalformed(t *testing.T) {
	w := getWorld(t)
	for name, data := range map[string][]byte{
		"empty":     nil,
		"truncated": w.bundles["blob"][:len(w.bundles["blob"])/2],
		"not json":  []byte("hello"),
		"no media":  []byte(`{"verificationMaterial":{}}`),
	} {
		_, err := verify.ParseBundle(data)
		var rej *verify.RejectedError
		if !errors.As(err, &rej) || rej.Cause != verify.CauseMalformed {
			t.Errorf("%s: err = %v, want a malformed-bundle rejection", name, err)
		}
	}
}

// An unreadable artifact is not a rejection: verification did not complete.
func TestMissingArtifactIsAnError(t *testing.T) {
	w := getWorld(t)
	v := mustVerifier(t, w.tm, demoPolicy())
	_, err := run(t, v, w.bundles["blob"], verify.FileArtifact(filepath.Join(t.TempDir(), "absent")))
	if err == nil || verify.IsRejected(err) || !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("err = %v, want a not-exist error that is not a rejection", err)
	}
}

func TestVerifyAllKeepsOrderAndReportsEach(t *testing.T) {
	w := getWorld(t)
	dir := t.TempDir()
	good := filepath.Join(dir, "good")
	bad := filepath.Join(dir, "bad")
	for p, data := range map[string][]byte{good: w.artifact, bad: sigtest.TamperedArtifact(),
		good + ".sigstore.json": w.bundles["blob"], bad + ".sigstore.json": w.bundles["blob"]} {
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	v := mustVerifier(t, w.tm, demoPolicy())
	var jobs []verify.Job
	for i := 0; i < 20; i++ {
		p := good
		if i%5 == 3 {
			p = bad
		}
		jobs = append(jobs, verify.Job{Artifact: verify.FileArtifact(p), BundlePath: p + ".sigstore.json"})
	}
	jobs = append(jobs, verify.Job{Artifact: verify.FileArtifact(good), BundlePath: filepath.Join(dir, "missing.json")})
	outs := v.VerifyAll(context.Background(), jobs)
	for i, o := range outs {
		switch {
		case i == len(jobs)-1:
			if o.Err == nil || verify.IsRejected(o.Err) || o.Result.Error.Kind != "error" {
				t.Errorf("job %d (missing bundle): err = %v", i, o.Err)
			}
		case i%5 == 3:
			if !verify.IsRejected(o.Err) || o.Result.Artifact != bad {
				t.Errorf("job %d: %v %+v, want rejection of %s", i, o.Err, o.Result, bad)
			}
		default:
			if o.Err != nil || !o.Result.Verified || o.Result.Artifact != good {
				t.Errorf("job %d: %v %+v", i, o.Err, o.Result)
			}
		}
	}
}

func writeTemp(t testing.TB, data []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "artifact")
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func parseKey(t testing.TB, pemData []byte) crypto.PublicKey {
	t.Helper()
	pub, err := keys.ParsePublicKeyPEM(pemData)
	if err != nil {
		t.Fatal(err)
	}
	return pub
}

// StatementOnly checks an attestation's signature and signer, and hands
// back its predicate, without an artifact; message signatures need one.
func TestStatementOnly(t *testing.T) {
	w := getWorld(t)
	v := mustVerifier(t, w.tm, demoPolicy())
	r, err := run(t, v, w.bundles["attest"], verify.StatementOnly("sbom"))
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	if !r.Verified || r.Statement == nil || len(r.Statement.Predicate) == 0 || r.Digest != nil {
		t.Errorf("result = %+v, want a verified statement with its predicate and no digest", r)
	}
	_, err = run(t, v, w.bundles["blob"], verify.StatementOnly("sbom"))
	var rej *verify.RejectedError
	if !errors.As(err, &rej) || rej.Cause != verify.CauseArtifact {
		t.Errorf("message signature: err = %v, want an artifact rejection", err)
	}
	wrong := mustVerifier(t, w.tm, keyless("someone@example.com", sigtest.GitHubIssuer))
	if _, err := run(t, wrong, w.bundles["attest"], verify.StatementOnly("sbom")); !verify.IsRejected(err) {
		t.Errorf("wrong signer: err = %v, want a rejection", err)
	}
}

func TestParseSignerWorkflow(t *testing.T) {
	tests := []struct {
		in, want string
	}{
		{"octo/shared/.github/workflows/build.yml", "https://github.com/octo/shared/.github/workflows/build.yml"},
		{"octo/shared/.github/workflows/build.yaml", "https://github.com/octo/shared/.github/workflows/build.yaml"},
		{"https://github.example.com/octo/shared/.github/workflows/b.yml", "https://github.example.com/octo/shared/.github/workflows/b.yml"},
		{"foo", ""},
		{"octo/shared", ""},
		{"octo/shared/build.yml", ""},
		{"octo/shared/.github/workflows/", ""},
		{"octo/shared/.github/workflows/build.sh", ""},
		{"octo//.github/workflows/build.yml", ""},
		{"octo/shared/.github/workflows/sub/build.yml", ""},
		{"octo/shared/.github/workflows/build.yml@refs/heads/main", ""},
		{"http://github.com/octo/shared/.github/workflows/build.yml", ""},
	}
	for _, tt := range tests {
		got, err := verify.ParseSignerWorkflow(tt.in)
		if tt.want == "" {
			if !errors.Is(err, verify.ErrPolicy) {
				t.Errorf("ParseSignerWorkflow(%q) = %q, %v; want an ErrPolicy error", tt.in, got, err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("ParseSignerWorkflow(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
}
