package bridge_test

import (
	"context"
	"testing"

	"go.opentelemetry.io/otel"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/otelsentry/otelsentry/bridge"
)

// noEnv reads an empty environment, so tests do not see the machine's.
func noEnv(string) string { return "" }

// env returns a getenv over vars.
func env(vars map[string]string) func(string) string {
	return func(k string) string { return vars[k] }
}

// newBridge returns a bridge from opts (over an empty environment), with
// its propagator installed as the global one for the test, which the
// package-level helpers use, and a tracer whose provider uses its sampler
// and records spans.
func newBridge(t testing.TB, opts ...bridge.Option) (*bridge.Bridge, trace.Tracer, *tracetest.SpanRecorder) {
	t.Helper()
	b, err := bridge.New(append([]bridge.Option{bridge.WithGetenv(noEnv)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	tpOpts, err := b.TracerProviderOptions(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	prev := otel.GetTextMapPropagator()
	otel.SetTextMapPropagator(b.Propagator())
	t.Cleanup(func() { otel.SetTextMapPropagator(prev) })
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(append(tpOpts, sdktrace.WithSpanProcessor(rec))...)
	t.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
	return b, tp.Tracer("test"), rec
}
