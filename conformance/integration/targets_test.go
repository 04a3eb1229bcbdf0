package integration_test

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"

	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/otel"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/otelsentry/otelsentry/bridge"
	"github.com/otelsentry/otelsentry/conformance/internal/testkit"
	"github.com/otelsentry/otelsentry/propagator"
	"github.com/otelsentry/otelsentry/sampling"
)

// TestTargetsOverHTTP sends requests through the bridge's transport and
// otelhttp to a target, a non-target and the DSN's ingest, from sampled and
// unsampled spans alike.
func TestTargetsOverHTTP(t *testing.T) {
	sink := make(chan http.Header, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) { sink <- r.Header.Clone() }))
	defer srv.Close()
	port := srv.Listener.Addr().(*net.TCPAddr).Port
	prev := otel.GetTextMapPropagator()
	otel.SetTextMapPropagator(propagator.Composite(propagator.WithDSN(fmt.Sprintf("http://key@localhost:%d/1", port)),
		propagator.WithTracePropagationTargets([]propagator.Target{propagator.Substring("/api/")})))
	defer otel.SetTextMapPropagator(prev)

	// Sampled spans record url.full; unsampled ones record nothing, and
	// the URL comes from the bridge's transport alone.
	for name, sampler := range map[string]sdktrace.Sampler{"sampled": sdktrace.AlwaysSample(), "not sampled": sampling.New(sampling.WithSampleRate(0))} {
		t.Run(name, func(t *testing.T) {
			rec := tracetest.NewSpanRecorder()
			tp := sdktrace.NewTracerProvider(sdktrace.WithSampler(sampler), sdktrace.WithSpanProcessor(rec))
			defer func() { _ = tp.Shutdown(context.Background()) }()
			client := &http.Client{Transport: bridge.NewTransport(otelhttp.NewTransport(http.DefaultTransport, otelhttp.WithTracerProvider(tp)))}
			ctx, span := tp.Tracer("t").Start(context.Background(), "caller")
			defer span.End()
			var received []http.Header
			for _, url := range []string{
				fmt.Sprintf("http://127.0.0.1:%d/api/users", port),       // a target
				fmt.Sprintf("http://127.0.0.1:%d/static/app.js", port),   // not a target
				fmt.Sprintf("http://localhost:%d/api/1/envelope/", port), // the DSN's host, though it matches
			} {
				if _, err := testkit.Get(ctx, client, url, nil); err != nil {
					t.Fatal(err)
				}
				received = append(received, <-sink)
			}
			if received[0].Get("Sentry-Trace") == "" || received[0].Get("Traceparent") == "" {
				t.Errorf("the target got %v", received[0])
			}
			for i, h := range received[1:] {
				for _, k := range []string{"Sentry-Trace", "Traceparent", "Tracestate", "Baggage"} {
					if h.Get(k) != "" {
						t.Errorf("request %d carried %s: %q", i+2, k, h.Get(k))
					}
				}
			}
			if !span.SpanContext().IsSampled() {
				return
			}
			clients := 0
			for _, s := range rec.Ended() {
				if s.SpanKind() == trace.SpanKindClient {
					clients++
				}
			}
			if clients != 3 {
				t.Errorf("%d client spans, want 3", clients)
			}
		})
	}
}
