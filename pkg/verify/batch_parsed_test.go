package verify_test

import (
	"context"
	"os"
	"path/filepath"
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
