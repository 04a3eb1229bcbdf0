package sampling_test

import (
	"context"
	"testing"

	"go.opentelemetry.io/otel/propagation"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"

	"github.com/otelsentry/otelsentry/internal/protocol"
	"github.com/otelsentry/otelsentry/internal/vectors"
	"github.com/otelsentry/otelsentry/propagator"
)

// The notation of docs/protocol.md#notation.
const (
	T = vectors.T
	S = vectors.S
)

// world is a tracer provider with a sampler, and the propagator that goes
// with it.
type world struct {
	tracer trace.Tracer
	prop   propagation.TextMapPropagator
}

func newWorld(t testing.TB, s sdktrace.Sampler, opts ...propagator.Option) world {
	t.Helper()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSampler(s))
	t.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
	return world{tracer: tp.Tracer("test"), prop: propagator.New(opts...)}
}

// extract continues the trace in sentry-trace and baggage ("" for absent).
func (w world) extract(sentryTrace, baggage string) context.Context {
	c := propagation.MapCarrier{}
	if sentryTrace != "" {
		c["sentry-trace"] = sentryTrace
	}
	if baggage != "" {
		c["baggage"] = baggage
	}
	return w.prop.Extract(context.Background(), c)
}

// start starts and ends a span, returning its context.
func (w world) start(ctx context.Context, name string, opts ...trace.SpanStartOption) (context.Context, trace.Span) {
	ctx, span := w.tracer.Start(ctx, name, opts...)
	span.End()
	return ctx, span
}

// inject returns what the propagator writes for ctx.
func (w world) inject(ctx context.Context) propagation.MapCarrier {
	c := propagation.MapCarrier{}
	w.prop.Inject(ctx, c)
	return c
}

func member(t testing.TB, sc trace.SpanContext) protocol.TraceStateMember {
	t.Helper()
	m, ok := protocol.ParseTraceState(sc.TraceState())
	if !ok {
		t.Fatalf("no sentry member in %q", sc.TraceState().String())
	}
	return m
}
