/*
Hallmark signs, attests, verifies and scans software artifacts with Sigstore.

A hallmark is the mark struck on precious metal to certify where it came from
and that it is pure; hallmark does that for software.

Usage:

	hallmark verify [flags] ARTIFACT...
	hallmark trust update|show|export
	hallmark version

# Verify

'hallmark verify' checks that each ARTIFACT (a file, - for standard input, or
sha256:<hex>) matches its Sigstore bundle (ARTIFACT.sigstore.json, or
--bundle), that the signature chains to the trust root, was logged in a
transparency log and timestamped, and that the signer satisfies the policy:

	hallmark verify --certificate-identity ID --certificate-oidc-issuer URL ARTIFACT
	hallmark verify --repo OWNER/NAME [--signer-workflow OWNER/NAME/.github/workflows/F.yml] ARTIFACT
	hallmark verify --key KEY.pub ARTIFACT

Identity patterns (--certificate-identity-regexp, --certificate-oidc-issuer-regexp)
always match the whole value. A keyless verify without an identity is a usage
error whose hint shows the identity found in the bundle.

# Trust

Verification trusts the certificate authorities, logs and timestamp
authorities of a trust root: --trusted-root FILE (or $HALLMARK_TRUSTED_ROOT),
else the Sigstore public-good root, fetched through TUF, verified, and cached
in $HALLMARK_CACHE_DIR (default: hallmark/ in the user cache directory). An
online run refreshes a cache older than a day and fails, never silently falls
back, if the refresh fails. --offline never opens a network connection: it
uses --trusted-root or the cached root, warning when that is old.

'hallmark trust export DIR' writes trusted_root.json and signing_config.json
for an air-gapped machine.

# Output and exit codes

Results go to stdout (--output json prints a versioned JSON report),
diagnostics to stderr as "hallmark: error: ..." and "hallmark: hint: ...".

	0  everything verified
	1  could not complete (missing file, network, unreadable trust root)
	2  usage error
	3  checked and rejected (bad signature, wrong signer, tampered artifact,
	   malformed bundle)

The exit codes are the same in every output format.
*/
package main
