package policy_test

import (
	"context"
	"fmt"
	"runtime"
	"sync"
	"testing"

	"github.com/sigstore/sigstore-go/pkg/bundle"
	"github.com/sigstore/sigstore-go/pkg/root"

	"github.com/hallmark-dev/hallmark/internal/sigtest"
	"github.com/hallmark-dev/hallmark/pkg/ecosystem/github"
	"github.com/hallmark-dev/hallmark/pkg/policy"
	"github.com/hallmark-dev/hallmark/pkg/verify"
)

const benchBundles = 1000

// benchPolicy requires a provenance from the demo release workflow with a
// CEL rule over it, for every artifact.
const benchPolicy = `version: 1
signers:
  release:
    issuer: https://token.actions.githubusercontent.com
    sanPattern: https://github\.com/hallmark-dev/demo/\.github/workflows/release\.yml@refs/tags/v.*
    github: {repository: hallmark-dev/demo, ref: refs/tags/v*}
artifacts:
  - name: "*"
    attestations:
      - predicateType: slsaprovenance1
        signers: "1 of [release]"
        rules:
          - name: builder
            cel: predicate.runDetails.builder.id == "https://example.com/builder"
          - name: tagged
            cel: signer.github.ref.startsWith("refs/tags/")
`

type benchSet struct {
	tm        *root.TrustedRoot
	bundles   []*bundle.Bundle
	artifacts []policy.Artifact
}

var (
	benchOnce sync.Once
	theBench  *benchSet
	benchErr  error
)

// getBenchSet makes 1,000 provenance bundles, one per artifact, with the
// hermetic sigtest instance (once per test binary).
func getBenchSet(b *testing.B) *benchSet {
	benchOnce.Do(func() {
		inst, err := sigtest.New()
		if err != nil {
			benchErr = err
			return
		}
		s := &benchSet{}
		if s.tm, benchErr = inst.TrustedRoot(); benchErr != nil {
			return
		}
		pred := map[string]any{
			"buildDefinition": map[string]any{"buildType": "https://example.com/build/v1"},
			"runDetails":      map[string]any{"builder": map[string]any{"id": "https://example.com/builder"}},
		}
		for i := range benchBundles {
			content := fmt.Appendf(nil, "artifact %d\n", i)
			name := fmt.Sprintf("app-%d.tar.gz", i)
			st, err := sigtest.Statement(name, content, sigtest.SLSAProvenanceV1, pred)
			if err != nil {
				benchErr = err
				return
			}
			data, err := inst.Attest(st, sigtest.Options{GitHub: sigtest.DemoClaims()})
			if err != nil {
				benchErr = err
				return
			}
			bd, err := verify.ParseBundle(data)
			if err != nil {
				benchErr = err
				return
			}
			s.bundles = append(s.bundles, bd)
			s.artifacts = append(s.artifacts, policy.Artifact{Name: name, Digests: []verify.Digest{{Algorithm: "sha256", Value: sha(content)}}})
		}
		theBench = s
	})
	if benchErr != nil {
		b.Fatal(benchErr)
	}
	return theBench
}

// verifyEach verifies every bundle, statement only, on all cores.
func verifyEach(ctx context.Context, b *testing.B, bundles []*bundle.Bundle, verify1 func(context.Context, *bundle.Bundle, verify.Artifact) (*verify.Result, error)) []*verify.Result {
	out := make([]*verify.Result, len(bundles))
	var wg sync.WaitGroup
	sem := make(chan struct{}, runtime.GOMAXPROCS(0))
	for i, bd := range bundles {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			res, err := verify1(ctx, bd, verify.StatementOnly("b"))
			if err != nil {
				b.Error(err)
				return
			}
			res.Bundle = fmt.Sprint(i)
			out[i] = res
		}()
	}
	wg.Wait()
	return out
}

// BenchmarkPolicy1000 is a policy over 1,000 bundles: one trust load and
// CEL compiled once (both outside the loop, as in one verify --policy run),
// each bundle verified once and every rule evaluated for every artifact;
// next to it, plain verify of the same bundles under the equivalent
// identity policy. bundles/s is the throughput.
func BenchmarkPolicy1000(b *testing.B) {
	s := getBenchSet(b)
	ctx := context.Background()
	tms := []root.TrustedMaterial{s.tm}
	b.Run("policy", func(b *testing.B) {
		p, err := policy.Parse(ctx, []byte(benchPolicy), policy.Options{File: "bench.yaml"})
		if err != nil {
			b.Fatal(err)
		}
		vs, err := policy.NewVerifiers(p, tms)
		if err != nil {
			b.Fatal(err)
		}
		for b.Loop() {
			results := verifyEach(ctx, b, s.bundles, vs.Verify)
			rep, err := p.Evaluate(ctx, policy.Input{Artifacts: s.artifacts, Attestations: results})
			if err != nil {
				b.Fatal(err)
			}
			if !rep.Passed || len(rep.Outcomes) != 3*benchBundles {
				b.Fatalf("passed %v with %d outcomes: %v", rep.Passed, len(rep.Outcomes), rep.Failed())
			}
		}
		b.ReportMetric(float64(benchBundles*b.N)/b.Elapsed().Seconds(), "bundles/s")
	})
	b.Run("verify", func(b *testing.B) {
		id, err := github.RepoIdentity("hallmark-dev/demo")
		if err != nil {
			b.Fatal(err)
		}
		v, err := verify.NewWithRoots(tms, verify.Policy{Identity: id, PredicateType: "slsaprovenance1"})
		if err != nil {
			b.Fatal(err)
		}
		for b.Loop() {
			verifyEach(ctx, b, s.bundles, v.Verify)
		}
		b.ReportMetric(float64(benchBundles*b.N)/b.Elapsed().Seconds(), "bundles/s")
	})
	b.Run("evaluate-only", func(b *testing.B) {
		p, err := policy.Parse(ctx, []byte(benchPolicy), policy.Options{File: "bench.yaml"})
		if err != nil {
			b.Fatal(err)
		}
		vs, err := policy.NewVerifiers(p, tms)
		if err != nil {
			b.Fatal(err)
		}
		results := verifyEach(ctx, b, s.bundles, vs.Verify)
		for b.Loop() {
			if _, err := p.Evaluate(ctx, policy.Input{Artifacts: s.artifacts, Attestations: results}); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(benchBundles*b.N)/b.Elapsed().Seconds(), "bundles/s")
	})
}
