# otelsentry: Sentry distributed tracing for OpenTelemetry Go services.

GO          ?= go
STATICCHECK := $(GO) run honnef.co/go/tools/cmd/staticcheck@v0.8.2
# Nested modules, each with its own go.mod: the released ones (versions.yaml)
# with a replace to the root, and the build tools.
NESTED      := sentryotlp sentryautoprop sentrylink examples conformance collector tools
MODULES     := . $(NESTED)
# The packages of every module, as one list of patterns for the lint workspace.
ALL_PKGS    := ./... $(addprefix ./,$(addsuffix /...,$(NESTED)))
# The lint workspace's replacements (see lint).
WORK_REPLACE := -replace=google.golang.org/genproto=google.golang.org/genproto@v0.0.0-20261026165753-2ffab32bce7e \
	-replace=cloud.google.com/go=cloud.google.com/go@v0.123.0
# Builds without -race (vet, staticcheck's go list, the demo, the
# benchmarks, the Collector that the fleet and fault tests start, the
# README's program in the tools' tests and in installcheck) share their
# compiled packages through the build cache, when they build with the same
# flags: on a fresh machine, what vet compiles first is then compiled once.
# -trimpath keeps a package's source directory out of that cache's keys, so
# that installcheck, which reads every module from a module cache of its
# own, reuses what vet compiled.
BUILDFLAGS  := -trimpath
# The modules whose benchmarks benchcheck runs.
BENCH_MODULES ?= $(MODULES)
# The Node peer of the conformance tests: @sentry/node, from its lockfile;
# and the browser's: @sentry/browser and esbuild, which bundles it.
NODE_DEPS   := conformance/node/node_modules/.package-lock.json conformance/browser/node_modules/.package-lock.json
# The demo's browser is the Sentry browser SDK in Debian's chromium: where
# both chromium and npm are installed, the demo installs the SDK first;
# elsewhere a stand-in plays the browser, and the demo says why.
DEMO_DEPS   := $(if $(and $(shell command -v chromium),$(shell command -v npm)),conformance/browser/node_modules/.package-lock.json)
FUZZTIME    ?= 10s
BENCHCOUNT  ?= 6

.PHONY: all demo demo-short test lint unit nested benchcheck conformance fuzz bench loadtest collector faulttest release installcheck

all: test

## demo: start a small system on 127.0.0.1 and print one trace through it.
demo: $(DEMO_DEPS)
	cd examples && $(GO) run $(BUILDFLAGS) ./cmd/demo

## demo-short: the demo, printing only which browser ran and its result line
## (fails if the trace broke).
demo-short: $(DEMO_DEPS)
	@echo "== demo-short: one trace through the demo's services"
	@cd examples && $(GO) run $(BUILDFLAGS) ./cmd/demo -short

## test: formatting, vet, staticcheck, race-enabled tests of every module
## (conformance with the real Sentry SDKs included, the browser SDK's where
## Debian's chromium is installed), the demo, every benchmark once, and the
## install check. Each stage prints one line first.
test: lint demo-short unit nested benchcheck installcheck

## lint: gofmt, go vet of each module as its go.mod builds it, then
## staticcheck once over every module, through a workspace (go.work) made
## for it alone: the dependencies the modules share are loaded and analysed
## once. In a workspace, the Collector's dependencies reach the monolithic
## google.golang.org/genproto and cloud.google.com/go of 2021, which hold
## packages that split modules (genproto/googleapis/..., compute/metadata)
## also provide; the workspace replaces the two with releases that no longer
## hold them, so that every import resolves to one module, as it does in
## each module's own build.
lint:
	@echo "== lint: gofmt, go vet of each module, staticcheck over all modules at once"
	@unformatted=$$(gofmt -l .); if [ -n "$$unformatted" ]; then \
		echo "gofmt needed:"; echo "$$unformatted"; exit 1; fi
	@for m in $(MODULES); do (cd $$m && $(GO) vet $(BUILDFLAGS) ./...) || exit 1; done
	@work=$$(mktemp -d) && trap 'rm -rf "$$work"' EXIT && \
		(cd "$$work" && $(GO) work init $(abspath $(MODULES)) && \
			$(GO) work edit $(WORK_REPLACE)) && \
		GOWORK="$$work/go.work" GOFLAGS="$(strip $(GOFLAGS) $(BUILDFLAGS))" $(STATICCHECK) $(ALL_PKGS)

unit:
	@echo "== unit: race-enabled tests of the root module"
	@$(GO) test -race -count=1 ./...

nested: $(NODE_DEPS)
	@echo "== nested: race-enabled tests of $(NESTED)"
	@for m in $(NESTED); do (cd $$m && $(GO) test -race -count=1 ./...) || exit 1; done

## benchcheck: every benchmark once, for the checks each makes before it
## measures (the trace continued, the headers written), in the packages
## that have benchmarks. A single run's numbers mean nothing, so only each
## package's result is printed; a failing benchmark prints all its output
## and fails the target.
benchcheck:
	@echo "== benchcheck: every benchmark once, for its checks (numbers are not printed)"
	@for m in $(BENCH_MODULES); do \
		pkgs=$$(cd $$m && for d in $$($(GO) list -f '{{.Dir}}' ./...); do \
			if grep -qs '^func Benchmark' "$$d"/*_test.go; then echo "$$d"; fi; done); \
		[ -n "$$pkgs" ] || continue; \
		out=$$(cd $$m && $(GO) test $(BUILDFLAGS) -run '^$$' -bench . -benchtime 1x $$pkgs 2>&1) || { echo "$$out"; exit 1; }; \
		echo "$$out" | grep '^ok' || true; \
	done

## installcheck: the modules as a user gets them once they are released:
## zips made from the tree, served by a module proxy on disk, then go get of
## the root module, sentryotlp and sentrylink in a fresh module outside the
## repository, and a build of README.md's program against them.
installcheck:
	@echo "== installcheck: go get of the modules zipped from the tree, through a module proxy on disk"
	@cd tools && $(GO) run ./cmd/installcheck -root $(CURDIR)

## conformance: chains of otelsentry, sentry-go, @sentry/node and
## @sentry/browser (in headless Chromium) services.
conformance: $(NODE_DEPS)
	cd conformance && $(GO) test -race -count=1 ./...

conformance/%/node_modules/.package-lock.json: conformance/%/package-lock.json
	cd conformance/$* && npm ci --no-audit --no-fund

## fuzz: run every fuzz target for FUZZTIME each.
fuzz:
	@for pkg in $$($(GO) list ./...); do \
		for f in $$($(GO) test -list '^Fuzz' $$pkg | grep '^Fuzz'); do \
			echo "== $$pkg $$f"; \
			$(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) -fuzzminimizetime $(FUZZTIME) $$pkg || exit 1; \
		done; \
	done

## loadtest: 20,000 requests through three otelhttp services on 127.0.0.1;
## fails on any error, broken trace or lost span (bounded: 2 minutes).
loadtest:
	cd conformance && $(GO) run ./cmd/loadtest

## bench: propagators side by side (conformance/bench) and the sampler, BENCHCOUNT runs each, in one benchstat table.
bench:
	{ (cd conformance && $(GO) test -run '^$$' -bench . -benchmem -count $(BENCHCOUNT) ./bench) && \
		$(GO) test -run '^$$' -bench . -benchmem -count $(BENCHCOUNT) ./sampling || echo FAIL; } 2>&1 | tee bench.txt
	@! grep -q '^FAIL' bench.txt
	$(GO) run golang.org/x/perf/cmd/benchstat@v0.0.0-20260908200009-22c9c6c9d4da -table '' -col /propagator bench.txt

## collector: the OpenTelemetry Collector of collector/ (the recommended
## configuration for Sentry is collector/config.yaml), as collector/bin/otelcol-sentry.
collector:
	cd collector && $(GO) build $(BUILDFLAGS) -o bin/otelcol-sentry ./cmd/otelcol-sentry

## faulttest: three services under 200 requests/s while the fake ingest
## refuses connections, answers 503, 429 and 401, and takes 3 s a request,
## straight to it and through a Collector (restarted too); fails on a failed
## request or a span neither received nor counted dropped (about 6 minutes).
faulttest:
	cd conformance && $(GO) run ./cmd/faulttest

## release: VERSION=vX.Y.Z sets every module's version in versions.yaml and
## in the requirements between the modules, commits, and tags the root
## vX.Y.Z and each nested module <dir>/vX.Y.Z (pushes nothing).
release:
	@test -n "$(VERSION)" || { echo "usage: make release VERSION=vX.Y.Z" >&2; exit 1; }
	cd tools && $(GO) run ./cmd/release -root $(CURDIR) -version $(VERSION)
