#!/usr/bin/env bash
# make e2e / make interop: build what the tests need (outside the namespace,
# where the module proxy is reachable), then run the e2e tests inside a
# private network namespace with a real local Sigstore stack up.
#
#   e2e.sh            the e2e tests (internal/e2e, build tag e2e)
#   e2e.sh interop    the same against cosign as well (builds the pinned cosign)
#   e2e.sh check      says whether e2e can run here (exit 0), or why not;
#                     HALLMARK_E2E_SKIP=1 makes it say no (make test skips e2e)
#
# Extra go test flags: E2E_TESTFLAGS (e.g. E2E_TESTFLAGS='-test.run TestStack -test.v').
set -euo pipefail
cd "$(dirname "$0")/../.."
E2E=internal/e2e

# A PID namespace as well when allowed: if this script dies, the kernel ends
# every server with it. A mount namespace as well when allowed: stack.sh then
# maps GitHub Actions' issuer host to 127.0.0.1 in a private /etc/hosts;
# without one the tests that need that issuer skip, saying why.
unshare_cmd() {
	local ns
	for ns in "-n -m -p -f --kill-child" "-n -m" "-n -p -f --kill-child" "-n"; do
		# shellcheck disable=SC2086 # ns is a list of flags
		if unshare $ns true 2>/dev/null; then
			echo "unshare $ns"
			return
		fi
	done
}

check() {
	if [ -n "${HALLMARK_E2E_SKIP:-}" ]; then
		echo "HALLMARK_E2E_SKIP is set"
		return 1
	fi
	if [ "$(uname -s)" != Linux ]; then
		echo "not Linux (the stack runs in a private network namespace)"
		return 1
	fi
	if [ -z "$(unshare_cmd)" ]; then
		echo "'unshare -n' does not work here (needs root or user namespaces)"
		return 1
	fi
	if ! command -v ip >/dev/null; then
		echo "'ip' (iproute2) is missing: loopback cannot be brought up in the namespace"
		return 1
	fi
}

mode=${1:-e2e}
if [ "$mode" = check ]; then
	check
	exit
fi
if ! why=$(check); then
	echo "e2e: cannot run: $why" >&2
	exit 1
fi

build_args=()
[ "$mode" = interop ] && build_args=(cosign)
BIN=$(bash $E2E/stack.sh build "${build_args[@]}")
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
go build -o "$W/oidcissuer" ./$E2E/cmd/oidcissuer
go vet -tags e2e ./$E2E/...
go test -c -tags e2e -o "$W/e2e.test" ./$E2E

export HALLMARK_E2E_OIDCISSUER=$W/oidcissuer HALLMARK_E2E_BIN=$PWD/bin
# stack.sh edits /etc/hosts only in a mount namespace other than this one.
HALLMARK_E2E_HOST_MNTNS=$(readlink /proc/self/ns/mnt)
export HALLMARK_E2E_HOST_MNTNS
# Cases run in parallel beyond the core count: Rekor v2 holds each write
# for about a second (by design), so they mostly wait.
flags=(-test.count=1 -test.timeout=10m -test.parallel=8)
if [ "$mode" = interop ]; then
	export HALLMARK_E2E_COSIGN=$BIN/cosign
	flags+=(-test.run '^TestInterop')
fi
# The test binary runs in its package directory, as go test would run it.
run_tests() {
	# shellcheck disable=SC2086 # E2E_TESTFLAGS is a list of flags
	$(unshare_cmd) bash $E2E/stack.sh run \
		bash -c 'cd "$0" && exec "$@"' "$PWD/$E2E" "$W/e2e.test" "${flags[@]}" "$@" ${E2E_TESTFLAGS:-}
}
if [ -n "${HALLMARK_TEST_SUMMARY:-}" ]; then
	# make test: count the cases into the summary, print the failures and the timings.
	set -o pipefail
	run_tests -test.v=test2json 2>&1 | go tool test2json -t -p e2e |
		bin/testsum -label "${mode:-e2e}" -show "e2e: " -record "$HALLMARK_TEST_SUMMARY"
else
	run_tests
fi
