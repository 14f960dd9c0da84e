package main

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hallmark-dev/hallmark/internal/sigtest"
)

// brewBottles is the number of bottles BenchmarkHomebrewFromGitHub verifies.
const brewBottles = 100

// BenchmarkHomebrewFromGitHub verifies 100 bottles, each with its own SLSA
// provenance attestation by homebrew-core's bottle workflow (made by sigtest,
// offline), fetched with --from github from an attestations API served by
// this test: in ONE hallmark verify --preset homebrew-core call (one trust
// load, concurrent bounded fetches) against a loop of 100 calls of one
// bottle each, and reports bottles/s of each and their ratio.
func BenchmarkHomebrewFromGitHub(b *testing.B) {
	inst, err := sigtest.New()
	if err != nil {
		b.Fatal(err)
	}
	dir := b.TempDir()
	trusted := filepath.Join(dir, "trusted_root.json")
	tr, err := inst.TrustedRootJSON()
	if err != nil {
		b.Fatal(err)
	}
	if err := os.WriteFile(trusted, tr, 0o644); err != nil {
		b.Fatal(err)
	}
	const wf = ".github/workflows/publish-commit-bottles.yml"
	const ref = "refs/heads/main"
	id := sigtest.HomebrewCoreRepository + "/" + wf + "@" + ref
	opts := sigtest.Options{Identity: id, Issuer: sigtest.GitHubIssuer, GitHub: &sigtest.GitHubClaims{
		BuildSignerURI: id, BuildSignerDigest: sigtest.DemoDigest, RunnerEnvironment: "github-hosted",
		SourceRepositoryURI: sigtest.HomebrewCoreRepository, SourceRepositoryDigest: sigtest.DemoDigest, SourceRepositoryRef: ref,
		BuildConfigURI: id, BuildTrigger: "push", RunInvocationURI: sigtest.HomebrewRun,
	}}
	predicate := map[string]any{
		"buildDefinition": map[string]any{
			"buildType":          "https://actions.github.io/buildtypes/workflow/v1",
			"externalParameters": map[string]any{"workflow": map[string]any{"ref": ref, "repository": sigtest.HomebrewCoreRepository, "path": wf}},
		},
		"runDetails": map[string]any{"builder": map[string]any{"id": id}},
	}
	bundles := map[string][]byte{} // sha256:HEX -> bundle JSON
	var bottles []string
	for i := range brewBottles {
		name := fmt.Sprintf("formula%03d--1.0.%d.arm64_sonoma.bottle.tar.gz", i, i)
		content := []byte("bottle " + name + "\n")
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, content, 0o644); err != nil {
			b.Fatal(err)
		}
		sum := sha256.Sum256(content)
		d := hex.EncodeToString(sum[:])
		st, err := json.Marshal(map[string]any{"_type": sigtest.InTotoStatementV1, "predicateType": sigtest.SLSAProvenanceV1, "predicate": predicate,
			"subject": []any{map[string]any{"name": name, "digest": map[string]string{"sha256": d}}}})
		if err != nil {
			b.Fatal(err)
		}
		bj, err := inst.Attest(st, opts)
		if err != nil {
			b.Fatal(err)
		}
		bundles["sha256:"+d] = bj
		bottles = append(bottles, path)
	}
	// The inline shape of GET /repos/OWNER/NAME/attestations/DIGEST (see
	// ghapi_test.go for the others).
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, d, _ := strings.Cut(r.URL.Path, "/attestations/")
		bj, ok := bundles[d]
		if !ok {
			http.Error(w, `{"message":"Not Found"}`, http.StatusNotFound)
			return
		}
		data, _ := json.Marshal(map[string]any{"attestations": []any{map[string]any{"repository_id": 1, "bundle": json.RawMessage(bj)}}})
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(data)
	}))
	defer srv.Close()

	hallmark := manyBinary(b)
	env := append(os.Environ(), "HALLMARK_CACHE_DIR="+b.TempDir(), "GH_TOKEN=", "GITHUB_TOKEN=")
	base := []string{"verify", "--preset", "homebrew-core", "--from", "github", "--api-url", srv.URL, "--trusted-root", trusted}
	run := func(args []string, want int) time.Duration {
		cmd := exec.Command(hallmark, args...)
		cmd.Env = env
		t0 := time.Now()
		out, err := cmd.CombinedOutput()
		d := time.Since(t0)
		if err != nil {
			b.Fatalf("hallmark verify of %d bottles: %v\n%s", want, err, out)
		}
		if n := strings.Count("\n"+string(out), "\nOK "); n != want {
			b.Fatalf("hallmark verified %d bottles, want %d:\n%s", n, want, out)
		}
		return d
	}
	var single, loop []time.Duration
	b.ResetTimer()
	for range b.N {
		single = append(single, run(append(base, bottles...), len(bottles)))
		var total time.Duration
		for _, p := range bottles {
			total += run(append(base, p), 1)
		}
		loop = append(loop, total)
	}
	b.StopTimer()
	s, l := median(single), median(loop)
	b.ReportMetric(float64(s.Microseconds())/1000, "one-call-ms")
	b.ReportMetric(float64(l.Microseconds())/1000, "100-calls-ms")
	b.ReportMetric(float64(len(bottles))/s.Seconds(), "one-call-bottles/s")
	b.ReportMetric(float64(len(bottles))/l.Seconds(), "100-calls-bottles/s")
	b.ReportMetric(float64(l)/float64(s), "speedup")
	b.ReportMetric(0, "ns/op") // the metrics above are the result
}
