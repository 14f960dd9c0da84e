//go:build e2e

package e2e

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sigstore/sigstore-go/pkg/sign"
)

// cosign runs the pinned cosign (make interop builds it) in dir and
// reports whether it exited 0.
func cosign(t *testing.T, dir string, args ...string) (ok bool, output string) {
	t.Helper()
	cmd := exec.Command(os.Getenv("HALLMARK_E2E_COSIGN"), args...)
	cmd.Dir = dir
	// Nothing from the caller's cosign setup; a home of its own, so no TUF
	// cache or config from elsewhere is read.
	cmd.Env = []string{"HOME=" + dir, "PATH=" + os.Getenv("PATH"), "COSIGN_PASSWORD=e2e-password"}
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	if _, isExit := err.(*exec.ExitError); err != nil && !isExit {
		t.Fatalf("running cosign: %v", err)
	}
	return err == nil, out.String()
}

func mustCosign(t *testing.T, dir string, args ...string) {
	t.Helper()
	if ok, out := cosign(t, dir, args...); !ok {
		t.Fatalf("cosign %s failed:\n%s", strings.Join(args, " "), out)
	}
}

func mustNotCosign(t *testing.T, dir string, args ...string) {
	t.Helper()
	if ok, out := cosign(t, dir, args...); ok {
		t.Fatalf("cosign %s succeeded, want a refusal:\n%s", strings.Join(args, " "), out)
	}
}

// TestInterop checks hallmark against cosign v3 in both directions: cosign
// verifies the stack's keyless bundles (made by sigstore-go, and by
// hallmark sign once it exists), and hallmark verifies what cosign signs
// with a key it generated. Run by 'make interop' (not part of make test:
// cosign is a heavy build).
func TestInterop(t *testing.T) {
	in := stack(t)
	if os.Getenv("HALLMARK_E2E_COSIGN") == "" {
		t.Skip("HALLMARK_E2E_COSIGN is not set: run 'make interop'")
	}
	// The instance has no CT log, so its certificates carry no SCT.
	verifyBlob := func(bundlePath, artifact string) []string {
		return []string{"verify-blob", "--bundle", bundlePath, "--trusted-root", in.trustedRoot,
			"--certificate-identity", signer, "--certificate-oidc-issuer", in.issuer,
			"--insecure-ignore-sct", "--use-signed-timestamps", artifact}
	}

	t.Run("cosign-verifies-sigstore-go-bundle", func(t *testing.T) {
		t.Parallel()
		f := newFiles(t)
		bp := filepath.Join(f.dir, "artifact.bin.sigstore.json")
		write(t, bp, in.signWithSigstoreGo(t, &sign.PlainData{Data: read(t, f.artifact)}, in.token(t, signer)))
		mustCosign(t, f.dir, verifyBlob(bp, f.artifact)...)
		mustNotCosign(t, f.dir, verifyBlob(bp, f.tampered)...)
		in.verify(t, exitOK, bp, f.artifact, signer)
	})

	t.Run("cosign-verifies-hallmark-sign-bundle", func(t *testing.T) {
		t.Parallel()
		in.hallmarkSigns(t)
		f := newFiles(t)
		bp := filepath.Join(f.dir, "artifact.bin.sigstore.json")
		in.run(t, exitOK, "hallmark", "sign", "--identity-token", in.token(t, signer),
			"--signing-config", in.signingConfig, "--trusted-root", in.trustedRoot, "--bundle", bp, f.artifact)
		mustCosign(t, f.dir, verifyBlob(bp, f.artifact)...)
		mustNotCosign(t, f.dir, verifyBlob(bp, f.tampered)...)
	})

	t.Run("cosign-verifies-sigstore-go-attestation", func(t *testing.T) {
		t.Parallel()
		f := newFiles(t)
		bp := filepath.Join(f.dir, "statement.sigstore.json")
		write(t, bp, in.signWithSigstoreGo(t, &sign.DSSEData{Data: read(t, f.statement), PayloadType: "application/vnd.in-toto+json"}, in.token(t, signer)))
		args := func(artifact string) []string {
			return []string{"verify-blob-attestation", "--bundle", bp, "--trusted-root", in.trustedRoot,
				"--certificate-identity", signer, "--certificate-oidc-issuer", in.issuer,
				"--insecure-ignore-sct", "--use-signed-timestamps", "--type", "https://slsa.dev/provenance/v1", artifact}
		}
		mustCosign(t, f.dir, args(f.artifact)...)
		mustNotCosign(t, f.dir, args(f.tampered)...)
	})

	// cosign signs with a key pair it generated, uploading to the local
	// Rekor v2 and timestamping with the local TSA (its signing config):
	// hallmark verifies the log entry too.
	t.Run("cosign-key-with-tlog", func(t *testing.T) {
		t.Parallel()
		f := newFiles(t)
		mustCosign(t, f.dir, "generate-key-pair")
		bp := filepath.Join(f.dir, "artifact.bin.sigstore.json")
		mustCosign(t, f.dir, "sign-blob", "--key", "cosign.key", "--signing-config", in.signingConfig,
			"--trusted-root", in.trustedRoot, "--bundle", bp, "--yes", f.artifact)
		checkBundle(t, bp)
		key := filepath.Join(f.dir, "cosign.pub")
		in.run(t, exitOK, "hallmark", "verify", "--offline", "--trusted-root", in.trustedRoot, "--key", key, "--bundle", bp, f.artifact)
		in.run(t, exitRejected, "hallmark", "verify", "--offline", "--trusted-root", in.trustedRoot, "--key", key, "--bundle", bp, f.tampered)
	})

	// A cosign-generated encrypted key signs with hallmark (uploading to the
	// local log), and both verify the result.
	t.Run("cosign-key-signs-with-hallmark", func(t *testing.T) {
		t.Parallel()
		in.hallmarkSigns(t)
		f := newFiles(t)
		mustCosign(t, f.dir, "generate-key-pair")
		bp := filepath.Join(f.dir, "artifact.bin.sigstore.json")
		in.runEnv(t, []string{"COSIGN_PASSWORD=e2e-password"}, exitOK, "hallmark", "sign", "--key", filepath.Join(f.dir, "cosign.key"),
			"--signing-config", in.signingConfig, "--trusted-root", in.trustedRoot, "--bundle", bp, f.artifact)
		checkBundle(t, bp)
		in.run(t, exitOK, "hallmark", "verify", "--offline", "--trusted-root", in.trustedRoot,
			"--key", filepath.Join(f.dir, "cosign.pub"), "--bundle", bp, f.artifact)
		verify := func(artifact string) []string {
			return []string{"verify-blob", "--key", "cosign.pub", "--bundle", bp, "--trusted-root", in.trustedRoot,
				"--use-signed-timestamps", artifact}
		}
		mustCosign(t, f.dir, verify(f.artifact)...)
		mustNotCosign(t, f.dir, verify(f.tampered)...)
	})

	// A hallmark key pair, hallmark sign --key, cosign verify-blob --key.
	t.Run("hallmark-key-to-cosign", func(t *testing.T) {
		t.Parallel()
		in.hallmarkSigns(t)
		f := newFiles(t)
		env := []string{"HALLMARK_PASSWORD=e2e-password"}
		prefix := filepath.Join(f.dir, "release")
		in.runEnv(t, env, exitOK, "hallmark", "generate-key-pair", "--output-key-prefix", prefix)
		bp := filepath.Join(f.dir, "artifact.bin.sigstore.json")
		in.runEnv(t, env, exitOK, "hallmark", "sign", "--key", prefix+".key",
			"--signing-config", in.signingConfig, "--trusted-root", in.trustedRoot, "--bundle", bp, f.artifact)
		verify := func(artifact string) []string {
			return []string{"verify-blob", "--key", prefix + ".pub", "--bundle", bp, "--trusted-root", in.trustedRoot,
				"--use-signed-timestamps", artifact}
		}
		mustCosign(t, f.dir, verify(f.artifact)...)
		mustNotCosign(t, f.dir, verify(f.tampered)...)
	})

	// The same without any service: no log entry, no timestamp; hallmark
	// accepts it only with --insecure-ignore-tlog.
	t.Run("cosign-key-no-tlog", func(t *testing.T) {
		t.Parallel()
		f := newFiles(t)
		mustCosign(t, f.dir, "generate-key-pair")
		bp := filepath.Join(f.dir, "artifact.bin.sigstore.json")
		mustCosign(t, f.dir, "sign-blob", "--key", "cosign.key", "--use-signing-config=false", "--tlog-upload=false",
			"--bundle", bp, "--yes", f.artifact)
		key := filepath.Join(f.dir, "cosign.pub")
		in.run(t, exitOK, "hallmark", "verify", "--key", key, "--insecure-ignore-tlog", "--bundle", bp, f.artifact)
		in.run(t, exitRejected, "hallmark", "verify", "--key", key, "--insecure-ignore-tlog", "--bundle", bp, f.tampered)
		in.run(t, exitRejected, "hallmark", "verify", "--offline", "--trusted-root", in.trustedRoot, "--key", key, "--bundle", bp, f.artifact)
	})
}
