// Command jobqueue hands a trace to background jobs on an in-process queue:
// the producer writes sentry-trace and baggage into each job, one with a
// metadata map and one with Kafka-style headers, and a consumer goroutine
// continues the trace from them. In its output, each "process" consumer
// span has the producer's trace id and its "publish" span as parent, and is
// sampled although the consumer sets no rate: the producer's decision holds.
package main

import (
	"context"
	"io"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"

	"github.com/otelsentry/otelsentry/bridge"
	"github.com/otelsentry/otelsentry/examples/internal/exampleutil"
	"github.com/otelsentry/otelsentry/propagator"
	"github.com/otelsentry/otelsentry/sampling"
)

// job is a unit of background work. A job queue keeps metadata in a map,
// a Kafka message in a list of headers; a job here has one or the other.
type job struct {
	queue    string
	metadata map[string]string
	headers  []bridge.MessageHeader
}

// carrier returns the job's trace metadata as a TextMapCarrier.
func (j *job) carrier() propagation.TextMapCarrier {
	if j.metadata != nil {
		return propagation.MapCarrier(j.metadata)
	}
	return bridge.NewMessageCarrier(&j.headers)
}

func main() { exampleutil.Main("jobqueue", run) }

func run(w io.Writer) error {
	// The bridge's helpers use the global propagator.
	otel.SetTextMapPropagator(propagator.Composite(propagator.WithRelease("shop@1.0.0")))
	producer := exampleutil.NewTracing(sampling.New(sampling.WithSampleRate(1)))
	consumer := exampleutil.NewTracing(sampling.New()) // no rate: follows the producer
	ctx, cancel := context.WithTimeout(context.Background(), exampleutil.Timeout)
	defer cancel()

	queue := make(chan *job)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for j := range queue {
			var jobCtx context.Context
			if j.metadata != nil {
				jobCtx = bridge.ContinueTraceFromCarrier(ctx, propagation.MapCarrier(j.metadata))
			} else {
				jobCtx = bridge.ContinueTraceFromCarrier(ctx, bridge.NewMessageCarrier(&j.headers))
			}
			_, span := consumer.Tracer().Start(jobCtx, "process "+j.queue, trace.WithSpanKind(trace.SpanKindConsumer))
			span.End()
		}
	}()

	jobs := []*job{
		{queue: "emails", metadata: map[string]string{"user": "42"}},
		{queue: "orders", headers: []bridge.MessageHeader{{Key: "content-type", Value: []byte("application/json")}}},
	}
	rootCtx, root := producer.Tracer().Start(ctx, "checkout")
	for _, j := range jobs {
		pubCtx, span := producer.Tracer().Start(rootCtx, "publish "+j.queue, trace.WithSpanKind(trace.SpanKindProducer))
		otel.GetTextMapPropagator().Inject(pubCtx, j.carrier())
		span.End()
		queue <- j
	}
	root.End()
	close(queue)
	<-done

	for _, j := range jobs {
		if err := exampleutil.PrintHeaders(w, j.queue, j.carrier().Get); err != nil {
			return err
		}
	}
	if err := exampleutil.PrintSpans(w, "producer", producer.Spans()); err != nil {
		return err
	}
	return exampleutil.PrintSpans(w, "consumer", consumer.Spans())
}
