// Command targets limits trace headers to the hosts in the trace propagation
// targets: one client calls a target service and another local service on
// 127.0.0.1. In its output, the target receives sentry-trace, traceparent
// and baggage and its server span continues the client's trace; the other
// service receives none of them and starts a trace of its own; the client
// still records a span for each of its two requests.
package main

import (
	"context"
	"fmt"
	"io"
	"net/http"

	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/otel"

	"github.com/otelsentry/otelsentry/bridge"
	"github.com/otelsentry/otelsentry/examples/internal/exampleutil"
	"github.com/otelsentry/otelsentry/propagator"
	"github.com/otelsentry/otelsentry/sampling"
)

func main() { exampleutil.Main("targets", run) }

func run(w io.Writer) error {
	ok := func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "ok") }
	target, err := exampleutil.StartServer("target", exampleutil.NewTracing(sampling.New()), "GET /api", ok)
	if err != nil {
		return err
	}
	defer target.Close()
	other, err := exampleutil.StartServer("other", exampleutil.NewTracing(sampling.New(sampling.WithSampleRate(1))), "GET /api", ok)
	if err != nil {
		return err
	}
	defer other.Close()

	// Only URLs under the target's base URL get trace headers.
	otel.SetTextMapPropagator(propagator.Composite(
		propagator.WithTracePropagationTargets([]propagator.Target{propagator.Substring(target.URL + "/")})))
	tracing := exampleutil.NewTracing(sampling.New(sampling.WithSampleRate(1)))
	client := &http.Client{Transport: bridge.NewTransport(
		otelhttp.NewTransport(http.DefaultTransport, otelhttp.WithTracerProvider(tracing.Provider)))}

	ctx, cancel := context.WithTimeout(context.Background(), exampleutil.Timeout)
	defer cancel()
	ctx, span := tracing.Tracer().Start(ctx, "sync")
	for _, url := range []string{target.Endpoint(), other.Endpoint()} {
		if _, err := exampleutil.Get(ctx, client, url, nil); err != nil {
			return err
		}
	}
	span.End()

	if err := exampleutil.PrintSpans(w, "client", tracing.Spans()); err != nil {
		return err
	}
	if err := target.Report(w); err != nil {
		return err
	}
	return other.Report(w)
}
