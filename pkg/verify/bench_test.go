package verify_test

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sigstore/sigstore-go/pkg/bundle"
	"github.com/sigstore/sigstore-go/pkg/root"
	sgverify "github.com/sigstore/sigstore-go/pkg/verify"

	"github.com/hallmark-dev/hallmark/internal/sigtest"
	"github.com/hallmark-dev/hallmark/pkg/verify"
)

// benchCase is one bundle kind: a bundle, its artifact file, its root and
// the identity that signed it.
type benchCase struct {
	name       string
	bundle     []byte
	artifact   string
	tm         *root.TrustedRoot
	san, iss   string
	sgverifier []sgverify.VerifierOption
}

// sharedDir is ../shared beside the checkout, or "" (and a skip note) when
// it is absent.
func sharedDir(tb testing.TB) string {
	dir := filepath.Join("..", "..", "..", "shared")
	if _, err := os.Stat(filepath.Join(dir, "fixtures")); err != nil {
		tb.Logf("../shared not found: real-bundle cases skipped")
		return ""
	}
	return dir
}

const beacon = "https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/.github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main"

func benchCases(b *testing.B) []benchCase {
	w := getWorld(b)
	dir := b.TempDir()
	art := filepath.Join(dir, "artifact")
	if err := os.WriteFile(art, w.artifact, 0o644); err != nil {
		b.Fatal(err)
	}
	keyless := []sgverify.VerifierOption{sgverify.WithTransparencyLog(1), sgverify.WithObserverTimestamps(1)}
	cases := []benchCase{
		{"sigtest-rekor1-msgsig", w.bundles["blob"], art, w.tm, sigtest.DemoIdentity, sigtest.GitHubIssuer, keyless},
		{"sigtest-rekor2-dsse", w.bundles["rekor2"], art, w.tm, sigtest.EmailIdentity, sigtest.EmailIssuer, keyless},
	}
	shared := sharedDir(b)
	if shared == "" {
		return cases
	}
	rb := filepath.Join(shared, "fixtures", "real-bundles")
	pg, err := root.NewTrustedRootFromPath(filepath.Join(rb, "trusted-roots", "public-good.json"))
	if err != nil {
		b.Fatal(err)
	}
	withSCT := append([]sgverify.VerifierOption{sgverify.WithSignedCertificateTimestamps(1)}, keyless...)
	real := []struct {
		name, dir string
		ownRoot   bool
		san       string
	}{
		{"public-good-v0.3-msgsig", "b1-conf-happy-v0.3", false, beacon},
		{"public-good-dsse-npm-provenance", "b2-sigstorejs-2.0.0-provenance", false,
			"https://github.com/sigstore/sigstore-js/.github/workflows/release.yml@refs/heads/main"},
		{"staging-rekor2-tsa", "b4-conf-rekor2-happy", true, beacon},
	}
	for _, r := range real {
		data, err := os.ReadFile(filepath.Join(rb, r.dir, "bundle.sigstore.json"))
		if err != nil {
			b.Fatal(err)
		}
		tm := pg
		if r.ownRoot {
			if tm, err = root.NewTrustedRootFromPath(filepath.Join(rb, r.dir, "trusted_root.json")); err != nil {
				b.Fatal(err)
			}
		}
		cases = append(cases, benchCase{r.name, data, filepath.Join(rb, r.dir, "artifact"), tm, r.san, sigtest.GitHubIssuer, withSCT})
	}
	return cases
}

func parsed(b *testing.B, data []byte) *bundle.Bundle {
	bb, err := verify.ParseBundle(data)
	if err != nil {
		b.Fatal(err)
	}
	return bb
}

// BenchmarkVerify compares hallmark's pkg/verify with sigstore-go's verifier
// called directly on the same parsed bundle and artifact file: the ratio of
// the two is the cost of hallmark's layer.
func BenchmarkVerify(b *testing.B) {
	ctx := context.Background()
	for _, c := range benchCases(b) {
		bb := parsed(b, c.bundle)
		b.Run(c.name+"/hallmark", func(b *testing.B) {
			v, err := verify.New(c.tm, keyless(c.san, c.iss))
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				if _, err := v.Verify(ctx, bb, verify.FileArtifact(c.artifact)); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(c.name+"/sigstore-go", func(b *testing.B) {
			sgv, err := sgverify.NewVerifier(c.tm, c.sgverifier...)
			if err != nil {
				b.Fatal(err)
			}
			id, err := sgverify.NewShortCertificateIdentity(c.iss, "", c.san, "")
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				if err := sigstoreGoVerify(sgv, bb, c.artifact, id); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func sigstoreGoVerify(sgv *sgverify.Verifier, bb *bundle.Bundle, artifact string, id sgverify.CertificateIdentity) error {
	f, err := os.Open(artifact)
	if err != nil {
		return err
	}
	defer f.Close()
	_, err = sgv.Verify(bb, sgverify.NewPolicy(sgverify.WithArtifact(f), sgverify.WithCertificateIdentity(id)))
	return err
}

// BenchmarkVerifyBatch verifies 1,000 distinct bundles from files: hallmark's
// VerifyAll (trust material loaded once, all cores) against the baseline of
// sigstore-go's verifier called for each bundle in turn.
func BenchmarkVerifyBatch(b *testing.B) {
	const n = 1000
	inst, err := sigtest.New()
	if err != nil {
		b.Fatal(err)
	}
	tm, err := inst.TrustedRoot()
	if err != nil {
		b.Fatal(err)
	}
	dir := b.TempDir()
	var jobs []verify.Job
	for i := range n {
		art := filepath.Join(dir, fmt.Sprintf("a%04d", i))
		data := fmt.Appendf(nil, "artifact %d\n", i)
		bundleJSON, err := inst.SignBlob(data, sigtest.Options{})
		if err != nil {
			b.Fatal(err)
		}
		if err := os.WriteFile(art, data, 0o644); err != nil {
			b.Fatal(err)
		}
		if err := os.WriteFile(art+".sigstore.json", bundleJSON, 0o644); err != nil {
			b.Fatal(err)
		}
		jobs = append(jobs, verify.Job{Artifact: verify.FileArtifact(art), BundlePath: art + ".sigstore.json"})
	}
	b.Run("hallmark", func(b *testing.B) { benchVerifyAll(b, tm, demoPolicy(), jobs) })
	b.Run("sigstore-go", func(b *testing.B) {
		sgv, err := sgverify.NewVerifier(tm, sgverify.WithTransparencyLog(1), sgverify.WithObserverTimestamps(1))
		if err != nil {
			b.Fatal(err)
		}
		id, err := sgverify.NewShortCertificateIdentity(sigtest.GitHubIssuer, "", sigtest.DemoIdentity, "")
		if err != nil {
			b.Fatal(err)
		}
		for b.Loop() {
			for _, j := range jobs {
				bb, err := bundle.LoadJSONFromPath(j.BundlePath)
				if err != nil {
					b.Fatal(err)
				}
				if err := sigstoreGoVerify(sgv, bb, j.Artifact.Name, id); err != nil {
					b.Fatal(err)
				}
			}
		}
		b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "bundles/s")
	})
}

// BenchmarkHashLarge hashes a 1 GiB file as verify does (HashReader) and as
// a plain io.Copy into SHA-256 does; compare with `sha256sum` on the same
// file for the command-line floor. Skipped with -short.
func BenchmarkHashLarge(b *testing.B) {
	if testing.Short() {
		b.Skip("1 GiB file: skipped with -short")
	}
	const size = 1 << 30
	path := filepath.Join(b.TempDir(), "large")
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := io.CopyN(f, rand.Reader, size); err != nil {
		b.Fatal(err)
	}
	if err := f.Close(); err != nil {
		b.Fatal(err)
	}
	b.Run("HashReader", func(b *testing.B) {
		b.SetBytes(size)
		for b.Loop() {
			f, err := os.Open(path)
			if err != nil {
				b.Fatal(err)
			}
			if _, err := verify.HashReader(context.Background(), f, crypto.SHA256); err != nil {
				b.Fatal(err)
			}
			f.Close()
		}
	})
	b.Run("io.Copy", func(b *testing.B) {
		b.SetBytes(size)
		for b.Loop() {
			f, err := os.Open(path)
			if err != nil {
				b.Fatal(err)
			}
			h := sha256.New()
			if _, err := io.Copy(h, f); err != nil {
				b.Fatal(err)
			}
			f.Close()
		}
	})
}

// BenchmarkVerifyBatchPublicGood verifies 1,000 real public-good bundles
// (the 81 CPython release bundles of ../shared, by digest, in turn) with
// VerifyAll against sigstore-go's verifier called for each in turn. Their
// Fulcio chains are P-384, as in production.
func BenchmarkVerifyBatchPublicGood(b *testing.B) {
	shared := sharedDir(b)
	if shared == "" {
		b.Skip("../shared not found")
	}
	const n = 1000
	dir := filepath.Join(shared, "conformance", "data", "cpython-release")
	rows, err := readManifest(filepath.Join(dir, "manifest.tsv"))
	if err != nil {
		b.Fatal(err)
	}
	tm, err := root.NewTrustedRootFromPath(filepath.Join(shared, "conformance", "data", "_production", "trusted_root.json"))
	if err != nil {
		b.Fatal(err)
	}
	var jobs []verify.Job
	for i := range n {
		r := rows[i%len(rows)]
		a, err := verify.ParseDigest(r["digest"])
		if err != nil {
			b.Fatal(err)
		}
		jobs = append(jobs, verify.Job{Artifact: a, BundlePath: filepath.Join(dir, r["bundle"])})
	}
	anyone := verify.Policy{Identity: &verify.Identity{SANRegexp: ".+", IssuerRegexp: "https://.+"}}
	b.Run("hallmark", func(b *testing.B) { benchVerifyAll(b, tm, anyone, jobs) })
	b.Run("sigstore-go", func(b *testing.B) {
		sgv, err := sgverify.NewVerifier(tm, sgverify.WithTransparencyLog(1), sgverify.WithObserverTimestamps(1), sgverify.WithSignedCertificateTimestamps(1))
		if err != nil {
			b.Fatal(err)
		}
		for b.Loop() {
			for i, j := range jobs {
				bb, err := bundle.LoadJSONFromPath(j.BundlePath)
				if err != nil {
					b.Fatal(err)
				}
				r := rows[i%len(rows)]
				id, err := sgverify.NewShortCertificateIdentity(r["issuer"], "", r["identity"], "")
				if err != nil {
					b.Fatal(err)
				}
				raw, _ := hex.DecodeString(r["digest"][len("sha256:"):])
				if _, err := sgv.Verify(bb, sgverify.NewPolicy(sgverify.WithArtifactDigest("sha256", raw), sgverify.WithCertificateIdentity(id))); err != nil {
					b.Fatal(err)
				}
			}
		}
		b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "bundles/s")
	})
}

// readManifest reads a conformance manifest (TSV with a header row).
func readManifest(path string) ([]map[string]string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var header []string
	var rows []map[string]string
	for _, line := range strings.Split(string(data), "\n") {
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		cols := strings.Split(line, "\t")
		if header == nil {
			header = cols
			continue
		}
		row := map[string]string{}
		for i, h := range header {
			if i < len(cols) {
				row[h] = cols[i]
			}
		}
		rows = append(rows, row)
	}
	if len(rows) == 0 {
		return nil, fmt.Errorf("%s: no rows", path)
	}
	return rows, nil
}

// benchVerifyAll verifies all jobs with one Verifier per iteration and
// reports bundles per second.
func benchVerifyAll(b *testing.B, tm root.TrustedMaterial, p verify.Policy, jobs []verify.Job) {
	v, err := verify.New(tm, p)
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		for _, o := range v.VerifyAll(context.Background(), jobs) {
			if o.Err != nil {
				b.Fatal(o.Err)
			}
		}
	}
	b.ReportMetric(float64(len(jobs)*b.N)/b.Elapsed().Seconds(), "bundles/s")
}
