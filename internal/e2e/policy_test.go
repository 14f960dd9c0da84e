//go:build e2e

package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// chainRun is one run of the two-step supply chain in a directory: build
// (materials src/, product app.tar.gz) and package (material app.tar.gz,
// product app.pkg), each recorded by 'hallmark attest run', and a
// provenance of app.pkg by 'hallmark attest --provenance'.
type chainRun struct {
	dir                         string
	build, pkg, provenance, art string
}

// step runs 'hallmark attest run' keyless as email in dir.
func (in *instance) step(t *testing.T, dir, email, name string, args ...string) string {
	t.Helper()
	all := append([]string{"attest", "run", "--identity-token", in.token(t, email), "--signing-config", in.signingConfig,
		"--trusted-root", in.trustedRoot, "--step", name}, args...)
	if r := runHallmarkIn(t, in, dir, all...); r.code != exitOK {
		t.Fatalf("attest run --step %s exited %d:\n%s", name, r.code, r.stderr)
	}
	return filepath.Join(dir, name+".link.sigstore.json")
}

// chain runs the supply chain in a new directory; builder and packager are
// the identities that sign the steps.
func (in *instance) chain(t *testing.T, builder, packager string) chainRun {
	t.Helper()
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "src"), 0o755); err != nil {
		t.Fatal(err)
	}
	unique := fmt.Sprintf("%s %d", t.Name(), time.Now().UnixNano())
	write(t, filepath.Join(dir, "src", "main.c"), []byte("int main(void) { return 0; } /* "+unique+" */\n"))
	write(t, filepath.Join(dir, "src", "util.c"), []byte("int util(void) { return 1; }\n"))
	c := chainRun{dir: dir, art: filepath.Join(dir, "app.pkg")}
	c.build = in.step(t, dir, builder, "build", "--materials", "src", "--products", "app.tar.gz", "--", "sh", "-c", "cat src/*.c > app.tar.gz")
	c.pkg = in.step(t, dir, packager, "package", "--materials", "app.tar.gz", "--products", "app.pkg", "--", "sh", "-c", "(echo pkg; cat app.tar.gz) > app.pkg")
	c.provenance = filepath.Join(dir, "app.pkg.provenance.sigstore.json")
	in.attest(t, []string{"GITHUB_ACTIONS=", "GITLAB_CI="}, exitOK, in.token(t, "release@example.com"), "--provenance", "--bundle", c.provenance, c.art)
	return c
}

// policyFor is the chain's policy; edit changes it (a threshold, a rule).
func (in *instance) policyFor(t *testing.T, dir string, edit func(string) string) string {
	t.Helper()
	text := fmt.Sprintf(`version: 1
trust:
  roots: [%q]
signers:
  builder: {issuer: %q, san: builder@example.com}
  packager: {issuer: %[2]q, san: packager@example.com}
  packager2: {issuer: %[2]q, san: packager2@example.com}
  release: {issuer: %[2]q, san: release@example.com}
artifacts:
  - name: "*.pkg"
    attestations:
      - predicateType: slsaprovenance1
        signers: "1 of [release]"
        rules:
          - name: local-build
            cel: predicate.buildDefinition.buildType == "https://github.com/hallmark-dev/hallmark/buildtypes/local/v1"
steps:
  - name: build
    signers: "1 of [builder]"
    materials: ["ALLOW src/*", "DISALLOW *"]
    products: ["ALLOW app.tar.gz", "DISALLOW *"]
  - name: package
    signers: "1 of [packager]"
    materials: ["MATCH app.tar.gz WITH products FROM build", "DISALLOW *"]
    products: ["ALLOW app.pkg", "DISALLOW *"]
`, in.trustedRoot, in.issuer)
	if edit != nil {
		text = edit(text)
	}
	p := filepath.Join(dir, fmt.Sprintf("policy-%d.yaml", time.Now().UnixNano()))
	write(t, p, []byte(text))
	return p
}

// verifyPolicy runs verify --policy offline over the bundles and returns stderr.
func (in *instance) verifyPolicy(t *testing.T, want int, policy, artifact string, bundles ...string) string {
	t.Helper()
	args := []string{"verify", "--offline", "--policy", policy}
	for _, b := range bundles {
		args = append(args, "--bundle", b)
	}
	_, stderr := in.run(t, want, "hallmark", append(args, artifact)...)
	return stderr
}

// failedRules are the rule names of a rejected verify --policy's stderr.
func failedRules(stderr string) []string {
	var out []string
	for _, l := range strings.Split(stderr, "\n") {
		rest, ok := strings.CutPrefix(l, "hallmark:   ")
		if !ok || strings.HasPrefix(rest, " ") || strings.HasPrefix(rest, "refused ") {
			continue
		}
		name, _, _ := strings.Cut(rest, " ")
		out = append(out, name)
	}
	return out
}

func wantRules(t *testing.T, stderr string, want ...string) {
	t.Helper()
	if got := failedRules(stderr); strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("failed rules\n got %q\nwant %q\nstderr:\n%s", got, want, stderr)
	}
}

// TestPolicy: a two-step supply chain recorded with attest run on the local
// stack passes its policy; a product swapped between the steps, a step
// signed by another identity, a threshold not met and a false CEL rule over
// the provenance each fail naming the rule, all of one bad run together;
// policy init pins the chain and refuses another identity's; a signed
// policy is verified before it is used.
func TestPolicy(t *testing.T) {
	in := stack(t)
	good := in.chain(t, "builder@example.com", "packager@example.com")
	pol := in.policyFor(t, good.dir, nil)
	bundles := []string{good.build, good.pkg, good.provenance}
	in.run(t, exitOK, "hallmark", "policy", "lint", pol)
	out, _ := in.run(t, exitOK, "hallmark", append([]string{"verify", "--offline", "--policy", pol, "--bundle", good.build, "--bundle", good.pkg, "--bundle", good.provenance}, good.art)...)
	if !strings.Contains(out, "rules passed over 3 attestations") {
		t.Errorf("stdout %q", out)
	}

	t.Run("product-swapped", func(t *testing.T) {
		// The package step packs another app.tar.gz than build made.
		other := in.chain(t, "builder@example.com", "packager@example.com")
		stderr := in.verifyPolicy(t, exitRejected, pol, other.art, good.build, other.pkg, other.provenance)
		wantRules(t, stderr, "steps.package.materials[0]", "steps.package.materials[1]")
		if !strings.Contains(stderr, `"app.tar.gz" is sha256:`) || !strings.Contains(stderr, `in the products of "build"`) {
			t.Errorf("the MATCH failure does not show both digests:\n%s", stderr)
		}
	})

	t.Run("step-signed-by-another-identity", func(t *testing.T) {
		bad := in.chain(t, "mallory@example.com", "packager@example.com")
		stderr := in.verifyPolicy(t, exitRejected, pol, bad.art, bad.build, bad.pkg, bad.provenance)
		wantRules(t, stderr, "steps.build.signers", "steps.build.materials[0]", "steps.build.materials[1]",
			"steps.build.products[0]", "steps.build.products[1]", "steps.package.materials[0]", "steps.package.materials[1]")
		if !strings.Contains(stderr, `also signed by signers not named: "mallory@example.com"`) {
			t.Errorf("the other identity is not named:\n%s", stderr)
		}
	})

	t.Run("threshold-not-met", func(t *testing.T) {
		p := in.policyFor(t, good.dir, func(s string) string {
			return strings.Replace(s, `"1 of [packager]"`, `"2 of [packager, packager2]"`, 1)
		})
		stderr := in.verifyPolicy(t, exitRejected, p, good.art, bundles...)
		wantRules(t, stderr, "steps.package.signers")
		if !strings.Contains(stderr, "expected 2 of [packager, packager2]") || !strings.Contains(stderr, "actual   1 of [packager]") {
			t.Errorf("stderr:\n%s", stderr)
		}
	})

	t.Run("cel-rule-false", func(t *testing.T) {
		p := in.policyFor(t, good.dir, func(s string) string {
			return strings.Replace(s, "buildtypes/local/v1", "buildtypes/other/v1", 1)
		})
		stderr := in.verifyPolicy(t, exitRejected, p, good.art, bundles...)
		wantRules(t, stderr, "artifacts[0].attestations[0].rules.local-build")
	})

	t.Run("all-failures-together", func(t *testing.T) {
		p := in.policyFor(t, good.dir, func(s string) string {
			s = strings.Replace(s, `"1 of [packager]"`, `"2 of [packager, packager2]"`, 1)
			return strings.Replace(s, "buildtypes/local/v1", "buildtypes/other/v1", 1)
		})
		other := in.chain(t, "mallory@example.com", "packager@example.com")
		stderr := in.verifyPolicy(t, exitRejected, p, other.art, other.build, other.pkg, other.provenance)
		wantRules(t, stderr, "artifacts[0].attestations[0].rules.local-build", "steps.build.signers", "steps.package.signers",
			"steps.build.materials[0]", "steps.build.materials[1]", "steps.build.products[0]", "steps.build.products[1]",
			"steps.package.materials[0]", "steps.package.materials[1]")
		if !strings.Contains(stderr, "rejected: 9 of ") {
			t.Errorf("stderr:\n%s", stderr)
		}
	})

	t.Run("init", func(t *testing.T) {
		initPol := filepath.Join(good.dir, "init.yaml")
		in.run(t, exitOK, "hallmark", "policy", "init", "--offline", "--trusted-root", in.trustedRoot,
			"--from", good.build, "--from", good.pkg, "--from", good.provenance, "-o", initPol)
		data := string(read(t, initPol))
		for _, want := range []string{`san: "builder@example.com"`, `san: "packager@example.com"`, `san: "release@example.com"`,
			`"MATCH app.tar.gz WITH products FROM build"`, `predicateType: "slsaprovenance1"`, "REVIEW"} {
			if !strings.Contains(data, want) {
				t.Errorf("the policy lacks %s:\n%s", want, data)
			}
		}
		in.run(t, exitOK, "hallmark", "verify", "--offline", "--trusted-root", in.trustedRoot, "--policy", initPol,
			"--bundle", good.build, "--bundle", good.pkg, "--bundle", good.provenance, good.art)
		bad := in.chain(t, "mallory@example.com", "packager@example.com")
		_, stderr := in.run(t, exitRejected, "hallmark", "verify", "--offline", "--trusted-root", in.trustedRoot, "--policy", initPol,
			"--bundle", bad.build, "--bundle", bad.pkg, "--bundle", bad.provenance, bad.art)
		if !strings.Contains(stderr, "steps.build.signers") || !strings.Contains(stderr, "mallory@example.com") {
			t.Errorf("another identity's chain:\n%s", stderr)
		}
	})

	t.Run("signed-policy", func(t *testing.T) {
		in.run(t, exitOK, "hallmark", "sign", "--identity-token", in.token(t, "policy-owner@example.com"),
			"--signing-config", in.signingConfig, "--trusted-root", in.trustedRoot, pol)
		pb := pol + ".sigstore.json"
		args := []string{"verify", "--offline", "--trusted-root", in.trustedRoot, "--policy", pol, "--policy-bundle", pb,
			"--policy-issuer", in.issuer, "--bundle", good.build, "--bundle", good.pkg, "--bundle", good.provenance}
		in.run(t, exitOK, "hallmark", append(args, "--policy-identity", "policy-owner@example.com", good.art)...)
		_, stderr := in.run(t, exitRejected, "hallmark", append(args, "--policy-identity", "someone-else@example.com", good.art)...)
		if !strings.Contains(stderr, "does not verify") {
			t.Errorf("stderr:\n%s", stderr)
		}
		// The policy changed after it was signed.
		write(t, pol, append(read(t, pol), []byte("# edited\n")...))
		in.run(t, exitRejected, "hallmark", append(args, "--policy-identity", "policy-owner@example.com", good.art)...)
	})
}
