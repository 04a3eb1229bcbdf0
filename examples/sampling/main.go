// Command sampling sends 200 traces through three services, a -> b -> c,
// each with its own sampler at a different rate. The client sets no rate,
// so a decides each trace by sample_rand < 0.5 and b and c follow it. In the
// output, each service records the same traces, no trace is recorded at some
// services but not all, and every decision matches sample_rand < 0.5.
package main

import (
	"context"
	"io"
	"strconv"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/trace"

	"github.com/otelsentry/otelsentry/examples/internal/exampleutil"
	"github.com/otelsentry/otelsentry/propagator"
	"github.com/otelsentry/otelsentry/sampling"
)

const traces = 200

// rates are the services' traces sample rates, in call order.
var rates = []struct {
	service string
	rate    float64
}{{"a", 0.5}, {"b", 0.1}, {"c", 1}}

func main() { exampleutil.Main("sampling", run) }

func run(w io.Writer) error {
	otel.SetTextMapPropagator(propagator.Composite())
	ctx, cancel := context.WithTimeout(context.Background(), exampleutil.Timeout)
	defer cancel()

	var hops []exampleutil.Hop
	for _, r := range rates {
		hops = append(hops, exampleutil.Hop{Name: r.service, Pattern: "GET /", Sampler: sampling.New(sampling.WithSampleRate(r.rate))})
	}
	servers, err := exampleutil.StartChain(hops...)
	if err != nil {
		return err
	}
	defer servers.Close()

	// The client defers the decision to the services ("tracing without
	// performance"): it records nothing but starts the traces.
	client := exampleutil.NewTracing(sampling.New())
	httpClient := client.Client()
	sampleRands := map[trace.TraceID]float64{}
	for range traces {
		spanCtx, span := client.Tracer().Start(ctx, "checkout")
		_, err := exampleutil.Get(spanCtx, httpClient, servers[0].Endpoint(), nil)
		span.End()
		if err != nil {
			return err
		}
		rand := propagator.DSCFromContext(spanCtx, nil)["sample_rand"]
		sampleRands[span.SpanContext().TraceID()], _ = strconv.ParseFloat(rand, 64)
	}

	// recordedAt counts, per trace, the services that recorded it.
	recordedAt := map[trace.TraceID]int{}
	for i, s := range servers {
		if err := s.Close(); err != nil {
			return err
		}
		recorded := 0 // one server span a trace
		for _, span := range s.Tracing.Spans() {
			if span.SpanKind() == trace.SpanKindServer {
				recordedAt[span.SpanContext().TraceID()]++
				recorded++
			}
		}
		err := exampleutil.PrintLine(w, "recorded", "service", s.Name, "rate", strconv.FormatFloat(rates[i].rate, 'f', -1, 64),
			"traces", strconv.Itoa(recorded))
		if err != nil {
			return err
		}
	}
	var all, none, some, predicted int
	for id, sampleRand := range sampleRands {
		switch recordedAt[id] {
		case len(servers):
			all++
		case 0:
			none++
		default:
			some++
		}
		if (sampleRand < rates[0].rate) == (recordedAt[id] > 0) {
			predicted++
		}
	}
	return exampleutil.PrintLine(w, "summary", "traces", strconv.Itoa(len(sampleRands)),
		"at_all", strconv.Itoa(all), "at_none", strconv.Itoa(none), "at_some", strconv.Itoa(some),
		"decided_by_sample_rand", strconv.Itoa(predicted))
}
