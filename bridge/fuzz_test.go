package bridge_test

import (
	"context"
	"testing"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"

	"github.com/otelsentry/otelsentry/bridge"
	"github.com/otelsentry/otelsentry/internal/vectors"
)

// FuzzMetaTags continues arbitrary headers with ContinueTrace and renders
// the helpers' output for a span under them (checkHelperOutput).
func FuzzMetaTags(f *testing.F) {
	for _, c := range vectors.MetaTags() {
		f.Add(c.SentryTrace, c.Baggage, "GET /page")
	}
	for _, c := range vectors.Incoming() {
		f.Add(c.SentryTrace, c.Baggage, "<script>")
	}
	f.Add(vectors.T+"-"+vectors.S+"-1", `sentry-release=%22%3E%3C,sentry-environment="><`, "a\r\nb")
	// No span recorder: millions of spans must not pile up in memory.
	b, _, _ := newBridge(f, bridge.WithRelease("1.0"), bridge.WithSampleRate(1))
	tpOpts, err := b.TracerProviderOptions(context.Background())
	if err != nil {
		f.Fatal(err)
	}
	tp := sdktrace.NewTracerProvider(tpOpts...)
	f.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
	tracer := tp.Tracer("fuzz")
	f.Fuzz(func(t *testing.T, sentryTrace, baggage, name string) {
		ctx := bridge.ContinueTrace(context.Background(), sentryTrace, baggage)
		ctx, span := tracer.Start(ctx, name, trace.WithSpanKind(trace.SpanKindServer))
		defer span.End()

		checkHelperOutput(t, ctx)
	})
}
