//go:build e2e

package e2e

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestScanGate: a scan signed keyless by 'scan --attest' against the
// instance (Fulcio, Rekor v2, the TSA) passes 'verify --type vuln
// --max-age 1h'; measured at a clock moved forward (--max-age-at) it is
// too old by its TSA timestamp; a high finding fails --fail-on high, and a
// VEX not_affected statement about the scanned file lets it pass. The
// verify is summarised in a keyless SLSA verification summary, which then
// verifies by itself. The scan data is the repository's own small OSV
// database and lockfile (testdata/demo).
func TestScanGate(t *testing.T) {
	in := stack(t)
	dir := t.TempDir()
	demo := filepath.Join("..", "..", "testdata", "demo")
	recs, err := filepath.Glob(filepath.Join(demo, "osv", "*.json"))
	if err != nil || len(recs) == 0 {
		t.Fatalf("no OSV records in %s: %v", demo, err)
	}
	for _, r := range recs {
		mkdirAll(t, filepath.Join(dir, "osv"))
		write(t, filepath.Join(dir, "osv", filepath.Base(r)), read(t, r))
	}
	lock := read(t, filepath.Join(demo, "app", "package-lock.json"))
	mkdirAll(t, filepath.Join(dir, "app"))
	write(t, filepath.Join(dir, "app", "package-lock.json"), lock)
	sum := sha256.Sum256(lock)

	hm := func(want int, args ...string) result {
		t.Helper()
		r := runHallmarkIn(t, in, dir, args...)
		if r.code != want {
			t.Fatalf("hallmark %s\nexited with %d, want %d\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), r.code, want, r.stdout, r.stderr)
		}
		return r
	}
	hm(exitOK, "db", "import", "--db", "db", "osv")

	// The scan finds lodash (high) and minimist (medium): exit 3, signed.
	tok := in.token(t, signer)
	r := hm(exitRejected, "scan", "--db", "db", "--attest", "--bundle", "scan.sigstore.json",
		"--identity-token", tok, "--signing-config", in.signingConfig, "--trusted-root", in.trustedRoot, "app/package-lock.json")
	if !strings.Contains(r.stderr, "attested: app/package-lock.json: scan.sigstore.json, predicate vuln") || !strings.Contains(r.stderr, "tlog index") {
		t.Errorf("scan --attest said:\n%s", r.stderr)
	}
	checkBundle(t, filepath.Join(dir, "scan.sigstore.json"))
	st := statementOf(t, filepath.Join(dir, "scan.sigstore.json"))
	if got := jsonAt(t, st, "predicateType"); got != "https://in-toto.io/attestation/vulns/v0.2" {
		t.Errorf("predicateType %v", got)
	}
	if got := jsonAt(t, st, "subject.0.digest.sha256"); got != hex.EncodeToString(sum[:]) {
		t.Errorf("subject digest %v, want the lockfile's", got)
	}

	gate := func(want int, extra ...string) result {
		t.Helper()
		args := append([]string{"verify", "--offline", "--trusted-root", in.trustedRoot,
			"--certificate-identity", signer, "--certificate-oidc-issuer", in.issuer,
			"--type", "vuln", "--max-age", "1h", "--bundle", "scan.sigstore.json"}, extra...)
		return hm(want, append(args, "app/package-lock.json")...)
	}

	// Fresh, and nothing at or above critical.
	r = gate(exitOK, "--fail-on", "critical")
	if !strings.Contains(r.stdout, "OK app/package-lock.json: signed by") || !strings.Contains(r.stdout, "(tsa)") {
		t.Errorf("verify said:\n%s", r.stdout)
	}

	// Two hours later by the clock moved forward, it is too old by its
	// TSA timestamp.
	later := time.Now().Add(2 * time.Hour).UTC().Format(time.RFC3339)
	r = gate(exitRejected, "--fail-on", "critical", "--max-age-at", later)
	if !strings.Contains(r.stderr, "is too old") || !strings.Contains(r.stderr, "expected younger than 1h0m0s") || !strings.Contains(r.stderr, "(tsa ") {
		t.Errorf("too old said:\n%s", r.stderr)
	}

	// The high finding fails --fail-on high, named with its package.
	r = gate(exitRejected, "--fail-on", "high")
	if !strings.Contains(r.stderr, "GHSA-hm01-test-0001  high  lodash 4.17.15 (npm)") || strings.Contains(r.stderr, "minimist") {
		t.Errorf("--fail-on high said:\n%s", r.stderr)
	}

	// A VEX not_affected statement about the lockfile (by sha-256) covers it.
	write(t, filepath.Join(dir, "vex.json"), fmt.Appendf(nil, `{"@context": "https://openvex.dev/ns/v0.2.0", "@id": "https://example.com/vex/e2e",
  "author": "e2e", "timestamp": %q, "version": 1,
  "statements": [{"vulnerability": {"name": "CVE-2099-0001"},
    "products": [{"@id": "app/package-lock.json", "hashes": {"sha-256": %q}}],
    "status": "not_affected", "justification": "vulnerable_code_not_in_execute_path"}]}`,
		time.Now().UTC().Format(time.RFC3339), hex.EncodeToString(sum[:])))
	r = gate(exitOK, "--fail-on", "high", "--vex", "vex.json")
	if !strings.Contains(r.stdout, "covered: GHSA-hm01-test-0001 high") {
		t.Errorf("with the VEX, verify said:\n%s", r.stdout)
	}

	// The same verify summarised, keyless (so not --offline: the summary
	// is signed with the instance's services); it verifies alone.
	r = hm(exitOK, "verify", "--trusted-root", in.trustedRoot, "--certificate-identity", signer, "--certificate-oidc-issuer", in.issuer,
		"--type", "vuln", "--max-age", "1h", "--fail-on", "high", "--vex", "vex.json", "--bundle", "scan.sigstore.json",
		"--vsa", "gate.vsa.json", "--identity-token", in.token(t, signer), "--signing-config", in.signingConfig, "app/package-lock.json")
	if !strings.Contains(r.stderr, "verification summary (PASSED") {
		t.Errorf("--vsa said:\n%s", r.stderr)
	}
	checkBundle(t, filepath.Join(dir, "gate.vsa.json"))
	vsa := statementOf(t, filepath.Join(dir, "gate.vsa.json"))
	if got := jsonAt(t, vsa, "predicate.verificationResult"); got != "PASSED" {
		t.Errorf("verificationResult %v", got)
	}
	if got := jsonAt(t, vsa, "predicate.inputAttestations.0.uri"); got != "scan.sigstore.json" {
		t.Errorf("inputAttestations %v", got)
	}
	hm(exitOK, "verify", "--offline", "--trusted-root", in.trustedRoot, "--certificate-identity", signer, "--certificate-oidc-issuer", in.issuer,
		"--type", "https://slsa.dev/verification_summary/v1", "--bundle", "gate.vsa.json", "app/package-lock.json")
}

func mkdirAll(t *testing.T, dir string) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
}

// jsonAt follows a dotted path in decoded JSON, numbers indexing arrays.
func jsonAt(t *testing.T, v any, path string) any {
	t.Helper()
	for _, k := range strings.Split(path, ".") {
		switch x := v.(type) {
		case map[string]any:
			v = x[k]
		case []any:
			i, err := strconv.Atoi(k)
			if err != nil || i < 0 || i >= len(x) {
				t.Fatalf("%s: no element %q", path, k)
			}
			v = x[i]
		default:
			t.Fatalf("%s: %q is not in an object or array", path, k)
		}
	}
	return v
}
