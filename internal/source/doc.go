// Package source is where bundles come from: bundle files (one bundle, or
// JSONL of bundles as `gh attestation download` writes them), directories of
// them, and GitHub's attestations API. It finds bundles; package
// hallmark/pkg/verify verifies them.
//
// Every bundle is parsed once, by verify.ParseBundle, and indexed by the
// digests it claims to cover (verify.BundleCoverage), so that many
// artifacts can be matched against many bundles in one pass.
package source
