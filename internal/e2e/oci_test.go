//go:build e2e

package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/hallmark-dev/hallmark/internal/source/oci"
	"github.com/hallmark-dev/hallmark/internal/source/oci/ocitest"
)

// TestOCI signs and attests container images keyless on the local
// Sigstore stack with bin/hallmark, pushing the bundles to registries run
// in this process (with and without the referrers API), and verifies them
// by tag and by digest, per platform of an index, and refuses a wrong
// identity and a re-pushed tag.
func TestOCI(t *testing.T) {
	in := stack(t)
	in.hallmarkSigns(t)
	for _, kind := range ocitest.Kinds {
		t.Run(string(kind), func(t *testing.T) {
			t.Parallel()
			home := t.TempDir()
			reg := ocitest.Start(t, kind, ocitest.Options{})
			digest := reg.PushImage(t, "app:v1", ocitest.Options{})
			ref := reg.Ref("app:v1")
			signFlags := []string{"--identity-token", in.token(t, signer), "--signing-config", in.signingConfig,
				"--trusted-root", in.trustedRoot, "--allow-insecure-registry"}
			verifyFlags := func(identity string) []string {
				return []string{"--offline", "--trusted-root", in.trustedRoot, "--certificate-identity", identity,
					"--certificate-oidc-issuer", in.issuer, "--allow-insecure-registry"}
			}
			env := []string{"DOCKER_CONFIG=" + home}
			out, _ := in.runEnv(t, env, exitOK, "hallmark", append(append([]string{"sign"}, signFlags...), ref)...)
			if !strings.Contains(out, digest) {
				t.Errorf("sign does not print the digest %s:\n%s", digest, out)
			}
			in.runEnv(t, env, exitOK, "hallmark", append(append([]string{"attest", "--provenance"}, signFlags...), ref)...)
			in.runEnv(t, env, exitOK, "hallmark", append(append([]string{"verify"}, verifyFlags(signer)...), ref)...)
			in.runEnv(t, env, exitOK, "hallmark", append(append([]string{"verify"}, verifyFlags(signer)...), reg.Ref("app@"+digest))...)
			in.runEnv(t, env, exitOK, "hallmark", append(append([]string{"verify", "--type", "slsaprovenance1"}, verifyFlags(signer)...), ref)...)
			_, stderr := in.runEnv(t, env, exitRejected, "hallmark", append(append([]string{"verify"}, verifyFlags("mallory@example.com")...), ref)...)
			if !strings.Contains(stderr, "no signature for "+digest) {
				t.Errorf("a wrong identity:\n%s", stderr)
			}
			// The tag re-pushed: a new digest, unsigned.
			reg.PushImage(t, "app:v1", ocitest.Options{})
			in.runEnv(t, env, exitRejected, "hallmark", append(append([]string{"verify"}, verifyFlags(signer)...), ref)...)

			// A multi-platform index, signed and verified per platform.
			ix, plats := reg.PushIndex(t, "multi:v1", []string{"linux/amd64", "linux/arm64"}, ocitest.Options{})
			mref := reg.Ref("multi:v1")
			in.runEnv(t, env, exitOK, "hallmark", append(append([]string{"sign", "--recursive"}, signFlags...), mref)...)
			out, _ = in.runEnv(t, env, exitOK, "hallmark", append(append([]string{"verify", "--recursive"}, verifyFlags(signer)...), mref)...)
			for _, d := range []string{ix, plats[0].Digest, plats[1].Digest} {
				if !strings.Contains(out, d) {
					t.Errorf("verify --recursive does not name %s:\n%s", d, out)
				}
			}
		})
	}
}

// TestInteropOCI: cosign v3 (--new-bundle-format) and hallmark read each
// other's image signatures in a registry, and go-containerregistry's
// remote.Referrers (what gh attestation verify --bundle-from-oci reads)
// finds hallmark's referrer. Run by 'make interop'.
func TestInteropOCI(t *testing.T) {
	in := stack(t)
	if os.Getenv("HALLMARK_E2E_COSIGN") == "" {
		t.Skip("HALLMARK_E2E_COSIGN is not set: run 'make interop'")
	}
	in.hallmarkSigns(t)
	for _, kind := range ocitest.Kinds {
		t.Run(string(kind), func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			env := []string{"DOCKER_CONFIG=" + dir}
			reg := ocitest.Start(t, kind, ocitest.Options{})
			cosignVerify := func(image string) []string {
				return []string{"verify", "--new-bundle-format", "--allow-http-registry", "--trusted-root", in.trustedRoot,
					"--certificate-identity", signer, "--certificate-oidc-issuer", in.issuer,
					"--insecure-ignore-sct", "--use-signed-timestamps", image}
			}
			hallmarkVerify := func(identity, ref string) []string {
				return []string{"verify", "--offline", "--trusted-root", in.trustedRoot, "--certificate-identity", identity,
					"--certificate-oidc-issuer", in.issuer, "--allow-insecure-registry", ref}
			}

			t.Run("cosign-signs-hallmark-verifies", func(t *testing.T) {
				digest := reg.PushImage(t, "bycosign:v1", ocitest.Options{})
				image := reg.Host + "/bycosign@" + digest
				mustCosign(t, dir, "sign", "--new-bundle-format", "--allow-http-registry", "--yes",
					"--identity-token", in.token(t, signer), "--signing-config", in.signingConfig, "--trusted-root", in.trustedRoot, image)
				in.runEnv(t, env, exitOK, "hallmark", hallmarkVerify(signer, "oci://"+image)...)
				in.runEnv(t, env, exitOK, "hallmark", hallmarkVerify(signer, reg.Ref("bycosign:v1"))...)
				in.runEnv(t, env, exitRejected, "hallmark", hallmarkVerify("mallory@example.com", "oci://"+image)...)
			})

			// cosign's legacy format (sha256-HEX.sig), with a key and no
			// log: hallmark reads it when no bundle refers to the image.
			t.Run("cosign-legacy-signs-hallmark-verifies", func(t *testing.T) {
				kdir := t.TempDir()
				mustCosign(t, kdir, "generate-key-pair")
				digest := reg.PushImage(t, "legacy:v1", ocitest.Options{})
				image := reg.Host + "/legacy@" + digest
				mustCosign(t, kdir, "sign", "--new-bundle-format=false", "--use-signing-config=false", "--tlog-upload=false",
					"--allow-http-registry", "--yes", "--key", "cosign.key", image)
				flags := []string{"verify", "--key", filepath.Join(kdir, "cosign.pub"), "--insecure-ignore-tlog", "--allow-insecure-registry"}
				out, _ := in.runEnv(t, env, exitOK, "hallmark", append(flags, "oci://"+image)...)
				if !strings.Contains(out, "legacy:sha256-") {
					t.Errorf("not verified from the legacy tag:\n%s", out)
				}
				// A legacy attestation (sha256-HEX.att, a DSSE envelope).
				pred := filepath.Join(kdir, "provenance.json")
				write(t, pred, []byte(`{"buildDefinition":{"buildType":"https://example.com/build/v1","externalParameters":{}},"runDetails":{"builder":{"id":"https://example.com/builder"}}}`))
				mustCosign(t, kdir, "attest", "--new-bundle-format=false", "--use-signing-config=false", "--tlog-upload=false",
					"--allow-http-registry", "--yes", "--key", "cosign.key", "--type", "slsaprovenance1", "--predicate", pred, image)
				out, _ = in.runEnv(t, env, exitOK, "hallmark", append(append(flags, "--type", "slsaprovenance1"), "oci://"+image)...)
				if !strings.Contains(out, ".att#") {
					t.Errorf("the provenance not verified from the legacy .att tag:\n%s", out)
				}
				// Another key: refused.
				odir := t.TempDir()
				mustCosign(t, odir, "generate-key-pair")
				in.runEnv(t, env, exitRejected, "hallmark", "verify", "--key", filepath.Join(odir, "cosign.pub"), "--insecure-ignore-tlog",
					"--allow-insecure-registry", "oci://"+image)
			})

			t.Run("hallmark-signs-cosign-verifies", func(t *testing.T) {
				digest := reg.PushImage(t, "byhallmark:v1", ocitest.Options{})
				image := reg.Host + "/byhallmark@" + digest
				in.runEnv(t, env, exitOK, "hallmark", "sign", "--identity-token", in.token(t, signer), "--signing-config", in.signingConfig,
					"--trusted-root", in.trustedRoot, "--allow-insecure-registry", "oci://"+image)
				mustCosign(t, dir, cosignVerify(image)...)
				// cosign refuses it for another image: the bundle is about
				// this digest only.
				other := reg.PushImage(t, "byhallmark:other", ocitest.Options{})
				mustNotCosign(t, dir, cosignVerify(reg.Host+"/byhallmark@"+other)...)

				// The referrer as gh finds it: go-containerregistry's
				// remote.Referrers, then the bundle layer of the manifest.
				d, err := name.NewDigest(image, name.Insecure)
				if err != nil {
					t.Fatal(err)
				}
				ix, err := remote.Referrers(d)
				if err != nil {
					t.Fatal(err)
				}
				m, err := ix.IndexManifest()
				if err != nil {
					t.Fatal(err)
				}
				if len(m.Manifests) != 1 {
					t.Fatalf("remote.Referrers lists %d manifests, want 1", len(m.Manifests))
				}
				img, err := remote.Image(d.Context().Digest(m.Manifests[0].Digest.String()))
				if err != nil {
					t.Fatal(err)
				}
				layers, err := img.Layers()
				if err != nil || len(layers) != 1 {
					t.Fatalf("%d layers, %v", len(layers), err)
				}
				mt, err := layers[0].MediaType()
				if err != nil || string(mt) != oci.BundleMediaType {
					t.Fatalf("layer media type %q, %v", mt, err)
				}
			})
		})
	}
}
