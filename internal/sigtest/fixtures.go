package sigtest

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// DemoArtifact is the content of the artifact.txt fixture.
const DemoArtifact = "hallmark demo artifact, version 1.0.0\n"

// Names of the files [WriteFixtures] writes, besides the per-key files
// named by [KeyFile] and [KeyBundleFile].
const (
	FileTrustedRoot    = "trusted_root.json"
	FileArtifact       = "artifact.txt"
	FileArtifactBundle = "artifact.txt.sigstore.json"
	FileAttestation    = "attestation.sigstore.json"
	FileEmailBundle    = "email-identity.sigstore.json"
	FileRekorV2Bundle  = "rekor2.sigstore.json"
	FileV01Bundle      = "v01.sigstore.json"
	FileV02Bundle      = "v02.sigstore.json"
	FileExpiredBundle  = "expired.sigstore.json"
	FileNoTlogBundle   = "no-tlog.sigstore.json"
	FileReusableBundle = "reusable.sigstore.json"
	FileTampered       = "tampered.txt"
	FileOtherKey       = "key-other.pub"
	FileMalformed      = "malformed.sigstore.json"
	// FileSBOMAttestation is an SBOM attestation (CycloneDX) about
	// artifact.txt.
	FileSBOMAttestation = "sbom.sigstore.json"
	// FileSBOMTampered is FileSBOMAttestation with its SBOM edited after
	// signing (lodash 4.17.15 became 4.17.21): the signature no longer
	// verifies.
	FileSBOMTampered = "sbom-tampered.sigstore.json"
	FileOtherRoot    = "other-root.json"
	FileReadme       = "README.txt"

	// Cosign's pre-bundle formats (see [CosignLegacyBundle] and
	// [CosignDetached]), made from FileArtifactBundle and from
	// KeyBundleFile(KeyECDSAP256).
	FileCosignBundle       = "artifact.txt.cosign.bundle"
	FileCosignTampered     = "tampered-sig.cosign.bundle"
	FileCosignSignature    = "artifact.txt.sig"
	FileCosignCertificate  = "artifact.txt.pem"
	FileCosignKeySignature = "key-ecdsa-p256.sig"
	FileCosignKeyBundle    = "key-ecdsa-p256.cosign.bundle"
	FileCosignAttestation  = "attestation.cosign.bundle"
	FileCosignEd25519      = "key-ed25519.cosign.bundle"
)

// FileForeignReusableBundle is artifact.txt signed by the reusable workflow
// [ReusableIdentity] called from [ForeignRepository], not from the demo
// repository.
const FileForeignReusableBundle = "reusable-foreign.sigstore.json"

// FileNoTSABundle is artifact.txt signed like [FileArtifactBundle] but
// without an RFC 3161 timestamp: the Rekor v1 entry's integrated time is its
// only time evidence.
const FileNoTSABundle = "no-tsa.sigstore.json"

// FileForeignProvenance is a SLSA v1 provenance attestation of artifact.txt
// signed by the demo release workflow (its GitHub claims) whose workflow
// repository is [ForeignRepository]: the provenance disagrees with its
// certificate.
const FileForeignProvenance = "provenance-foreign.sigstore.json"

// FileLinkAttestation is an in-toto link v0.3 attestation of one build step,
// "build", whose product is artifact.txt, signed like [FileAttestation].
const FileLinkAttestation = "link.sigstore.json"

// LinkMaterialDigest is the sha256 of the link fixture's one material,
// main.c.
const LinkMaterialDigest = "ab0f6bcbc3a39f5ad3d5b4e1a6f3c7d1e9b8a7c6d5e4f3a2b1c0d9e8f7a6b5c4"

// ForeignRepository is a repository that calls the public reusable workflow
// [ReusableIdentity] without being the demo's.
const ForeignRepository = "https://github.com/mallory/lookalike"

// CycloneDXPredicate is the in-toto predicate type of CycloneDX SBOMs.
const CycloneDXPredicate = "https://cyclonedx.org/bom"

// SBOMPackagePURL is the one component of the SBOM attestation fixture.
const SBOMPackagePURL = "pkg:npm/lodash@4.17.15"

// sbomPredicate is a minimal CycloneDX 1.6 SBOM naming one npm package.
func sbomPredicate() map[string]any {
	return map[string]any{
		"bomFormat":   "CycloneDX",
		"specVersion": "1.6",
		"version":     1,
		"components": []any{map[string]any{
			"type": "library", "bom-ref": SBOMPackagePURL, "name": "lodash", "version": "4.17.15", "purl": SBOMPackagePURL,
		}},
	}
}

// KeyFile is the name of the PEM public key of the given kind.
func KeyFile(kind string) string { return "key-" + kind + ".pub" }

// KeyBundleFile is the name of the bundle of artifact.txt signed by the key
// of the given kind.
func KeyBundleFile(kind string) string { return "key-" + kind + ".sigstore.json" }

// TamperedArtifact returns DemoArtifact with one byte changed.
func TamperedArtifact() []byte {
	b := []byte(DemoArtifact)
	b[0] ^= 0x20 // "h" becomes "H"
	return b
}

// WriteFixtures creates dir if needed and writes into it a trusted root of
// a new Instance, bundles signed by it or by plain keys (each verifies, or
// fails for one stated reason), the artifacts they cover, public keys, and a
// README.txt describing every file. File names are fixed (see the File
// constants, [KeyFile] and [KeyBundleFile]); keys and signatures are new on
// every call.
func WriteFixtures(dir string) error {
	files, err := fixtures()
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("sigtest: %w", err)
	}
	for _, f := range files {
		if err := os.WriteFile(filepath.Join(dir, f.name), f.data, 0o644); err != nil {
			return fmt.Errorf("sigtest: %w", err)
		}
	}
	return nil
}

// fixture is one file of the fixture set.
type fixture struct {
	name  string
	about string
	data  []byte
}

// fixtureSet collects fixtures and remembers the first error.
type fixtureSet struct {
	files []fixture
	err   error
}

// add appends the file made by mk unless an earlier file failed.
func (s *fixtureSet) add(name, about string, mk func() ([]byte, error)) {
	if s.err != nil {
		return
	}
	data, err := mk()
	if err != nil {
		s.err = fmt.Errorf("sigtest: making %s: %w", name, err)
		return
	}
	s.files = append(s.files, fixture{name: name, about: about, data: data})
}

// data returns the content of an added file.
func (s *fixtureSet) data(name string) []byte {
	for _, f := range s.files {
		if f.name == name {
			return f.data
		}
	}
	return nil
}

// constant returns a maker for fixed content.
func constant(b []byte) func() ([]byte, error) {
	return func() ([]byte, error) { return b, nil }
}

// fixtures makes the whole set in memory.
func fixtures() ([]fixture, error) {
	inst, err := New()
	if err != nil {
		return nil, err
	}
	s := &fixtureSet{}
	addTrustFiles(s, inst)
	addKeylessFiles(s, inst)
	addKeyFiles(s)
	addCosignFiles(s)
	addGitHubFiles(s, inst)
	addPyPIFiles(s, inst)
	if s.err != nil {
		return nil, s.err
	}
	s.files = append(s.files, fixture{name: FileReadme, data: readme(s.files)})
	return s.files, nil
}

// addTrustFiles adds the trusted roots and the artifacts.
func addTrustFiles(s *fixtureSet, inst *Instance) {
	s.add(FileTrustedRoot, "trusted root of the fake Sigstore instance that signed the keyless bundles",
		inst.TrustedRootJSON)
	s.add(FileOtherRoot, "trusted root of a different fake instance: every keyless bundle must fail against it",
		func() ([]byte, error) {
			other, err := New()
			if err != nil {
				return nil, err
			}
			return other.TrustedRootJSON()
		})
	s.add(FileArtifact, "the signed artifact", constant([]byte(DemoArtifact)))
	s.add(FileTampered, "artifact.txt with one byte changed: must fail against any artifact.txt bundle",
		constant(TamperedArtifact()))
}

// addKeylessFiles adds the bundles signed by inst.
func addKeylessFiles(s *fixtureSet, inst *Instance) {
	artifact := []byte(DemoArtifact)
	blob := func(o Options) func() ([]byte, error) {
		return func() ([]byte, error) { return inst.SignBlob(artifact, o) }
	}
	attest := func(o Options) func() ([]byte, error) {
		return func() ([]byte, error) {
			st, err := demoStatement()
			if err != nil {
				return nil, err
			}
			return inst.Attest(st, o)
		}
	}
	demo := Options{Identity: DemoIdentity, Issuer: GitHubIssuer, GitHub: DemoClaims()}
	with := func(change func(*Options)) Options {
		o := demo
		change(&o)
		return o
	}
	email := Options{Identity: EmailIdentity, Issuer: EmailIssuer}

	s.add(FileArtifactBundle, "artifact.txt signed by the demo release workflow (URI SAN, GitHub claims; message signature, Rekor v1, TSA; v0.3)",
		blob(demo))
	s.add(FileAttestation, "DSSE in-toto statement v1 about artifact.txt, predicate SLSA provenance v1, signed like artifact.txt.sigstore.json",
		attest(demo))
	s.add(FileEmailBundle, "artifact.txt signed by e-mail identity "+EmailIdentity+", issuer "+EmailIssuer+" (no GitHub claims)",
		blob(email))
	s.add(FileRekorV2Bundle, "DSSE statement about artifact.txt logged in Rekor v2, with TSA timestamp; identity "+EmailIdentity+" (e-mail SAN), issuer "+EmailIssuer,
		attest(Options{Identity: EmailIdentity, Issuer: EmailIssuer, RekorV2: true}))
	s.add(FileV01Bundle, "as artifact.txt.sigstore.json, bundle v0.1 (x509CertificateChain)",
		blob(with(func(o *Options) { o.BundleVersion = BundleV01 })))
	s.add(FileV02Bundle, "as artifact.txt.sigstore.json, bundle v0.2 (x509CertificateChain)",
		blob(with(func(o *Options) { o.BundleVersion = BundleV02 })))
	s.add(FileExpiredBundle, "artifact.txt, certificate expired before the Rekor integrated time, no TSA timestamp: must fail",
		blob(with(func(o *Options) { o.ExpiredCert = true })))
	s.add(FileNoTlogBundle, "artifact.txt with TSA timestamp but no transparency log entry: fails when a tlog entry is required",
		blob(with(func(o *Options) { o.NoTlog = true })))
	s.add(FileReusableBundle, "artifact.txt signed by reusable workflow "+ReusableIdentity+" called from the demo release workflow (source repo and build config are the demo's)",
		blob(Options{Identity: ReusableIdentity, Issuer: GitHubIssuer, GitHub: ReusableClaims()}))
	s.add(FileNoTSABundle, "artifact.txt like artifact.txt.sigstore.json without RFC 3161 timestamp: the Rekor v1 integrated time is the only time evidence",
		blob(with(func(o *Options) { o.NoTimestamp = true })))
	s.add(FileForeignReusableBundle, "artifact.txt signed by reusable workflow "+ReusableIdentity+" called from "+ForeignRepository+" (a foreign source repository)",
		func() ([]byte, error) {
			c := ReusableClaims()
			c.SourceRepositoryURI = ForeignRepository
			c.BuildConfigURI = ForeignRepository + "/.github/workflows/release.yml@" + DemoRef
			c.RunInvocationURI = ForeignRepository + "/actions/runs/1/attempts/1"
			return inst.SignBlob(artifact, Options{Identity: ReusableIdentity, Issuer: GitHubIssuer, GitHub: c})
		})
	s.add(FileSBOMAttestation, "DSSE in-toto statement about artifact.txt whose predicate is a CycloneDX 1.6 SBOM listing "+SBOMPackagePURL+", signed like artifact.txt.sigstore.json",
		func() ([]byte, error) {
			st, err := Statement(FileArtifact, artifact, CycloneDXPredicate, sbomPredicate())
			if err != nil {
				return nil, err
			}
			return inst.Attest(st, demo)
		})
	s.add(FileSBOMTampered, "sbom.sigstore.json with its SBOM edited after signing (lodash 4.17.15 -> 4.17.21): must fail",
		func() ([]byte, error) { return tamperPayload(s.data(FileSBOMAttestation), "4.17.15", "4.17.21") })
	s.add(FileForeignProvenance, "SLSA v1 provenance of artifact.txt claiming workflow repository "+ForeignRepository+", signed by the demo workflow (whose certificate names "+DemoRepository+"): must fail",
		func() ([]byte, error) {
			st, err := demoStatementWith(func(wf map[string]any) { wf["repository"] = ForeignRepository })
			if err != nil {
				return nil, err
			}
			return inst.Attest(st, demo)
		})
	s.add(FileLinkAttestation, "in-toto link v0.3 of step \"build\" (make dist, exit code 0, material main.c), product artifact.txt, signed like attestation.sigstore.json",
		func() ([]byte, error) {
			st, err := Statement(FileArtifact, artifact, "https://in-toto.io/attestation/link/v0.3", map[string]any{
				"name": "build", "command": []string{"make", "dist"},
				"materials":  []any{map[string]any{"name": "main.c", "digest": map[string]any{"sha256": LinkMaterialDigest}}},
				"byproducts": map[string]any{"return-value": 0},
			})
			if err != nil {
				return nil, err
			}
			return inst.Attest(st, demo)
		})
	s.add(FileMalformed, "artifact.txt.sigstore.json truncated: not valid JSON",
		func() ([]byte, error) {
			b := s.data(FileArtifactBundle)
			return b[:len(b)/2], nil
		})
}

// addKeyFiles adds one key and key-signed bundle per key kind, and an
// unrelated key.
func addKeyFiles(s *fixtureSet) {
	for _, kind := range KeyKinds() {
		key, err := GenerateKey(kind)
		if err != nil {
			s.err = err
			return
		}
		s.add(KeyFile(kind), kind+" public key (PEM)",
			func() ([]byte, error) { return PublicKeyPEM(key.Public()) })
		s.add(KeyBundleFile(kind), "artifact.txt signed by "+KeyFile(kind)+" (public key hint, no tlog, no timestamp)",
			func() ([]byte, error) { return SignBlobWithKey(key, []byte(DemoArtifact)) })
	}
	s.add(FileOtherKey, "an unrelated ecdsa-p256 public key: every key bundle must fail with it",
		func() ([]byte, error) {
			key, err := GenerateKey(KeyECDSAP256)
			if err != nil {
				return nil, err
			}
			return PublicKeyPEM(key.Public())
		})
}

// addCosignFiles adds cosign legacy bundles and detached signatures made
// from bundles already in s.
func addCosignFiles(s *fixtureSet) {
	from := func(name string, conv func([]byte) ([]byte, error)) func() ([]byte, error) {
		return func() ([]byte, error) { return conv(s.data(name)) }
	}
	detached := func(name string, cert bool) func() ([]byte, error) {
		return func() ([]byte, error) {
			sig, c, err := CosignDetached(s.data(name))
			if cert {
				return c, err
			}
			return sig, err
		}
	}
	s.add(FileCosignBundle, "artifact.txt.sigstore.json as a cosign legacy bundle (base64Signature, cert, rekorBundle; no TSA timestamp)",
		from(FileArtifactBundle, CosignLegacyBundle))
	s.add(FileCosignTampered, FileCosignBundle+" with a signature byte flipped: must fail",
		from(FileArtifactBundle, cosignTampered))
	s.add(FileCosignSignature, "the signature of "+FileArtifactBundle+" as cosign --output-signature writes it (base64)",
		detached(FileArtifactBundle, false))
	s.add(FileCosignCertificate, "the certificate of "+FileArtifactBundle+" as cosign --output-certificate writes it (base64 of PEM)",
		detached(FileArtifactBundle, true))
	s.add(FileCosignKeySignature, "the signature of "+KeyBundleFile(KeyECDSAP256)+" (base64; no log entry)",
		detached(KeyBundleFile(KeyECDSAP256), false))
	s.add(FileCosignKeyBundle, KeyBundleFile(KeyECDSAP256)+" as a cosign legacy bundle (base64Signature only)",
		from(KeyBundleFile(KeyECDSAP256), CosignLegacyBundle))
	s.add(FileCosignEd25519, KeyBundleFile(KeyEd25519)+" as a cosign legacy bundle (base64Signature only; Ed25519 signs the whole artifact)",
		from(KeyBundleFile(KeyEd25519), CosignLegacyBundle))
	s.add(FileCosignAttestation, FileAttestation+" as a cosign attest-blob legacy bundle (base64 DSSE envelope, cert, rekorBundle)",
		from(FileAttestation, CosignLegacyBundle))
}

// demoStatement returns the in-toto statement the demo attestations sign.
func demoStatement() ([]byte, error) { return demoStatementWith(func(map[string]any) {}) }

// demoStatementWith is demoStatement with its workflow parameters changed
// by edit.
func demoStatementWith(edit func(workflow map[string]any)) ([]byte, error) {
	workflow := map[string]any{
		"ref":        DemoRef,
		"repository": DemoRepository,
		"path":       ".github/workflows/release.yml",
	}
	edit(workflow)
	predicate := map[string]any{
		"buildDefinition": map[string]any{
			"buildType":          "https://actions.github.io/buildtypes/workflow/v1",
			"externalParameters": map[string]any{"workflow": workflow},
		},
		"runDetails": map[string]any{
			"builder": map[string]any{"id": DemoIdentity},
		},
	}
	return Statement(FileArtifact, []byte(DemoArtifact), SLSAProvenanceV1, predicate)
}

// readme describes the files.
func readme(files []fixture) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "Sigstore test fixtures written by hallmark's internal/sigtest.WriteFixtures.\n")
	fmt.Fprintf(&b, "Everything here is fake and made fresh on every run; do not trust it.\n\n")
	fmt.Fprintf(&b, "Keyless bundles verify against %s; unless stated otherwise they were\n", FileTrustedRoot)
	fmt.Fprintf(&b, "signed by identity %s\nwith issuer %s.\n\n", DemoIdentity, GitHubIssuer)
	for _, f := range files {
		fmt.Fprintf(&b, "%s\n    %s\n", f.name, f.about)
	}
	fmt.Fprintf(&b, "%s\n    this file\n", FileReadme)
	return b.Bytes()
}

// tamperPayload replaces old with new in the DSSE payload of a bundle,
// keeping the signature: a bundle whose content was changed after signing.
func tamperPayload(bundleJSON []byte, old, new string) ([]byte, error) {
	var b map[string]any
	if err := json.Unmarshal(bundleJSON, &b); err != nil {
		return nil, err
	}
	env, ok := b["dsseEnvelope"].(map[string]any)
	if !ok {
		return nil, errors.New("sigtest: not a DSSE bundle")
	}
	payload, err := base64.StdEncoding.DecodeString(env["payload"].(string))
	if err != nil {
		return nil, err
	}
	edited := bytes.ReplaceAll(payload, []byte(old), []byte(new))
	if bytes.Equal(edited, payload) {
		return nil, fmt.Errorf("sigtest: %q not found in the payload", old)
	}
	env["payload"] = base64.StdEncoding.EncodeToString(edited)
	return json.Marshal(b)
}
