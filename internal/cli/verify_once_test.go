package cli

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/hallmark-dev/hallmark/internal/sigtest"
)

// verify --bundle FILE with one artifact reads FILE once: searched, which
// parses it to count its bundles, hands the one bundle it found to the
// job, so the one-bundle path does not read and parse it again. A JSONL
// file of several bundles goes to the searched path and hands on nothing.
func TestOneBundleParsedOnce(t *testing.T) {
	inst, err := sigtest.New()
	if err != nil {
		t.Fatal(err)
	}
	artifact := []byte(sigtest.DemoArtifact)
	one, err := inst.SignBlob(artifact, sigtest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	art := filepath.Join(dir, "artifact")
	single := filepath.Join(dir, "one.sigstore.json")
	jsonl := filepath.Join(dir, "two.jsonl")
	for p, data := range map[string][]byte{art: artifact, single: one, jsonl: append(append(append([]byte{}, one...), '\n'), one...)} {
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}

	var o verifyOptions
	o.sources.bundles = []string{single}
	if o.sources.searched(context.Background(), 1) {
		t.Fatal("one bundle in one --bundle for one artifact is searched, want the one-bundle path")
	}
	o.bundlePath = single
	jobs, err := o.jobs([]string{art}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if o.sources.single == nil || jobs[0].Bundle == nil || jobs[0].Bundle != o.sources.single.Bundle {
		t.Fatalf("the job does not carry the bundle searched parsed (job %p, parsed %v)", jobs[0].Bundle, o.sources.single)
	}
	if jobs[0].BundlePath != single {
		t.Errorf("BundlePath = %q, want %q", jobs[0].BundlePath, single)
	}

	var several verifyOptions
	several.sources.bundles = []string{jsonl}
	if !several.sources.searched(context.Background(), 1) {
		t.Fatal("two bundles in one --bundle are not searched")
	}
	if several.sources.single != nil {
		t.Error("a file of two bundles left one to the one-bundle path")
	}
}
