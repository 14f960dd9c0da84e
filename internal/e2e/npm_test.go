//go:build e2e

package e2e

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	protocommon "github.com/sigstore/protobuf-specs/gen/pb-go/common/v1"
	"github.com/sigstore/sigstore-go/pkg/root"
	"github.com/sigstore/sigstore-go/pkg/sign"
	"github.com/sigstore/sigstore/pkg/signature"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/hallmark-dev/hallmark/internal/npmtest"
	"github.com/hallmark-dev/hallmark/internal/tuftest"
	"github.com/hallmark-dev/hallmark/pkg/ecosystem/github"
	"github.com/hallmark-dev/hallmark/pkg/ecosystem/npm"
	"github.com/hallmark-dev/hallmark/pkg/verify"
)

// registryKeypair is a local "npm registry key": a P-256 key named by its
// key id, as sigstore-go's signer takes it.
type registryKeypair struct {
	key *ecdsa.PrivateKey
	id  string
}

func newRegistryKeypair(t *testing.T) *registryKeypair {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKIXPublicKey(&k.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(der)
	return &registryKeypair{key: k, id: "SHA256:" + base64.RawStdEncoding.EncodeToString(sum[:])}
}

func (k *registryKeypair) GetHashAlgorithm() protocommon.HashAlgorithm {
	return protocommon.HashAlgorithm_SHA2_256
}
func (k *registryKeypair) GetSigningAlgorithm() protocommon.PublicKeyDetails {
	return protocommon.PublicKeyDetails_PKIX_ECDSA_P256_SHA_256
}
func (k *registryKeypair) GetHint() []byte                { return []byte(k.id) }
func (k *registryKeypair) GetKeyAlgorithm() string        { return "ECDSA" }
func (k *registryKeypair) GetPublicKey() crypto.PublicKey { return &k.key.PublicKey }
func (k *registryKeypair) GetPublicKeyPem() (string, error) {
	der, err := x509.MarshalPKIXPublicKey(&k.key.PublicKey)
	if err != nil {
		return "", err
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})), nil
}
func (k *registryKeypair) SignData(_ context.Context, data []byte) ([]byte, []byte, error) {
	sum := sha256.Sum256(data)
	sig, err := ecdsa.SignASN1(rand.Reader, k.key, sum[:])
	return sig, sum[:], err
}

// keysJSON is the registry key as Sigstore's TUF repository publishes
// npm's, valid from start.
func (k *registryKeypair) keysJSON(t *testing.T, start time.Time) []byte {
	t.Helper()
	reg := &npmtest.Registry{Key: k.key, KeyID: k.id, Start: start}
	data, err := reg.KeysJSON()
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// signNPM signs an in-toto statement on the stack: with the registry key
// (publish attestation: Rekor v2 and the TSA, no certificate) when tok is
// "", else keylessly with tok (the provenance).
func (in *instance) signNPM(t *testing.T, statement []byte, kp *registryKeypair, tok string) []byte {
	t.Helper()
	content := &sign.DSSEData{Data: statement, PayloadType: verify.InTotoPayloadType}
	if tok != "" {
		return in.signWithSigstoreGo(t, content, tok)
	}
	sc, err := root.NewSigningConfigFromPath(in.signingConfig)
	if err != nil {
		t.Fatal(err)
	}
	tr, err := root.NewTrustedRootFromPath(in.trustedRoot)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	tsas, err := root.SelectServices(sc.TimestampAuthorityURLs(), sc.TimestampAuthorityURLsConfig(), sign.TimestampAuthorityAPIVersions, now)
	if err != nil {
		t.Fatal(err)
	}
	logs, err := root.SelectServices(sc.RekorLogURLs(), sc.RekorLogURLsConfig(), sign.RekorAPIVersions, now)
	if err != nil {
		t.Fatal(err)
	}
	// The bundle is verified before it is returned: the registry key
	// next to the stack's root.
	v, err := signature.LoadECDSAVerifier(&kp.key.PublicKey, crypto.SHA256)
	if err != nil {
		t.Fatal(err)
	}
	keyMaterial := root.NewTrustedPublicKeyMaterial(func(string) (root.TimeConstrainedVerifier, error) {
		return root.NewExpiringKey(v, time.Time{}, time.Time{}), nil
	})
	opts := sign.BundleOptions{Context: context.Background(), TrustedRoot: root.TrustedMaterialCollection{tr, keyMaterial}}
	for _, s := range tsas {
		opts.TimestampAuthorities = append(opts.TimestampAuthorities,
			sign.NewTimestampAuthority(&sign.TimestampAuthorityOptions{URL: s.URL, Timeout: 30 * time.Second}))
	}
	for _, s := range logs {
		opts.TransparencyLogs = append(opts.TransparencyLogs,
			sign.NewRekor(&sign.RekorOptions{BaseURL: s.URL, Timeout: 90 * time.Second, Version: s.MajorAPIVersion}))
	}
	pb, err := sign.Bundle(content, kp, opts)
	if err != nil {
		t.Fatalf("sigstore-go sign.Bundle with the registry key: %v", err)
	}
	out, err := protojson.Marshal(pb)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// npmCase is one package made on the stack.
type npmCase struct {
	name, version string
	tarball       []byte
	repo          string // "" without provenance
	publish, prov []byte // bundles
	doc           []byte // nil: no document at all
}

// TestNPM makes npm-shaped attestations documents on the stack (provenance
// signed keylessly under tokens of GitHub Actions' issuer, which stack.sh
// serves at its real URL in the namespace, or where it cannot of its
// lookalike GitHub issuer; publish attestations signed with a local
// registry key served as registry.npmjs.org/keys.json through a local TUF
// repository), verifies a lockfile of 200 packages with --attestations-dir,
// refuses a publish attestation copied from another package, verifies one
// package with --repo and --signer-workflow (GitHub Actions' issuer only)
// and refuses the same provenance signed under the lookalike issuer. With
// --lock, the lockfile's first verify pins every package and a package's
// provenance from another workflow of its repository is then refused as
// drift, locked against now, in the lockfile and alone.
func TestNPM(t *testing.T) {
	in := stack(t)
	dir := t.TempDir()
	nonce := strconv.FormatInt(time.Now().UnixNano(), 10) // Rekor v2 refuses a duplicate entry
	kp := newRegistryKeypair(t)
	const wf, n = ".github/workflows/publish.yml", 200
	repos := []string{"e2e-npm/alpha", "e2e-npm/beta", "e2e-npm/gamma", "e2e-npm/delta"}
	lookalike := stackGitHubIssuer(t)
	actions, real, whyNot := actionsIssuer()
	if !real {
		actions = lookalike
	}
	tokens := map[string]string{}
	for _, r := range repos {
		tokens[r] = actions.token(t, r, wf, func(map[string]any) {})
	}

	cases := make([]*npmCase, n)
	for i := range cases {
		c := &npmCase{name: fmt.Sprintf("pkg-%03d", i), version: "1.0." + strconv.Itoa(i)}
		if i%3 == 0 {
			c.name = "@e2e/" + c.name
		}
		c.tarball = []byte(fmt.Sprintf("%s@%s tarball %s\n", c.name, c.version, nonce))
		if i%10 != 9 { // every tenth package was published without provenance
			c.repo = repos[i%len(repos)]
		}
		cases[i] = c
	}
	start := time.Now()
	var wg sync.WaitGroup
	sem := make(chan struct{}, 8)
	for i, c := range cases {
		if i%50 == 49 {
			continue // no document at all
		}
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			digest := npmtest.SHA512(c.tarball)
			pub, err := npmtest.PublishStatement(c.name, c.version, digest)
			if err != nil {
				t.Error(err)
				return
			}
			c.publish = in.signNPM(t, pub, kp, "")
			if c.repo != "" {
				w := npmtest.Workflow{Repo: "https://github.com/" + c.repo, Path: wf, Ref: bottleRef, Commit: bottleSHA}
				prov, err := npmtest.ProvenanceStatement(c.name, c.version, digest, w)
				if err != nil {
					t.Error(err)
					return
				}
				c.prov = in.signNPM(t, prov, nil, tokens[c.repo])
			}
			if c.doc, err = npmtest.Document(c.publish, c.prov); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}
	record("npm: %d packages signed on the stack in %s", n, time.Since(start).Round(time.Millisecond))

	// The lockfile and the documents, as download writes them.
	att := filepath.Join(dir, "att")
	var locked [][3]string
	wantVerified, wantNone := 0, 0
	for _, c := range cases {
		locked = append(locked, [3]string{c.name, c.version, npmtest.Integrity(c.tarball)})
		p, err := npm.ParsePackage(c.name, c.version)
		if err != nil {
			t.Fatal(err)
		}
		switch {
		case c.doc == nil:
			wantNone++
			continue
		case c.repo == "":
			wantNone++
		default:
			wantVerified++
		}
		path := filepath.Join(att, filepath.FromSlash(p.FileName()))
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		write(t, path, c.doc)
	}
	lock, err := npmtest.Lockfile(locked)
	if err != nil {
		t.Fatal(err)
	}
	lockPath := filepath.Join(dir, "package-lock.json")
	write(t, lockPath, lock)

	// The registry key through a local TUF repository, beside the stack's
	// trusted root.
	keys := kp.keysJSON(t, time.Now().Add(-time.Hour))
	repo := tuftest.New(t, map[string][]byte{"trusted_root.json": read(t, in.trustedRoot), npm.KeysTarget: keys})
	tufRoot := filepath.Join(dir, "tuf-root.json")
	write(t, tufRoot, repo.RootJSON)
	viaTUF := []string{"verify", "--preset", "npm", "--tuf-mirror", repo.URL, "--tuf-root", tufRoot}

	t.Run("lockfile", func(t *testing.T) {
		start := time.Now()
		stdout, stderr := in.run(t, exitOK, "hallmark", append(viaTUF, "--lockfile", lockPath, "--attestations-dir", att)...)
		record("npm: --lockfile of %d packages verified in %s", n, time.Since(start).Round(time.Millisecond))
		want := fmt.Sprintf("%d packages: %d verified, %d without provenance, 0 rejected, 0 could not be verified", n, wantVerified, wantNone)
		if !strings.Contains(stdout, want) || strings.Count("\n"+stdout, "\nOK ") != wantVerified {
			t.Errorf("want %q and %d OK lines:\n%s\n%s", want, wantVerified, stdout, stderr)
		}
		in.run(t, exitRejected, "hallmark", append(viaTUF, "--lockfile", lockPath, "--attestations-dir", att, "--require-provenance")...)
	})

	t.Run("copied-document", func(t *testing.T) {
		// Another package's document in a package's place.
		copied := filepath.Join(dir, "copied")
		if err := os.CopyFS(copied, os.DirFS(att)); err != nil {
			t.Fatal(err)
		}
		write(t, filepath.Join(copied, "pkg-001@1.0.1.json"), cases[2].doc)
		_, stderr := in.run(t, exitRejected, "hallmark", append(viaTUF, "--lockfile", lockPath, "--attestations-dir", copied)...)
		if !strings.Contains(stderr, "hallmark: error: pkg-001@1.0.1: publish attestation: the artifact is not the one that was signed") {
			t.Errorf("the copied document's refusal:\n%s", stderr)
		}
	})

	t.Run("pinned", func(t *testing.T) {
		tr, err := root.NewTrustedRootFromPath(in.trustedRoot)
		if err != nil {
			t.Fatal(err)
		}
		parsedKeys, err := npm.ParseKeys(keys)
		if err != nil {
			t.Fatal(err)
		}
		pinned := func(repo string) *npm.Verifier {
			id, err := github.RepoIdentity(repo)
			if err != nil {
				t.Fatal(err)
			}
			id.Issuer = actions.url // GitHub Actions' (or, where the stack cannot serve it, the lookalike's)
			id.SignerWorkflow = repo + "/" + wf
			v, err := npm.New([]root.TrustedMaterial{tr}, parsedKeys, npm.Policy{Identity: id})
			if err != nil {
				t.Fatal(err)
			}
			return v
		}
		c := cases[1]
		p, _ := npm.ParsePackage(c.name, c.version)
		d, _ := npm.ParseIntegrity(npmtest.Integrity(c.tarball))
		doc := func(data []byte) *npm.Document {
			out, err := npm.ParseDocument(data)
			if err != nil {
				t.Fatal(err)
			}
			return out
		}
		if _, err := pinned(c.repo).Verify(context.Background(), p, d, doc(c.doc)); err != nil {
			t.Errorf("pinned to its repository: %v", err)
		}
		var rej *verify.RejectedError
		if _, err := pinned("e2e-npm/other").Verify(context.Background(), p, d, doc(c.doc)); !errors.As(err, &rej) || rej.Cause != verify.CauseIdentity {
			t.Errorf("pinned to another repository: %v", err)
		}
		// Another package's publish attestation with this package's
		// provenance: the provenance does not name that package.
		other := cases[2]
		copiedPublish, err := npmtest.Document(other.publish, c.prov)
		if err != nil {
			t.Fatal(err)
		}
		po, _ := npm.ParsePackage(other.name, other.version)
		do, _ := npm.ParseIntegrity(npmtest.Integrity(other.tarball))
		if _, err := pinned(c.repo).Verify(context.Background(), po, do, doc(copiedPublish)); !errors.As(err, &rej) || !strings.HasPrefix(rej.Reason, "provenance: ") ||
			(rej.Cause != npm.CauseSubject && rej.Cause != verify.CauseArtifact) {
			t.Errorf("another package's provenance with its publish attestation: %v", err)
		}
	})

	c := cases[1]
	tgz := filepath.Join(dir, "pkg.tgz")
	write(t, tgz, c.tarball)
	p, _ := npm.ParsePackage(c.name, c.version)
	docPath := filepath.Join(att, filepath.FromSlash(p.FileName()))
	single := append(viaTUF, "--repo", c.repo, "--signer-workflow", c.repo+"/"+wf)

	t.Run("preset-repo", func(t *testing.T) {
		if !real {
			t.Skip("--preset npm pins https://token.actions.githubusercontent.com for --repo, which the stack does not serve here: " + whyNot)
		}
		stdout, _ := in.run(t, exitOK, "hallmark", append(single, "--attestations", docPath, tgz)...)
		if !strings.HasPrefix(stdout, "OK "+c.name+"@"+c.version+": provenance signed by https://github.com/"+c.repo+"/"+wf+"@") {
			t.Errorf("stdout: %s", stdout)
		}
		_, stderr := in.run(t, exitRejected, "hallmark", append(viaTUF, "--repo", "e2e-npm/other", "--attestations", docPath, tgz)...)
		if !strings.Contains(stderr, `source repository  expected "https://github.com/e2e-npm/other"`) {
			t.Errorf("another repository's refusal:\n%s", stderr)
		}
	})

	t.Run("lookalike-issuer", func(t *testing.T) {
		// The same provenance signed under the stack's other GitHub-shaped
		// issuer: --repo pins GitHub Actions' issuer and refuses it.
		w := npmtest.Workflow{Repo: "https://github.com/" + c.repo, Path: wf, Ref: bottleRef, Commit: bottleSHA}
		prov, err := npmtest.ProvenanceStatement(c.name, c.version, npmtest.SHA512(c.tarball), w)
		if err != nil {
			t.Fatal(err)
		}
		other := in.signNPM(t, prov, nil, lookalike.token(t, c.repo, wf, func(map[string]any) {}))
		doc, err := npmtest.Document(c.publish, other)
		if err != nil {
			t.Fatal(err)
		}
		lp := filepath.Join(dir, "lookalike.json")
		write(t, lp, doc)
		_, stderr := in.run(t, exitRejected, "hallmark", append(single, "--attestations", lp, tgz)...)
		if !strings.Contains(stderr, "provenance: the signer does not match the identity policy") ||
			!strings.Contains(stderr, `expected "https://token.actions.githubusercontent.com"`) {
			t.Errorf("the lookalike issuer's refusal:\n%s", stderr)
		}
	})

	t.Run("lock-drift", func(t *testing.T) {
		lockFile := filepath.Join(dir, "hallmark.lock")
		_, stderr := in.run(t, exitOK, "hallmark", append(viaTUF, "--lockfile", lockPath, "--attestations-dir", att, "--lock", lockFile)...)
		if got := strings.Count(stderr, "hallmark: lock: pinned npm package "); got != wantVerified {
			t.Errorf("first use: %d packages pinned, want %d:\n%s", got, wantVerified, stderr)
		}
		if !strings.Contains(stderr, "hallmark: lock: pinned npm package "+c.name+" to github repository \"https://github.com/"+c.repo+"\" workflow \""+wf+"\"") {
			t.Errorf("first use does not say what it pinned for %s:\n%s", c.name, stderr)
		}
		pinned := read(t, lockFile)
		in.run(t, exitOK, "hallmark", append(viaTUF, "--lockfile", lockPath, "--attestations-dir", att, "--lock", lockFile)...)

		// The same package's provenance from another workflow of its
		// repository, signed on the stack: valid, and refused.
		const otherWF = ".github/workflows/other.yml"
		w := npmtest.Workflow{Repo: "https://github.com/" + c.repo, Path: otherWF, Ref: bottleRef, Commit: bottleSHA}
		prov, err := npmtest.ProvenanceStatement(c.name, c.version, npmtest.SHA512(c.tarball), w)
		if err != nil {
			t.Fatal(err)
		}
		doc, err := npmtest.Document(c.publish, in.signNPM(t, prov, nil, actions.token(t, c.repo, otherWF, func(map[string]any) {})))
		if err != nil {
			t.Fatal(err)
		}
		drifted := filepath.Join(dir, "drifted")
		if err := os.CopyFS(drifted, os.DirFS(att)); err != nil {
			t.Fatal(err)
		}
		write(t, filepath.Join(drifted, filepath.FromSlash(p.FileName())), doc)
		wantDrift := []string{
			"hallmark: error: " + c.name + "@" + c.version + `: the signer of npm package "` + c.name + `" differs from the lock file's entry`,
			`hallmark:   workflow  expected "` + wf + `" (locked)`,
			`hallmark:             actual   "` + otherWF + `"`,
		}
		stdout, stderr := in.run(t, exitRejected, "hallmark", append(viaTUF, "--lockfile", lockPath, "--attestations-dir", drifted, "--lock", lockFile)...)
		for _, want := range wantDrift {
			if !strings.Contains(stderr, want) {
				t.Errorf("the lockfile's drift: no %q in\n%s", want, stderr)
			}
		}
		if want := fmt.Sprintf("%d verified, %d without provenance, 1 rejected", wantVerified-1, wantNone); !strings.Contains(stdout, want) {
			t.Errorf("the lockfile's drift: want %q in\n%s", want, stdout)
		}
		drift := filepath.Join(dir, "drift.json")
		write(t, drift, doc)
		_, stderr = in.run(t, exitRejected, "hallmark", append(viaTUF, "--attestations", drift, "--lock", lockFile, tgz)...)
		for _, want := range wantDrift {
			if !strings.Contains(stderr, want) {
				t.Errorf("one package's drift: no %q in\n%s", want, stderr)
			}
		}
		if got := read(t, lockFile); string(got) != string(pinned) {
			t.Errorf("a refused drift changed the lock file:\n%s", got)
		}
	})
}
