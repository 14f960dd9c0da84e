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
//
// Two more issuers stand in for GitHub Actions (Fulcio type
// github-workflow): one at its own URL (HALLMARK_E2E_GITHUB_ISSUER,
// http://127.0.0.1:5557), and, when e2e.sh could enter a mount namespace
// too, one at GitHub's real URL https://token.actions.githubusercontent.com
// (HALLMARK_E2E_GITHUB_ACTIONS_ISSUER), the issuer that --preset
// homebrew-core and --repo pin: the namespace's own /etc/hosts maps the
// host to 127.0.0.1, where the issuer serves HTTPS with a certificate of a
// CA made at start that only Fulcio trusts. Without a mount namespace,
// HALLMARK_E2E_GITHUB_ACTIONS_WHY_NOT says why, and the tests that need
// that issuer skip with it. hallmark itself has no switch for any of this.
package e2e
