package propagator_test

import (
	"context"
	"net/http"
	"testing"

	"go.opentelemetry.io/otel/propagation"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"

	"github.com/otelsentry/otelsentry/internal/vectors"
	"github.com/otelsentry/otelsentry/propagator"
)

// Inject at the head of a trace encodes the DSC once per trace; later
// calls write it with at most the allocations of the headers themselves.
func TestHeadInjectAllocations(t *testing.T) {
	p := propagator.New(propagator.WithDSN("https://"+K+"@o1.ingest.sentry.io/123"), propagator.WithRelease("1.4.2"))
	tp := sdktrace.NewTracerProvider(sdktrace.WithSampler(sdktrace.AlwaysSample()))
	ctx, span := tp.Tracer("t").Start(context.Background(), "GET /users/{id}")
	defer span.End()
	out := propagation.HeaderCarrier(http.Header{})
	p.Inject(ctx, out)
	first := out.Get("baggage")
	if got := testing.AllocsPerRun(100, func() {
		clear(out)
		p.Inject(ctx, out)
	}); got > 2 {
		t.Errorf("Inject (head of a trace): %v allocs, want <= 2", got)
	}
	if out.Get("baggage") != first {
		t.Errorf("baggage %q, then %q", first, out.Get("baggage"))
	}
}

// One request on a continued trace, Extract then the first Inject, stays
// within seven allocations: three the OTel API forces, two for the DSC's
// context and the sentry trace state member, and two for the written
// headers.
func TestRequestAllocations(t *testing.T) {
	p := propagator.New(propagator.WithDSN("https://"+K+"@o1.ingest.sentry.io/123"), propagator.WithRelease("1.4.2"))
	in := propagation.HeaderCarrier(http.Header{"Sentry-Trace": {vectors.RequestSentryTrace}, "Baggage": {vectors.RequestBaggage}})
	out := propagation.HeaderCarrier(http.Header{})
	if got := testing.AllocsPerRun(100, func() {
		clear(out)
		p.Inject(p.Extract(context.Background(), in), out)
	}); got > 7 {
		t.Errorf("Extract and Inject: %v allocs, want <= 7", got)
	}
	// The DSC goes on as it came, the third-party member left out.
	const want = "sentry-trace_id=" + T + ",sentry-public_key=" + K + ",sentry-sample_rate=0.25,sentry-sample_rand=0.123456," +
		"sentry-sampled=true,sentry-release=1.4.2,sentry-environment=production,sentry-transaction=GET%20%2Fusers"
	if got := out.Get("baggage"); got != want {
		t.Errorf("baggage %q, want %q", got, want)
	}
}

// Traces that share a slot of the bounded cache each get their own DSC.
func TestHeadCacheCollisions(t *testing.T) {
	p := propagator.New(propagator.WithRelease("1.0"))
	dscOf := func(tid trace.TraceID) map[string]string {
		sc := trace.NewSpanContext(trace.SpanContextConfig{TraceID: tid, SpanID: trace.SpanID{1}, TraceFlags: trace.FlagsSampled})
		return propagator.DSCFromContext(trace.ContextWithSpanContext(context.Background(), sc), p)
	}
	// The same last byte: the same slot.
	a, b := trace.TraceID{1, 15: 7}, trace.TraceID{2, 15: 7}
	for range 3 {
		for _, tid := range []trace.TraceID{a, b} {
			if got := dscOf(tid)["trace_id"]; got != tid.String() {
				t.Fatalf("trace %s: DSC trace_id %q", tid, got)
			}
		}
	}
	// A span of the same trace whose decision changed gets a DSC to match.
	sc := trace.NewSpanContext(trace.SpanContextConfig{TraceID: a, SpanID: trace.SpanID{1}})
	if got := propagator.DSCFromContext(trace.ContextWithSpanContext(context.Background(), sc), p)["sampled"]; got != "false" {
		t.Errorf("unsampled span of a cached trace: sampled=%q", got)
	}
}
