//go:build e2e

package e2e

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sigstore/sigstore-go/pkg/bundle"
	"github.com/sigstore/sigstore-go/pkg/root"
	"github.com/sigstore/sigstore-go/pkg/sign"
	sgverify "github.com/sigstore/sigstore-go/pkg/verify"
	"google.golang.org/protobuf/encoding/protojson"
)

// Exit codes of hallmark (README: 0 ok, 1 could not complete, 2 usage, 3 rejected).
const (
	exitOK       = 0
	exitRejected = 3
)

// The signer every test asks the local issuer for, unless it needs another.
const signer = "ci@example.com"

// instance is the local Sigstore stack the harness started (stack.sh).
type instance struct {
	trustedRoot, signingConfig string // paths
	issuer, tokenURL           string
	bin                        string // directory of hallmark and hallmark-conformance
}

var timings struct {
	sync.Mutex
	lines []string
}

// record keeps a timing that TestMain prints at the end, without -v.
func record(format string, args ...any) {
	timings.Lock()
	defer timings.Unlock()
	timings.lines = append(timings.lines, fmt.Sprintf(format, args...))
}

func TestMain(m *testing.M) {
	code := m.Run()
	sort.Strings(timings.lines)
	for _, l := range timings.lines {
		fmt.Println("e2e:", l)
	}
	os.Exit(code)
}

func stack(t *testing.T) *instance {
	t.Helper()
	dir := os.Getenv("HALLMARK_E2E_DIR")
	if dir == "" {
		t.Skip("no local Sigstore stack: run these tests with 'make e2e'")
	}
	return &instance{
		trustedRoot:   filepath.Join(dir, "trusted_root.json"),
		signingConfig: filepath.Join(dir, "signing_config.json"),
		issuer:        os.Getenv("HALLMARK_E2E_ISSUER"),
		tokenURL:      os.Getenv("HALLMARK_E2E_TOKEN_URL"),
		bin:           os.Getenv("HALLMARK_E2E_BIN"),
	}
}

// token asks the local issuer for an ID token for email.
func (in *instance) token(t *testing.T, email string) string {
	t.Helper()
	resp, err := http.Get(in.tokenURL + "?email=" + url.QueryEscape(email))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("token: %s %s %v", resp.Status, body, err)
	}
	return string(body)
}

// signWithSigstoreGo makes a keyless bundle with sigstore-go's own signer
// and the services of the instance's signing config: Fulcio, the TSA and
// Rekor v2. The bundle is verified against the trusted root before it is
// returned, as a careful signer does.
func (in *instance) signWithSigstoreGo(t *testing.T, content sign.Content, tok string) []byte {
	t.Helper()
	sc, err := root.NewSigningConfigFromPath(in.signingConfig)
	if err != nil {
		t.Fatal(err)
	}
	tr, err := root.NewTrustedRootFromPath(in.trustedRoot)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	ca, err := root.SelectService(sc.FulcioCertificateAuthorityURLs(), sign.FulcioAPIVersions, now)
	if err != nil {
		t.Fatal(err)
	}
	tsas, err := root.SelectServices(sc.TimestampAuthorityURLs(), sc.TimestampAuthorityURLsConfig(), sign.TimestampAuthorityAPIVersions, now)
	if err != nil {
		t.Fatal(err)
	}
	logs, err := root.SelectServices(sc.RekorLogURLs(), sc.RekorLogURLsConfig(), sign.RekorAPIVersions, now)
	if err != nil {
		t.Fatal(err)
	}
	opts := sign.BundleOptions{
		CertificateProvider:        sign.NewFulcio(&sign.FulcioOptions{BaseURL: ca.URL, Timeout: 30 * time.Second}),
		CertificateProviderOptions: &sign.CertificateProviderOptions{IDToken: tok},
		Context:                    context.Background(),
		TrustedRoot:                tr,
	}
	for _, s := range tsas {
		opts.TimestampAuthorities = append(opts.TimestampAuthorities,
			sign.NewTimestampAuthority(&sign.TimestampAuthorityOptions{URL: s.URL, Timeout: 30 * time.Second}))
	}
	for _, s := range logs {
		if s.MajorAPIVersion != 2 {
			t.Fatalf("the instance's log %s has API version %d, want 2", s.URL, s.MajorAPIVersion)
		}
		opts.TransparencyLogs = append(opts.TransparencyLogs,
			sign.NewRekor(&sign.RekorOptions{BaseURL: s.URL, Timeout: 90 * time.Second, Version: s.MajorAPIVersion}))
	}
	kp, err := sign.NewEphemeralKeypair(nil)
	if err != nil {
		t.Fatal(err)
	}
	pb, err := sign.Bundle(content, kp, opts)
	if err != nil {
		t.Fatalf("sigstore-go sign.Bundle: %v", err)
	}
	out, err := protojson.Marshal(pb)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// verifyIndependently checks a bundle with sigstore-go's verifier directly,
// not through hallmark: a transparency log entry and a signed timestamp are
// required, as for the instance hallmark verifies against.
func (in *instance) verifyIndependently(bundlePath, artifactPath, identity string) error {
	tr, err := root.NewTrustedRootFromPath(in.trustedRoot)
	if err != nil {
		return err
	}
	v, err := sgverify.NewVerifier(tr, sgverify.WithTransparencyLog(1), sgverify.WithSignedTimestamps(1))
	if err != nil {
		return err
	}
	b, err := bundle.LoadJSONFromPath(bundlePath)
	if err != nil {
		return err
	}
	id, err := sgverify.NewShortCertificateIdentity(in.issuer, "", identity, "")
	if err != nil {
		return err
	}
	f, err := os.Open(artifactPath)
	if err != nil {
		return err
	}
	defer f.Close()
	_, err = v.Verify(b, sgverify.NewPolicy(sgverify.WithArtifact(f), sgverify.WithCertificateIdentity(id)))
	return err
}

// run runs one of hallmark's binaries and fails unless it exits with want.
func (in *instance) run(t *testing.T, want int, name string, args ...string) (stdout, stderr string) {
	t.Helper()
	return in.runEnv(t, nil, want, name, args...)
}

// runEnv is run with more environment variables (KEY=VALUE).
func (in *instance) runEnv(t *testing.T, env []string, want int, name string, args ...string) (stdout, stderr string) {
	t.Helper()
	var o, e bytes.Buffer
	cmd := exec.Command(filepath.Join(in.bin, name), args...)
	cmd.Stdout, cmd.Stderr = &o, &e
	cmd.Env = append(append(os.Environ(), "HALLMARK_CACHE_DIR="+t.TempDir()), env...)
	err := cmd.Run()
	got := 0
	var exitErr *exec.ExitError
	switch {
	case errors.As(err, &exitErr):
		got = exitErr.ExitCode()
	case err != nil:
		t.Fatalf("running %s: %v", name, err)
	}
	if got != want {
		t.Fatalf("%s %s\nexited with %d, want %d\nstdout:\n%s\nstderr:\n%s", name, strings.Join(args, " "), got, want, o.String(), e.String())
	}
	return o.String(), e.String()
}

// verify runs 'hallmark verify' offline against the instance's trusted root.
func (in *instance) verify(t *testing.T, want int, bundlePath, artifact, identity string) string {
	t.Helper()
	_, stderr := in.run(t, want, "hallmark", "verify", "--offline", "--trusted-root", in.trustedRoot,
		"--certificate-identity", identity, "--certificate-oidc-issuer", in.issuer,
		"--bundle", bundlePath, artifact)
	return stderr
}

// files writes an artifact unique to this test (Rekor v2 refuses a
// duplicate entry), a tampered copy, and an in-toto statement whose subject
// is the artifact.
type files struct{ dir, artifact, tampered, statement string }

func newFiles(t *testing.T) files {
	t.Helper()
	dir := t.TempDir()
	f := files{dir: dir,
		artifact:  filepath.Join(dir, "artifact.bin"),
		tampered:  filepath.Join(dir, "tampered.bin"),
		statement: filepath.Join(dir, "statement.json"),
	}
	data := fmt.Appendf(nil, "%s %d\n", t.Name(), time.Now().UnixNano())
	write(t, f.artifact, data)
	write(t, f.tampered, append(data, '!'))
	sum := sha256.Sum256(data)
	st, err := json.Marshal(map[string]any{
		"_type":         "https://in-toto.io/Statement/v1",
		"subject":       []any{map[string]any{"name": "artifact.bin", "digest": map[string]string{"sha256": hex.EncodeToString(sum[:])}}},
		"predicateType": "https://slsa.dev/provenance/v1",
		"predicate":     map[string]any{"buildDefinition": map[string]any{"buildType": "https://example.com/e2e"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	write(t, f.statement, st)
	return f
}

func write(t *testing.T, path string, data []byte) {
	t.Helper()
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

func read(t *testing.T, path string) []byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// withoutTimestamps writes a copy of a bundle without its RFC 3161
// timestamps. A Rekor v2 entry has no integrated time, so nothing vouches
// for when the short-lived certificate was used: such a bundle is what an
// expired certificate without a timestamp looks like, and it must be
// refused whatever the wall clock says.
func withoutTimestamps(t *testing.T, bundlePath string) string {
	t.Helper()
	var b map[string]any
	if err := json.Unmarshal(read(t, bundlePath), &b); err != nil {
		t.Fatal(err)
	}
	vm := b["verificationMaterial"].(map[string]any)
	if _, ok := vm["timestampVerificationData"]; !ok {
		t.Fatalf("%s has no timestamps to remove", bundlePath)
	}
	delete(vm, "timestampVerificationData")
	for _, e := range vm["tlogEntries"].([]any) {
		if it, ok := e.(map[string]any)["integratedTime"]; ok && it != "0" {
			t.Fatalf("the Rekor v2 entry has an integrated time %v", it)
		}
	}
	out, err := json.Marshal(b)
	if err != nil {
		t.Fatal(err)
	}
	p := strings.TrimSuffix(bundlePath, ".sigstore.json") + ".no-timestamp.sigstore.json"
	write(t, p, out)
	return p
}

// checkBundle asserts what a bundle of this instance carries: a v0.3 bundle
// with one Rekor v2 entry (an inclusion proof, no integrated time) and one
// RFC 3161 timestamp.
func checkBundle(t *testing.T, path string) {
	t.Helper()
	b, err := bundle.LoadJSONFromPath(path)
	if err != nil {
		t.Fatal(err)
	}
	if mt := b.GetMediaType(); mt != "application/vnd.dev.sigstore.bundle.v0.3+json" {
		t.Errorf("media type %q, want v0.3", mt)
	}
	vm := b.GetVerificationMaterial()
	if n := len(vm.GetTimestampVerificationData().GetRfc3161Timestamps()); n != 1 {
		t.Errorf("%d RFC 3161 timestamps, want 1", n)
	}
	entries := vm.GetTlogEntries()
	if len(entries) != 1 {
		t.Fatalf("%d log entries, want 1", len(entries))
	}
	// Rekor v2 writes the 0.0.2 versions of hashedrekord and dsse.
	if e := entries[0]; e.GetKindVersion().GetVersion() != "0.0.2" || e.GetInclusionProof() == nil || e.GetIntegratedTime() != 0 {
		t.Errorf("log entry: kind %v, proof %v, integrated time %d; want a Rekor v2 entry", e.GetKindVersion(), e.GetInclusionProof() != nil, e.GetIntegratedTime())
	}
}

// checkLogServes reads the log's current checkpoint from its tiles (the
// Rekor v2 read API, served by our issuer from the storage directory) and
// checks that it names the log's origin and covers the bundle's entry.
func checkLogServes(t *testing.T, bundlePath string) {
	t.Helper()
	b, err := bundle.LoadJSONFromPath(bundlePath)
	if err != nil {
		t.Fatal(err)
	}
	index := b.GetVerificationMaterial().GetTlogEntries()[0].GetLogIndex()
	resp, err := http.Get(os.Getenv("HALLMARK_E2E_TILES_URL") + "/checkpoint")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("checkpoint: %s %v", resp.Status, err)
	}
	var origin string
	var size int64
	if _, err := fmt.Sscanf(string(body), "%s\n%d\n", &origin, &size); err != nil {
		t.Fatalf("checkpoint %q: %v", body, err)
	}
	if origin != "127.0.0.1" || index >= size {
		t.Errorf("checkpoint origin %q size %d; want origin 127.0.0.1 and a size above the entry's index %d", origin, size, index)
	}
}

// checkFlows runs the verification flows every keyless bundle of the
// instance must pass: hallmark accepts the right signer, refuses a wrong
// one, a tampered artifact and the bundle without its timestamp (exit 3
// each), and sigstore-go's own verifier agrees.
func (in *instance) checkFlows(t *testing.T, bundlePath, artifact, tampered string) {
	t.Helper()
	checkBundle(t, bundlePath)
	in.verify(t, exitOK, bundlePath, artifact, signer)
	in.verify(t, exitRejected, bundlePath, artifact, "mallory@example.com")
	in.verify(t, exitRejected, bundlePath, tampered, signer)
	if stderr := in.verify(t, exitRejected, withoutTimestamps(t, bundlePath), artifact, signer); !strings.Contains(stderr, "timestamp") {
		t.Errorf("a bundle without a timestamp is refused, but the error does not say why:\n%s", stderr)
	}

	if err := in.verifyIndependently(bundlePath, artifact, signer); err != nil {
		t.Errorf("sigstore-go's verifier refuses what hallmark accepts: %v", err)
	}
	if err := in.verifyIndependently(bundlePath, tampered, signer); err == nil {
		t.Error("sigstore-go's verifier accepts the tampered artifact")
	}
	if err := in.verifyIndependently(bundlePath, artifact, "mallory@example.com"); err == nil {
		t.Error("sigstore-go's verifier accepts the wrong identity")
	}
}

// TestStack proves the stack with sigstore-go's signer, independently of
// hallmark sign: a keyless blob signature and a DSSE in-toto attestation,
// each against Fulcio, the TSA and Rekor v2, then verified by hallmark.
func TestStack(t *testing.T) {
	in := stack(t)
	t.Run("blob", func(t *testing.T) {
		t.Parallel()
		f := newFiles(t)
		start := time.Now()
		bj := in.signWithSigstoreGo(t, &sign.PlainData{Data: read(t, f.artifact)}, in.token(t, signer))
		signed := time.Since(start)
		bp := filepath.Join(f.dir, "artifact.bin.sigstore.json")
		write(t, bp, bj)
		in.verify(t, exitOK, bp, f.artifact, signer)
		record("keyless round trip (token, Fulcio, TSA, Rekor v2 via sigstore-go; then bin/hallmark verify): %d ms (signing %d ms)",
			time.Since(start).Milliseconds(), signed.Milliseconds())
		in.checkFlows(t, bp, f.artifact, f.tampered)
		checkLogServes(t, bp)
	})
	t.Run("in-toto", func(t *testing.T) {
		t.Parallel()
		f := newFiles(t)
		bj := in.signWithSigstoreGo(t, &sign.DSSEData{Data: read(t, f.statement), PayloadType: "application/vnd.in-toto+json"}, in.token(t, signer))
		bp := filepath.Join(f.dir, "statement.sigstore.json")
		write(t, bp, bj)
		in.checkFlows(t, bp, f.artifact, f.tampered)
	})
	// The issuer is no rubber stamp for Fulcio: a token for another
	// audience gets no certificate.
	t.Run("token-for-another-audience", func(t *testing.T) {
		t.Parallel()
		resp, err := http.Get(in.tokenURL + "?aud=not-sigstore&email=" + url.QueryEscape(signer))
		if err != nil {
			t.Fatal(err)
		}
		tok, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
		kp, err := sign.NewEphemeralKeypair(nil)
		if err != nil {
			t.Fatal(err)
		}
		sc, err := root.NewSigningConfigFromPath(in.signingConfig)
		if err != nil {
			t.Fatal(err)
		}
		ca, err := root.SelectService(sc.FulcioCertificateAuthorityURLs(), sign.FulcioAPIVersions, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		fulcio := sign.NewFulcio(&sign.FulcioOptions{BaseURL: ca.URL, Timeout: 30 * time.Second})
		_, err = fulcio.GetCertificate(context.Background(), kp, &sign.CertificateProviderOptions{IDToken: string(tok)})
		if err == nil {
			t.Fatal("Fulcio issued a certificate for a token with audience not-sigstore")
		}
	})
}

// hallmarkSigns reports whether bin/hallmark has a sign command yet; the
// tests of it skip, saying so, until it does.
func (in *instance) hallmarkSigns(t *testing.T) {
	t.Helper()
	if err := exec.Command(filepath.Join(in.bin, "hallmark"), "sign", "--help").Run(); err != nil {
		t.Skip("bin/hallmark has no sign command yet ('hallmark sign --help' fails): enable with hallmark sign")
	}
}

// TestHallmarkSign is the same round trip through 'hallmark sign'.
func TestHallmarkSign(t *testing.T) {
	in := stack(t)
	in.hallmarkSigns(t)
	t.Run("blob", func(t *testing.T) {
		t.Parallel()
		f := newFiles(t)
		start := time.Now()
		bp := filepath.Join(f.dir, "artifact.bin.sigstore.json")
		in.run(t, exitOK, "hallmark", "sign", "--identity-token", in.token(t, signer),
			"--signing-config", in.signingConfig, "--trusted-root", in.trustedRoot, "--bundle", bp, f.artifact)
		in.verify(t, exitOK, bp, f.artifact, signer)
		record("keyless round trip (bin/hallmark sign, then bin/hallmark verify): %d ms", time.Since(start).Milliseconds())
		in.checkFlows(t, bp, f.artifact, f.tampered)
	})
	t.Run("in-toto", func(t *testing.T) {
		t.Parallel()
		f := newFiles(t)
		bp := filepath.Join(f.dir, "statement.sigstore.json")
		in.run(t, exitOK, "hallmark", "sign", "--in-toto", "--identity-token", in.token(t, signer),
			"--signing-config", in.signingConfig, "--trusted-root", in.trustedRoot, "--bundle", bp, f.statement)
		in.checkFlows(t, bp, f.artifact, f.tampered)
	})
	t.Run("default-bundle-path", func(t *testing.T) {
		t.Parallel()
		f := newFiles(t)
		in.run(t, exitOK, "hallmark", "sign", "--identity-token", in.token(t, signer),
			"--signing-config", in.signingConfig, "--trusted-root", in.trustedRoot, f.artifact)
		in.checkFlows(t, f.artifact+".sigstore.json", f.artifact, f.tampered)
	})
}

// conformanceSigns reports whether bin/hallmark-conformance speaks
// sign-bundle yet.
func (in *instance) conformanceSigns(t *testing.T) {
	t.Helper()
	out, _ := exec.Command(filepath.Join(in.bin, "hallmark-conformance"), "sign-bundle", "--help").CombinedOutput()
	if strings.Contains(string(out), "unsupported command") {
		t.Skip("bin/hallmark-conformance has no sign-bundle command yet: enable with hallmark sign")
	}
}

// TestConformanceSignBundle signs through the conformance protocol:
// sign-bundle [--in-toto] --identity-token T --bundle OUT --trusted-root F
// --signing-config F FILE.
func TestConformanceSignBundle(t *testing.T) {
	in := stack(t)
	in.conformanceSigns(t)
	for _, inToto := range []bool{false, true} {
		name := map[bool]string{false: "blob", true: "in-toto"}[inToto]
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			f := newFiles(t)
			bp := filepath.Join(f.dir, name+".sigstore.json")
			args := []string{"sign-bundle", "--identity-token", in.token(t, signer), "--bundle", bp,
				"--trusted-root", in.trustedRoot, "--signing-config", in.signingConfig}
			input := f.artifact
			if inToto {
				args, input = append(args, "--in-toto"), f.statement
			}
			in.run(t, exitOK, "hallmark-conformance", append(args, input)...)
			in.checkFlows(t, bp, f.artifact, f.tampered)
		})
	}
}
