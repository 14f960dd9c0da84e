#!/usr/bin/env bash
# A real Sigstore instance on 127.0.0.1 for the e2e tests: our OIDC issuer,
# Fulcio (ephemeral CA, no CT log), Rekor v2 (rekor-tiles posix) and the
# timestamp authority (memory signer), at the versions internal/e2e/tools pins.
#
#   stack.sh build [cosign]   build the servers once into the cache (needs the
#                             module proxy); prints the directory of binaries
#   stack.sh run CMD...       inside a private network namespace (unshare -n):
#                             start the stack, run CMD with the instance in its
#                             environment, stop the stack, exit with CMD's code
#
# CMD sees HALLMARK_E2E_DIR (trusted_root.json, signing_config.json),
# HALLMARK_E2E_ISSUER, HALLMARK_E2E_TOKEN_URL and HALLMARK_E2E_TILES_URL, and
# HALLMARK_E2E_GITHUB_ISSUER and HALLMARK_E2E_GITHUB_TOKEN_URL: a second issuer
# that Fulcio treats as GitHub Actions (type github-workflow), so that its
# tokens' claims become Fulcio's GitHub certificate extensions.
# In a private mount namespace as well (e2e.sh enters one when it can), a
# third issuer is GitHub Actions' at its real URL,
# https://token.actions.githubusercontent.com, for what pins that issuer
# (verify --preset homebrew-core, --repo without --certificate-oidc-issuer):
# /etc/hosts is replaced, in this namespace only, by a copy mapping the host
# to 127.0.0.1, the issuer serves HTTPS on 127.0.0.1:443 with a certificate
# from a CA made at start, and only Fulcio trusts that CA (its issuer
# config's CACert). CMD then sees HALLMARK_E2E_GITHUB_ACTIONS_ISSUER and
# HALLMARK_E2E_GITHUB_ACTIONS_TOKEN_URL (tokens over plain HTTP on
# 127.0.0.1:5558), else HALLMARK_E2E_GITHUB_ACTIONS_WHY_NOT says why not.
# Work files and server logs go to $HALLMARK_E2E_WORK (default a temporary
# directory, removed when CMD passes; its path is printed).
set -euo pipefail
E2E=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
TOOLS=$E2E/tools
CACHE=${HALLMARK_E2E_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/hallmark-e2e}
# The binaries are keyed by what decides them: the tools module's versions
# (go.mod, go.sum) and the source of its own program.
KEY=$(cd "$TOOLS" && cat go.mod go.sum instance/*.go | sha256sum | cut -c1-16)
BIN=$CACHE/bin-$KEY

ms() { echo $(( ($(date +%s%N) - $1) / 1000000 )); }

build() {
	export CGO_ENABLED=0 GOFLAGS=-trimpath
	if [ ! -x "$BIN/instance" ]; then
		local tmp t0
		tmp=$(mktemp -d "$CACHE/tmp-XXXXXX") t0=$(date +%s%N)
		echo "e2e: building fulcio, rekor-server (posix), timestamp-server into $BIN (once)" >&2
		if ! go -C "$TOOLS" build -o "$tmp/" github.com/sigstore/fulcio \
			github.com/sigstore/rekor-tiles/v2/cmd/rekor-server/posix \
			github.com/sigstore/timestamp-authority/v2/cmd/timestamp-server ./instance >&2; then
			rm -rf "$tmp"
			exit 1
		fi
		mv "$tmp/posix" "$tmp/rekor-server-posix"
		# A directory rename is atomic: the cache holds a complete set or none.
		mv -T "$tmp" "$BIN" 2>/dev/null || rm -rf "$tmp"
		echo "e2e: servers built in $(ms "$t0") ms" >&2
	fi
	if [ "${1:-}" = cosign ] && [ ! -x "$BIN/cosign" ]; then
		local t0
		t0=$(date +%s%N)
		echo "e2e: building cosign into $BIN (once)" >&2
		if ! go -C "$TOOLS" build -o "$BIN/cosign.tmp.$$" github.com/sigstore/cosign/v3/cmd/cosign >&2; then
			rm -f "$BIN/cosign.tmp.$$"
			exit 1
		fi
		mv "$BIN/cosign.tmp.$$" "$BIN/cosign"
		echo "e2e: cosign built in $(ms "$t0") ms" >&2
	fi
	echo "$BIN"
}

# The addresses, fixed: the namespace is ours alone.
OIDC=127.0.0.1:5556 OIDC_GITHUB=127.0.0.1:5557 OIDC_ACTIONS=127.0.0.1:5558 OIDC_ACTIONS_TLS=127.0.0.1:443 FULCIO=127.0.0.1:5555 FULCIO_GRPC=5554 REKOR=127.0.0.1:3003 TILES=127.0.0.1:3080 TSA=127.0.0.1:3004

ACTIONS_ISSUER=https://token.actions.githubusercontent.com
ACTIONS_HOST=${ACTIONS_ISSUER#https://}

PIDS=()
start() { # start NAME CMD...
	local name=$1
	shift
	"$@" >"$W/logs/$name.log" 2>&1 </dev/null &
	PIDS+=("$!")
}

# stop: SIGTERM every server we started, by PID; SIGKILL what is left after 10 s.
stop() {
	local p i
	[ ${#PIDS[@]} -gt 0 ] || return 0
	kill "${PIDS[@]}" 2>/dev/null || true
	for i in $(seq 100); do
		local alive=0
		for p in "${PIDS[@]}"; do kill -0 "$p" 2>/dev/null && alive=1; done
		[ $alive = 0 ] && break
		sleep 0.1
	done
	kill -9 "${PIDS[@]}" 2>/dev/null || true
	wait "${PIDS[@]}" 2>/dev/null || true
	ACTIONS_ISSUER=https://token.actions.githubusercontent.com
ACTIONS_HOST=${ACTIONS_ISSUER#https://}

PIDS=()
}

# actions_hosts maps ACTIONS_HOST to 127.0.0.1 in /etc/hosts, by a bind
# mount that only this mount namespace sees, or says why it cannot. It
# never touches the /etc/hosts of the namespace e2e.sh started in.
actions_hosts() {
	local ns err
	ns=$(readlink /proc/self/ns/mnt 2>/dev/null) || true
	if [ -z "${HALLMARK_E2E_HOST_MNTNS:-}" ] || [ -z "$ns" ] || [ "$ns" = "$HALLMARK_E2E_HOST_MNTNS" ]; then
		echo "the stack runs without a private mount namespace ('unshare -m' does not work here, or stack.sh was started without e2e.sh), so $ACTIONS_HOST cannot be mapped to 127.0.0.1"
		return 1
	fi
	{ cat /etc/hosts 2>/dev/null || true; printf '\n127.0.0.1 %s\n' "$ACTIONS_HOST"; } >"$W/hosts"
	if ! err=$(mount --bind "$W/hosts" /etc/hosts 2>&1); then
		echo "bind-mounting a hosts file over /etc/hosts failed: $err"
		return 1
	fi
}

run() {
	: "${HALLMARK_E2E_OIDCISSUER:?set it to the built internal/e2e/cmd/oidcissuer}"
	[ -x "$BIN/instance" ] || { echo "e2e: servers not built: run $0 build first" >&2; exit 1; }
	# Fixed ports and servers that bind more than they are told (the TSA's
	# metrics on :2112) belong in a namespace of their own, never the host's.
	if [ "$(ip -o link show | wc -l)" != 1 ]; then
		echo "e2e: stack.sh run must run inside 'unshare -n' (this network namespace has more than loopback)" >&2
		exit 1
	fi
	local t0 code=0
	t0=$(date +%s%N)
	W=${HALLMARK_E2E_WORK:-$(mktemp -d)}
	mkdir -p "$W/logs" "$W/tiles" "$W/instance"
	trap stop EXIT
	ip link set lo up

	"$BIN/instance" keygen -out "$W/rekor.pem"

	# The issuer also serves the Rekor v2 tiles read-only: the log's read API.
	start oidcissuer "$HALLMARK_E2E_OIDCISSUER" -addr "$OIDC" -serve-dir "$TILES=$W/tiles"
	# The same issuer program, standing in for GitHub Actions' issuer.
	start oidcissuer-github "$HALLMARK_E2E_OIDCISSUER" -addr "$OIDC_GITHUB"
	local issuers actions_why=""
	issuers=$(printf '"http://%s":{"IssuerURL":"http://%s","ClientID":"sigstore","Type":"email"},"http://%s":{"IssuerURL":"http://%s","ClientID":"sigstore","Type":"github-workflow"}' \
		"$OIDC" "$OIDC" "$OIDC_GITHUB" "$OIDC_GITHUB")
	if actions_why=$(actions_hosts); then
		# And at GitHub Actions' own URL; the CA file appears once HTTPS
		# listens, before the plain HTTP port (tokens for the tests) does.
		rm -f "$W/actions-ca.pem"
		start oidcissuer-actions "$HALLMARK_E2E_OIDCISSUER" -addr "$OIDC_ACTIONS" -issuer "$ACTIONS_ISSUER" \
			-tls-addr "$OIDC_ACTIONS_TLS" -tls-ca-out "$W/actions-ca.pem"
		if ! "$BIN/instance" wait -timeout 20s "http://$OIDC_ACTIONS/.well-known/openid-configuration" >/dev/null ||
			[ ! -s "$W/actions-ca.pem" ]; then
			echo "e2e: the issuer for $ACTIONS_ISSUER did not start" >&2
			tail -n 20 "$W/logs/oidcissuer-actions.log" >&2
			exit 1
		fi
		# PEM in JSON: each line ends in \n.
		issuers+=$(printf ',"%s":{"IssuerURL":"%s","ClientID":"sigstore","Type":"github-workflow","CACert":"%s"}' \
			"$ACTIONS_ISSUER" "$ACTIONS_ISSUER" "$(awk 'BEGIN { ORS = "\\n" } { print }' "$W/actions-ca.pem")")
	fi
	printf '{"OIDCIssuers":{%s}}\n' "$issuers" >"$W/fulcio-config.json"
	# Fulcio reads the issuers' discovery documents at start-up: issuers first.
	"$BIN/instance" wait "http://$OIDC/.well-known/openid-configuration" \
		"http://$OIDC_GITHUB/.well-known/openid-configuration" >/dev/null
	# HTTP and gRPC ports must differ (Fulcio panics otherwise); no CT log, so no SCTs.
	start fulcio "$BIN/fulcio" serve --ca ephemeralca --config-path "$W/fulcio-config.json" \
		--host 127.0.0.1 --port "${FULCIO#*:}" --grpc-host 127.0.0.1 --grpc-port "$FULCIO_GRPC" \
		--metrics-port 2113 --ct-log-url "" --legacy-unix-domain-socket @hallmark-e2e-fulcio --log_type dev
	# The checkpoint origin (--hostname) must be the host of the log's URL in the trusted root.
	start rekor "$BIN/rekor-server-posix" serve --http-address 127.0.0.1 --http-port "${REKOR#*:}" \
		--grpc-address 127.0.0.1 --grpc-port 3001 --http-metrics-port 2114 --hostname 127.0.0.1 \
		--storage-dir "$W/tiles" --signer-filepath "$W/rekor.pem" \
		--checkpoint-interval 200ms --batch-max-age 50ms
	start tsa "$BIN/timestamp-server" serve --host 127.0.0.1 --port "${TSA#*:}" \
		--timestamp-signer memory --disable-ntp-monitoring
	if ! "$BIN/instance" wait "http://$FULCIO/healthz" "http://$REKOR/healthz" "http://$TILES/checkpoint" \
		"http://$TSA/ping" >/dev/null; then
		tail -n 20 "$W"/logs/*.log >&2
		exit 1
	fi
	# The ephemeral CA and the memory TSA have new keys at every start.
	"$BIN/instance" describe -fulcio "http://$FULCIO" -oidc "http://$OIDC" -rekor "http://$REKOR" \
		-rekor-key "$W/rekor.pem" -tsa "http://$TSA" -out "$W/instance"
	echo "e2e: stack up in $(ms "$t0") ms (OIDC, Fulcio, Rekor v2, TSA on 127.0.0.1; logs in $W/logs)"
	if [ -z "$actions_why" ]; then
		echo "e2e: $ACTIONS_ISSUER served on $OIDC_ACTIONS_TLS (private /etc/hosts)"
		export HALLMARK_E2E_GITHUB_ACTIONS_ISSUER=$ACTIONS_ISSUER HALLMARK_E2E_GITHUB_ACTIONS_TOKEN_URL=http://$OIDC_ACTIONS/token
	else
		echo "e2e: $ACTIONS_ISSUER not served: $actions_why; the tests that need it skip"
		export HALLMARK_E2E_GITHUB_ACTIONS_WHY_NOT=$actions_why
	fi

	export HALLMARK_E2E_DIR=$W/instance HALLMARK_E2E_ISSUER=http://$OIDC \
		HALLMARK_E2E_TOKEN_URL=http://$OIDC/token HALLMARK_E2E_TILES_URL=http://$TILES \
		HALLMARK_E2E_GITHUB_ISSUER=http://$OIDC_GITHUB HALLMARK_E2E_GITHUB_TOKEN_URL=http://$OIDC_GITHUB/token
	"$@" || code=$?
	t0=$(date +%s%N)
	stop
	echo "e2e: stack stopped in $(ms "$t0") ms"
	if [ $code = 0 ] && [ -z "${HALLMARK_E2E_WORK:-}" ]; then rm -rf "$W"; fi
	return $code
}

case "${1:-}" in
build)
	mkdir -p "$CACHE"
	shift
	build "$@"
	;;
run)
	shift
	run "$@"
	;;
*)
	echo "usage: $0 build [cosign] | run CMD..." >&2
	exit 2
	;;
esac
