package propagator_test

import (
	"context"
	"strconv"
	"strings"
	"testing"

	"go.opentelemetry.io/otel/propagation"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"

	"github.com/otelsentry/otelsentry/internal/vectors"
	"github.com/otelsentry/otelsentry/propagator"
)

// The notation of docs/protocol.md#notation.
const (
	T = vectors.T
	S = vectors.S
	A = vectors.A
	K = vectors.K
)

func mustTraceID(t testing.TB, s string) trace.TraceID {
	t.Helper()
	id, err := trace.TraceIDFromHex(s)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func mustSpanID(t testing.TB, s string) trace.SpanID {
	t.Helper()
	id, err := trace.SpanIDFromHex(s)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// extract runs p's Extract on a MapCarrier holding headers.
func extract(p propagation.TextMapPropagator, headers map[string]string) context.Context {
	return p.Extract(context.Background(), propagation.MapCarrier(headers))
}

// inject runs p's Inject into a fresh MapCarrier.
func inject(ctx context.Context, p propagation.TextMapPropagator) propagation.MapCarrier {
	c := propagation.MapCarrier{}
	p.Inject(ctx, c)
	return c
}

// sentryMembers returns the Sentry members of a baggage value.
func sentryMembers(t testing.TB, baggage string) map[string]string {
	t.Helper()
	m := vectors.Members(t, baggage)
	for k := range m {
		if !strings.HasPrefix(k, "sentry-") {
			delete(m, k)
		}
	}
	return m
}

// checkSampleRand asserts that v is a valid sample_rand in [lo,hi).
func checkSampleRand(t testing.TB, v string, lo, hi float64) {
	t.Helper()
	x, err := strconv.ParseFloat(v, 64)
	if err != nil || x < lo || x >= hi {
		t.Errorf("sample_rand %q not in [%v,%v)", v, lo, hi)
	}
}

// checkMembers compares the Sentry members of baggage with want, where a
// sample_rand entry of want is "[lo,hi)" to check an interval.
func checkMembers(t testing.TB, baggage string, want map[string]string) {
	t.Helper()
	got := sentryMembers(t, baggage)
	for k, w := range want {
		g, ok := got[k]
		switch {
		case !ok:
			t.Errorf("missing %s in %q", k, baggage)
		case strings.HasPrefix(w, "["):
			var lo, hi float64
			parts := strings.Split(strings.Trim(w, "[)"), ",")
			lo, _ = strconv.ParseFloat(parts[0], 64)
			hi, _ = strconv.ParseFloat(parts[1], 64)
			checkSampleRand(t, g, lo, hi)
		case g != w:
			t.Errorf("%s = %q, want %q", k, g, w)
		}
	}
	for k := range got {
		if _, ok := want[k]; !ok {
			t.Errorf("unexpected member %s=%s in %q", k, got[k], baggage)
		}
	}
}

// tracer returns a tracer of a provider with sampler.
func tracer(t testing.TB, sampler sdktrace.Sampler) trace.Tracer {
	t.Helper()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSampler(sampler))
	t.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
	return tp.Tracer("test")
}

// child starts a span under ctx with a parent-based sampler, as OTel's
// default does, and returns its context and span id.
func child(t testing.TB, ctx context.Context) (context.Context, string) {
	t.Helper()
	ctx, span := tracer(t, sdktrace.ParentBased(sdktrace.AlwaysSample())).Start(ctx, "child")
	t.Cleanup(func() { span.End() })
	return ctx, span.SpanContext().SpanID().String()
}

var alwaysOn = sdktrace.AlwaysSample()

// sampledRoot returns a context holding a sampled local root span T,S.
func sampledRoot(t *testing.T) context.Context {
	return trace.ContextWithSpanContext(context.Background(), trace.NewSpanContext(trace.SpanContextConfig{
		TraceID: mustTraceID(t, T), SpanID: mustSpanID(t, S), TraceFlags: trace.FlagsSampled}))
}

// decisionOf returns the decision DecisionFromContext reads from sc.
func decisionOf(sc trace.SpanContext) propagator.Decision {
	return propagator.DecisionFromContext(trace.ContextWithSpanContext(context.Background(), sc))
}
