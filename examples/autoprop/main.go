// Command autoprop takes its propagators from OTEL_PROPAGATORS (default here
// tracecontext,baggage,sentry) through contrib's autoprop, once
// sentryautoprop.Register has made "sentry" known. In the output, the api
// continues the upstream's undecided trace (parent = upstream span), samples
// it (sample_rand 0.25 < its rate 0.5), and the worker receives traceparent,
// a sentry-trace ending in -1 and baggage with sentry-sample_rate=0.5.
package main

import (
	"context"
	"errors"
	"io"
	"net/http"
	"os"
	"slices"
	"strings"

	"go.opentelemetry.io/contrib/propagators/autoprop"
	"go.opentelemetry.io/otel"

	"github.com/otelsentry/otelsentry/examples/internal/exampleutil"
	"github.com/otelsentry/otelsentry/propagator"
	"github.com/otelsentry/otelsentry/sampling"
	"github.com/otelsentry/otelsentry/sentryautoprop"
)

// The upstream's deferred trace.
const (
	upstreamTrace = "0af7651916cd43dd8448eb211c80319c"
	upstreamSpan  = "b7ad6b7169203331"
)

func main() { exampleutil.Main("autoprop", run) }

func run(w io.Writer) error {
	if os.Getenv("OTEL_PROPAGATORS") == "" {
		if err := os.Setenv("OTEL_PROPAGATORS", "tracecontext,baggage,sentry"); err != nil {
			return err
		}
	}
	if err := sentryautoprop.Register(propagator.WithRelease("api@2.0.0")); err != nil && !errors.Is(err, sentryautoprop.ErrRegistered) {
		return err
	}
	p := autoprop.NewTextMapPropagator()
	otel.SetTextMapPropagator(p)
	fields := p.Fields()
	slices.Sort(fields)
	err := exampleutil.PrintLine(w, "propagators", "OTEL_PROPAGATORS", os.Getenv("OTEL_PROPAGATORS"),
		"fields", strings.Join(fields, ","))
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), exampleutil.Timeout)
	defer cancel()

	services, err := exampleutil.StartChain(
		exampleutil.Hop{Name: "api", Pattern: "GET /orders", Sampler: sampling.New(sampling.WithSampleRate(0.5))},
		exampleutil.Hop{Name: "worker", Pattern: "GET /work", Sampler: sampling.New()},
	)
	if err != nil {
		return err
	}
	defer services.Close()

	h := http.Header{
		"Sentry-Trace": {upstreamTrace + "-" + upstreamSpan},
		"Baggage":      {"sentry-trace_id=" + upstreamTrace + ",sentry-public_key=pk,sentry-sample_rand=0.25"},
	}
	if _, err := exampleutil.Get(ctx, http.DefaultClient, services[0].Endpoint(), h); err != nil {
		return err
	}
	if err := exampleutil.PrintLine(w, "upstream", "trace", upstreamTrace, "id", upstreamSpan, "sampled", "deferred"); err != nil {
		return err
	}
	return services.Report(w)
}
