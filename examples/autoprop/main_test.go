package main

import (
	"strings"
	"testing"

	"github.com/otelsentry/otelsentry/examples/internal/exampleutil"
)

func TestRun(t *testing.T) {
	t.Setenv("OTEL_PROPAGATORS", "tracecontext,baggage,sentry")
	lines := exampleutil.RunTest(t, run)
	lines.Get(t, "propagators fields=baggage,sentry-trace,traceparent,tracestate")
	// sample_rand 0.25 < the api's rate 0.5: the api samples the trace.
	chain := lines.Chain(t, "upstream", "span service=api kind=server sampled=true", "span service=api kind=client",
		"span service=worker kind=server sampled=true")
	got := lines.Carried(t, "headers service=worker", chain[2], "sentry-sample_rand=0.25", "sentry-sample_rate=0.5")
	if !strings.HasPrefix(got.Get("traceparent"), "00-"+upstreamTrace+"-") {
		t.Errorf("worker got traceparent %q, want trace %s", got.Get("traceparent"), upstreamTrace)
	}
}

// Without "sentry" in OTEL_PROPAGATORS, the api cannot read sentry-trace
// and starts a trace of its own.
func TestWithoutSentry(t *testing.T) {
	t.Setenv("OTEL_PROPAGATORS", "tracecontext,baggage")
	got := exampleutil.RunTest(t, run).Get(t, "headers service=worker")
	if got.Get("sentry-trace") != "" || strings.Contains(got.Get("traceparent"), upstreamTrace) {
		t.Errorf("the upstream trace continued without the sentry propagator: %v", got)
	}
}
