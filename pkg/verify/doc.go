// Package verify checks Sigstore bundles: that an artifact is what was
// signed, that the signature chains to a trust root and was logged and
// timestamped by its services, and that the signer is the one a policy
// names.
//
// The cryptographic checks are sigstore-go's (certificate chains at the
// verified signing time, SCTs, Rekor v1 and v2 inclusion proofs,
// checkpoints and SETs, RFC 3161 timestamps); this package adds what a
// verifier of real artifacts needs around them:
//
//   - the artifact is hashed once, as a stream, with the algorithm its
//     bundle uses (or given as a digest), and large files never sit in
//     memory;
//   - a Policy is one value: a keyless Identity (SAN and issuer, exact or
//     by pattern, patterns always matched against the whole value, plus
//     GitHub Actions claims) or a Key, with thresholds and explicit
//     Insecure escapes; the policies of an ecosystem (gh's --repo and
//     --owner, GitHub releases, npm, PyPI, Homebrew) are built on top of
//     it in pkg/ecosystem;
//   - a Verifier is built once from trust material and a Policy and is safe
//     for concurrent use; VerifyAll verifies many artifacts on all cores;
//   - every refusal is a *RejectedError with a Cause and, where a policy
//     or digest was compared, every field expected against actual; any
//     other error means verification could not be completed;
//   - a Result records what was established (digest, signer, timestamps,
//     log entries, statement) and doubles as the versioned JSON schema.
//
// Typical use:
//
//	tr, err := root.NewTrustedRootFromPath("trusted_root.json")
//	...
//	v, err := verify.New(tr, verify.Policy{Identity: &verify.Identity{
//		SAN:    "https://github.com/OWNER/REPO/.github/workflows/release.yml@refs/tags/v1.0.0",
//		Issuer: verify.GitHubIssuer,
//	}})
//	...
//	b, err := verify.ReadBundle("app.tar.gz.sigstore.json")
//	...
//	res, err := v.Verify(ctx, b, verify.FileArtifact("app.tar.gz"))
//	var rej *verify.RejectedError
//	if errors.As(err, &rej) {
//		// refused: rej.Cause, rej.Reason, rej.Comparisons
//	}
package verify
