// Package sigtest generates hermetic Sigstore test fixtures on the fly. It is
// test-only support code: unit tests, testscript CLI tests, benchmarks and
// `make demo` use it; production code must never import it.
//
// An [Instance] is a fake, in-memory Sigstore deployment built on
// sigstore-go's test CA, the VirtualSigstore of package
// github.com/sigstore/sigstore-go/pkg/testing/ca: its Rekor log and timestamp
// authority come from the VirtualSigstore, and it adds a Fulcio CA of its own
// (root and intermediate from ca.GenerateRootCa and
// ca.GenerateFulcioIntermediate) so that it can issue leaf certificates
// with URI subject alternative names and Fulcio's GitHub Actions extensions,
// which the VirtualSigstore cannot. [Instance.TrustedRootJSON] returns a real
// trusted_root.json for the instance and [Instance.SignBlob] and
// [Instance.Attest] return Sigstore bundles (JSON) signed by it, including
// bundles that are broken on purpose (see [Options]).
//
// [SignBlobWithKey] and [SignStatementWithKey] make bundles signed by a plain
// key, and [WriteFixtures] writes a ready-made set of files to a directory.
//
// # Time
//
// The VirtualSigstore's timestamp authority certificate is valid for only
// five minutes after [New], so an Instance must do its signing within that
// window (signing fails with [ErrInstanceExpired] afterwards; create a new
// Instance). The bundles it produced stay verifiable indefinitely, because
// Sigstore verification checks certificates at the signed times recorded in
// the bundle, not at the current time.
package sigtest
