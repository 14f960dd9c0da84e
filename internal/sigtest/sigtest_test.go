package sigtest

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sigstore/sigstore-go/pkg/bundle"
	"github.com/sigstore/sigstore-go/pkg/fulcio/certificate"
	"github.com/sigstore/sigstore-go/pkg/root"
	"github.com/sigstore/sigstore-go/pkg/verify"
	"github.com/sigstore/sigstore/pkg/cryptoutils"
)

// keylessOptions is the verifier configuration every keyless bundle must
// satisfy unless a case says otherwise.
var keylessOptions = []verify.VerifierOption{verify.WithTransparencyLog(1), verify.WithObserverTimestamps(1)}

// parseBundle decodes and validates a bundle.
func parseBundle(data []byte) (*bundle.Bundle, error) {
	var b bundle.Bundle
	if err := b.UnmarshalJSON(data); err != nil {
		return nil, err
	}
	return &b, nil
}

// verifyKeyless verifies a keyless bundle of artifact for identity/issuer.
func verifyKeyless(tm root.TrustedMaterial, data, artifact []byte, identity, issuer string, opts []verify.VerifierOption) (*verify.VerificationResult, error) {
	b, err := parseBundle(data)
	if err != nil {
		return nil, err
	}
	v, err := verify.NewVerifier(tm, opts...)
	if err != nil {
		return nil, err
	}
	id, err := verify.NewShortCertificateIdentity(issuer, "", identity, "")
	if err != nil {
		return nil, err
	}
	return v.Verify(b, verify.NewPolicy(verify.WithArtifact(bytes.NewReader(artifact)), verify.WithCertificateIdentity(id)))
}

// verifyKeyed verifies a key-signed bundle of artifact with the PEM key.
func verifyKeyed(data, artifact, keyPEM []byte) (*verify.VerificationResult, error) {
	pub, err := cryptoutils.UnmarshalPEMToPublicKey(keyPEM)
	if err != nil {
		return nil, err
	}
	tm, err := TrustedKeyMaterial(pub)
	if err != nil {
		return nil, err
	}
	b, err := parseBundle(data)
	if err != nil {
		return nil, err
	}
	v, err := verify.NewVerifier(tm, verify.WithNoObserverTimestamps())
	if err != nil {
		return nil, err
	}
	return v.Verify(b, verify.NewPolicy(verify.WithArtifact(bytes.NewReader(artifact)), verify.WithKey()))
}

// readFixture reads a file written by WriteFixtures.
func readFixture(t *testing.T, dir, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// loadRoot parses a trusted root file, which tests its JSON round trip.
func loadRoot(t *testing.T, dir, name string) *root.TrustedRoot {
	t.Helper()
	tr, err := root.NewTrustedRootFromJSON(readFixture(t, dir, name))
	if err != nil {
		t.Fatalf("parsing %s: %v", name, err)
	}
	return tr
}

// keylessCase is one verification of a keyless fixture bundle.
type keylessCase struct {
	name     string
	bundle   string
	artifact string // default FileArtifact
	root     *root.TrustedRoot
	identity string // default DemoIdentity
	issuer   string // default GitHubIssuer
	opts     []verify.VerifierOption
	claims   *GitHubClaims // claims the certificate must carry
	wantErr  string        // empty: must verify
}

// withDefaults fills in the defaults, with trusted as the default root.
func (c keylessCase) withDefaults(trusted *root.TrustedRoot) keylessCase {
	if c.artifact == "" {
		c.artifact = FileArtifact
	}
	if c.root == nil {
		c.root = trusted
	}
	if c.identity == "" {
		c.identity = DemoIdentity
	}
	if c.issuer == "" {
		c.issuer = GitHubIssuer
	}
	if c.opts == nil {
		c.opts = keylessOptions
	}
	return c
}

// checkErr fails unless err matches want: nil for "", else an error whose
// text contains want (case-insensitively).
func checkErr(t *testing.T, err error, want string) {
	t.Helper()
	switch {
	case want == "" && err != nil:
		t.Fatalf("unexpected error: %v", err)
	case want != "" && err == nil:
		t.Fatalf("got no error, want one containing %q", want)
	case want != "" && !strings.Contains(strings.ToLower(err.Error()), strings.ToLower(want)):
		t.Fatalf("got error %q, want one containing %q", err, want)
	}
}

// checkSummary checks the verified certificate's identity and claims.
func checkSummary(t *testing.T, s *certificate.Summary, identity, issuer string, claims *GitHubClaims) {
	t.Helper()
	if s == nil {
		t.Fatal("no certificate summary")
	}
	if s.SubjectAlternativeName != identity || s.Issuer != issuer {
		t.Errorf("certificate is %q from %q, want %q from %q", s.SubjectAlternativeName, s.Issuer, identity, issuer)
	}
	if claims == nil {
		if s.SourceRepositoryURI != "" || s.BuildSignerURI != "" {
			t.Errorf("unexpected GitHub claims: %+v", s.Extensions)
		}
		return
	}
	want := certificate.Extensions{
		Issuer:                 issuer,
		BuildSignerURI:         claims.BuildSignerURI,
		BuildSignerDigest:      claims.BuildSignerDigest,
		RunnerEnvironment:      claims.RunnerEnvironment,
		SourceRepositoryURI:    claims.SourceRepositoryURI,
		SourceRepositoryDigest: claims.SourceRepositoryDigest,
		SourceRepositoryRef:    claims.SourceRepositoryRef,
		BuildConfigURI:         claims.BuildConfigURI,
		BuildTrigger:           claims.BuildTrigger,
		RunInvocationURI:       claims.RunInvocationURI,
	}
	if s.Extensions != want {
		t.Errorf("extensions\n got %+v\nwant %+v", s.Extensions, want)
	}
}

func TestWriteFixturesKeyless(t *testing.T) {
	dir := t.TempDir()
	if err := WriteFixtures(dir); err != nil {
		t.Fatal(err)
	}
	trusted := loadRoot(t, dir, FileTrustedRoot)
	other := loadRoot(t, dir, FileOtherRoot)
	tsaOnly := []verify.VerifierOption{verify.WithSignedTimestamps(1)}

	tests := []keylessCase{
		{name: "artifact", bundle: FileArtifactBundle, claims: DemoClaims()},
		{name: "attestation", bundle: FileAttestation, claims: DemoClaims()},
		{name: "email", bundle: FileEmailBundle, identity: EmailIdentity, issuer: EmailIssuer},
		{name: "rekor v2", bundle: FileRekorV2Bundle, identity: EmailIdentity, issuer: EmailIssuer},
		{name: "v0.1", bundle: FileV01Bundle, claims: DemoClaims()},
		{name: "v0.2", bundle: FileV02Bundle, claims: DemoClaims()},
		{name: "reusable", bundle: FileReusableBundle, identity: ReusableIdentity, claims: ReusableClaims()},
		{name: "no tlog, timestamp only", bundle: FileNoTlogBundle, opts: tsaOnly, claims: DemoClaims()},

		{name: "tampered artifact", bundle: FileArtifactBundle, artifact: FileTampered, wantErr: "could not verify message"},
		{name: "tampered attestation subject", bundle: FileAttestation, artifact: FileTampered, wantErr: "digest"},
		{name: "other root", bundle: FileArtifactBundle, root: other, wantErr: "not enough verified log entries"},
		{name: "other root, timestamp only", bundle: FileArtifactBundle, root: other, opts: tsaOnly, wantErr: "timestamp"},
		{name: "other root rekor v2", bundle: FileRekorV2Bundle, root: other, identity: EmailIdentity, issuer: EmailIssuer, wantErr: "not enough verified log entries"},
		{name: "wrong identity", bundle: FileEmailBundle, issuer: EmailIssuer, wantErr: "expected SAN value"},
		{name: "wrong issuer", bundle: FileArtifactBundle, issuer: EmailIssuer, wantErr: "issuer"},
		{name: "reusable is not the demo workflow", bundle: FileReusableBundle, wantErr: "expected SAN value"},
		{name: "expired", bundle: FileExpiredBundle, wantErr: "integrated time outside certificate validity"},
		{name: "expired, timestamp required", bundle: FileExpiredBundle, opts: tsaOnly, wantErr: "threshold"},
		{name: "no tlog", bundle: FileNoTlogBundle, wantErr: "not enough verified log entries"},
		{name: "malformed", bundle: FileMalformed, wantErr: "unexpected"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc = tc.withDefaults(trusted)
			res, err := verifyKeyless(tc.root, readFixture(t, dir, tc.bundle), readFixture(t, dir, tc.artifact), tc.identity, tc.issuer, tc.opts)
			checkErr(t, err, tc.wantErr)
			if err == nil {
				checkSummary(t, res.Signature.Certificate, tc.identity, tc.issuer, tc.claims)
			}
		})
	}
}

func TestWriteFixturesKeys(t *testing.T) {
	dir := t.TempDir()
	if err := WriteFixtures(dir); err != nil {
		t.Fatal(err)
	}
	artifact := readFixture(t, dir, FileArtifact)
	tampered := readFixture(t, dir, FileTampered)
	otherKey := readFixture(t, dir, FileOtherKey)
	wantDigest := map[string]string{
		KeyECDSAP256: "SHA2_256", KeyECDSAP384: "SHA2_384", KeyECDSAP521: "SHA2_512",
		KeyEd25519: "SHA2_256", KeyRSA2048: "SHA2_256",
	}
	for _, kind := range KeyKinds() {
		t.Run(kind, func(t *testing.T) {
			data := readFixture(t, dir, KeyBundleFile(kind))
			keyPEM := readFixture(t, dir, KeyFile(kind))
			res, err := verifyKeyed(data, artifact, keyPEM)
			checkErr(t, err, "")
			if res.Signature.PublicKeyID == nil {
				t.Error("result names no public key")
			}
			_, err = verifyKeyed(data, tampered, keyPEM)
			checkErr(t, err, "could not verify message")
			_, err = verifyKeyed(data, artifact, otherKey)
			checkErr(t, err, "public key not found")
			checkKeyBundle(t, data, keyPEM, wantDigest[kind])
		})
	}
}

// checkKeyBundle checks the layout of a key-signed bundle.
func checkKeyBundle(t *testing.T, data, keyPEM []byte, digestAlg string) {
	t.Helper()
	b, err := parseBundle(data)
	if err != nil {
		t.Fatal(err)
	}
	pub, err := cryptoutils.UnmarshalPEMToPublicKey(keyPEM)
	if err != nil {
		t.Fatal(err)
	}
	hint, err := KeyHint(pub)
	if err != nil {
		t.Fatal(err)
	}
	vm := b.GetVerificationMaterial()
	switch {
	case !b.MinVersion(BundleV03):
		t.Errorf("media type %s, want v0.3", b.GetMediaType())
	case vm.GetPublicKey().GetHint() != hint:
		t.Errorf("hint %q, want %q", vm.GetPublicKey().GetHint(), hint)
	case len(vm.GetTlogEntries()) != 0 || len(vm.GetTimestampVerificationData().GetRfc3161Timestamps()) != 0:
		t.Error("key bundle has a tlog entry or timestamp")
	case b.GetMessageSignature().GetMessageDigest().GetAlgorithm().String() != digestAlg:
		t.Errorf("digest algorithm %s, want %s", b.GetMessageSignature().GetMessageDigest().GetAlgorithm(), digestAlg)
	}
}

func TestWriteFixturesLayout(t *testing.T) {
	dir := t.TempDir()
	if err := WriteFixtures(dir); err != nil {
		t.Fatal(err)
	}
	readme := string(readFixture(t, dir, FileReadme))
	names := []string{FileTrustedRoot, FileArtifact, FileArtifactBundle, FileAttestation, FileEmailBundle,
		FileRekorV2Bundle, FileV01Bundle, FileV02Bundle, FileExpiredBundle, FileNoTlogBundle,
		FileReusableBundle, FileForeignReusableBundle, FileNoTSABundle, FileTampered, FileOtherKey, FileMalformed, FileOtherRoot, FileReadme,
		FileForeignProvenance, FileLinkAttestation}
	for _, k := range KeyKinds() {
		names = append(names, KeyFile(k), KeyBundleFile(k))
	}
	for _, n := range names {
		readFixture(t, dir, n)
		if !strings.Contains(readme, "\n"+n+"\n") {
			t.Errorf("README.txt does not describe %s", n)
		}
	}
	if a, b := readFixture(t, dir, FileArtifact), readFixture(t, dir, FileTampered); len(a) != len(b) || countDiff(a, b) != 1 {
		t.Errorf("tampered.txt must differ from artifact.txt in exactly one byte")
	}

	for _, tc := range []struct {
		file, version string
		chain         bool
	}{
		{FileArtifactBundle, "v0.3", false},
		{FileV01Bundle, "v0.1", true},
		{FileV02Bundle, "v0.2", true},
	} {
		b, err := parseBundle(readFixture(t, dir, tc.file))
		if err != nil {
			t.Fatal(err)
		}
		v, err := b.Version()
		if err != nil || v != tc.version {
			t.Errorf("%s: version %q (%v), want %s", tc.file, v, err, tc.version)
		}
		if got := b.GetVerificationMaterial().GetX509CertificateChain() != nil; got != tc.chain {
			t.Errorf("%s: x509CertificateChain present = %v, want %v", tc.file, got, tc.chain)
		}
	}
}

// countDiff counts the positions where a and b differ.
func countDiff(a, b []byte) int {
	n := 0
	for i := range a {
		if a[i] != b[i] {
			n++
		}
	}
	return n
}

func TestRekorV2Entry(t *testing.T) {
	inst := newInstance(t)
	st := demoStatementT(t)
	data, err := inst.Attest(st, Options{Identity: EmailIdentity, Issuer: EmailIssuer, RekorV2: true})
	if err != nil {
		t.Fatal(err)
	}
	b, err := parseBundle(data)
	if err != nil {
		t.Fatal(err)
	}
	entries := b.GetVerificationMaterial().GetTlogEntries()
	if len(entries) != 1 {
		t.Fatalf("%d tlog entries, want 1", len(entries))
	}
	e := entries[0]
	if kv := e.GetKindVersion(); kv.GetKind() != "hashedrekord" || kv.GetVersion() != "0.0.2" {
		t.Errorf("kind/version %s/%s, want hashedrekord/0.0.2", kv.GetKind(), kv.GetVersion())
	}
	if e.GetIntegratedTime() != 0 || e.GetInclusionPromise() != nil || e.GetInclusionProof() == nil {
		t.Errorf("want an inclusion proof only, got integrated time %d, promise %v", e.GetIntegratedTime(), e.GetInclusionPromise())
	}
}

// newInstance returns a new Instance or fails the test.
func newInstance(t testing.TB) *Instance {
	t.Helper()
	inst, err := New()
	if err != nil {
		t.Fatal(err)
	}
	return inst
}

// demoStatementT returns the demo statement or fails the test.
func demoStatementT(t testing.TB) []byte {
	t.Helper()
	st, err := demoStatement()
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func TestInstanceOptions(t *testing.T) {
	inst := newInstance(t)
	tr, err := inst.TrustedRoot() // in memory, no JSON round trip
	if err != nil {
		t.Fatal(err)
	}
	artifact := []byte(DemoArtifact)
	st := demoStatementT(t)
	blob := func(o Options) ([]byte, error) { return inst.SignBlob(artifact, o) }
	attest := func(o Options) ([]byte, error) { return inst.Attest(st, o) }
	tlogOnly := []verify.VerifierOption{verify.WithTransparencyLog(1), verify.WithIntegratedTimestamps(1)}

	tests := []struct {
		name    string
		sign    func(Options) ([]byte, error)
		o       Options
		opts    []verify.VerifierOption
		wantErr string
	}{
		{name: "defaults", sign: blob},
		{name: "defaults attestation", sign: attest},
		{name: "no timestamp", sign: blob, o: Options{NoTimestamp: true}, opts: tlogOnly},
		{name: "no timestamp attestation", sign: attest, o: Options{NoTimestamp: true}, opts: tlogOnly},
		{name: "email", sign: blob, o: Options{Identity: EmailIdentity, Issuer: EmailIssuer}},
		{name: "spiffe URI", sign: attest, o: Options{Identity: "spiffe://example.org/ns/build", Issuer: EmailIssuer}},
		{name: "claims v0.1 attestation", sign: attest, o: Options{GitHub: DemoClaims(), BundleVersion: "0.1"}},
		{name: "claims v0.2", sign: blob, o: Options{GitHub: DemoClaims(), BundleVersion: BundleV02}},
		{name: "rekor v2 v0.2", sign: attest, o: Options{RekorV2: true, Identity: EmailIdentity, BundleVersion: BundleV02}},
		{name: "rekor v2 without timestamp", sign: attest, o: Options{RekorV2: true, NoTimestamp: true}, wantErr: "threshold"},
		{name: "expired attestation", sign: attest, o: Options{ExpiredCert: true}, wantErr: "outside certificate validity"},
		{name: "no tlog attestation", sign: attest, o: Options{NoTlog: true}, wantErr: "not enough verified log entries"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			data, err := tc.sign(tc.o)
			if err != nil {
				t.Fatal(err)
			}
			o := tc.o.withDefaults()
			opts := tc.opts
			if opts == nil {
				opts = keylessOptions
			}
			_, err = verifyKeyless(tr, data, artifact, o.Identity, o.Issuer, opts)
			checkErr(t, err, tc.wantErr)
		})
	}
}

func TestInstanceUnsupported(t *testing.T) {
	inst := newInstance(t)
	st := demoStatementT(t)
	for _, tc := range []struct {
		name string
		sign func() ([]byte, error)
	}{
		{"rekor v2 message signature", func() ([]byte, error) { return inst.SignBlob(nil, Options{RekorV2: true}) }},
		{"rekor v2 claims", func() ([]byte, error) { return inst.Attest(st, Options{RekorV2: true, GitHub: DemoClaims()}) }},
		{"rekor v2 bundle v0.1", func() ([]byte, error) { return inst.Attest(st, Options{RekorV2: true, BundleVersion: BundleV01}) }},
		{"expired without tlog", func() ([]byte, error) { return inst.SignBlob(nil, Options{ExpiredCert: true, NoTlog: true}) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := tc.sign(); !errors.Is(err, errUnsupported) {
				t.Fatalf("got %v, want errUnsupported", err)
			}
		})
	}
	if _, err := inst.SignBlob(nil, Options{BundleVersion: "v0.4"}); err == nil {
		t.Error("bundle v0.4 accepted")
	}
}

func TestTrustedRootJSON(t *testing.T) {
	data, err := newInstance(t).TrustedRootJSON()
	if err != nil {
		t.Fatal(err)
	}
	tr, err := root.NewTrustedRootFromJSON(data)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(tr.CTLogs()); n != 0 {
		t.Errorf("%d CT logs, want none", n)
	}
	if n := len(tr.FulcioCertificateAuthorities()); n != 2 {
		t.Errorf("%d certificate authorities, want 2 (own and VirtualSigstore's)", n)
	}
	if n := len(tr.TimestampingAuthorities()); n != 1 {
		t.Errorf("%d timestamp authorities, want 1", n)
	}
	logs := tr.RekorLogs()
	if len(logs) != 1 {
		t.Fatalf("%d rekor logs, want 1", len(logs))
	}
	for id, l := range logs {
		if l.BaseURL != "https://rekor.localhost" || !l.ValidityPeriodEnd.IsZero() {
			t.Errorf("log %s: base URL %q, end %v", id, l.BaseURL, l.ValidityPeriodEnd)
		}
	}
}

func TestSignStatementWithKey(t *testing.T) {
	artifact := []byte(DemoArtifact)
	st := demoStatementT(t)
	for _, kind := range KeyKinds() {
		t.Run(kind, func(t *testing.T) {
			key, err := GenerateKey(kind)
			if err != nil {
				t.Fatal(err)
			}
			data, err := SignStatementWithKey(key, st)
			if err != nil {
				t.Fatal(err)
			}
			keyPEM, err := PublicKeyPEM(key.Public())
			if err != nil {
				t.Fatal(err)
			}
			_, err = verifyKeyed(data, artifact, keyPEM)
			checkErr(t, err, "")
			_, err = verifyKeyed(data, TamperedArtifact(), keyPEM)
			checkErr(t, err, "digest")
		})
	}
}

func TestGenerateKeyUnknown(t *testing.T) {
	if _, err := GenerateKey("dsa-1024"); err == nil {
		t.Error("unknown key kind accepted")
	}
}

func BenchmarkSignBlob(b *testing.B) {
	inst := newInstance(b)
	artifact := []byte(DemoArtifact)
	for b.Loop() {
		if _, err := inst.SignBlob(artifact, Options{GitHub: DemoClaims()}); err != nil {
			b.Fatal(err)
		}
	}
}
