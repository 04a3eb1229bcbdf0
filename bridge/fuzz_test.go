package bridge_test

import (
	"context"
	"testing"

	"go.opentelemetry.io/otel"
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
	clearEnv(f)
	shutdown, err := bridge.Setup(context.Background(), bridge.WithRelease("1.0"), bridge.WithSampleRate(1))
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { _ = shutdown(context.Background()) })
	tracer := otel.Tracer("fuzz")
	f.Fuzz(func(t *testing.T, sentryTrace, baggage, name string) {
		ctx := bridge.ContinueTrace(context.Background(), sentryTrace, baggage)
		ctx, span := tracer.Start(ctx, name, trace.WithSpanKind(trace.SpanKindServer))
		defer span.End()

		checkHelperOutput(t, ctx)
	})
}
