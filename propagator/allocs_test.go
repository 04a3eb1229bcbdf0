package propagator_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"

	"github.com/otelsentry/otelsentry/internal/vectors"
	"github.com/otelsentry/otelsentry/propagator"
)

// TestAllocations holds the propagator to its allocation ceilings on the
// hot path. Allocation counts are deterministic; times are not asserted
// (the benchmarks in conformance/bench measure them).
func TestAllocations(t *testing.T) {
	p := propagator.New(
		propagator.WithDSN("https://"+K+"@o1.ingest.sentry.io/123"),
		propagator.WithRelease("1.4.2"),
		propagator.WithEnvironment("production"),
	)
	ctx := context.Background()

	in := propagation.HeaderCarrier(http.Header{
		"Sentry-Trace": {vectors.RequestSentryTrace},
		"Baggage":      {vectors.RequestBaggage},
	})
	// Two for the remote span context in the context, one for the trace
	// state, one for the context that holds the DSC, and one for the
	// sentry trace state member, which shares it with the Sentry members
	// copied away from the third-party one.
	if got := testing.AllocsPerRun(100, func() { p.Extract(ctx, in) }); got > 5 {
		t.Errorf("Extract (sentry-trace + 9-member baggage): %v allocs, want <= 5", got)
	}
	sentryOnly := propagation.HeaderCarrier(http.Header{
		"Sentry-Trace": {vectors.RequestSentryTrace},
		"Baggage":      {strings.TrimSuffix(vectors.RequestBaggage, ",othervendor=t61rcWkgMzE")},
	})
	if got := testing.AllocsPerRun(100, func() { p.Extract(ctx, sentryOnly) }); got > 5 {
		t.Errorf("Extract (sentry-trace + Sentry members alone): %v allocs, want <= 5", got)
	}

	continued := p.Extract(ctx, in)
	if sc := trace.SpanContextFromContext(continued); !sc.IsValid() || !sc.IsSampled() {
		t.Fatalf("Extract did not continue the trace: %v", sc)
	}
	out := propagation.HeaderCarrier(http.Header{})
	if got := testing.AllocsPerRun(100, func() {
		clear(out)
		p.Inject(continued, out)
	}); got > 2 {
		// The sentry-trace value, and the two header value slices.
		t.Errorf("Inject (continued trace): %v allocs, want <= 2", got)
	}
	if out.Get("sentry-trace") != vectors.RequestSentryTrace || out.Get("baggage") == "" {
		t.Errorf("Inject wrote sentry-trace %q, baggage %q", out.Get("sentry-trace"), out.Get("baggage"))
	}

	noTrace := propagation.HeaderCarrier(http.Header{
		"Traceparent": {"00-" + T + "-" + S + "-01"},
		"Baggage":     {vectors.RequestBaggage},
	})
	if got := testing.AllocsPerRun(100, func() { p.Extract(ctx, noTrace) }); got != 0 {
		t.Errorf("Extract without sentry-trace: %v allocs, want 0", got)
	}
}
