package cli

import (
	"context"
	"crypto/ecdsa"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/hallmark-dev/hallmark/internal/sigtest"
	"github.com/hallmark-dev/hallmark/internal/source/oci"
	"github.com/hallmark-dev/hallmark/internal/source/oci/ocitest"
)

// policyKit is a registry, a fake Sigstore instance (so that key-signed
// bundles carry the transparency log entry a policy requires) and two
// keys, for the verify --policy oci:// tests.
type policyKit struct {
	*ociKit
	inst       *sigtest.Instance
	signer     *ecdsa.PrivateKey
	trustFlags []string
	dir        string
}

func newPolicyKit(t *testing.T, k ocitest.Kind) *policyKit {
	t.Helper()
	kit := &policyKit{ociKit: newOCIKit(t, k), dir: t.TempDir()}
	var err error
	if kit.inst, err = sigtest.New(); err != nil {
		t.Fatal(err)
	}
	tr, err := kit.inst.TrustedRootJSON()
	if err != nil {
		t.Fatal(err)
	}
	root := filepath.Join(kit.dir, "trusted_root.json")
	if err := os.WriteFile(root, tr, 0o644); err != nil {
		t.Fatal(err)
	}
	kit.signer = readTestKey(t, kit.key).(*ecdsa.PrivateKey)
	kit.trustFlags = []string{"--offline", "--trusted-root", root, kit.insecureFlag}
	return kit
}

// attestImage signs a statement of predicateType about the image's digest
// with the kit's key, logged in the fake Rekor; push adds it as a referrer.
func (k *policyKit) attestImage(digest, predicateType string, predicate any, push bool) []byte {
	k.t.Helper()
	st, err := json.Marshal(map[string]any{
		"_type":         sigtest.InTotoStatementV1,
		"subject":       []any{map[string]any{"name": k.reg.Host + "/app", "digest": map[string]string{"sha256": strings.TrimPrefix(digest, "sha256:")}}},
		"predicateType": predicateType,
		"predicate":     predicate,
	})
	if err != nil {
		k.t.Fatal(err)
	}
	b, err := k.inst.AttestWithKeyLogged(k.signer, "k", st, time.Now(), sigtest.BundleV03)
	if err != nil {
		k.t.Fatal(err)
	}
	if push {
		k.push(digest, b, predicateType)
	}
	return b
}

// push adds bundle as a referrer of the manifest digest names in the kit's
// registry (repository app unless the digest is another repository's:
// found by trying the repositories the tests use).
func (k *policyKit) push(digest string, bundle []byte, predicateType string) {
	k.t.Helper()
	c := oci.New(oci.Options{AllowInsecure: true})
	for _, repo := range []string{"app", "web", "db"} {
		r, err := oci.ParseReference(k.reg.Ref(repo+"@"+digest), true)
		if err != nil {
			k.t.Fatal(err)
		}
		im, err := c.Resolve(context.Background(), r)
		if err != nil {
			continue
		}
		if _, err := c.PushBundle(context.Background(), oci.Push{Subject: im, Bundle: bundle, Content: oci.ContentDSSE, PredicateType: predicateType}); err != nil {
			k.t.Fatal(err)
		}
		return
	}
	k.t.Fatalf("no repository holds %s", digest)
}

// signAndProve signs the image and attests its provenance, both pushed.
func (k *policyKit) signAndProve(digest string) {
	k.t.Helper()
	k.attestImage(digest, oci.CosignSignPredicateType, map[string]any{}, true)
	k.attestImage(digest, sigtest.SLSAProvenanceV1, provenancePredicate, true)
}

const insecureWarning = "hallmark: warning: --allow-insecure-registry: plain HTTP to localhost registries, without TLS\n"

var provenancePredicate = map[string]any{
	"buildDefinition": map[string]any{"buildType": "https://example.com/build/v1", "externalParameters": map[string]any{}},
	"runDetails":      map[string]any{"builder": map[string]any{"id": "https://example.com/builder"}},
}

// policy writes a policy file whose artifacts entry glob requires a
// signature and a provenance of signer ci (the public key file pub).
func (k *policyKit) policy(name, glob, pub string) string {
	k.t.Helper()
	text := `version: 1
signers:
  ci: {key: ` + pub + `}
artifacts:
  - name: "` + glob + `"
    attestations:
      - predicateType: signature
        signers: "1 of [ci]"
      - predicateType: slsaprovenance1
        signers: "1 of [ci]"
        rules:
          - name: our-builder
            cel: predicate.runDetails.builder.id == "https://example.com/builder"
`
	p := filepath.Join(k.dir, name)
	if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
		k.t.Fatal(err)
	}
	return p
}

func (k *policyKit) verify(code int, patterns []string, args ...string) cliRun {
	k.t.Helper()
	return k.want(code, patterns, cat(cat([]string{"verify"}, k.trustFlags...), args...)...)
}

// TestOCIPolicy: verify --policy over an image by tag and by digest, on
// both registries: a key-signed image with provenance passes a policy that
// names that key and predicate (by the reference, or by its repository);
// a policy requiring another signer fails, naming the rule, exit 3; a
// re-tagged image fails with "no signature for DIGEST".
func TestOCIPolicy(t *testing.T) {
	for _, kind := range ocitest.Kinds {
		t.Run(string(kind), func(t *testing.T) {
			k := newPolicyKit(t, kind)
			q := regexp.QuoteMeta
			digest := k.reg.PushImage(t, "app:v1", ocitest.Options{})
			k.signAndProve(digest)
			byTag, byDigest := k.reg.Ref("app:v1"), k.reg.Ref("app@"+digest)
			byRepo := k.policy("repo.yaml", k.reg.Ref("app"), k.pub)

			for _, ref := range []string{byTag, byDigest} {
				r := k.verify(0, []string{"^OK " + q(ref) + ": policy " + q(byRepo) + `, 3 rules passed over 2 attestations\n`}, "--policy", byRepo, ref)
				if strings.Count(r.stdout, "\n") != 1 || r.stderr != insecureWarning {
					t.Errorf("not one OK line and the --allow-insecure-registry warning only:\nstdout:\n%s\nstderr:\n%s", r.stdout, r.stderr)
				}
			}
			// The reference as given matches too: a glob over tags.
			k.verify(0, []string{"^OK " + q(byTag) + ": "}, "--policy", k.policy("tags.yaml", k.reg.Ref("app:v*"), k.pub), byTag)
			// ... but a tag glob does not match a reference by digest.
			k.verify(3, []string{`(?m)^hallmark:   artifacts for ` + q(byDigest) + `$`, `actual   no entry matches ` + q(`"`+byDigest+`"`)},
				"--policy", k.policy("tags.yaml", k.reg.Ref("app:v*"), k.pub), byDigest)

			r := k.verify(0, []string{`"passed": true`, `"aliases": \[\s*"` + q(k.reg.Ref("app")) + `"`, `"digest": "` + q(digest) + `"`, `"attestations": 2`},
				"--policy", byRepo, "--output", "json", byTag)
			var rep struct {
				Images []policyImage `json:"images"`
			}
			if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil || len(rep.Images) != 1 || rep.Images[0].Bundles != 2 || rep.Images[0].Error != "" {
				t.Errorf("images in the JSON report: %+v (%v)", rep.Images, err)
			}

			// Another signer: both bundles refused, each rule failing.
			other := k.policy("other.yaml", k.reg.Ref("app"), k.otherPub)
			r = k.verify(3, []string{
				`(?m)^hallmark: error: policy ` + q(other) + ` rejected: 3 of 3 rules failed$`,
				`(?m)^hallmark:   artifacts\[0\]\.attestations\[0\]\.signers for ` + q(byTag) + ` \(`,
				`(?m)^hallmark:   artifacts\[0\]\.attestations\[1\]\.signers for ` + q(byTag) + ` \(`,
				`(?m)^hallmark:   ` + q(byTag) + `: no signature for ` + q(digest) + `: the 2 signatures found for it were refused`,
			}, "--policy", other, byTag)
			if n := strings.Count(r.stderr, "hallmark:   refused "+k.reg.Host+"/app@sha256:"); n != 2 {
				t.Errorf("%d refusals listed, want 2:\n%s", n, r.stderr)
			}
			r = k.verify(3, []string{`"passed": false`, `"error": "no signature for ` + q(digest)}, "--policy", other, "--output", "json", byTag)
			if !strings.HasPrefix(r.stdout, "{") {
				t.Errorf("stdout is not the JSON report:\n%s", r.stdout)
			}

			// The tag now names another image: nothing refers to it.
			newDigest := k.reg.PushImage(t, "app:v1", ocitest.Options{})
			k.verify(3, []string{
				`actual   0: no plain signature covers ` + q(byTag),
				`(?m)^hallmark:   ` + q(byTag) + `: no signature for ` + q(newDigest) + `: no Sigstore bundle refers to it`,
				`hint: sign the image`,
			}, "--policy", byRepo, byTag)
			// The old digest still passes.
			k.verify(0, nil, "--policy", byRepo, byDigest)
		})
	}
}

// TestOCIPolicyTwoImages: one artifacts glob over two repositories covers
// both images; an image no entry names fails the rule "artifacts", and an
// unsigned one its signers rules, in the same run.
func TestOCIPolicyTwoImages(t *testing.T) {
	k := newPolicyKit(t, ocitest.GGCR)
	q := regexp.QuoteMeta
	app := k.reg.PushImage(t, "app:v1", ocitest.Options{})
	web := k.reg.PushImage(t, "web:v1", ocitest.Options{})
	db := k.reg.PushImage(t, "db:v1", ocitest.Options{})
	for _, d := range []string{app, web, db} {
		k.signAndProve(d)
	}
	both := k.policy("both.yaml", "oci://"+k.reg.Host+"/{app,web}", k.pub)
	r := k.verify(0, []string{"(?m)^OK " + q(k.reg.Ref("app:v1")) + ": ", "(?m)^OK " + q(k.reg.Ref("web@"+web)) + ": "},
		"--policy", both, k.reg.Ref("app:v1"), k.reg.Ref("web@"+web))
	if n := strings.Count(r.stdout, "OK "); n != 2 {
		t.Errorf("%d OK lines, want 2:\n%s", n, r.stdout)
	}
	k.verify(3, []string{`(?m)^hallmark: error: policy .* rejected: 1 of 7 rules failed$`, `(?m)^hallmark:   artifacts for ` + q(k.reg.Ref("db:v1")) + `$`},
		"--policy", both, k.reg.Ref("app:v1"), k.reg.Ref("web:v1"), k.reg.Ref("db:v1"))

	unsigned := k.reg.PushImage(t, "web:v2", ocitest.Options{})
	k.verify(3, []string{`(?m)^hallmark: error: policy .* rejected: 3 of 9 rules failed$`,
		`(?m)^hallmark:   artifacts\[0\]\.attestations\[0\]\.signers for ` + q(k.reg.Ref("web:v2")) + ` \(`,
		`(?m)^hallmark:   ` + q(k.reg.Ref("web:v2")) + `: no signature for ` + q(unsigned) + `: no Sigstore bundle refers to it`},
		"--policy", both, k.reg.Ref("app:v1"), k.reg.Ref("web:v1"), k.reg.Ref("web:v2"))
}

// TestOCIPolicyLocalBundle: --bundle adds to what the registry holds: the
// provenance kept as a file, the signature in the registry.
func TestOCIPolicyLocalBundle(t *testing.T) {
	k := newPolicyKit(t, ocitest.Distribution)
	digest := k.reg.PushImage(t, "app:v1", ocitest.Options{})
	k.attestImage(digest, oci.CosignSignPredicateType, map[string]any{}, true)
	prov := filepath.Join(k.dir, "provenance.sigstore.json")
	if err := os.WriteFile(prov, k.attestImage(digest, sigtest.SLSAProvenanceV1, provenancePredicate, false), 0o644); err != nil {
		t.Fatal(err)
	}
	p := k.policy("p.yaml", k.reg.Ref("app"), k.pub)
	k.verify(3, []string{`rejected: 2 of 3 rules failed`, `actual   0: no slsaprovenance1 attestation covers`}, "--policy", p, k.reg.Ref("app:v1"))
	k.verify(0, []string{`3 rules passed over 2 attestations`}, "--policy", p, "--bundle", prov, k.reg.Ref("app:v1"))
}

// TestOCIPolicyLegacy: a cosign v2 legacy .sig signature (with its Rekor
// bundle) meets a policy's signature requirement; one whose payload names
// another image is refused.
func TestOCIPolicyLegacy(t *testing.T) {
	k := newPolicyKit(t, ocitest.Distribution)
	q := regexp.QuoteMeta
	legacySig := func(digest string) ocitest.LegacyLayer {
		payload := `{"critical":{"identity":{"docker-reference":"` + k.reg.Host + `/app"},"image":{"docker-manifest-digest":"` + digest +
			`"},"type":"cosign container image signature"},"optional":null}`
		b, err := k.inst.SignBlobWithKeyLogged(k.signer, []byte(payload))
		if err != nil {
			t.Fatal(err)
		}
		lj, err := sigtest.CosignLegacyBundle(b)
		if err != nil {
			t.Fatal(err)
		}
		var l struct {
			Base64Signature string          `json:"base64Signature"`
			RekorBundle     json.RawMessage `json:"rekorBundle"`
		}
		if err := json.Unmarshal(lj, &l); err != nil {
			t.Fatal(err)
		}
		return ocitest.LegacyLayer{MediaType: "application/vnd.dev.cosign.simplesigning.v1+json", Data: []byte(payload),
			Annotations: map[string]string{"dev.cosignproject.cosign/signature": l.Base64Signature, "dev.sigstore.cosign/bundle": string(l.RekorBundle)}}
	}
	legacyTag := func(digest string) string { return "app:" + strings.Replace(digest, ":", "-", 1) + ".sig" }
	p := filepath.Join(k.dir, "sig.yaml")
	if err := os.WriteFile(p, []byte("version: 1\nsigners:\n  ci: {key: "+k.pub+"}\nartifacts:\n  - name: "+k.reg.Ref("app")+
		"\n    attestations:\n      - predicateType: signature\n        signers: [ci]\n"), 0o644); err != nil {
		t.Fatal(err)
	}

	good := k.reg.PushImage(t, "app:good", ocitest.Options{})
	k.reg.PushLegacy(t, legacyTag(good), []ocitest.LegacyLayer{legacySig(good)})
	k.verify(0, []string{"^OK " + q(k.reg.Ref("app:good")) + ": policy .*, 1 rules passed over 1 attestations"}, "--policy", p, k.reg.Ref("app:good"))

	other := k.reg.PushImage(t, "app:other", ocitest.Options{})
	k.reg.PushLegacy(t, legacyTag(other), []ocitest.LegacyLayer{legacySig(good)})
	k.verify(3, []string{`refused ` + q(k.reg.Host+"/"+legacyTag(other)+"#1") + `: .*not about this image`,
		`no signature for ` + q(other) + `: the one signature found for it was refused`}, "--policy", p, k.reg.Ref("app:other"))
}

// TestOCIPolicyIndex: with --recursive each platform manifest is an
// artifact of its own, named by digest and platform, matched by the
// repository alias.
func TestOCIPolicyIndex(t *testing.T) {
	k := newPolicyKit(t, ocitest.GGCR)
	q := regexp.QuoteMeta
	ix, plats := k.reg.PushIndex(t, "app:multi", []string{"linux/amd64", "linux/arm64"}, ocitest.Options{})
	k.signAndProve(ix)
	k.signAndProve(plats[0].Digest)
	p := k.policy("p.yaml", k.reg.Ref("app"), k.pub)
	k.verify(0, []string{"(?m)^OK " + q(k.reg.Ref("app:multi")) + ": ", "(?m)^OK " + q(k.reg.Ref("app@"+plats[0].Digest)+" (linux/amd64)") + ": "},
		"--policy", p, "--platform", "linux/amd64", k.reg.Ref("app:multi"))
	k.verify(3, []string{`no signature for ` + q(plats[1].Digest)}, "--policy", p, "--recursive", k.reg.Ref("app:multi"))
}

// TestOCIPolicyUsage: registry flags without an image, and images mixed
// with files, are usage errors before anything is read.
func TestOCIPolicyUsage(t *testing.T) {
	t.Setenv("DOCKER_CONFIG", t.TempDir())
	cases := []struct {
		name    string
		args    []string
		pattern string
	}{
		{"registry flag for a file", []string{"--recursive", "file.txt"}, `--recursive: only for oci:// images`},
		{"bundle-from-oci for a file", []string{"--bundle-from-oci", "file.txt"}, `--bundle-from-oci reads bundles from the registry of an oci:// image`},
		{"images and files", []string{"oci://127.0.0.1:1/app:v1", "file.txt"}, `cannot be mixed`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := runHallmark(t, "", cat([]string{"verify", "--offline", "--policy", "missing.yaml"}, tc.args...)...)
			if r.code != 2 || !regexp.MustCompile(tc.pattern).MatchString(r.stderr) {
				t.Errorf("exit %d, want 2 with %q\nstderr:\n%s", r.code, tc.pattern, r.stderr)
			}
		})
	}
}

// TestRepositoryOf: the alias of an image is its repository as given, the
// registry's port kept, the tag and digest dropped.
func TestRepositoryOf(t *testing.T) {
	for in, want := range map[string]string{
		"oci://ghcr.io/o/app:v1":                      "oci://ghcr.io/o/app",
		"oci://ghcr.io/o/app@sha256:abc":              "oci://ghcr.io/o/app",
		"oci://ghcr.io/o/app:v1@sha256:abc":           "oci://ghcr.io/o/app",
		"oci://127.0.0.1:5000/app":                    "oci://127.0.0.1:5000/app",
		"oci://127.0.0.1:5000/team/app:latest":        "oci://127.0.0.1:5000/team/app",
		"oci://[::1]:5000/app@sha256:abc":             "oci://[::1]:5000/app",
		"oci://docker.io/library/alpine:3.20":         "oci://docker.io/library/alpine",
		"oci://localhost:5000/a/b/c:tag-with:colon?x": "oci://localhost:5000/a/b/c",
	} {
		if got := repositoryOf(in); got != want {
			t.Errorf("repositoryOf(%q) = %q, want %q", in, got, want)
		}
	}
}
