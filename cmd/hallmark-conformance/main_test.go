package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/hallmark-dev/hallmark/internal/cli"
	"github.com/hallmark-dev/hallmark/internal/signtest"
)

// The adapter maps protocol commands onto hallmark's own; signing against
// real services is exercised by the e2e tests.
func TestAdapter(t *testing.T) {
	dir := t.TempDir()
	art := filepath.Join(dir, "a.txt")
	if err := os.WriteFile(art, []byte("a"), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "a.bundle")
	t.Setenv("SIGSTORE_ID_TOKEN", "") // the adapter must use only the token given
	tests := []struct {
		name string
		args []string
		want int
	}{
		{"no command", nil, cli.ExitUsage},
		{"unknown command", []string{"frobnicate"}, cli.ExitUsage},
		{"sign-bundle without token", []string{"sign-bundle", "--bundle", out, art}, cli.ExitError},
		{"sign-bundle malformed token", []string{"sign-bundle", "--identity-token", "x.y", "--bundle", out, art}, cli.ExitError},
		{"sign-bundle two files", []string{"sign-bundle", "--identity-token", "x", "--bundle", out, art, art}, cli.ExitUsage},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := run(tc.args); got != tc.want {
				t.Fatalf("exit %d, want %d", got, tc.want)
			}
			if _, err := os.Stat(out); err == nil {
				t.Fatal("a bundle was written")
			}
		})
	}
}

// TestSignBundle runs the protocol's sign-bundle against a fake Fulcio and
// TSA, for a blob and an in-toto statement, and verifies both.
func TestSignBundle(t *testing.T) {
	st := signtest.New(t)
	dir := t.TempDir()
	write := func(name string, data []byte) string { return signtest.WriteFile(t, dir, name, data) }
	tr, sc := st.WriteInstance(t, dir)
	art := write("a.txt", []byte("a"))
	// sha256("a")
	stmt := write("st.json", []byte(`{"_type":"https://in-toto.io/Statement/v1","subject":[{"name":"a.txt","digest":{"sha256":"ca978112ca1bbdcafac231b39a23dc4da786eff8147c4e72b9807785afee48bb"}}],"predicateType":"https://example.com/p","predicate":{}}`))
	tok := signtest.AliceToken()
	for _, tc := range []struct {
		name  string
		extra []string
		file  string
	}{{"blob", nil, art}, {"in-toto", []string{"--in-toto"}, stmt}} {
		t.Run(tc.name, func(t *testing.T) {
			out := filepath.Join(dir, tc.name+".bundle")
			args := append([]string{"sign-bundle", "--identity-token", tok, "--bundle", out, "--trusted-root", tr, "--signing-config", sc}, tc.extra...)
			if code := run(append(args, tc.file)); code != cli.ExitOK {
				t.Fatalf("sign-bundle: exit %d", code)
			}
			code := run([]string{"verify-bundle", "--bundle", out, "--certificate-identity", "alice@example.com",
				"--certificate-oidc-issuer", "https://issuer.example", "--trusted-root", tr, "--insecure-ignore-tlog", art})
			if code != cli.ExitOK {
				t.Fatalf("verify-bundle: exit %d", code)
			}
		})
	}
}
