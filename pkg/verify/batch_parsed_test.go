package verify_test

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/hallmark-dev/hallmark/pkg/verify"
)

// A Job that carries its parsed bundle is verified from it: BundlePath only
// names the bundle in the result and is never read (here nothing is there).
func TestVerifyAllUsesParsedBundle(t *testing.T) {
	w := getWorld(t)
	dir := t.TempDir()
	art := filepath.Join(dir, "artifact")
	if err := os.WriteFile(art, w.artifact, 0o644); err != nil {
		t.Fatal(err)
	}
	b, err := verify.ParseBundle(w.bundles["blob"])
	if err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(dir, "never-written.sigstore.json")
	v := mustVerifier(t, w.tm, demoPolicy())
	outs := v.VerifyAll(context.Background(), []verify.Job{{Artifact: verify.FileArtifact(art), BundlePath: missing, Bundle: b}})
	if outs[0].Err != nil {
		t.Fatalf("VerifyAll with a parsed bundle: %v", outs[0].Err)
	}
	if got := outs[0].Result.Bundle; got != missing {
		t.Errorf("Result.Bundle = %q, want the job's BundlePath %q", got, missing)
	}
	// Without the parsed bundle the job reads BundlePath, and fails.
	outs = v.VerifyAll(context.Background(), []verify.Job{{Artifact: verify.FileArtifact(art), BundlePath: missing}})
	if outs[0].Err == nil {
		t.Fatal("VerifyAll read no bundle from a path where there is none")
	}
}

// callerReader is an artifact that records, at its first read, whether it
// is read on the goroutine that called VerifyAll: then the stack runs
// through TestVerifyAllOneJobOnCaller.
type callerReader struct {
	r        io.Reader
	read     bool
	onCaller bool
}

func (c *callerReader) Read(p []byte) (int, error) {
	if !c.read {
		c.read = true
		buf := make([]byte, 64<<10)
		c.onCaller = strings.Contains(string(buf[:runtime.Stack(buf, false)]), "TestVerifyAllOneJobOnCaller")
	}
	return c.r.Read(p)
}

// One job is verified on the calling goroutine, not handed to a worker
// (a thread handoff there and back in every cold verify).
func TestVerifyAllOneJobOnCaller(t *testing.T) {
	w := getWorld(t)
	b, err := verify.ParseBundle(w.bundles["blob"])
	if err != nil {
		t.Fatal(err)
	}
	cr := &callerReader{r: bytes.NewReader(w.artifact)}
	v := mustVerifier(t, w.tm, demoPolicy())
	outs := v.VerifyAll(context.Background(), []verify.Job{{Artifact: verify.ReaderArtifact("artifact", cr), BundlePath: "b.sigstore.json", Bundle: b}})
	if outs[0].Err != nil {
		t.Fatalf("VerifyAll: %v", outs[0].Err)
	}
	if !cr.read {
		t.Fatal("the artifact was never read")
	}
	if !cr.onCaller {
		t.Error("the one job was verified on another goroutine than VerifyAll's caller")
	}
}
