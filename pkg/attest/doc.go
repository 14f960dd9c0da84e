// Package attest makes in-toto attestations: Statement v1 documents, built
// with the in-toto attestation Go types (github.com/in-toto/attestation),
// whose subjects are files named by their digests and whose predicate is
// one of the known types below or any other predicate-type URI. pkg/sign
// signs them as DSSE envelopes (payload type application/vnd.in-toto+json)
// into Sigstore bundles.
//
// The known predicate types have short names, used wherever a type is
// named (hallmark attest --type, verify, policy): see PredicateType,
// ShortName and Types. Predicates of known types are checked before they
// are signed (Validate): one that is not JSON, or not that predicate's
// shape, is a *PredicateError naming the field.
//
// Provenance makes a SLSA v1 provenance predicate from the CI environment:
// the shape actions/attest-build-provenance makes on GitHub Actions, the
// GitLab runner's on GitLab CI, and elsewhere a "local" build type that
// says it was not made by a CI system.
package attest
