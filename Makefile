# hallmark's build. Every target works on a fresh machine with Go: the go
# command fetches the toolchain go.mod names (GOTOOLCHAIN=auto).
export GOTOOLCHAIN := auto

GO        ?= go
TOOLS     := $(GO) tool -modfile=internal/tools/go.mod
SHARED    ?= ../shared
CONF      := $(SHARED)/conformance
PROD_ROOT := $(CONF)/data/_production/trusted_root.json
BENCHTIME ?= 1s
FUZZTIME  ?= 10s
FUZZMINIMIZE ?= 200x

.PHONY: all build test lint unit conformance e2e e2e-if-possible interop bench fuzz demo docs clean

all: build

## build: bin/hallmark and bin/hallmark-conformance (static, trimmed)
build:
	CGO_ENABLED=0 $(GO) build -trimpath -buildvcs=auto -o bin/ ./cmd/hallmark ./cmd/hallmark-conformance

## test: formatting, vet, staticcheck, the race-enabled test suite, the conformance vectors and e2e
test: lint unit conformance e2e-if-possible

lint:
	@out=$$(gofmt -l cmd internal pkg); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) mod tidy -diff
	$(GO) vet ./...
	cd internal/tools && $(GO) build -o ../../bin/staticcheck honnef.co/go/tools/cmd/staticcheck
	bin/staticcheck ./...

unit:
	CGO_ENABLED=1 $(GO) test -race -count=1 ./...

## conformance: the Sigstore conformance vectors in ../shared (skipped, saying so, without it)
conformance: build
	@if [ ! -x "$(CONF)/run-conformance.sh" ]; then \
		echo "conformance: SKIPPED: $(CONF) not found (the vectors live in ../shared beside the checkout)"; \
	else \
		set -e; export HALLMARK_CACHE_DIR=$$(mktemp -d); \
		echo "conformance: upstream vectors"; \
		bash $(CONF)/run-conformance.sh -j 2 -r $(PROD_ROOT) bin/hallmark-conformance; \
		echo "conformance: cpython-release bundles"; \
		bash $(CONF)/run-conformance.sh -j 2 -r $(PROD_ROOT) -m $(CONF)/data/cpython-release/manifest.tsv bin/hallmark-conformance; \
		echo "conformance: extra negative cases"; \
		bash $(CONF)/run-conformance.sh -j 2 -r $(PROD_ROOT) -m $(CONF)/data/extra/manifest.tsv bin/hallmark-conformance; \
		rm -rf "$$HALLMARK_CACHE_DIR"; \
	fi

## e2e: sign and verify against a real Sigstore stack (Fulcio, Rekor v2, TSA, an OIDC issuer) on
## 127.0.0.1 in a private network namespace; the servers are built once into ~/.cache/hallmark-e2e
e2e: build
	@bash internal/e2e/e2e.sh

# make test runs e2e where it can (Linux, 'unshare -n' works) and says why when it cannot
e2e-if-possible: build
	@if why=$$(bash internal/e2e/e2e.sh check); then bash internal/e2e/e2e.sh; \
	else echo "e2e: SKIPPED: $$why"; fi

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

## demo: verify a keyless bundle, a key-signed file and reject a tampered one, on data made here
demo: build
	@bash internal/demo/demo.sh

## docs: man pages and markdown command reference from the command tree
docs:
	$(GO) run ./internal/docgen -out docs

clean:
	rm -rf bin
