#!/usr/bin/env bash
# make demo: hallmark on data it makes itself (a fake Sigstore instance from
# sigstore-go's test CA), and on real public-good bundles from ../shared
# when that folder is beside the checkout.
set -uo pipefail
cd "$(dirname "$0")/../.."
HM=bin/hallmark
DIR=$(mktemp -d)
trap 'rm -rf "$DIR"' EXIT
export HALLMARK_CACHE_DIR="$DIR/cache"
go run ./internal/demo "$DIR/fx" || exit 1
FX=$DIR/fx
fails=0

# step TITLE WANT-EXIT COMMAND...: run, show, and check the exit code.
step() {
	local title=$1 want=$2
	shift 2
	if [ -n "$title" ]; then printf '\n== %s\n' "$title"; fi
	printf '$ %s\n' "${*//$DIR\//}"
	"$@"
	local got=$?
	if [ "$got" -eq "$want" ]; then
		printf -- '-> exit %d, as expected\n' "$got"
	else
		printf -- '-> exit %d, expected %d\n' "$got" "$want"
		fails=$((fails + 1))
	fi
}

step "a keyless bundle, signed in GitHub Actions, checked against its repository" 0 \
	$HM verify --offline --trusted-root "$FX/trusted_root.json" --repo hallmark-dev/demo "$FX/artifact.txt"
step "the same, pinned to its tag, as JSON" 0 \
	$HM verify --offline --trusted-root "$FX/trusted_root.json" --repo hallmark-dev/demo --source-ref refs/tags/v1.0.0 -o json "$FX/artifact.txt"
step "a file signed with a key (no transparency log: the flag says so, and warns)" 0 \
	$HM verify --key "$FX/key-ed25519.pub" --insecure-ignore-tlog --bundle "$FX/key-ed25519.sigstore.json" "$FX/artifact.txt"
step "a tampered artifact is rejected" 3 \
	$HM verify --offline --trusted-root "$FX/trusted_root.json" --repo hallmark-dev/demo --bundle "$FX/artifact.txt.sigstore.json" "$FX/tampered.txt"
step "the right bundle, the wrong signer: expected against actual" 3 \
	$HM verify --offline --trusted-root "$FX/trusted_root.json" --certificate-identity alice@example.com --certificate-oidc-issuer https://accounts.example.com "$FX/artifact.txt"

P=testdata/demo/policy.yaml
B=(--bundle "$FX/link.sigstore.json" --bundle "$FX/attestation.sigstore.json" --bundle "$FX/artifact.txt.sigstore.json")
step "a policy file ($P): signer, provenance with a CEL rule, a plain signature, the build step" 0 \
	$HM verify --offline --trusted-root "$FX/trusted_root.json" --policy $P "${B[@]}" "$FX/artifact.txt"
step "the same policy, the tampered file: every failed rule, expected against actual" 3 \
	$HM verify --offline --trusted-root "$FX/trusted_root.json" --policy $P "${B[@]}" "$FX/tampered.txt"

export HALLMARK_PASSWORD=demo-password
printf 'hallmark demo release 1.0\n' > "$DIR/release.txt"
step "a key pair, then a file signed with it, offline (no log, no timestamp: verify must say so)" 0 \
	$HM generate-key-pair --output-key-prefix "$DIR/demo"
step "" 0 $HM sign --key "$DIR/demo.key" --tlog-upload=false --timestamp=false "$DIR/release.txt"
step "" 0 $HM verify --key "$DIR/demo.pub" --insecure-ignore-tlog "$DIR/release.txt"

printf 'int main(void) { return 0; }\n' > "$DIR/main.c"
step "a build step recorded as an in-toto link (material in, product out), then verified as one" 0 \
	env -C "$DIR" "$PWD/$HM" attest run --key demo.key --tlog-upload=false --timestamp=false --step build \
	--materials main.c --products app.bin -- cp main.c app.bin
step "" 0 $HM verify --key "$DIR/demo.pub" --insecure-ignore-tlog --type link --bundle "$DIR/build.link.sigstore.json" "$DIR/app.bin"
step "the link is not a provenance attestation: --type says so" 3 \
	$HM verify --key "$DIR/demo.pub" --insecure-ignore-tlog --type slsaprovenance1 --bundle "$DIR/build.link.sigstore.json" "$DIR/app.bin"

step "an OSV database imported from records, then a lockfile scanned offline: findings exit 3" 0 \
	$HM db import --db "$DIR/osvdb" testdata/demo/osv
step "" 3 $HM scan --offline --db "$DIR/osvdb" testdata/demo/app/package-lock.json
step "the same, failing only on critical findings" 0 \
	$HM scan --offline --db "$DIR/osvdb" --fail-on critical -o markdown testdata/demo/app/package-lock.json

RB=../shared/fixtures/real-bundles
if [ -d "$RB" ]; then
	step "real world: the npm provenance of sigstore@2.0.0 (public-good root, DSSE, sha512 subject)" 0 \
		$HM verify --offline --trusted-root "$RB/trusted-roots/public-good.json" --repo sigstore/sigstore-js \
		--bundle "$RB/b2-sigstorejs-2.0.0-provenance/bundle.sigstore.json" "$RB/b2-sigstorejs-2.0.0-provenance/artifact"
else
	printf '\n(../shared not found: the real public-good bundles are skipped)\n'
fi

printf '\n'
if [ "$fails" -ne 0 ]; then
	echo "demo: $fails step(s) did not exit as expected"
	exit 1
fi
echo "demo: every step exited as expected"
