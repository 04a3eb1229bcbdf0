// Command composite continues a trace that a Sentry SDK started through two
// OpenTelemetry-only services, with propagator.Composite as the global
// propagator and otelhttp on both sides. In its output, every span line has
// the upstream trace id, the api server span's parent is the upstream span,
// the worker server span's parent is the api client span, sampled is true
// everywhere (the upstream "-1" decides), and the worker gets the upstream DSC.
package main

import (
	"context"
	"io"
	"net/http"

	"go.opentelemetry.io/otel"

	"github.com/otelsentry/otelsentry/examples/internal/exampleutil"
	"github.com/otelsentry/otelsentry/propagator"
	"github.com/otelsentry/otelsentry/sampling"
)

// The request a Sentry SDK upstream sends: a sampled trace, and its Dynamic
// Sampling Context in baggage.
const (
	upstreamTrace = "771a43a4192642f0b136d5159a501700"
	upstreamSpan  = "b72fa28504b07285"
	sentryTrace   = upstreamTrace + "-" + upstreamSpan + "-1"
	baggage       = "sentry-trace_id=" + upstreamTrace + ",sentry-public_key=pk,sentry-release=frontend%401.0," +
		"sentry-environment=production,sentry-sample_rate=1,sentry-sample_rand=0.42,sentry-sampled=true"
)

func main() { exampleutil.Main("composite", run) }

func run(w io.Writer) error {
	otel.SetTextMapPropagator(propagator.Composite(propagator.WithRelease("shop@1.0.0")))
	ctx, cancel := context.WithTimeout(context.Background(), exampleutil.Timeout)
	defer cancel()

	// Both services sample 10% of the traces they start, which would drop
	// this one (sample_rand 0.42); the upstream decision takes precedence.
	services, err := exampleutil.StartChain(
		exampleutil.Hop{Name: "api", Pattern: "GET /checkout", Sampler: sampling.New(sampling.WithSampleRate(0.1))},
		exampleutil.Hop{Name: "worker", Pattern: "GET /work", Sampler: sampling.New(sampling.WithSampleRate(0.1))},
	)
	if err != nil {
		return err
	}
	defer services.Close()

	h := http.Header{"Sentry-Trace": {sentryTrace}, "Baggage": {baggage}}
	if _, err := exampleutil.Get(ctx, http.DefaultClient, services[0].Endpoint(), h); err != nil {
		return err
	}
	if err := exampleutil.PrintLine(w, "upstream", "trace", upstreamTrace, "id", upstreamSpan, "sampled", "true"); err != nil {
		return err
	}
	return services.Report(w)
}
