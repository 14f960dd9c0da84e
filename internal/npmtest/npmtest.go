// Package npmtest makes npm-shaped test data: a registry key standing in
// for npm's (an ECDSA P-256 key the test makes, published as keys.json),
// attestations documents whose publish attestation that key signs and whose
// provenance a fake or local Sigstore signs, packuments with registry
// signatures, and lockfiles.
package npmtest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"
)

// Registry is a stand-in for the npm registry's signing keys.
type Registry struct {
	Key   *ecdsa.PrivateKey
	KeyID string
	// Start and End bound the key's validity in KeysJSON (End zero: none).
	Start, End time.Time
}

// NewRegistry makes a registry key valid from start (to end, if not zero).
func NewRegistry(start, end time.Time) (*Registry, error) {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	der, err := x509.MarshalPKIXPublicKey(&k.PublicKey)
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(der)
	return &Registry{Key: k, KeyID: "SHA256:" + base64.RawStdEncoding.EncodeToString(sum[:]), Start: start, End: end}, nil
}

// KeysJSON is the registry's keys.json, as Sigstore's TUF repository
// publishes npm's: the key once for npm:signatures and once for
// npm:attestations. others are more registries whose keys it lists too.
func (r *Registry) KeysJSON(others ...*Registry) ([]byte, error) {
	type validFor struct {
		Start string `json:"start"`
		End   string `json:"end,omitempty"`
	}
	type publicKey struct {
		RawBytes   []byte   `json:"rawBytes"`
		KeyDetails string   `json:"keyDetails"`
		ValidFor   validFor `json:"validFor"`
	}
	type key struct {
		KeyID     string    `json:"keyId"`
		KeyUsage  string    `json:"keyUsage"`
		PublicKey publicKey `json:"publicKey"`
	}
	var keys []key
	for _, reg := range append([]*Registry{r}, others...) {
		der, err := x509.MarshalPKIXPublicKey(&reg.Key.PublicKey)
		if err != nil {
			return nil, err
		}
		vf := validFor{Start: reg.Start.UTC().Format(time.RFC3339)}
		if !reg.End.IsZero() {
			vf.End = reg.End.UTC().Format(time.RFC3339)
		}
		for _, usage := range []string{"npm:signatures", "npm:attestations"} {
			keys = append(keys, key{KeyID: reg.KeyID, KeyUsage: usage, PublicKey: publicKey{RawBytes: der, KeyDetails: "PKIX_ECDSA_P256_SHA_256", ValidFor: vf}})
		}
	}
	return json.MarshalIndent(map[string]any{"keys": keys}, "", "  ")
}

// SHA512 is the hex sha512 of data.
func SHA512(data []byte) string {
	sum := sha512.Sum512(data)
	return hex.EncodeToString(sum[:])
}

// Integrity is the npm integrity string of data, sha512-BASE64.
func Integrity(data []byte) string {
	sum := sha512.Sum512(data)
	return "sha512-" + base64.StdEncoding.EncodeToString(sum[:])
}

// PURL is pkg:npm/NAME@VERSION with a scope's @ as %40.
func PURL(name, version string) string {
	return "pkg:npm/" + strings.Replace(name, "@", "%40", 1) + "@" + version
}

// Statement is an in-toto v1 statement with one subject purl and sha512 per
// element of subjects ({purl, hex sha512}).
func Statement(predicateType string, predicate any, subjects ...[2]string) ([]byte, error) {
	type subject struct {
		Name   string            `json:"name"`
		Digest map[string]string `json:"digest"`
	}
	var subs []subject
	for _, s := range subjects {
		subs = append(subs, subject{Name: s[0], Digest: map[string]string{"sha512": s[1]}})
	}
	return json.Marshal(map[string]any{
		"_type": "https://in-toto.io/Statement/v1", "subject": subs, "predicateType": predicateType, "predicate": predicate,
	})
}

// PublishPredicateType is npm's publish attestation predicate type.
const PublishPredicateType = "https://github.com/npm/attestation/tree/main/specs/publish/v0.1"

// ProvenancePredicateType is SLSA provenance v1.
const ProvenancePredicateType = "https://slsa.dev/provenance/v1"

// PublishStatement is the registry's publish statement of name@version
// whose tarball has sha512 digest (hex).
func PublishStatement(name, version, digest string) ([]byte, error) {
	return Statement(PublishPredicateType, map[string]string{"name": name, "version": version, "registry": "https://registry.npmjs.org"},
		[2]string{PURL(name, version), digest})
}

// Workflow is the GitHub Actions run a provenance describes.
type Workflow struct {
	Repo   string // https://github.com/OWNER/NAME
	Path   string // .github/workflows/F.yml
	Ref    string // refs/tags/v1.0.0
	Commit string
}

// SAN is the workflow's certificate identity, REPO/PATH@REF.
func (w Workflow) SAN() string { return w.Repo + "/" + w.Path + "@" + w.Ref }

// ProvenanceStatement is npm's SLSA v1 provenance of name@version built by
// w (buildType github-actions-buildtypes/workflow/v1, as npm writes it).
func ProvenanceStatement(name, version, digest string, w Workflow) ([]byte, error) {
	pred := map[string]any{
		"buildDefinition": map[string]any{
			"buildType": "https://slsa-framework.github.io/github-actions-buildtypes/workflow/v1",
			"externalParameters": map[string]any{"workflow": map[string]any{
				"ref": w.Ref, "repository": w.Repo, "path": w.Path,
			}},
			"resolvedDependencies": []any{map[string]any{
				"uri": "git+" + w.Repo + "@" + w.Ref, "digest": map[string]string{"gitCommit": w.Commit},
			}},
		},
		"runDetails": map[string]any{"builder": map[string]string{"id": "https://github.com/actions/runner/github-hosted"}},
	}
	return Statement(ProvenancePredicateType, pred, [2]string{PURL(name, version), digest})
}

// Document is an attestations document of a publish bundle and, unless
// nil, a provenance bundle (JSON).
func Document(publish, provenance []byte) ([]byte, error) {
	type entry struct {
		PredicateType string          `json:"predicateType"`
		Bundle        json.RawMessage `json:"bundle"`
	}
	doc := struct {
		Attestations []entry `json:"attestations"`
	}{[]entry{{PublishPredicateType, publish}}}
	if provenance != nil {
		doc.Attestations = append(doc.Attestations, entry{ProvenancePredicateType, provenance})
	}
	return json.Marshal(doc)
}

// Packument is a packument of name listing each version with its
// integrity, signed with the registry key.
func (r *Registry) Packument(name string, versions map[string]string, published time.Time) ([]byte, error) {
	vs := map[string]any{}
	times := map[string]string{}
	names := make([]string, 0, len(versions))
	for v := range versions {
		names = append(names, v)
	}
	sort.Strings(names)
	for _, v := range names {
		integrity := versions[v]
		msg := sha256.Sum256([]byte(name + "@" + v + ":" + integrity))
		sig, err := ecdsa.SignASN1(rand.Reader, r.Key, msg[:])
		if err != nil {
			return nil, err
		}
		vs[v] = map[string]any{"name": name, "version": v, "dist": map[string]any{
			"integrity":  integrity,
			"signatures": []map[string]string{{"keyid": r.KeyID, "sig": base64.StdEncoding.EncodeToString(sig)}},
		}}
		times[v] = published.UTC().Format(time.RFC3339)
	}
	return json.Marshal(map[string]any{"name": name, "versions": vs, "time": times})
}

// Lockfile is a package-lock.json (lockfileVersion 3) of the packages
// {name, version, integrity}; a second version of a name is nested under a
// dependent, as npm installs it.
func Lockfile(pkgs [][3]string) ([]byte, error) {
	packages := map[string]any{"": map[string]any{"name": "app", "version": "1.0.0"}}
	for i, p := range pkgs {
		key := "node_modules/" + p[0]
		if _, taken := packages[key]; taken {
			// Another version of the name: installed under a dependent.
			key = fmt.Sprintf("node_modules/dependent-%d/node_modules/%s", i, p[0])
		}
		packages[key] = map[string]any{
			"version": p[1], "resolved": fmt.Sprintf("https://registry.npmjs.org/%s/-/x-%s.tgz", p[0], p[1]), "integrity": p[2],
		}
	}
	return json.MarshalIndent(map[string]any{"name": "app", "version": "1.0.0", "lockfileVersion": 3, "requires": true, "packages": packages}, "", "  ")
}
