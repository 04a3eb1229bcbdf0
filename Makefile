# otelsentry: Sentry distributed tracing for OpenTelemetry Go services.

GO          ?= go
STATICCHECK := $(GO) run honnef.co/go/tools/cmd/staticcheck@v0.8.2
# Nested modules, each with its own go.mod and a replace to the root.
NESTED      := sentryotlp sentryautoprop examples
FUZZTIME    ?= 10s
BENCHCOUNT  ?= 6

.PHONY: all demo demo-short test lint unit nested fuzz bench

all: test

## demo: start a small system on 127.0.0.1 and print one trace through it.
demo:
	cd examples && $(GO) run ./cmd/demo

## demo-short: the demo, printing only its result line (fails if the trace broke).
demo-short:
	cd examples && $(GO) run ./cmd/demo -short

## test: formatting, vet, staticcheck, race-enabled tests of every module, the demo.
test: lint demo-short unit nested

lint:
	@unformatted=$$(gofmt -l .); if [ -n "$$unformatted" ]; then \
		echo "gofmt needed:"; echo "$$unformatted"; exit 1; fi
	$(GO) vet ./...
	$(STATICCHECK) ./...
	@for m in $(NESTED); do (cd $$m && $(GO) vet ./... && $(STATICCHECK) ./...) || exit 1; done

unit:
	$(GO) test -race -count=1 ./...

nested:
	@for m in $(NESTED); do (cd $$m && $(GO) test -race -count=1 ./...) || exit 1; done

## fuzz: run every fuzz target for FUZZTIME each.
fuzz:
	@for pkg in $$($(GO) list ./...); do \
		for f in $$($(GO) test -list '^Fuzz' $$pkg | grep '^Fuzz'); do \
			echo "== $$pkg $$f"; \
			$(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) -fuzzminimizetime $(FUZZTIME) $$pkg || exit 1; \
		done; \
	done

## bench: benchmarks, BENCHCOUNT runs each, summarised with benchstat.
bench:
	$(GO) test -run '^$$' -bench . -benchmem -count $(BENCHCOUNT) ./... | tee bench.txt
	$(GO) run golang.org/x/perf/cmd/benchstat@v0.0.0-20260908200009-22c9c6c9d4da bench.txt
