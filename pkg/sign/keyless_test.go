package sign_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/hallmark-dev/hallmark/internal/signtest"
	"github.com/hallmark-dev/hallmark/pkg/sign"
	"github.com/hallmark-dev/hallmark/pkg/verify"
)

// TestKeylessBatch signs several files keyless against a fake Fulcio and
// TSA: one certificate for the batch, every bundle verified, the identity
// reported.
func TestKeylessBatch(t *testing.T) {
	ctx := context.Background()
	fs := signtest.New(t)
	token := jwt(map[string]any{"iss": "https://issuer.example", "sub": "alice", "email": "alice@example.com", "email_verified": true, "aud": "sigstore", "exp": time.Now().Add(time.Hour).Unix()})
	dir := t.TempDir()
	var jobs []sign.Job
	for i := range 5 {
		p := writeFile(t, dir, fmt.Sprintf("f%d", i), []byte(fmt.Sprintf("file %d", i)))
		jobs = append(jobs, sign.Job{Path: p, BundlePath: p + ".sigstore.json"})
	}
	st := writeFile(t, dir, "st.json", statementFor([]byte("file 0")))
	jobs = append(jobs, sign.Job{Path: st, BundlePath: st + ".sigstore.json", InToto: true})
	s, err := sign.New(ctx, sign.Options{IDToken: token, TrustedRoot: fs.Root,
		Services: sign.Services{Fulcio: fs.Fulcio, TSA: []string{fs.TSA}}})
	if err != nil {
		t.Fatal(err)
	}
	outs, err := s.SignAll(ctx, jobs)
	if err != nil {
		t.Fatal(err)
	}
	if n := fs.CertRequests.Load(); n != 1 {
		t.Fatalf("%d certificate requests for a batch, want 1", n)
	}
	v, err := verify.New(fs.Root, verify.Policy{Identity: &verify.Identity{SAN: "alice@example.com", Issuer: "https://issuer.example"}, InsecureIgnoreTlog: true})
	if err != nil {
		t.Fatal(err)
	}
	for i, o := range outs {
		if o.Err != nil {
			t.Fatalf("%s: %v", jobs[i].Path, o.Err)
		}
		r := o.Result
		if r.Signer == nil || r.Signer.SAN != "alice@example.com" || r.Signer.Issuer != "https://issuer.example" {
			t.Fatalf("%s: signer %+v", jobs[i].Path, r.Signer)
		}
		if len(r.Timestamps) != 1 || r.Timestamps[0].Kind != "tsa" {
			t.Fatalf("%s: timestamps %+v", jobs[i].Path, r.Timestamps)
		}
		b, err := verify.ReadBundle(jobs[i].BundlePath)
		if err != nil {
			t.Fatal(err)
		}
		art := jobs[i].Path
		if jobs[i].InToto {
			art = jobs[0].Path
		}
		if _, err := v.Verify(ctx, b, verify.FileArtifact(art)); err != nil {
			t.Fatalf("%s: %v", jobs[i].Path, err)
		}
	}
}

// TestKeylessWrongRoot: bundles from services the trusted root does not
// list are a service fault, and nothing is written.
func TestKeylessWrongRoot(t *testing.T) {
	ctx := context.Background()
	fs, other := signtest.New(t), signtest.New(t)
	token := jwt(map[string]any{"iss": "https://issuer.example", "email": "alice@example.com", "email_verified": true, "aud": "sigstore", "exp": time.Now().Add(time.Hour).Unix()})
	dir := t.TempDir()
	art := writeFile(t, dir, "a", []byte("a"))
	s, err := sign.New(ctx, sign.Options{IDToken: token, TrustedRoot: other.Root,
		Services: sign.Services{Fulcio: fs.Fulcio, TSA: []string{fs.TSA}}})
	if err != nil {
		t.Fatal(err)
	}
	_, _, err = s.Sign(ctx, sign.Job{Path: art, BundlePath: art + ".sigstore.json"})
	if !errors.Is(err, sign.ErrBadBundle) {
		t.Fatalf("error %v, want ErrBadBundle", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "a.sigstore.json")); !errors.Is(err, os.ErrNotExist) {
		t.Fatal("a bundle was written")
	}
}
