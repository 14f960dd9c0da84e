// Package e2e holds hallmark's end-to-end tests against a real Sigstore
// instance on 127.0.0.1: an OIDC issuer of our own (oidcissuer), Fulcio
// with an ephemeral CA and no CT log, Rekor v2 (rekor-tiles, posix
// backend) and the timestamp authority with an in-memory signer. The server
// versions are pinned in the separate module internal/e2e/tools.
//
// The tests carry the build tag e2e and need the harness around them:
//
//	make e2e       build the servers once (cached), start them inside a
//	               private network namespace, run the tests, stop them
//	make interop   the same, with the pinned cosign as a second verifier
//	               and signer
//
// stack.sh starts and stops the servers; e2e.sh builds, enters the
// namespace and runs the test binary. Inside, the tests find the instance
// in HALLMARK_E2E_DIR (trusted_root.json, signing_config.json),
// HALLMARK_E2E_ISSUER and HALLMARK_E2E_TOKEN_URL, and hallmark's binaries
// in HALLMARK_E2E_BIN.
package e2e
