package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hallmark-dev/hallmark/internal/cli"
	"github.com/hallmark-dev/hallmark/internal/signtest"
)

// TestSignKeyless runs 'hallmark sign' as the e2e tests do (signing config,
// trusted root, token file) against a fake Fulcio and TSA on 127.0.0.1, and
// verifies the result with 'hallmark verify'.
func TestSignKeyless(t *testing.T) {
	st := signtest.New(t)
	dir := t.TempDir()
	write := func(name string, data []byte) string { return signtest.WriteFile(t, dir, name, data) }
	tr, sc := st.WriteInstance(t, dir)
	tok := write("token", []byte(signtest.AliceToken()+"\n"))
	a, b := write("a.txt", []byte("a")), write("b.txt", []byte("b"))

	code, out, errs := run(t, "sign", "--signing-config", sc, "--trusted-root", tr, "--identity-token", "@"+tok,
		"--oidc-disable-ambient-providers", a, b)
	if code != cli.ExitOK {
		t.Fatalf("sign: exit %d\n%s%s", code, out, errs)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 2 || !strings.HasSuffix(lines[0], "identity alice@example.com (issuer https://issuer.example)") {
		t.Fatalf("sign output:\n%s", out)
	}
	if n := st.CertRequests.Load(); n != 1 {
		t.Fatalf("%d certificate requests, want 1", n)
	}
	verifyArgs := []string{"verify", "--trusted-root", tr, "--insecure-ignore-tlog", "--certificate-oidc-issuer", "https://issuer.example"}
	if code, out, errs := run(t, append(verifyArgs, "--certificate-identity", "alice@example.com", a, b)...); code != cli.ExitOK {
		t.Fatalf("verify: exit %d\n%s%s", code, out, errs)
	}
	if code, _, _ := run(t, append(verifyArgs, "--certificate-identity", "mallory@example.com", a)...); code != cli.ExitRejected {
		t.Fatalf("verify with a wrong identity: exit %d, want 3", code)
	}

	// An expired token: Fulcio refuses, and the error says why.
	expired := write("expired", []byte(signtest.Token(map[string]any{"iss": "https://issuer.example", "email": "alice@example.com",
		"email_verified": true, "aud": "sigstore", "exp": time.Now().Add(-time.Hour).Unix()})))
	code, _, errs = run(t, "sign", "--signing-config", sc, "--trusted-root", tr, "--identity-token", "@"+expired, "--bundle", filepath.Join(dir, "x.json"), a)
	if code != cli.ExitError || !strings.Contains(errs, "returned HTTP 401") || !strings.Contains(errs, "expired at") ||
		!strings.Contains(errs, "hallmark: hint: get a fresh identity token") {
		t.Fatalf("expired token: exit %d\n%s", code, errs)
	}
	if _, err := os.Stat(filepath.Join(dir, "x.json")); err == nil {
		t.Fatal("a bundle was written with an expired token")
	}

	// A trusted root that does not list the services: exit 1, a service
	// fault, no bundle.
	other, _ := signtest.New(t).TrustedRootJSON()
	otherRoot := write("other_root.json", other)
	code, _, errs = run(t, "sign", "--signing-config", sc, "--trusted-root", otherRoot, "--identity-token", "@"+tok, "--bundle", filepath.Join(dir, "y.json"), a)
	if code != cli.ExitError || !strings.Contains(errs, "the signed bundle does not verify") || !strings.Contains(errs, "fault of the Sigstore services") {
		t.Fatalf("wrong root: exit %d\n%s", code, errs)
	}
	if _, err := os.Stat(filepath.Join(dir, "y.json")); err == nil {
		t.Fatal("a bundle that does not verify was written")
	}
}
