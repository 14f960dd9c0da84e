# hallmark's build. Every target works on a fresh machine with Go: the go
# command fetches the toolchain go.mod names (GOTOOLCHAIN=auto).
export GOTOOLCHAIN := auto
SHELL := /bin/bash

GO        ?= go
TOOLS     := $(GO) tool -modfile=internal/tools/go.mod
SHARED    ?= ../shared
CONF      := $(SHARED)/conformance
PROD_ROOT := $(CONF)/data/_production/trusted_root.json
BENCHTIME ?= 1s
FUZZTIME  ?= 10s
FUZZMINIMIZE ?= 200x
# Each step of make test records its counts here; the last line sums them up.
SUMMARY   := bin/test-summary.txt
TESTSUM   := bin/testsum

.PHONY: all build test lint unit signals conformance e2e e2e-if-possible selfscan vulncheck interop bench fuzz demo docs clean testsum

all: build

## build: bin/hallmark and bin/hallmark-conformance (static, trimmed, stripped of the symbol table)
build:
	CGO_ENABLED=0 $(GO) build -trimpath -buildvcs=auto -ldflags='-s -w' -o bin/ ./cmd/hallmark ./cmd/hallmark-conformance

## test: formatting, vet, staticcheck, the race-enabled test suite, the conformance vectors, e2e and
## a scan of hallmark's own go.mod; ends with one line of counts
test: testsum
	@rm -f $(SUMMARY); rc=0; \
	$(MAKE) --no-print-directory lint unit signals conformance e2e-if-possible selfscan || rc=$$?; \
	echo; $(TESTSUM) -record $(SUMMARY) -total -exit $$rc; exit $$rc

testsum:
	@mkdir -p bin; $(GO) build -o $(TESTSUM) ./internal/testsum

lint:
	@out=$$(gofmt -l cmd internal pkg); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) mod tidy -diff
	$(GO) vet ./...
	cd internal/tools && $(GO) build -o ../../bin/staticcheck honnef.co/go/tools/cmd/staticcheck
	bin/staticcheck ./...
	@if [ -x $(TESTSUM) ]; then $(TESTSUM) -record $(SUMMARY) -add lint 1 0; fi

unit: testsum
	set -o pipefail; CGO_ENABLED=1 $(GO) test -race -count=1 -json ./... | $(TESTSUM) -label unit -record $(SUMMARY)

# signals: the Ctrl-C/SIGTERM tests again without the race detector, so the
# one-second bound is checked on the build users run (under -race it is 3 s)
signals: testsum
	set -o pipefail; $(GO) test -count=1 -run '^TestSignal' -json ./cmd/hallmark | $(TESTSUM) -label signals -record $(SUMMARY)

## conformance: the Sigstore conformance vectors in ../shared (skipped, saying so, without it)
conformance: build testsum
	@if [ ! -x "$(CONF)/run-conformance.sh" ]; then \
		echo "conformance: SKIPPED: $(CONF) not found (the vectors live in ../shared beside the checkout)"; \
	else \
		set -eo pipefail; export HALLMARK_CACHE_DIR=$$(mktemp -d); out=$$(mktemp); \
		for set in upstream:- cpython-release:$(CONF)/data/cpython-release/manifest.tsv extra:$(CONF)/data/extra/manifest.tsv; do \
			name=$${set%%:*}; manifest=$${set#*:}; args=(); [ "$$manifest" = - ] || args=(-m "$$manifest"); \
			echo "conformance: $$name"; \
			rc=0; bash $(CONF)/run-conformance.sh -j 2 -r $(PROD_ROOT) "$${args[@]}" bin/hallmark-conformance | tee $$out || rc=$$?; \
			read -r passed _ failed _ < <(tail -n 1 $$out); \
			$(TESTSUM) -record $(SUMMARY) -add "conformance-$$name" "$$passed" "$$failed"; \
			[ $$rc -eq 0 ]; \
		done; \
		rm -rf "$$HALLMARK_CACHE_DIR" $$out; \
	fi

## e2e: sign and verify against a real Sigstore stack (Fulcio, Rekor v2, TSA, an OIDC issuer) on
## 127.0.0.1 in a private network namespace; the servers are built once into ~/.cache/hallmark-e2e
e2e: build
	@bash internal/e2e/e2e.sh

# make test runs e2e where it can (Linux, 'unshare -n' works) and says why when it cannot
e2e-if-possible: build testsum
	@if why=$$(bash internal/e2e/e2e.sh check); then HALLMARK_TEST_SUMMARY=$(SUMMARY) bash internal/e2e/e2e.sh; \
	else echo "e2e: SKIPPED: $$why"; fi

## selfscan: hallmark scans its own go.mod against ../shared's OSV snapshot (skipped without it);
## accepted advisories, each with its reason, are in osv-scanner.toml
selfscan: build testsum
	@if [ ! -d "$(SHARED)/osv/db/osv-scalibr" ]; then \
		echo "selfscan: SKIPPED: $(SHARED)/osv/db not found"; \
	else \
		d=$$(mktemp -d); trap 'rm -rf "$$d"' EXIT; \
		bin/hallmark db import --db "$$d" $(SHARED)/osv/db >/dev/null; \
		echo "selfscan: hallmark scan --offline go.mod"; \
		if bin/hallmark scan --offline --db "$$d" --ignore-file osv-scanner.toml go.mod; then \
			$(TESTSUM) -record $(SUMMARY) -add selfscan 1 0; \
		else rc=$$?; $(TESTSUM) -record $(SUMMARY) -add selfscan 0 1; exit $$rc; fi; \
	fi

## vulncheck: govulncheck (pinned in internal/tools) against a local Go vulnerability database:
## VULNDB=DIR (vuln.go.dev's file layout), else one made from ../shared's OSV Go export; skipped
## without either. Advisories accepted in osv-scanner.toml are reported but do not fail it.
vulncheck:
	@db="$(VULNDB)"; zip="$(SHARED)/osv/db/osv-scalibr/Go/all.zip"; \
	if [ -z "$$db" ] && [ -f "$$zip" ]; then \
		db=$$(mktemp -d); trap 'rm -rf "$$db"' EXIT; python3 internal/tools/vulndb.py "$$zip" "$$db"; fi; \
	if [ -z "$$db" ]; then echo "vulncheck: SKIPPED: give VULNDB=DIR (no $$zip either)"; exit 0; fi; \
	cd internal/tools && $(GO) build -o ../../bin/govulncheck golang.org/x/vuln/cmd/govulncheck && cd ../..; \
	set -o pipefail; bin/govulncheck -db "file://$$(realpath "$$db")" -format json ./... > bin/vulncheck.json; \
	python3 internal/tools/vulnfilter.py bin/vulncheck.json osv-scanner.toml

## interop: e2e against cosign v3 too (verify-blob of the stack's bundles, sign-blob --key to hallmark)
interop: build
	@bash internal/e2e/e2e.sh interop

## bench: the benchmarks (BENCHTIME=5s for steadier numbers)
bench: build
	$(GO) test -run '^$$' -bench . -benchmem -benchtime $(BENCHTIME) ./...

## fuzz: a short run of every fuzz target (FUZZTIME each; FUZZTIME=10m make fuzz for the long run),
## printing each target's rate. New inputs are minimised for at most FUZZMINIMIZE executions, so the
## time goes to fuzzing rather than minimising.
fuzz:
	@set -e; log=$$(mktemp); trap 'rm -f "$$log" "$$log.rc"' EXIT; \
	for pkg in $$($(GO) list ./...); do \
		for target in $$($(GO) test -list '^Fuzz' $$pkg | grep '^Fuzz' || true); do \
			echo "fuzz: $$pkg $$target"; \
			{ st=0; $(GO) test -run '^$$' -fuzz "^$$target\$$" -fuzztime $(FUZZTIME) -fuzzminimizetime $(FUZZMINIMIZE) $$pkg 2>&1 || st=$$?; \
				echo $$st >"$$log.rc"; } | tee "$$log"; \
			awk -v t="$$target" -f internal/tools/fuzzrate.awk "$$log"; \
			test "$$(cat "$$log.rc")" = 0; \
		done; \
	done

## demo: hallmark on data made here or carried in testdata/demo: verify keyless and key-signed
## bundles, reject a tampered file, check a policy file, sign, attest a build step, scan offline
demo: build
	@bash internal/demo/demo.sh

## docs: man pages and markdown command reference from the command tree
docs:
	$(GO) run ./internal/docgen -out docs

clean:
	rm -rf bin
