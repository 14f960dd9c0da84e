// Package npm verifies npm packages by the registry's attestations document
// (<registry>/-/npm/v1/attestations/NAME@VERSION), as data and policy on top
// of pkg/verify, and pins who may publish a package, which npm's own client
// does not.
//
// A document holds two Sigstore bundles:
//
//   - the publish attestation (predicate [PublishPredicateType]), signed by
//     the registry's key named by the bundle's public key hint, with key
//     usage [UsageAttestations], which must be valid at the log entry's
//     verified integrated time;
//   - the SLSA provenance (v1, or v0.2 before 2024), signed keylessly by the
//     CI workflow that built the package and verified against the
//     public-good root with a verify.Identity (RepoIdentity and the rest
//     of the GitHub vocabulary in pkg/ecosystem/github).
//
// Every subject of both statements must be the package's purl
// (pkg:npm/NAME@VERSION, a scope's @ written %40) with the tarball's
// sha512. The registry keys come from Sigstore's public-good TUF
// repository (target [KeysTarget]) or a pinned copy: see [ParseKeys].
//
// The flow is: parse the document ([ParseDocument]), build a [Verifier]
// once from the trust roots, the keys and a [Policy], and call
// [Verifier.Verify] for each package (concurrently if wished). Every
// refusal is a *verify.RejectedError, with the causes of pkg/verify or those
// of this package ([CauseSubject], [CauseRegistryKey], ...); any other error
// means verification could not be completed.
package npm

import (
	"errors"
	"fmt"
	"path"
	"regexp"
	"strings"
	"sync"
)

const (
	// Ecosystem names npm in results.
	Ecosystem = "npm"
	// PublishPredicateType is the predicate type of the registry's publish
	// attestation (npm/attestation specs/publish/v0.1).
	PublishPredicateType = "https://github.com/npm/attestation/tree/main/specs/publish/v0.1"
	// ProvenanceV1 and ProvenanceV02 are the SLSA provenance predicate
	// types of npm provenance (v0.2 before npm 9.x switched).
	ProvenanceV1  = "https://slsa.dev/provenance/v1"
	ProvenanceV02 = "https://slsa.dev/provenance/v0.2"
	// UsageAttestations is the key usage of the keys that sign publish
	// attestations; UsageSignatures that of the keys that sign packuments'
	// dist.signatures.
	UsageAttestations = "npm:attestations"
	UsageSignatures   = "npm:signatures"
	// KeysTarget is the target of the npm registry's keys in Sigstore's
	// public-good TUF repository (a delegated role of the same host).
	KeysTarget = "registry.npmjs.org/keys.json"
	// DefaultRegistry is the public npm registry.
	DefaultRegistry = "https://registry.npmjs.org"
)

// Package is one version of an npm package.
type Package struct {
	// Name is the package name, @SCOPE/NAME for a scoped one.
	Name    string `json:"name"`
	Version string `json:"version"`
}

// ErrPackage is wrapped by the errors of names and versions that are not
// an npm package's.
var ErrPackage = errors.New("not an npm package")

var (
	namePart  = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[A-Za-z0-9-][A-Za-z0-9._~-]*$`) })
	versionRE = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[0-9A-Za-z][0-9A-Za-z.+_-]*$`) })
)

// maxNameLength is npm's limit on a package name.
const maxNameLength = 214

// ParsePackage checks name and version: a name is NAME or @SCOPE/NAME of
// URL-safe characters (npm's rules, old upper-case names allowed), not
// starting with a dot or an underscore; a version has no slash or space.
// Names and versions that pass are safe as path elements.
func ParsePackage(name, version string) (Package, error) {
	p := Package{Name: name, Version: version}
	if err := p.Validate(); err != nil {
		return Package{}, err
	}
	return p, nil
}

// ParseSpec parses NAME@VERSION (@SCOPE/NAME@VERSION).
func ParseSpec(spec string) (Package, error) {
	i := strings.LastIndex(spec, "@")
	if i <= 0 {
		return Package{}, fmt.Errorf("%w: %q is not NAME@VERSION", ErrPackage, spec)
	}
	return ParsePackage(spec[:i], spec[i+1:])
}

// Validate reports whether p is a well-formed package name and version.
func (p Package) Validate() error {
	bad := func(why string) error { return fmt.Errorf("%w: %q %s", ErrPackage, p.Name+"@"+p.Version, why) }
	name := p.Name
	if len(name) == 0 || len(name) > maxNameLength {
		return bad(fmt.Sprintf("has a name of %d characters (1 to %d)", len(name), maxNameLength))
	}
	if scope, rest, scoped := strings.Cut(name, "/"); scoped {
		if !strings.HasPrefix(scope, "@") || !namePart().MatchString(scope[1:]) || !namePart().MatchString(rest) {
			return bad("is not @SCOPE/NAME")
		}
	} else if !namePart().MatchString(name) {
		return bad("has a name with characters npm does not allow")
	}
	if !versionRE().MatchString(p.Version) || len(p.Version) > 256 {
		return bad("has no valid version")
	}
	return nil
}

// Scope is the package's scope with its @, or "".
func (p Package) Scope() string {
	if scope, _, ok := strings.Cut(p.Name, "/"); ok {
		return scope
	}
	return ""
}

// String is NAME@VERSION.
func (p Package) String() string { return p.Name + "@" + p.Version }

// PURL is the package URL npm's statements name as subject:
// pkg:npm/NAME@VERSION, a scope's @ written %40 (npm-package-arg's toPurl).
func (p Package) PURL() string {
	return "pkg:npm/" + strings.Replace(p.Name, "@", "%40", 1) + "@" + p.Version
}

// FileName is where a directory of attestations documents keeps the
// package's, relative to it: NAME@VERSION.json, and for a scoped package
// @SCOPE/NAME@VERSION.json (a subdirectory per scope, as node_modules has).
// It is what 'hallmark download --preset npm' writes and
// 'hallmark verify --preset npm --attestations-dir' reads. p must be valid.
func (p Package) FileName() string {
	return path.Clean(p.Name + "@" + p.Version + ".json")
}
