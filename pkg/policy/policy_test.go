package policy_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sigstore/sigstore-go/pkg/root"

	"github.com/hallmark-dev/hallmark/internal/sigtest"
	"github.com/hallmark-dev/hallmark/pkg/policy"
	"github.com/hallmark-dev/hallmark/pkg/verify"
)

const exampleIssuer = "https://accounts.example.com"

// chain is a hermetic two-step supply chain: build (src/main.c ->
// app.tar.gz), package (app.tar.gz -> app.pkg) and a provenance of app.pkg.
type chain struct {
	inst    *sigtest.Instance
	tm      *root.TrustedRoot
	tarball []byte
	pkg     []byte
	src     []byte
}

var (
	chainOnce sync.Once
	theChain  *chain
	chainErr  error
)

func getChain(t testing.TB) *chain {
	t.Helper()
	chainOnce.Do(func() {
		c := &chain{tarball: []byte("tarball v1\n"), pkg: []byte("package v1\n"), src: []byte("int main(void) { return 0; }\n")}
		if c.inst, chainErr = sigtest.New(); chainErr != nil {
			return
		}
		c.tm, chainErr = c.inst.TrustedRoot()
		theChain = c
	})
	if chainErr != nil {
		t.Fatal(chainErr)
	}
	return theChain
}

func sha(b []byte) string { s := sha256.Sum256(b); return hex.EncodeToString(s[:]) }

type material struct {
	Name   string            `json:"name"`
	Digest map[string]string `json:"digest"`
}

// statement is an in-toto v1 statement with the given subjects.
func statement(t testing.TB, ptype string, subjects map[string][]byte, predicate any) []byte {
	t.Helper()
	var subs []map[string]any
	for name, content := range subjects {
		subs = append(subs, map[string]any{"name": name, "digest": map[string]string{"sha256": sha(content)}})
	}
	data, err := json.Marshal(map[string]any{"_type": sigtest.InTotoStatementV1, "subject": subs, "predicateType": ptype, "predicate": predicate})
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func link(name string, materials map[string][]byte) map[string]any {
	var ms []material
	for n, c := range materials {
		ms = append(ms, material{Name: n, Digest: map[string]string{"sha256": sha(c)}})
	}
	return map[string]any{"name": name, "command": []string{"make", name}, "materials": ms, "byproducts": map[string]any{"return-value": 0}}
}

func (c *chain) attest(t testing.TB, st []byte, o sigtest.Options) []byte {
	t.Helper()
	b, err := c.inst.Attest(st, o)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// bundles of a good run, by role; mutate replaces some.
func (c *chain) good(t testing.TB) map[string][]byte {
	buildLink := statement(t, "https://in-toto.io/attestation/link/v0.3", map[string][]byte{"app.tar.gz": c.tarball},
		link("build", map[string][]byte{"src/main.c": c.src}))
	pkgLink := statement(t, "https://in-toto.io/attestation/link/v0.3", map[string][]byte{"app.pkg": c.pkg},
		link("package", map[string][]byte{"app.tar.gz": c.tarball}))
	prov := statement(t, sigtest.SLSAProvenanceV1, map[string][]byte{"app.pkg": c.pkg}, map[string]any{
		"buildDefinition": map[string]any{"buildType": "https://example.com/build/v1", "externalParameters": map[string]any{}},
		"runDetails":      map[string]any{"builder": map[string]any{"id": "https://example.com/builder"}},
	})
	return map[string][]byte{
		"build":      c.attest(t, buildLink, sigtest.Options{Identity: "builder@example.com", Issuer: exampleIssuer}),
		"package":    c.attest(t, pkgLink, sigtest.Options{Identity: "packager@example.com", Issuer: exampleIssuer}),
		"provenance": c.attest(t, prov, sigtest.Options{GitHub: sigtest.DemoClaims()}),
	}
}

// evaluate verifies each bundle (statement only) and evaluates p for app.pkg.
func (c *chain) evaluate(t testing.TB, p *policy.Policy, bundles map[string][]byte) *policy.Report {
	t.Helper()
	ctx := context.Background()
	vs, err := policy.NewVerifiers(p, []root.TrustedMaterial{c.tm})
	if err != nil {
		t.Fatal(err)
	}
	var results []*verify.Result
	for name, data := range bundles {
		b, err := verify.ParseBundle(data)
		if err != nil {
			t.Fatal(err)
		}
		res, err := vs.Verify(ctx, b, verify.StatementOnly(name))
		if err != nil {
			t.Fatalf("bundle %s: %v", name, err)
		}
		res.Bundle = name
		results = append(results, res)
	}
	rep, err := p.Evaluate(ctx, policy.Input{
		Artifacts:    []policy.Artifact{{Name: "dist/app.pkg", Digests: []verify.Digest{{Algorithm: "sha256", Value: sha(c.pkg)}}}},
		Attestations: results,
	})
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

func load(t testing.TB, file string) *policy.Policy {
	t.Helper()
	p, err := policy.Load(context.Background(), filepath.Join("testdata", file))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func parse(t testing.TB, text string) *policy.Policy {
	t.Helper()
	p, err := policy.Parse(context.Background(), []byte(text), policy.Options{File: "p.yaml"})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func failed(rep *policy.Report) []string {
	var out []string
	for _, o := range rep.Failed() {
		out = append(out, o.Rule)
	}
	return out
}

func TestChainPasses(t *testing.T) {
	c := getChain(t)
	rep := c.evaluate(t, load(t, "chain.yaml"), c.good(t))
	if !rep.Passed {
		for _, o := range rep.Failed() {
			t.Errorf("%s: expected %s, actual %s", o.Rule, o.Expected, o.Actual)
		}
		t.Fatal("the good chain failed")
	}
	// Every rule of the policy is reported, passing.
	want := []string{
		"artifacts[0].attestations[0].signers", "artifacts[0].attestations[0].rules.local-build", "artifacts[0].attestations[0].rules.tagged",
		"steps.build.signers", "steps.package.signers", "steps.build.rules.succeeded",
		"steps.build.materials[0]", "steps.build.materials[1]", "steps.build.products[0]", "steps.build.products[1]",
		"steps.package.materials[0]", "steps.package.materials[1]",
		"steps.package.products[0]", "steps.package.products[1]", "steps.package.products[2]", "steps.package.product",
	}
	got := map[string]bool{}
	for _, o := range rep.Outcomes {
		got[o.Rule] = true
		if o.Pos.Line == 0 {
			t.Errorf("%s has no position", o.Rule)
		}
	}
	for _, w := range want {
		if !got[w] {
			t.Errorf("outcome %s missing", w)
		}
	}
	if len(rep.Outcomes) != len(want) {
		t.Errorf("%d outcomes, want %d", len(rep.Outcomes), len(want))
	}
}

func TestChainFailures(t *testing.T) {
	c := getChain(t)
	pol := load(t, "chain.yaml")
	other := []byte("another tarball\n")
	tests := []struct {
		name   string
		mutate func(map[string][]byte)
		policy *policy.Policy
		want   []string // exactly the failing rules
		actual string   // in the first failing outcome's Actual
	}{
		{
			name: "product swapped between steps",
			mutate: func(bs map[string][]byte) {
				st := statement(t, "https://in-toto.io/attestation/link/v0.3", map[string][]byte{"app.pkg": c.pkg},
					link("package", map[string][]byte{"app.tar.gz": other}))
				bs["package"] = c.attest(t, st, sigtest.Options{Identity: "packager@example.com", Issuer: exampleIssuer})
			},
			want:   []string{"steps.package.materials[0]", "steps.package.materials[1]"},
			actual: "in the products of \"build\"",
		},
		{
			name: "step signed by another identity",
			mutate: func(bs map[string][]byte) {
				st := statement(t, "https://in-toto.io/attestation/link/v0.3", map[string][]byte{"app.tar.gz": c.tarball},
					link("build", map[string][]byte{"src/main.c": c.src}))
				bs["build"] = c.attest(t, st, sigtest.Options{Identity: "mallory@example.com", Issuer: exampleIssuer})
			},
			// Without an accepted build, nothing of it can be checked.
			want: []string{"steps.build.signers", "steps.build.rules.succeeded", "steps.build.materials[0]", "steps.build.materials[1]",
				"steps.build.products[0]", "steps.build.products[1]", "steps.package.materials[0]", "steps.package.materials[1]"},
			actual: `also signed by signers not named: "mallory@example.com"`,
		},
		{
			name:   "threshold not met",
			policy: parse(t, strings.Replace(withBuilder2(t), `"1 of [builder]"`, `"2 of [builder, builder2]"`, 1)),
			want:   []string{"steps.build.signers"},
			actual: "1 of [builder]",
		},
		{
			name: "CEL rule over the provenance is false",
			mutate: func(bs map[string][]byte) {
				st := statement(t, sigtest.SLSAProvenanceV1, map[string][]byte{"app.pkg": c.pkg}, map[string]any{
					"buildDefinition": map[string]any{"buildType": "https://evil.example/build"},
					"runDetails":      map[string]any{"builder": map[string]any{"id": "https://example.com/builder"}},
				})
				bs["provenance"] = c.attest(t, st, sigtest.Options{GitHub: sigtest.DemoClaims()})
			},
			want:   []string{"artifacts[0].attestations[0].rules.local-build"},
			actual: "false",
		},
		{
			name: "every failure of one bad run together",
			mutate: func(bs map[string][]byte) {
				st := statement(t, "https://in-toto.io/attestation/link/v0.3", map[string][]byte{"app.pkg": c.pkg},
					link("package", map[string][]byte{"app.tar.gz": other}))
				bs["package"] = c.attest(t, st, sigtest.Options{Identity: "packager@example.com", Issuer: exampleIssuer})
				prov := statement(t, sigtest.SLSAProvenanceV1, map[string][]byte{"app.pkg": c.pkg}, map[string]any{
					"buildDefinition": map[string]any{"buildType": "https://evil.example/build"},
					"runDetails":      map[string]any{"builder": map[string]any{"id": "b"}},
				})
				bs["provenance"] = c.attest(t, prov, sigtest.Options{GitHub: sigtest.DemoClaims()})
			},
			want:   []string{"artifacts[0].attestations[0].rules.local-build", "steps.package.materials[0]", "steps.package.materials[1]"},
			actual: "false",
		},
		{
			name:   "no provenance at all",
			mutate: func(bs map[string][]byte) { delete(bs, "provenance") },
			want: []string{"artifacts[0].attestations[0].signers", "artifacts[0].attestations[0].rules.local-build",
				"artifacts[0].attestations[0].rules.tagged"},
			actual: "0: no slsaprovenance1 attestation covers dist/app.pkg",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			bs := c.good(t)
			if tt.mutate != nil {
				tt.mutate(bs)
			}
			p := pol
			if tt.policy != nil {
				p = tt.policy
			}
			rep := c.evaluate(t, p, bs)
			if rep.Passed {
				t.Fatal("passed")
			}
			got := failed(rep)
			if strings.Join(got, " ") != strings.Join(tt.want, " ") {
				t.Errorf("failed rules:\n got %q\nwant %q", got, tt.want)
			}
			if f := rep.Failed(); len(f) > 0 && !strings.Contains(f[0].Actual, tt.actual) {
				t.Errorf("%s: actual %q does not contain %q", f[0].Rule, f[0].Actual, tt.actual)
			}
		})
	}
}

// withBuilder2 is chain.yaml with a second builder signer.
func withBuilder2(t testing.TB) string {
	t.Helper()
	data, err := os.ReadFile("testdata/chain.yaml")
	if err != nil {
		t.Fatal(err)
	}
	s := string(data)
	return strings.Replace(s, "signers:\n", "signers:\n  builder2:\n    issuer: https://accounts.example.com\n    san: builder2@example.com\n", 1)
}

// TestThresholdDistinctSigners: two attestations of one signer are one
// signer, and one certificate never counts for two names.
func TestThresholdDistinctSigners(t *testing.T) {
	c := getChain(t)
	p := parse(t, `version: 1
signers:
  a: {issuer: https://accounts.example.com, sanPattern: ".*@example\\.com"}
  b: {issuer: https://accounts.example.com, sanPattern: "alice@example\\.com"}
artifacts:
  - name: "*"
    attestations:
      - predicateType: slsaprovenance1
        signers: "2 of [a, b]"
`)
	prov := statement(t, sigtest.SLSAProvenanceV1, map[string][]byte{"app.pkg": c.pkg}, map[string]any{
		"buildDefinition": map[string]any{"buildType": "x"}, "runDetails": map[string]any{"builder": map[string]any{"id": "y"}}})
	alice := sigtest.Options{Identity: "alice@example.com", Issuer: exampleIssuer}
	bob := sigtest.Options{Identity: "bob@example.com", Issuer: exampleIssuer}
	tests := []struct {
		name    string
		bundles map[string][]byte
		pass    bool
	}{
		{"one alice", map[string][]byte{"1": c.attest(t, prov, alice)}, false},
		{"alice twice", map[string][]byte{"1": c.attest(t, prov, alice), "2": c.attest(t, prov, alice)}, false},
		{"alice and bob", map[string][]byte{"1": c.attest(t, prov, alice), "2": c.attest(t, prov, bob)}, true},
		{"bob twice", map[string][]byte{"1": c.attest(t, prov, bob), "2": c.attest(t, prov, bob)}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rep := c.evaluate(t, p, tt.bundles)
			if rep.Passed != tt.pass {
				t.Errorf("passed %v, want %v: %+v", rep.Passed, tt.pass, rep.Outcomes)
			}
		})
	}
}

func TestScanGateCEL(t *testing.T) {
	c := getChain(t)
	p := load(t, "scangate.yaml")
	scan := func(score string) []byte {
		st := statement(t, "https://in-toto.io/attestation/vulns/v0.2", map[string][]byte{"app.pkg": c.pkg}, map[string]any{
			"scanner": map[string]any{"uri": "hallmark", "result": []any{
				map[string]any{"id": "GHSA-1", "severity": []any{map[string]any{"method": "CVSSv3", "score": score}}}}}})
		return c.attest(t, st, sigtest.Options{Identity: "scanner@example.com", Issuer: exampleIssuer})
	}
	low := c.evaluate(t, p, map[string][]byte{"scan": scan("3.1")})
	if !low.Passed {
		t.Errorf("a fresh scan with a low finding failed: %v", failed(low))
	}
	high := c.evaluate(t, p, map[string][]byte{"scan": scan("9.8")})
	if got := strings.Join(failed(high), " "); got != "artifacts[0].attestations[0].rules.no-high" {
		t.Errorf("a high finding: failed %q", got)
	}
	// A week later, the scan is stale: now moves, the verified time does not.
	ctx := context.Background()
	vs, err := policy.NewVerifiers(p, []root.TrustedMaterial{c.tm})
	if err != nil {
		t.Fatal(err)
	}
	b, err := verify.ParseBundle(scan("3.1"))
	if err != nil {
		t.Fatal(err)
	}
	res, err := vs.Verify(ctx, b, verify.StatementOnly("scan"))
	if err != nil {
		t.Fatal(err)
	}
	rep, err := p.Evaluate(ctx, policy.Input{Now: time.Now().Add(8 * 24 * time.Hour), Attestations: []*verify.Result{res},
		Artifacts: []policy.Artifact{{Name: "app.pkg", Digests: []verify.Digest{{Algorithm: "sha256", Value: sha(c.pkg)}}}}})
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(failed(rep), " "); got != "artifacts[0].attestations[0].rules.fresh" {
		t.Errorf("a stale scan: failed %q", got)
	}
}

func TestKeySigner(t *testing.T) {
	c := getChain(t)
	dir := t.TempDir()
	key, err := sigtest.GenerateKey(sigtest.KeyECDSAP256)
	if err != nil {
		t.Fatal(err)
	}
	pemData, err := sigtest.PublicKeyPEM(key.Public())
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "k.pub"), pemData, 0o644); err != nil {
		t.Fatal(err)
	}
	text := `version: 1
signers:
  k: {key: k.pub}
artifacts:
  - name: "*.pkg"
    attestations:
      - predicateType: signature
        signers: "1 of [k]"
`
	p, err := policy.Parse(context.Background(), []byte(text), policy.Options{File: "p.yaml", Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	bundle, err := c.inst.SignBlobWithKeyLogged(key, c.pkg)
	if err != nil {
		t.Fatal(err)
	}
	vs, err := policy.NewVerifiers(p, []root.TrustedMaterial{c.tm})
	if err != nil {
		t.Fatal(err)
	}
	b, err := verify.ParseBundle(bundle)
	if err != nil {
		t.Fatal(err)
	}
	d, _ := verify.ParseDigest("sha256:" + sha(c.pkg))
	res, err := vs.Verify(context.Background(), b, d)
	if err != nil {
		t.Fatal(err)
	}
	art := []policy.Artifact{{Name: "app.pkg", Digests: []verify.Digest{{Algorithm: "sha256", Value: sha(c.pkg)}}}}
	rep, err := p.Evaluate(context.Background(), policy.Input{Artifacts: art, Attestations: []*verify.Result{res}})
	if err != nil || !rep.Passed {
		t.Fatalf("key signature: %v %+v", err, rep)
	}
	// A keyless signature of the same file is no key signer's.
	kl, err := c.inst.SignBlob(c.pkg, sigtest.Options{Identity: "alice@example.com", Issuer: exampleIssuer})
	if err != nil {
		t.Fatal(err)
	}
	b, _ = verify.ParseBundle(kl)
	_, err = vs.Verify(context.Background(), b, d)
	var rej *verify.RejectedError
	if !errors.As(err, &rej) || rej.Cause != verify.CauseSignerKind {
		t.Errorf("a keyless bundle under a key-only policy: %v", err)
	}
}

// TestCELCostLimit: a rule that would take forever stops at the cost limit
// and fails, saying why, instead of hanging the verification.
func TestCELCostLimit(t *testing.T) {
	c := getChain(t)
	p := parse(t, `version: 1
signers:
  a: {issuer: https://accounts.example.com, san: alice@example.com}
artifacts:
  - name: "*"
    attestations:
      - predicateType: slsaprovenance1
        signers: [a]
        rules:
          - name: explode
            cel: '[1,2,3,4,5,6,7,8].map(a, [1,2,3,4,5,6,7,8].map(b, [1,2,3,4,5,6,7,8].map(c, [1,2,3,4,5,6,7,8].map(d, [1,2,3,4,5,6,7,8].map(e, [1,2,3,4,5,6,7,8].map(f, [1,2,3,4,5,6,7,8].map(g, [1,2,3,4,5,6,7,8]))))))).size() > 0'
`)
	prov := statement(t, sigtest.SLSAProvenanceV1, map[string][]byte{"app.pkg": c.pkg}, map[string]any{
		"buildDefinition": map[string]any{"buildType": "x"}, "runDetails": map[string]any{"builder": map[string]any{"id": "y"}}})
	rep := c.evaluate(t, p, map[string][]byte{"p": c.attest(t, prov, sigtest.Options{Identity: "alice@example.com", Issuer: exampleIssuer})})
	f := rep.Failed()
	if len(f) != 1 || f[0].Rule != "artifacts[0].attestations[0].rules.explode" || !strings.Contains(f[0].Actual, "cost limit") {
		t.Fatalf("got %+v", f)
	}
}

// TestCELNotABoolShort: a rule that yields no bool (here the whole
// predicate, 100 kB) fails, and its actual quotes only the start of what
// it yielded: a signed document does not flood the report.
func TestCELNotABoolShort(t *testing.T) {
	c := getChain(t)
	p := parse(t, `version: 1
signers:
  a: {issuer: https://accounts.example.com, san: alice@example.com}
artifacts:
  - name: "*"
    attestations:
      - predicateType: slsaprovenance1
        signers: [a]
        rules:
          - name: whole
            cel: predicate
`)
	prov := statement(t, sigtest.SLSAProvenanceV1, map[string][]byte{"app.pkg": c.pkg}, map[string]any{
		"buildDefinition": map[string]any{"buildType": strings.Repeat("x", 100_000)}, "runDetails": map[string]any{"builder": map[string]any{"id": "y"}}})
	rep := c.evaluate(t, p, map[string][]byte{"p": c.attest(t, prov, sigtest.Options{Identity: "alice@example.com", Issuer: exampleIssuer})})
	f := rep.Failed()
	if len(f) != 1 || f[0].Rule != "artifacts[0].attestations[0].rules.whole" || !strings.HasPrefix(f[0].Actual, "not a bool: ") {
		t.Fatalf("got %+v", f)
	}
	if len(f[0].Actual) > 300 || !strings.Contains(f[0].Actual, "more bytes") {
		t.Errorf("actual of %d bytes: %.400q", len(f[0].Actual), f[0].Actual)
	}
}
