// Package policy reads hallmark policy files and evaluates them over
// verified Sigstore bundles: who may sign what, which attestations an
// artifact must have and what they must say (rules in CEL), and how the
// steps of a supply chain chain together (an in-toto layout in the
// attestation-based style of ITE-10 and ITE-11).
//
// The package never verifies a signature itself. Bundles are verified by
// package hallmark/pkg/verify (NewVerifiers builds its verifiers for a
// policy over one trust load), and Evaluate judges the resulting
// verify.Results, reporting every rule's outcome, not only the first
// failure.
//
// # The policy file
//
// YAML (JSON is YAML too), one document, no anchors or aliases; every field
// is known or an error, and every error names its line and column. Schema
// returns the JSON Schema of the format.
//
//	version: 1                      # required
//	trust:                          # optional: the policy is complete by itself
//	  roots: [public-good]          # public-good, github, or trusted_root.json files (relative to the policy)
//	  minTlogEntries: 1             # verified log entries each bundle needs (default 1)
//	  minTimestamps: 1              # verified timestamps each bundle needs (default 1)
//	signers:                        # named signers
//	  release:                      # keyless: issuer (or issuerPattern) and san (or sanPattern)
//	    issuer: https://token.actions.githubusercontent.com
//	    sanPattern: https://github.com/acme/app/\.github/workflows/release\.yml@refs/tags/v.*
//	    github:                     # optional GitHub Actions claims
//	      repository: acme/app      # source repository (OWNER/NAME or https://HOST/OWNER/NAME)
//	      workflow: acme/app/.github/workflows/release.yml   # the workflow that signed (needs repository)
//	      ref: refs/tags/v*         # glob over the source ref (* does not cross /)
//	      runnerEnvironment: github-hosted
//	  builder:
//	    issuer: https://accounts.example.com
//	    san: builder@example.com
//	  packager:
//	    key: keys/packager.pub      # a PEM public key file (relative to the policy), or keyPEM: inline
//	artifacts:                      # per artifact name glob: the attestations it must have
//	  - name: "*.tar.gz"
//	    attestations:
//	      - predicateType: slsaprovenance1   # short name, URI, or "signature" (a plain signature)
//	        signers: "1 of [release]"        # or a list: [release, backup] means 1 of them
//	        rules:
//	          - name: tagged
//	            cel: predicate.buildDefinition.externalParameters.workflow.ref.startsWith("refs/tags/")
//	steps:                          # an in-toto layout: the artifact must be a product of the last step
//	  - name: build                 # the link's name (hallmark attest run --step build)
//	    predicateType: link         # link (default), slsaprovenance1 or slsaprovenance02
//	    signers: "1 of [builder]"
//	    materials: ["ALLOW src/*", "DISALLOW *"]
//	    products: ["ALLOW app.tar.gz", "DISALLOW *"]
//	  - name: package
//	    signers: "1 of [packager]"
//	    materials: ["MATCH app.tar.gz WITH products FROM build", "DISALLOW *"]
//	    products: ["ALLOW app.pkg", "DISALLOW *"]
//
// Signer patterns are RE2 and always match the whole value (verify.Anchor).
// Artifact name globs use doublestar syntax (* does not cross /, ** does);
// a glob without a slash also matches the artifact's base name. A glob may
// also match one of the artifact's Aliases: hallmark names a container
// image by the reference as given (oci://REGISTRY/REPO:TAG or
// oci://REGISTRY/REPO@sha256:HEX) with its repository (oci://REGISTRY/REPO)
// as an alias, so "oci://ghcr.io/acme/app" covers every tag and digest of
// it. A "signature" requirement is met by a plain message signature or by
// an image signature (cosign's https://sigstore.dev/cosign/sign/v1
// statement about the digest).
//
// # Thresholds
//
// "N of [a, b, ...]" needs attestations from N distinct signers among
// those named; distinct means distinct actual signers (certificate
// identity and issuer, or key), so one signature never counts for two
// names. An attestation from a signer not named does not count, and the
// outcome says who it was.
//
// # CEL rules
//
// Each rule (name and cel) must be true for every accepted attestation
// (one of a named signer). Rules are compiled and type-checked once, when
// the policy is parsed; the CEL environment is built the first time a
// policy is parsed. A rule sees:
//
//	subject        list of {name, digest: {sha256: hex, ...}}
//	predicateType  string
//	predicate      the statement's predicate (JSON: maps, lists, doubles, strings)
//	signer         {kind: "certificate"|"key", identity, san, issuer, keyFingerprint,
//	                github: {repository, ref, digest, trigger, workflow, configWorkflow,
//	                runInvocation, runnerEnvironment, owner, workflowDigest}}
//	now            timestamp: the time of the evaluation (Input.Now)
//	timestamps     list of {kind: "tlog"|"tsa", uri, time: timestamp}: the bundle's
//	               verified timestamps, not the statement's own claims
//
// plus CEL's standard library and its strings extension. A scan gate, for
// example: the newest scan no older than a week and no high finding:
//
//   - name: fresh
//     cel: timestamps.exists(t, now - t.time < duration("168h"))
//   - name: no-high
//     cel: '!predicate.scanner.result.exists(r, r.severity.exists(s, s.method == "CVSSv3" && double(s.score) >= 7.0))'
//
// # Steps and artifact rules
//
// A step's attestations are the verified statements of its predicate type
// (for a link, whose name is the step's); its materials are the link's
// materials (a provenance's resolved dependencies), its products the
// statement's subjects. Rules apply in order, in-toto's way: ALLOW pattern
// consumes the artifacts it matches; DISALLOW pattern fails on any
// artifact still unconsumed that matches; REQUIRE name needs the artifact;
// MATCH pattern [IN prefix] WITH products|materials [IN prefix] FROM step
// consumes the artifacts that the other step recorded under the same name
// (after the prefixes) and digest, and fails, naming each, on an artifact
// it selects that the other step does not have or has with another digest.
// Artifacts left at the end are allowed: end with DISALLOW *. Patterns are
// in-toto's (fnmatch): * matches any characters, slashes included.
//
// Every step but the last must be the FROM of a later step's MATCH (else
// it is unreachable, and Parse says so); when several signers' attestations
// meet a step's threshold they must record the same artifacts.
//
// # Outcomes
//
// Report.Outcomes lists every rule checked with its name, expected and
// actual values and place in the policy file: artifacts[I].attestations[J].signers,
// artifacts[I].attestations[J].rules.NAME, steps.STEP.signers,
// steps.STEP.agreement, steps.STEP.materials[K], steps.STEP.products[K],
// steps.STEP.rules.NAME and steps.LAST.product (the artifact is a product of
// the last step). An artifact that no artifacts entry matches, in a policy
// without steps, fails the rule "artifacts".
package policy
