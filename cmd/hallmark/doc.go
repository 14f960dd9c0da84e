/*
Hallmark signs, attests, verifies and scans software artifacts with Sigstore.

A hallmark is the mark struck on precious metal to certify where it came from
and that it is pure; hallmark does that for software.

Usage:

	hallmark sign [flags] FILE...
	hallmark generate-key-pair [--output-key-prefix P] [--key-type T]
	hallmark attest [flags] FILE...
	hallmark attest run --step NAME [--materials GLOB]... [--products GLOB]... -- CMD [ARGS...]
	hallmark verify [flags] ARTIFACT...
	hallmark verify --policy POLICY.yaml [--bundle B]... ARTIFACT...
	hallmark policy lint|schema|init
	hallmark sign|attest|verify [flags] oci://REGISTRY/REPO[:TAG|@sha256:HEX]...
	hallmark verify --preset homebrew-core|homebrew|npm|pypi [flags] ARTIFACT...
	hallmark download (--repo OWNER/NAME | --owner OWNER) [--type T] [--dir D] ARTIFACT...
	hallmark scan [flags] [PATH...]
	hallmark db update|import|status
	hallmark trust update|show|export DIR
	hallmark completion bash|zsh|fish
	hallmark version

Every command exits 0 when it succeeded, 1 when it could not complete, 2 on
a usage error and 3 when it checked and rejected ('attest run' passes on
its command's code; see Output and exit codes).

# Sign

'hallmark sign' writes a Sigstore bundle (v0.3) for each FILE to
FILE.sigstore.json (or --bundle OUT for one file, - for stdout), atomically.
Keyless by default: an ephemeral key, never written, certified by Fulcio for
an OIDC identity token from --identity-token (VALUE or @FILE),
$SIGSTORE_ID_TOKEN, the ambient credentials of GitHub Actions, GitLab CI,
Buildkite or CircleCI (not with --oidc-disable-ambient-providers), or a login
on a terminal (browser, or --oidc-device-flow; --oidc-issuer and
--oidc-client-id choose the login). Many files share one token and one
certificate and are signed concurrently. With --in-toto each FILE is an
in-toto statement, signed as a DSSE envelope (see Attest to build one):

	hallmark sign dist/*.tar.gz
	hallmark sign --signing-config signing_config.json --trusted-root trusted_root.json --identity-token @token FILE
	hallmark sign --key cosign.key [--tlog-upload=false --timestamp=false] FILE

Each FILE must be a regular file: a FIFO, a device or a directory is an
error (exit 1) at once, since a stream could not be verified again against
its bundle. --key may be a pipe (--key <(command)).

Services (Fulcio, Rekor v1 or v2, timestamp authorities) come from the
signing config (--signing-config, default the public-good one through TUF),
chosen by validity window and API version; --fulcio-url, --rekor-url,
--rekor-version, --timestamp-url override one each. Every bundle is verified
against the trust root before it is written: a service that returns a bad
certificate, log entry or timestamp is an error (exit 1), not a bundle. Errors
name the service and the HTTP status; a refused token says why (expired,
wrong audience).

'hallmark generate-key-pair' writes PREFIX.key, encrypted in cosign's format
(cosign keys work in both directions), and PREFIX.pub, replacing neither
without --force. Key types: ecdsa-p256
(default), ecdsa-p384, ed25519, rsa-3072. Passwords come from
$HALLMARK_PASSWORD, $COSIGN_PASSWORD or a terminal prompt. Ed25519 keys sign
the whole file and need --tlog-upload=false.

# Attest

'hallmark attest' signs ONE in-toto Statement v1 whose subjects are all the
FILEs (base name, or --subject-name; sha256, plus sha512 with --digest
sha512; --subject NAME=ALG:HEX by digest) as a DSSE envelope in a Sigstore
bundle: FILE.KIND.sigstore.json for one FILE, --bundle OUT (- for stdout)
for several. The predicate is --predicate FILE|- of --type T, or
--provenance (SLSA v1 from the CI environment: GitHub Actions as
actions/attest-build-provenance makes it, GitLab CI as the GitLab runner
does, elsewhere a "local" build type that says no CI system made it), or the
whole statement is --statement FILE (FILEs given too must be its subjects,
exit 3 otherwise). Signing is as for 'hallmark sign', with the same flags:

	hallmark attest --provenance dist/app.tgz
	hallmark attest --type spdxjson --predicate sbom.spdx.json app.tgz
	hallmark attest --key cosign.key --tlog-upload=false --timestamp=false --type cyclonedx --predicate bom.json app.tgz

Types: slsaprovenance1 (https://slsa.dev/provenance/v1), spdxjson
(https://spdx.dev/Document/v2.3; v2.2 or v3.0 as the document says),
cyclonedx (https://cyclonedx.org/bom), vuln
(https://in-toto.io/attestation/vulns/v0.2), openvex
(https://openvex.dev/ns/v0.2.0), link (https://in-toto.io/attestation/link/v0.3),
release (https://in-toto.io/attestation/release/v0.1), vsa
(https://slsa.dev/verification_summary/v1), or any absolute URI. Predicates
of known types are checked first: one that is not JSON or not the type's
shape is a usage error (exit 2) naming the field.

'hallmark attest run --step NAME -- CMD' hashes the --materials, runs CMD
with its output streamed, hashes the --products, and signs an in-toto link
v0.3 whose subjects are the products to NAME.link.sigstore.json (also when
CMD fails, unless --only-on-success); hallmark exits with CMD's exit code.
The link records the command, its exit code and the environment without
secrets; --env NAME records one more variable. 'verify --policy' chains
such steps (see Policy files).

The bundles verify with 'hallmark verify --type T' (the subject must be the
file; see Verify), with 'cosign verify-blob-attestation --type URI' and with
'gh attestation verify --bundle'.

# Verify

'hallmark verify' checks that each ARTIFACT (a file, - for standard input, or
sha256:<hex>) matches its Sigstore bundle (ARTIFACT.sigstore.json, or
--bundle), that the signature chains to the trust root, was logged in a
transparency log and timestamped, and that the signer satisfies the policy:

	hallmark verify --certificate-identity ID --certificate-oidc-issuer URL ARTIFACT
	hallmark verify --repo OWNER/NAME [--signer-workflow OWNER/NAME/.github/workflows/F.yml] ARTIFACT
	hallmark verify --key KEY.pub ARTIFACT

Identity patterns (--certificate-identity-regexp, --certificate-oidc-issuer-regexp)
always match the whole value. A verify without a policy is a usage error
whose hint shows the identity found in the bundle. --signer-workflow only
narrows --repo or --owner: anyone can call a public reusable workflow, so
alone it is a usage error whose hint shows the bundle's source repository.
The policy may also be a file (--policy, see Policy files) or an
ecosystem's rules (--preset, see Package ecosystems).

For attestations (DSSE bundles), --type T (or --predicate-type T) requires
the statement's predicate type: a name of the attest type table (spdxjson
stands for every SPDX document version) or an absolute URI. Another type is
rejected (exit 3) naming both; --type with a message signature is a usage
error (exit 2). SLSA v1 provenance built on GitHub Actions must agree with
its Fulcio certificate: workflow repository, ref and path, commit and builder
against the certificate's source repository, source ref, build config URI,
source digest and build signer, each listed expected vs actual; a mismatch
is exit 3 (--insecure-ignore-provenance accepts it, with a warning).
--builder-id ID pins the builder of any SLSA provenance. The text
output shows a provenance's builder and source and an in-toto link's step
(name, command, exit code, materials, products); the JSON report has them
under "statement" as "provenance" and "link".

GitHub release attestations: --type release --repo OWNER/NAME [--tag TAG]
(release v0.1 and v0.2; a release URI admits only itself). GitHub signs them
itself (SAN https://dotcom.releases.github.com, no OIDC issuer) on its own
Sigstore instance, so they verify against GitHub's trust root (see Trust);
--repo pins predicate.repository and the pkg:github/OWNER/NAME@TAG subject,
--tag the tag, and any subject of the statement may be the artifact.
Identity flags do not apply to them (exit 2), nor --tag to other types.

	hallmark verify --type release --repo cli/cli --tag v2.96.0 --bundle release.sigstore.json gh_2.96.0_checksums.txt

	hallmark verify --repo OWNER/NAME --type slsaprovenance1 --bundle app.tgz.provenance.sigstore.json app.tgz
	hallmark verify --repo OWNER/NAME --type link --bundle build.link.sigstore.json app.tgz

--min-tlog-entries and --min-timestamps count distinct evidence: a log entry
or RFC 3161 timestamp carried twice counts once, and so do two timestamps of
one authority. A bundle is read up to 256 MiB, from a file, device or pipe.

gh attestation verify's flags work with gh's meaning: --owner OWNER (SAN
under https://github.com/OWNER/ and the source repository owner claim),
--repo, --signer-repo OWNER/NAME and --signer-workflow
OWNER/NAME/.github/workflows/F.yml[@REF-GLOB] (exact path, the ref a glob
whose * does not cross a slash; both need --repo or --owner), --signer-digest,
--source-ref, --source-digest, --deny-self-hosted-runners (runner environment
github-hosted) and --hostname TENANT.ghe.com (SAN host and issuer follow it).
gh's spellings --cert-identity, --cert-identity-regex, --cert-oidc-issuer,
--predicate-type, --custom-trusted-root and --format are aliases. With --repo
or --owner and no --type, an attestation must be SLSA provenance v1, as in
gh; --type any lifts that, and a plain signature is not affected.

	hallmark verify --owner OWNER --signer-workflow OWNER/ci/.github/workflows/build.yml@refs/tags/v* ARTIFACT

In the JSON report (schemaVersion "1"), each result lists in "skippedChecks"
the checks that were not made, as {"check", "reason"}: "sct" when the trust
root has no CT logs or with --insecure-ignore-sct, "tlog" with
--insecure-ignore-tlog, "timestamp-authority" when the trust root has no
timestamp authority for the bundle's RFC 3161 timestamps,
"provenance-certificate" when a GitHub Actions provenance's certificate has
no GitHub claims to check it against. --verbose names them too. A rejection's "cause" is one of malformed-bundle, artifact-mismatch,
bad-signature, identity-mismatch, signer-kind, tlog, unknown-log, timestamp,
rekor-v2-without-tsa, certificate, certificate-time, sct,
tlog-time-ignored (the only timestamp was the log entry's, set aside by
--insecure-ignore-tlog), predicate-type, not-an-attestation (--type with a
message signature; exit 2) and provenance-mismatch.

A cosign legacy bundle (base64Signature, cert, rekorBundle) is read wherever a
bundle is; cosign's detached --signature FILE and --certificate FILE are read
too, with the log entry of a legacy --bundle if one is given.

Several bundles are searched by artifact digest: --bundle given more than
once or holding JSONL (one bundle per line, as 'gh attestation download'
writes; a bad line is refused by its number), --bundle-dir DIR (its
sha256:<hex>.jsonl and *.sigstore.json regular files), or --from github with
--repo or --owner (GitHub's attestations API; GH_TOKEN or GITHUB_TOKEN when
set; --api-url for GitHub Enterprise Server). An artifact passes when one
bundle covering its digest verifies, and the result names that bundle. When
none does, it is rejected (exit 3, cause no-attestation, "no attestation for
sha256:...") and "refused" lists why each covering bundle failed. A GitHub
failure is exit 1 with cause rate-limited (the message says when to retry),
auth or network.

The scan gate: --max-age AGE (a Go duration, or 7d, 2w), --fail-on LEVEL
and --vex FILE imply --type vuln and gate on scan attestations ('hallmark
scan --attest'):

	hallmark verify --repo OWNER/NAME --max-age 7d --fail-on high [--vex vex.json] \
	  --bundle package-lock.json.vuln.sigstore.json package-lock.json

Every bundle covering the artifact is verified; of the verified scan
attestations, the newest by its verified timestamp (RFC 3161 or log time,
never the predicate's scanFinishedOn) must be younger than --max-age, record
a complete scan, and have no finding at or above --fail-on (unknown
severity counts at any level) that no OpenVEX statement covers. A statement
covers a finding with status
not_affected or fixed, the finding's id or an alias, and a product that is
the artifact by "hashes": {"sha-256": ...} (its subcomponents, if any,
naming the package). Contradicting statements cover nothing. A refusal is
exit 3 listing each offending finding (id, severity, package), or the age
expected and actual with the timestamp used; --output json adds
"vulnGate". --max-age-at TIME measures the age at a later time (never
earlier than now).

--vsa OUT writes a signed SLSA verification summary v1 of one artifact's
verify, PASSED or FAILED (exit 0 or 3; none when verify could not
complete), with resourceUri (--vsa-resource-uri, default
pkg:generic/NAME?checksum=sha256:HEX), the policy digest (sha256 of the
RFC 8785 JSON of the effective flags), the bundles used and the SLSA build
levels established (L1 for verified provenance; L2 only for GitHub-hosted
GitHub Actions provenance checked against its certificate; never L3).
It is signed keyless or with --vsa-key FILE and sign's service flags (with
--offline: --vsa-key FILE --tlog-upload=false --timestamp=false), and
verifies with --type vsa. With --policy, the summary is of the policy run
(see Policy files).
An OUT that is one of the run's
inputs (a bundle, the artifact, a key, a --vex file), or in a directory
that does not exist, is exit 2 before anything is verified or signed; so is
such a scan --attest --bundle OUT or policy init --output-file FILE.

# Policy files

'hallmark verify --policy POLICY.yaml' checks bundles against one file that
says who may sign what, which attestations an artifact must have and what
they must say, and how the steps of a supply chain chain together; every
rule that fails is reported, expected against actual, not only the first:

	hallmark verify --policy POLICY.yaml [--bundle B]... [--bundle-dir D] ARTIFACT...
	hallmark policy lint POLICY.yaml
	hallmark policy schema
	hallmark policy init --from BUNDLE [--from BUNDLE]... [--output-file policy.yaml]

Every bundle given is verified once (a JSONL file counts as many; an
attestation without its artifact, its subjects compared by the policy; a
plain signature against the artifacts it covers), over one trust load, and
the policy is evaluated over what verified. One signer, one predicate rule
and a two-step layout:

	version: 1
	trust:                       # optional: roots (public-good, github, or files
	  roots: [public-good]       # relative to the policy) and thresholds
	  minTlogEntries: 1
	  minTimestamps: 1
	signers:
	  release:                   # keyless: issuer or issuerPattern, san or sanPattern (anchored)
	    issuer: https://token.actions.githubusercontent.com
	    sanPattern: https://github\.com/acme/app/\.github/workflows/release\.yml@refs/tags/v.*
	    github: {repository: acme/app, ref: refs/tags/v*, runnerEnvironment: github-hosted}
	  builder: {key: keys/builder.pub}   # a PEM key file, or keyPEM: inline
	artifacts:
	  - name: "*.pkg"            # a glob over the artifact's name (or base name)
	    attestations:
	      - predicateType: slsaprovenance1   # a short name, a URI, or signature
	        signers: "1 of [release]"        # N distinct signers of those named
	        rules:                           # CEL, true for every accepted attestation
	          - name: tagged
	            cel: predicate.buildDefinition.externalParameters.workflow.ref.startsWith("refs/tags/")
	steps:                       # in-toto layout: the artifact is a product of the last step
	  - name: build              # the link of 'hallmark attest run --step build'
	    signers: "1 of [builder]"
	    materials: ["ALLOW src/*", "DISALLOW *"]
	    products: ["ALLOW app.tar.gz", "DISALLOW *"]
	  - name: package
	    signers: "1 of [builder]"
	    materials: ["MATCH app.tar.gz WITH products FROM build", "DISALLOW *"]
	    products: ["ALLOW app.pkg", "DISALLOW *"]

A step's attestations are in-toto links v0.3 of its name (predicateType:
link, the default) or SLSA provenance (slsaprovenance1, slsaprovenance02);
materials are the link's materials (the provenance's resolved
dependencies), products the statement's subjects. Artifact rules apply in
order as in in-toto: ALLOW consumes what it matches, DISALLOW fails on what
is left that it matches, REQUIRE needs a name, MATCH pattern [IN prefix]
WITH products|materials [IN prefix] FROM step consumes what the other step
recorded with the same name and digest and fails naming each artifact it
selects that differs; patterns are fnmatch (* crosses /), and what is left
at the end is allowed. Every step but the last must feed a later one.

CEL rules see subject, predicateType, predicate, signer (kind, identity,
san, issuer, keyFingerprint, github: repository, ref, digest, trigger,
workflow, runnerEnvironment, ...), now and timestamps (the bundle's verified
timestamps: kind, uri, time), so a scan gate is a policy too: over a vuln
attestation ('scan --attest'), --max-age 7d and --fail-on high are

	cel: timestamps.exists(t, now - t.time < duration("168h"))
	cel: '!predicate.scanner.result.exists(r, r.severity.exists(s, s.method == "level" && s.score in ["high", "critical"]))'

Text output lists each failed rule with its place in the file, expected and
actual, and the bundles refused; --output json prints {"schemaVersion",
"policy", "passed", "rules": [{"rule", "artifact", "predicateType",
"expected", "actual", "passed", "position", "bundles"}], "artifacts",
"attestations", "refused"}. Exit 3 when any rule fails; a bad policy is exit
2 with each problem at FILE:LINE:COLUMN (the first 50, then how many more).
The text report lists the first 50 failed rules, each expected and actual
cut at 1000 bytes; --output json has every rule whole. --policy replaces verify's policy
flags (--repo, --certificate-identity, --key, --type, ...): with it, verify
reads only the --policy flags, --bundle and --bundle-dir, the trust flags,
--vsa with its signing flags and the output flags, and refuses any other
(exit 2); --trusted-root replaces the policy's trust roots.

'policy lint' checks a file (YAML, every field known, the JSON Schema of
'policy schema', CEL type-checked, signers defined, MATCH FROM a step, no
step unreachable). 'policy init' verifies the bundles it is given and writes
a policy pinning exactly their signers, predicate types, claims and links
(chained with MATCH), with REVIEW comments on what to widen, to standard
output or --output-file FILE (atomically); --output json prints
{"schemaVersion", "policy" (the YAML text), "learned", "skipped"}.

A signed policy ('hallmark sign POLICY.yaml') is verified before it is used:
--policy-bundle B with --policy-identity and --policy-issuer, or
--policy-key FILE, under verify's trust flags; a policy whose bundle does
not verify is exit 3.

--vsa OUT with --policy writes a signed SLSA verification summary of the
policy run for each artifact (one: a bundle; several: JSONL, one bundle a
line in argument order; none when verify could not complete or the policy's
--policy-bundle does not verify): policy is the
policy file's path and the sha256 of its exact bytes (those --policy-bundle
verified), verificationResult PASSED when every rule about the artifact and
every step rule passed (with one artifact, exactly when verify exits 0) or
FAILED, inputAttestations the bundles those rules rest on (every bundle
given on FAILED), verifiedLevels those of the artifact's SLSA provenance
among them. The scan gate's flags (--max-age, --fail-on, --vex) are refused
with --policy: write the gate as a CEL rule.

	hallmark verify --policy policy.yaml --bundle-dir attestations/ \
	  --vsa app.pkg.vsa.json --vsa-key vsa.key app.pkg

# Container images

An argument oci://REGISTRY/REPO[:TAG|@sha256:HEX] names an image (or any OCI
artifact) in a registry; sign, attest and verify then work on its manifest
digest, a tag being resolved once:

	hallmark sign oci://ghcr.io/OWNER/APP:v1
	hallmark attest --provenance oci://ghcr.io/OWNER/APP:v1
	hallmark verify --repo OWNER/APP oci://ghcr.io/OWNER/APP:v1

'hallmark sign' signs the digest as cosign v3 does (--new-bundle-format): a
DSSE in-toto statement of predicate type https://sigstore.dev/cosign/sign/v1
whose subject is the digest; 'hallmark attest' signs the statement of
--type/--predicate or --provenance about it. Each bundle is pushed as an OCI
1.1 referrer of the manifest as cosign's BUNDLE_SPEC describes (artifactType
application/vnd.dev.sigstore.bundle.v0.3+json, the empty config, the image
as subject, annotations dev.sigstore.bundle.content and
dev.sigstore.bundle.predicateType), through the referrers tag schema
(sha256-HEX) on a registry without the referrers API. --bundle OUT writes
it locally too, --no-push only there. The line printed names the digest and
the referrer.

'hallmark verify oci://...' lists the referrers, keeps the Sigstore bundles
and verifies each against the digest with the policy flags and --type; it
passes when one satisfies the policy (the SLSA provenance --repo and --owner
ask for by default is asked of attestations, not of image signatures).
Nothing found, or everything refused,
is exit 3, "no signature for sha256:...", with each referrer found and why it
was refused. --bundle-from-oci, as gh spells it, is accepted. When no
Sigstore bundle refers to the image, cosign v2's legacy sha256-HEX.sig and
.att tags are read instead, each layer turned into a bundle and verified the
same way (a .sig payload must also name the image's digest).

For an image index, --platform OS/ARCH[/VARIANT] also signs or verifies that
platform's manifest, --recursive every platform's (each is a result of its
own).

'hallmark verify --policy POLICY oci://...' evaluates a policy file (see
Policy files) over images:

	hallmark verify --policy policy.yaml oci://ghcr.io/OWNER/APP:v1

Each image's referrer bundles, the layers of its cosign v2 legacy tags
(always read here; a .sig signature counts as a plain signature of the
image once its payload names the digest) and any --bundle or --bundle-dir
are verified once, and the policy is evaluated with the manifest digest as
the artifact's. An artifacts entry's name glob matches the reference as
given (oci://ghcr.io/OWNER/APP:v1, or @sha256:HEX) or the repository
without tag or digest (oci://ghcr.io/OWNER/APP), so "oci://ghcr.io/OWNER/*"
covers every tag of every repository OWNER/NAME; a platform manifest is named
oci://REGISTRY/REPO@sha256:HEX (OS/ARCH) and matched by the reference given
and the repository too. predicateType signature is met by the image
signature (the sign/v1 statement). An image with nothing verified about its
digest fails its rules and adds "no signature for sha256:..." (exit 3); in
JSON, "images" says what each registry held. Credentials come from the Docker config and its credential helpers,
or --registry-username USER --registry-password-stdin. Plain HTTP is used
only with --allow-insecure-registry and only to localhost, 127.0.0.1 or
[::1] (a warning says so); every other registry is spoken to over HTTPS. A
refused login, a missing repository, tag or manifest, and an unreachable
registry are distinct errors with their own hints (exit 1).

# Package ecosystems

--preset NAME verifies packages by their ecosystem's rules. The preset is
the policy: it takes the flags named here, and any other policy flag is a
usage error (exit 2). --lock pins each package's signer on first use with
every preset (see the lock file, below).

--preset homebrew-core (or --preset homebrew --repo OWNER/TAP) verifies
Homebrew bottles by brew's rules: a workflow of the tap's repository signed
SLSA provenance v1 with a subject named as the bottle file and carrying its
sha256 (an :all bottle: a bottle subject of the same NAME--VERSION); else,
for homebrew-core, trailofbits/homebrew-brew-verify's backfill with subject
sha256(URL)--FILE (--bottle-url URL, one per bottle), made on or before
2024-03-14. Attestations come from --bundle, --bundle-dir or --from
github. Text names the formula, version, tag, the run that built it and
when; the JSON report is {"schemaVersion", "preset", "bottles": [{"bottle",
"digest", "verified", "reason", "message", "verdict": {"bottle": {"fileName",
"formula", "version", "tag", "rebuild"}, "subject", "backfill", "repository",
"workflow", "run", "time"}}]}, with reason verified, no-attestation or
invalid-attestation (exit 3), or auth, rate-limited, network (exit 1).

	hallmark verify --preset homebrew-core --bundle jq.sigstore.json jq--1.7.1.arm64_sonoma.bottle.tar.gz

--preset npm verifies npm packages by the registry's attestations document
(--attestations FILE, from <registry>/-/npm/v1/attestations/NAME@VERSION):
the publish attestation with the registry key its hint names (key usage
npm:attestations, valid at the log time), the SLSA provenance against the
public-good root, pinned with --repo OWNER/NAME (and --signer-workflow, with
gh's meaning; certificates from before October 2023 are read by their legacy
GitHub extensions), and every subject of both must be pkg:npm/NAME@VERSION
(a scope's @ as %40) with the tarball's sha512. The artifact is the tarball,
its sha512:<hex> or its integrity sha512-<base64>. Without --repo, one
package is a usage error whose hint names the repository its provenance
shows, unless --lock has an entry for it. --packument FILE also checks the registry signature (npm:signatures
key, over NAME@VERSION:INTEGRITY). The registry keys are the TUF target
registry.npmjs.org/keys.json, cached with the trust root, or --npm-keys FILE
(needed with --trusted-root). --lockfile package-lock.json (v2 or v3) with
--attestations-dir DIR verifies every registry package by its integrity
against DIR/NAME@VERSION.json (DIR/@SCOPE/NAME@VERSION.json), in parallel;
packages without provenance are listed, and refused only with
--require-provenance; with --lock and no --repo, each package's signer is
pinned on first use. A lockfile entry npm never writes (a name such as
../../x, a malformed sha512 or two different ones) is refused (exit 3); one
with only a sha1 integrity is skipped, and refused with
--require-provenance. The documents are read inside DIR only, regular
files only (a pipe or a link out of DIR is an error of its package). The JSON report is {"schemaVersion", "preset":
"npm", "pinned", "packages": [{"ecosystem", "name", "version", "purl",
"digest", "integrity", "verified", "status", "document", "publish",
"publishKey", "provenance", "registrySignature", "error", "lock"}],
"skipped", "summary"}.

	hallmark verify --preset npm --repo OWNER/NAME --attestations doc.json pkg.tgz
	hallmark verify --preset npm --lockfile package-lock.json --attestations-dir att/

--preset pypi verifies Python distributions by their PEP 740 attestations,
with pypi-attestations' rules. --provenance FILE (one per DIST, in order;
default DIST.provenance, DIST.publish.attestation or DIST.attestation) is a
provenance object or an attestation object; DIST is the file or
FILENAME@sha256:HEX. Every attestation must verify (against the public-good
root unless --trusted-root), have exactly one subject named as the
distribution (wheel and sdist names parsed and normalised: canonical
project, PEP 440 version by value, build tag and tag set) with its sha256,
predicate https://docs.pypi.org/attestations/publish/v1 or
https://slsa.dev/provenance/v1, and be signed by --publisher:
github:OWNER/REPO[/WORKFLOW.yml] (issuer, source repository, and the Build
Config URI at the certificate's own ref or commit: the ref is not pinned),
gitlab:NAMESPACE/PROJECT[//CI-FILE], google:SERVICE-ACCOUNT-EMAIL, or
email:ADDRESS with --publisher-issuer URL (which also replaces a CI
publisher's own issuer). A provenance object's publisher is not signed: it
is only checked against the certificate as well. Without --publisher or a
lock entry, verify is exit 2 with a hint showing the publisher found. The
JSON report is {"schemaVersion", "preset": "pypi", "dists": [{"dist",
"fileName", "project", "version", "digest", "provenance", "verified",
"publisher", "policyFrom", "claimedPublisher", "attestations", "lock",
"error"}]}.

	hallmark verify --preset pypi --publisher github:pypa/sampleproject/release.yml sampleproject-4.0.0.tar.gz

--lock FILE (hallmark.lock, TOML, sorted, meant to be committed) pins each
package's signer on first use, which still needs the identity flags (or a
preset's policy) and verifies everything; it says on stderr what it
pinned: ecosystem, name, signer kind (github, gitlab, identity), issuer,
repository, workflow, signing workflow if another, and the ref pattern
(refs/tags/* for a tag). Later verifies must match (the entry is the
policy when --publisher, or a plain verify's identity flags, are omitted);
another repository, workflow, issuer, a ref outside the pattern, or
provenance gone is exit 3, cause lock-drift, locked against now.
--update-lock accepts the change (where the entry was the policy, with the
new signer named: --publisher, --repo). It works with --preset pypi (by
project), npm (by package; --lockfile pins every package on first use
without --repo, and --update-lock accepts each change found; a version
without provenance beside one with it is listed, not drift), homebrew-core
and homebrew (by formula) and plain verifies (by file name). The file is written once per
call, atomically; a damaged one is exit 2 naming its line and is never
rewritten. Runs writing one lock file at the same time take turns (an
advisory lock on its directory, waited on for at most 5 s), so none drops
another's entries.

	hallmark verify --preset pypi --lock hallmark.lock DIST

# Download

'hallmark download' writes each ARTIFACT's GitHub attestations to
DIR/sha256:<hex>.jsonl (--dir, default .), one bundle per line, atomically, so
that 'hallmark verify --bundle-dir DIR --offline' verifies them later. --type
keeps one predicate type. No attestation, rate limiting, authentication and
the network are each exit 1 with their message and JSON "reason".

'hallmark download --preset npm --lockfile package-lock.json --dir DIR'
writes the npm registry's attestations document of every registry package of
the lockfile (--registry URL, default https://registry.npmjs.org) to
DIR/NAME@VERSION.json (DIR/@SCOPE/NAME@VERSION.json), atomically; a package
without attestations is listed, not a failure; a registry error is exit 1.
--registry is https (plain HTTP only to localhost), a redirect to plain HTTP
is refused, and the first failure of the registry as a whole (unreachable,
a timeout, 429, 5xx) stops the fetches not yet made.

# Scan

'hallmark scan' finds packages with known vulnerabilities: it reads
lockfiles, manifests, SBOMs and directories with osv-scanner's extraction
engine (osv-scalibr) and matches them, range by range as the OSV schema
says, against the osv.dev API or, with --offline, the local database that
'hallmark db update' and 'hallmark db import' maintain:

	hallmark scan [--offline] [--fail-on LEVEL] [-o text|json|sarif|openvex|cyclonedx|markdown] [PATH...]
	hallmark scan --attestation SBOM.sigstore.json [verify's policy flags]
	hallmark scan --attest [--bundle OUT] [--key K | sign's keyless flags] [PATH...]
	hallmark db update [--ecosystem E]... [--base-url URL] | db import PATH... | db status

'hallmark db update' downloads osv.dev's export of each ecosystem (--base-url
for a mirror) and 'db import' reads exports, osv-scanner's offline layout or
OSV records; both replace the database atomically (--db DIR, else hallmark's
cache directory). 'hallmark db status' lists the ecosystems, then reads every record and runs
bbolt's consistency check: a damaged database (truncated, overwritten,
empty) is exit 1, here and in scan, and 'db import' or 'db update' replaces
it. Imports refuse a record over 16 MiB, an archive over 8 GiB uncompressed
and a download over 4 GiB; timestamps that are not RFC 3339 are read
leniently, with a warning, and the record kept.

--output (-o) picks the report: text (default), json (the versioned
scan.Result schema), sarif (SARIF 2.1.0, for GitHub code scanning), openvex
(OpenVEX 0.2.0), cyclonedx (CycloneDX 1.6 VEX) or markdown; --output-file
writes it atomically to a file instead of stdout.

Unpinned requirements are listed, never matched against their floor, and so
are versions that do not parse in their ecosystem ("not a version!!").
Files are read only inside the project (the git work tree, else the path
given): a symlink, requirements include or parent pom leading outside it is
refused, never read. A file over --max-file-size (default 256MiB), a named
pipe or a device is not read: like a malformed file, it is listed as not
read.
npm dev-only packages are kept, marked, unless --no-dev. Findings suppressed
by an osv-scanner.toml ([[IgnoredVulns]]; next to a scanned directory, or
--ignore-file FILE) or by OpenVEX statements (--vex FILE) stay in the
report, marked. The summary counts distinct vulnerabilities and package
instances (one per entry in a file). Exit 3 when a finding at or above
--fail-on remains. A file that cannot be read never hides the others: the
report covers every file that was read and lists each that was not, with
the reason (in SARIF, as an unsuccessful invocation's notifications), and
the scan exits 1 at the end unless --allow-incomplete. SARIF locations are
relative to %SRCROOT%, the working directory, as GitHub code scanning
expects.

--attest [--bundle OUT] signs the result as an in-toto vulns v0.2
attestation (scanner, database snapshot per ecosystem, scan start and
finish, each finding with its ids, severities and package), or with -o
openvex the OpenVEX document, about the files scanned (path and sha256) or
--attestation-subject FILE; keyless or --key with sign's flags, the bundle
FILE.vuln.sigstore.json by default, written atomically. An incomplete scan
is not signed; a signing failure is exit 1 and writes no bundle; findings
still exit 3. --db DIR selects the local database with or without
--offline.

# Trust

Verification trusts the certificate authorities, logs and timestamp
authorities of trust roots: each --trusted-root FILE (repeatable; a file may
be JSONL of several roots, one a line, as 'gh attestation trusted-root'
writes; or $HALLMARK_TRUSTED_ROOT), else the Sigstore public-good root and
the root of GitHub's own Sigstore instance (https://tuf-repo.github.com),
each fetched through its TUF repository, verified, and cached in
$HALLMARK_CACHE_DIR (default: hallmark/ in the user cache directory).
--tuf-mirror and --tuf-root name the public-good root's TUF repository and
its initial root (with --tuf-mirror only that mirror's root is used);
--github-tuf-mirror and --github-tuf-root name GitHub's.

Each bundle is checked against the root whose Fulcio CA issued its
certificate. A root with timestamp authorities and no transparency or CT
logs, as GitHub's, verifies its certificates with signed (RFC 3161)
timestamps only; the JSON result's skippedChecks names tlog and sct and why.

hallmark carries no copy of GitHub's TUF root: it pins the SHA-256 of the
version it starts from (3.root.json, the one gh embeds), fetches that file
from the mirror on first use, refuses it unless the hash matches, and keeps
it in the cache for offline runs. An
online run refreshes a cache older than a day and fails, never silently falls
back, if the refresh fails. --offline never opens a network connection: it
uses --trusted-root or the cached root, warning when that is old.

The cache holds, per mirror, the TUF client's signed metadata in tuf/MIRROR/
and the extracted targets in trust/MIRROR/ (trusted_root.json, the signing
config) with meta.json, the record of the fetch: the mirror URL, the SHA-256
of the initial TUF root (--tuf-root) and fetchedAt. Before each use, online
or offline, the cached trusted_root.json is checked against the signatures,
versions, lengths and hashes of that metadata; a mismatch is exit 1 until
'hallmark trust update' fetches both again. A cache is stale when it is a
day old, was fetched in the future, or its TUF metadata has expired
(offline, expired metadata is checked as of the fetch and used with the
warning). A cache made from another mirror or --tuf-root is not used.

'hallmark trust export DIR' writes the root in use for an air-gapped machine:
trusted_root.json, signing_config.json when the TUF cache has one (a
--trusted-root FILE has none), and, when several roots are trusted,
trusted_roots.jsonl with all of them for --trusted-root. 'trust show' lists
the other roots under additionalRoots in JSON. It lists the files written; on failure it
leaves no file or directory it created.

# Output and exit codes

Results go to stdout (--output json prints a versioned JSON report),
diagnostics to stderr as "hallmark: error: ..." and "hallmark: hint: ...".
A value from a file, a bundle or an advisory (a file name, an identity, a
package name) that holds a control character, a bidi control or bytes that
are not UTF-8 is shown Go-quoted ("a\nb"), so it cannot start a line or move
the cursor. JSON keeps every string exactly, except that a file name that is
not UTF-8 is given Go-quoted there too, with its exact bytes in base64 in
artifactBytes or bundleBytes (verify, sign), pathBytes beside the path
(scan: location, files, failures) or originBytes (db).

	0  ok: everything verified, signed or written; a scan with no finding
	   at or above --fail-on
	1  could not complete (missing file, network, unreadable trust root,
	   a service that refused or returned a bad bundle, a wrong password,
	   interrupted by Ctrl-C or SIGTERM)
	2  usage error
	3  checked and rejected (bad signature, wrong signer, tampered artifact,
	   malformed bundle, a failed policy rule, lock drift, a finding at or
	   above --fail-on)

The exit codes are the same in every output format and for every command
(but 'attest run', which exits with its command's own code, or 1 when the
step could not be recorded); with several artifacts, the worst wins.

Ctrl-C (SIGINT) and SIGTERM stop any run within a second, whatever it waits
on (a FIFO, a device, a server that does not answer, a password prompt) or
works through (a huge lockfile, a database import): the run ends with the one
line "hallmark: error: interrupted (SIGINT)" (or SIGTERM) and exit 1, writes
no output file (bundle, report, key, database: an existing one is left as it
was), and prints no partial result. A second signal ends the process at once.
*/
package main
