package cli

import (
	"bytes"
	"context"
	"crypto"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/hallmark-dev/hallmark/internal/sigtest"
	"github.com/hallmark-dev/hallmark/internal/source/oci"
	"github.com/hallmark-dev/hallmark/internal/source/oci/ocitest"
)

// ociKit is a key pair on disk and a registry, for the oci:// tests.
type ociKit struct {
	t            *testing.T
	reg          *ocitest.Registry
	key, pub     string // the key pair's files
	otherPub     string // another key's public key
	keyFlags     []string
	verifyFlags  []string
	otherFlags   []string
	insecureFlag string
}

func newOCIKit(t *testing.T, k ocitest.Kind) *ociKit {
	t.Helper()
	// The default keychain reads the Docker config: an empty one here.
	t.Setenv("DOCKER_CONFIG", t.TempDir())
	dir := t.TempDir()
	kit := &ociKit{t: t, reg: ocitest.Start(t, k, ocitest.Options{}), insecureFlag: "--allow-insecure-registry"}
	kit.key, kit.pub = writeKeyPair(t, dir, "k")
	_, kit.otherPub = writeKeyPair(t, dir, "other")
	kit.keyFlags = []string{"--key", kit.key, "--tlog-upload=false", "--timestamp=false", kit.insecureFlag}
	kit.verifyFlags = []string{"--key", kit.pub, "--insecure-ignore-tlog", kit.insecureFlag}
	kit.otherFlags = []string{"--key", kit.otherPub, "--insecure-ignore-tlog", kit.insecureFlag}
	return kit
}

func writeKeyPair(t testing.TB, dir, name string) (string, string) {
	t.Helper()
	k, err := sigtest.GenerateKey("ecdsa-p256")
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	pubPEM, err := sigtest.PublicKeyPEM(k.Public())
	if err != nil {
		t.Fatal(err)
	}
	key, pub := filepath.Join(dir, name+".key"), filepath.Join(dir, name+".pub")
	if err := os.WriteFile(key, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(pub, pubPEM, 0o644); err != nil {
		t.Fatal(err)
	}
	return key, pub
}

type cliRun struct {
	code           int
	stdout, stderr string
}

func runHallmark(t *testing.T, stdin string, args ...string) cliRun {
	t.Helper()
	var out, errb bytes.Buffer
	code := Run(context.Background(), args, Stdio{In: strings.NewReader(stdin), Out: &out, Err: &errb})
	return cliRun{code, out.String(), errb.String()}
}

// want runs hallmark and checks the exit code and that stdout+stderr
// match each pattern.
func (k *ociKit) want(code int, patterns []string, args ...string) cliRun {
	k.t.Helper()
	r := runHallmark(k.t, "", args...)
	if r.code != code {
		k.t.Fatalf("hallmark %s: exit %d, want %d\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), r.code, code, r.stdout, r.stderr)
	}
	for _, p := range patterns {
		if !regexp.MustCompile(p).MatchString(r.stdout + r.stderr) {
			k.t.Errorf("hallmark %s: output does not match %q\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), p, r.stdout, r.stderr)
		}
	}
	return r
}

func cat(a []string, b ...string) []string { return append(append([]string{}, a...), b...) }

// TestOCISignAttestVerify runs sign, attest and verify of an image by tag
// and by digest against both registries: the one with the referrers API
// and the one where the referrers tag schema is used.
func TestOCISignAttestVerify(t *testing.T) {
	for _, kind := range ocitest.Kinds {
		t.Run(string(kind), func(t *testing.T) {
			k := newOCIKit(t, kind)
			digest := k.reg.PushImage(t, "app:v1", ocitest.Options{})
			byTag, byDigest := k.reg.Ref("app:v1"), k.reg.Ref("app@"+digest)
			q := regexp.QuoteMeta

			k.want(0, []string{q(byTag + "@" + digest + ": " + k.reg.Host + "/app@sha256:")}, cat([]string{"sign"}, cat(k.keyFlags, byTag)...)...)
			k.want(0, []string{"predicate slsaprovenance1"}, cat([]string{"attest", "--provenance"}, cat(k.keyFlags, byTag)...)...)
			// --bundle OUT: pushed and written.
			out := filepath.Join(t.TempDir(), "app.sigstore.json")
			k.want(0, []string{q(out) + " and " + q(k.reg.Host+"/app@sha256:")}, cat([]string{"sign", "--bundle", out}, cat(k.keyFlags, byTag)...)...)
			k.want(0, nil, "verify", "--bundle", out, "--key", k.pub, "--insecure-ignore-tlog", digest)

			k.want(0, []string{"^OK " + q(byTag+"@"+digest) + `: signed with key .*\[bundle ` + q(k.reg.Host+"/app@sha256:")},
				cat([]string{"verify"}, cat(k.verifyFlags, byTag)...)...)
			k.want(0, []string{"^OK " + q(byDigest) + ": "}, cat([]string{"verify"}, cat(k.verifyFlags, byDigest)...)...)
			k.want(0, []string{`predicate https://slsa.dev/provenance/v1`}, cat([]string{"verify", "--type", "slsaprovenance1"}, cat(k.verifyFlags, byDigest)...)...)
			// gh's spelling.
			k.want(0, nil, cat([]string{"verify", "--bundle-from-oci"}, cat(k.verifyFlags, byDigest)...)...)
			// Another key: both bundles refused, each listed.
			r := k.want(3, []string{"no signature for " + q(digest) + ": the 3 Sigstore bundles that refer to it were refused"},
				cat([]string{"verify"}, cat(k.otherFlags, byDigest)...)...)
			if n := strings.Count(r.stderr, "hallmark:   refused "); n != 3 {
				t.Errorf("%d refusals listed, want 3:\n%s", n, r.stderr)
			}
			// A type nobody attested.
			k.want(3, []string{"no signature for " + q(digest)}, cat([]string{"verify", "--type", "spdxjson"}, cat(k.verifyFlags, byDigest)...)...)

			// The tag now names another image: its signature does not
			// carry over.
			newDigest := k.reg.PushImage(t, "app:v1", ocitest.Options{})
			k.want(3, []string{"no signature for " + q(newDigest) + ": no Sigstore bundle refers to it", "hint: sign the image"},
				cat([]string{"verify"}, cat(k.verifyFlags, byTag)...)...)
			// The old digest still verifies.
			k.want(0, nil, cat([]string{"verify"}, cat(k.verifyFlags, byDigest)...)...)
		})
	}
}

// TestOCIForeignBundle: a valid bundle for another image, pushed as a
// referrer of this one, is refused (its subject is the other digest).
func TestOCIForeignBundle(t *testing.T) {
	for _, kind := range ocitest.Kinds {
		t.Run(string(kind), func(t *testing.T) {
			k := newOCIKit(t, kind)
			victim := k.reg.PushImage(t, "app:v1", ocitest.Options{})
			other := k.reg.PushImage(t, "app:other", ocitest.Options{})
			out := filepath.Join(t.TempDir(), "other.sigstore.json")
			k.want(0, nil, cat([]string{"sign", "--no-push", "--bundle", out}, cat(k.keyFlags, k.reg.Ref("app:other"))...)...)
			data, err := os.ReadFile(out)
			if err != nil {
				t.Fatal(err)
			}
			pushAsReferrer(t, k.reg.Ref("app:v1"), data)
			// Nothing was pushed for the other image (--no-push).
			k.want(3, []string{"no signature for " + regexp.QuoteMeta(other) + ": no Sigstore bundle"}, cat([]string{"verify"}, cat(k.verifyFlags, k.reg.Ref("app:other"))...)...)
			// Its bundle does verify for the other image's digest.
			k.want(0, nil, "verify", "--bundle", out, "--key", k.pub, "--insecure-ignore-tlog", other)
			k.want(3, []string{"no signature for " + regexp.QuoteMeta(victim) + ": the one Sigstore bundle that refers to it was refused",
				"refused " + regexp.QuoteMeta(k.reg.Host+"/app@sha256:") + ".*: the artifact is not the one that was signed"},
				cat([]string{"verify"}, cat(k.verifyFlags, k.reg.Ref("app:v1"))...)...)
		})
	}
}

// pushAsReferrer pushes a bundle as a referrer of the image ref names.
func pushAsReferrer(t *testing.T, ref string, bundle []byte) {
	t.Helper()
	c := oci.New(oci.Options{AllowInsecure: true})
	r, err := oci.ParseReference(ref, true)
	if err != nil {
		t.Fatal(err)
	}
	im, err := c.Resolve(context.Background(), r)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.PushBundle(context.Background(), oci.Push{Subject: im, Bundle: bundle, Content: oci.ContentDSSE, PredicateType: oci.CosignSignPredicateType}); err != nil {
		t.Fatal(err)
	}
}

// TestOCIKeylessIdentity: a keyless signature (a fake Sigstore instance's)
// verifies for its signer and is refused for another identity.
func TestOCIKeylessIdentity(t *testing.T) {
	k := newOCIKit(t, ocitest.GGCR)
	digest := k.reg.PushImage(t, "app:v1", ocitest.Options{})
	inst, err := sigtest.New()
	if err != nil {
		t.Fatal(err)
	}
	hex := strings.TrimPrefix(digest, "sha256:")
	st := `{"_type":"https://in-toto.io/Statement/v1","subject":[{"name":"` + k.reg.Host + `/app","digest":{"sha256":"` + hex + `"}}],` +
		`"predicateType":"https://sigstore.dev/cosign/sign/v1","predicate":{}}`
	b, err := inst.Attest([]byte(st), sigtest.Options{Identity: "alice@example.com", Issuer: "https://accounts.example.com"})
	if err != nil {
		t.Fatal(err)
	}
	pushAsReferrer(t, k.reg.Ref("app:v1"), b)
	trJSON, err := inst.TrustedRootJSON()
	if err != nil {
		t.Fatal(err)
	}
	tr := filepath.Join(t.TempDir(), "trusted_root.json")
	if err := os.WriteFile(tr, trJSON, 0o644); err != nil {
		t.Fatal(err)
	}
	flags := []string{"--offline", "--trusted-root", tr, "--certificate-oidc-issuer", "https://accounts.example.com", k.insecureFlag}
	k.want(0, []string{`signed by alice@example.com \(issuer https://accounts.example.com\)`}, cat([]string{"verify", "--certificate-identity", "alice@example.com"}, cat(flags, k.reg.Ref("app:v1"))...)...)
	k.want(3, []string{"no signature for " + regexp.QuoteMeta(digest), `identity \(SAN\)\s+expected "bob@example.com"`, `actual\s+"alice@example.com"`},
		cat([]string{"verify", "--certificate-identity", "bob@example.com"}, cat(flags, k.reg.Ref("app:v1"))...)...)
}

// TestOCIIndex: a multi-platform index is signed as the index and, with
// --recursive, each platform manifest; verify --recursive then checks all.
func TestOCIIndex(t *testing.T) {
	for _, kind := range ocitest.Kinds {
		t.Run(string(kind), func(t *testing.T) {
			k := newOCIKit(t, kind)
			ix, plats := k.reg.PushIndex(t, "multi:v1", []string{"linux/amd64", "linux/arm64"}, ocitest.Options{})
			ref := k.reg.Ref("multi:v1")
			q := regexp.QuoteMeta
			r := k.want(0, []string{q(ref + "@" + ix), q("@" + plats[0].Digest + " (linux/amd64)"), q("@" + plats[1].Digest + " (linux/arm64)")},
				cat([]string{"sign", "--recursive"}, cat(k.keyFlags, ref)...)...)
			if n := strings.Count(r.stdout, "\n"); n != 3 {
				t.Errorf("%d lines signed, want 3:\n%s", n, r.stdout)
			}
			r = k.want(0, []string{"(?m)^OK " + q(ref+"@"+ix) + ": ", "(?m)^OK .*" + q(plats[1].Digest+" (linux/arm64)")},
				cat([]string{"verify", "--recursive"}, cat(k.verifyFlags, ref)...)...)
			if n := strings.Count(r.stdout, "OK "); n != 3 {
				t.Errorf("%d verified, want 3:\n%s", n, r.stdout)
			}
			k.want(0, []string{q(plats[0].Digest + " (linux/amd64)")}, cat([]string{"verify", "--platform", "linux/amd64"}, cat(k.verifyFlags, ref)...)...)
			k.want(2, []string{`no manifest for platform "windows/amd64" \(it has: linux/amd64, linux/arm64\)`},
				cat([]string{"verify", "--platform", "windows/amd64"}, cat(k.verifyFlags, ref)...)...)

			// Only the index signed: the platforms are not.
			ix2, plats2 := k.reg.PushIndex(t, "multi:v2", []string{"linux/amd64", "linux/arm64"}, ocitest.Options{})
			ref2 := k.reg.Ref("multi:v2")
			k.want(0, []string{q(ref2 + "@" + ix2)}, cat([]string{"sign"}, cat(k.keyFlags, ref2)...)...)
			k.want(0, nil, cat([]string{"verify"}, cat(k.verifyFlags, ref2)...)...)
			k.want(3, []string{"(?m)^OK " + q(ref2+"@"+ix2), "no signature for " + q(plats2[0].Digest), "no signature for " + q(plats2[1].Digest)},
				cat([]string{"verify", "--recursive"}, cat(k.verifyFlags, ref2)...)...)
		})
	}
}

// TestOCIRegistryErrors: auth failure, not found and unreachable are told
// apart, each with its hint, and exit 1; bad references exit 2.
func TestOCIRegistryErrors(t *testing.T) {
	t.Setenv("DOCKER_CONFIG", t.TempDir())
	dir := t.TempDir()
	_, pub := writeKeyPair(t, dir, "k")
	vf := []string{"verify", "--key", pub, "--insecure-ignore-tlog"}
	secured := ocitest.Start(t, ocitest.Distribution, ocitest.Options{Username: "alice", Password: "s3cret"})
	digest := secured.PushImage(t, "app:v1", ocitest.Options{Username: "alice", Password: "s3cret"})
	open := ocitest.Start(t, ocitest.GGCR, ocitest.Options{})
	gone := ocitest.Start(t, ocitest.GGCR, ocitest.Options{})
	gone.Close()

	cases := []struct {
		name     string
		stdin    string
		args     []string
		code     int
		patterns []string
	}{
		{"no credentials", "", cat(vf, "--allow-insecure-registry", secured.Ref("app:v1")), 1,
			[]string{"registry refused access", "hint: log in with 'docker login REGISTRY'"}},
		{"wrong password", "nope\n", cat(vf, "--allow-insecure-registry", "--registry-username", "alice", "--registry-password-stdin", secured.Ref("app:v1")), 1,
			[]string{"registry refused access"}},
		{"right password", "s3cret\n", cat(vf, "--allow-insecure-registry", "--registry-username", "alice", "--registry-password-stdin", secured.Ref("app:v1")), 3,
			[]string{"no signature for " + regexp.QuoteMeta(digest)}},
		{"no such tag", "", cat(vf, "--allow-insecure-registry", open.Ref("app:v9")), 1,
			[]string{"not found in the registry", "hint: check the registry, repository and tag"}},
		{"unreachable", "", cat(vf, "--allow-insecure-registry", gone.Ref("app:v1")), 1,
			[]string{"registry unreachable", "hint: check the registry's host name and port"}},
		{"plain HTTP without the flag", "", cat(vf, open.Ref("app:v1")), 1,
			[]string{"registry unreachable", "hint: the registry speaks plain HTTP: for a registry on localhost pass --allow-insecure-registry"}},
		{"plain HTTP elsewhere", "", cat(vf, "--allow-insecure-registry", "oci://registry.example.com/app:v1"), 2,
			[]string{"plain HTTP is allowed only to localhost"}},
		{"no registry", "", cat(vf, "oci://alpine:3"), 2, []string{"name the registry"}},
		{"username without password", "", cat(vf, "--allow-insecure-registry", "--registry-username", "alice", open.Ref("app:v1")), 2,
			[]string{"--registry-username needs --registry-password-stdin"}},
		{"images and files", "", cat(vf, open.Ref("app:v1"), "file.txt"), 2, []string{"cannot be mixed"}},
		{"registry flags for a file", "", cat(vf, "--recursive", "file.txt"), 2, []string{"--recursive: only for oci:// images"}},
		{"sign a file with --no-push", "", []string{"sign", "--key", "k.key", "--no-push", "file.txt"}, 2, []string{"--no-push: only for oci:// images"}},
		{"no-push without bundle", "", []string{"sign", "--key", "k.key", "--no-push", open.Ref("app:v1")}, 2, []string{"--no-push pushes nothing"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := runHallmark(t, tc.stdin, tc.args...)
			if r.code != tc.code {
				t.Fatalf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", r.code, tc.code, r.stdout, r.stderr)
			}
			for _, p := range tc.patterns {
				if !regexp.MustCompile(p).MatchString(r.stderr) {
					t.Errorf("stderr does not match %q:\n%s", p, r.stderr)
				}
			}
			for _, kind := range []string{"registry refused access", "not found in the registry", "registry unreachable"} {
				if strings.Contains(r.stderr, kind) && !strings.Contains(strings.Join(tc.patterns, " "), kind) {
					t.Errorf("stderr says %q too:\n%s", kind, r.stderr)
				}
			}
		})
	}
}

// TestOCILegacyAndJSON: cosign v2's legacy .sig tag is read when no
// Sigstore bundle refers to the image: a signature of a simple-signing
// payload naming the image verifies; one naming another image, or a
// random layer, is refused; the JSON report says the same with exit 3.
func TestOCILegacyAndJSON(t *testing.T) {
	k := newOCIKit(t, ocitest.Distribution)
	q := regexp.QuoteMeta
	key := readTestKey(t, k.key)
	legacySig := func(payload string) ocitest.LegacyLayer {
		sum := sha256.Sum256([]byte(payload))
		sig, err := key.Sign(rand.Reader, sum[:], crypto.SHA256)
		if err != nil {
			t.Fatal(err)
		}
		return ocitest.LegacyLayer{MediaType: "application/vnd.dev.cosign.simplesigning.v1+json", Data: []byte(payload),
			Annotations: map[string]string{"dev.cosignproject.cosign/signature": base64.StdEncoding.EncodeToString(sig)}}
	}
	payload := func(digest string) string {
		return `{"critical":{"identity":{"docker-reference":"` + k.reg.Host + `/app"},"image":{"docker-manifest-digest":"` + digest +
			`"},"type":"cosign container image signature"},"optional":null}`
	}
	legacyTag := func(digest string) string { return "app:" + strings.Replace(digest, ":", "-", 1) + ".sig" }

	good := k.reg.PushImage(t, "app:good", ocitest.Options{})
	k.reg.PushLegacy(t, legacyTag(good), []ocitest.LegacyLayer{legacySig(payload(good))})
	k.want(0, []string{"^OK " + q(k.reg.Ref("app:good")+"@"+good) + ": signed with key .*" + q("[bundle "+k.reg.Host+"/"+legacyTag(good)+"#1]")},
		cat([]string{"verify"}, cat(k.verifyFlags, k.reg.Ref("app:good"))...)...)
	k.want(3, []string{"the one cosign v2 legacy signature of it was refused"}, cat([]string{"verify"}, cat(k.otherFlags, k.reg.Ref("app:good"))...)...)

	// A genuine signature of another image's payload, copied to this one.
	other := k.reg.PushImage(t, "app:other", ocitest.Options{})
	k.reg.PushLegacy(t, legacyTag(other), []ocitest.LegacyLayer{legacySig(payload(good)),
		{MediaType: "application/octet-stream", Data: []byte("not a signature")}})
	k.want(3, []string{"no signature for " + q(other) + ": the one cosign v2 legacy signature of it was refused: .*not about this image: it names the image " + q(`"`+good+`"`)},
		cat([]string{"verify"}, cat(k.verifyFlags, k.reg.Ref("app:other"))...)...)

	r := k.want(3, []string{`"schemaVersion"`, `"cause": "no-attestation"`, "no signature for " + q(other)},
		cat([]string{"verify", "--output", "json"}, cat(k.verifyFlags, k.reg.Ref("app:other"))...)...)
	if !strings.HasPrefix(strings.TrimSpace(r.stdout), "{") {
		t.Errorf("stdout is not the JSON report:\n%s", r.stdout)
	}
}

func readTestKey(t *testing.T, path string) crypto.Signer {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := pem.Decode(data)
	k, err := x509.ParsePKCS8PrivateKey(b.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return k.(crypto.Signer)
}

// TestOCIRepoAcceptsImageSignatures: --repo (and --owner) default to SLSA
// provenance for attestations, as gh does; an image signature (cosign's
// sign/v1 statement, what hallmark sign oci:// makes) is a signature, not
// an attestation, and passes too.
func TestOCIRepoAcceptsImageSignatures(t *testing.T) {
	k := newOCIKit(t, ocitest.GGCR)
	digest := k.reg.PushImage(t, "app:v1", ocitest.Options{})
	inst, err := sigtest.New()
	if err != nil {
		t.Fatal(err)
	}
	hex := strings.TrimPrefix(digest, "sha256:")
	st := `{"_type":"https://in-toto.io/Statement/v1","subject":[{"name":"` + k.reg.Host + `/app","digest":{"sha256":"` + hex + `"}}],` +
		`"predicateType":"https://sigstore.dev/cosign/sign/v1","predicate":{}}`
	b, err := inst.Attest([]byte(st), sigtest.Options{Identity: sigtest.DemoIdentity, Issuer: sigtest.GitHubIssuer, GitHub: sigtest.DemoClaims()})
	if err != nil {
		t.Fatal(err)
	}
	pushAsReferrer(t, k.reg.Ref("app:v1"), b)
	trJSON, err := inst.TrustedRootJSON()
	if err != nil {
		t.Fatal(err)
	}
	tr := filepath.Join(t.TempDir(), "trusted_root.json")
	if err := os.WriteFile(tr, trJSON, 0o644); err != nil {
		t.Fatal(err)
	}
	repo := strings.TrimPrefix(sigtest.DemoRepository, "https://github.com/")
	flags := []string{"verify", "--offline", "--trusted-root", tr, k.insecureFlag}
	k.want(0, []string{"predicate https://sigstore.dev/cosign/sign/v1"}, cat(flags, "--repo", repo, k.reg.Ref("app:v1"))...)
	// An explicit --type still applies to it.
	k.want(3, []string{"no signature for " + regexp.QuoteMeta(digest)}, cat(flags, "--repo", repo, "--type", "slsaprovenance1", k.reg.Ref("app:v1"))...)
	// Another repository: refused.
	k.want(3, []string{"no signature for " + regexp.QuoteMeta(digest)}, cat(flags, "--repo", "someone/else", k.reg.Ref("app:v1"))...)
}
