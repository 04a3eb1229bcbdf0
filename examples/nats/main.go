// Command nats hands a job from a producer to a consumer through NATS
// JetStream, with the trace in the message's headers, written with their
// keys' case kept (sentry-trace, baggage), as a consumer in any language
// reads them. The consumer fails the first delivery, so JetStream delivers
// the message again. In its output, both "process" consumer spans have the
// producer's trace id and its "publish" span as parent, and are sampled
// although the consumer sets no rate: each delivery continues the same
// trace.
//
// By default it starts a NATS server with JetStream in this process, on a
// free port of 127.0.0.1, storing in a temporary directory removed at
// exit; -nats URL uses another server, which must have JetStream on.
package main

import (
	"context"
	"errors"
	"flag"
	"io"
	"strconv"
	"strings"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/trace"

	"github.com/otelsentry/otelsentry/examples/internal/exampleutil"
	"github.com/otelsentry/otelsentry/examples/internal/natsqueue"
	"github.com/otelsentry/otelsentry/propagator"
	"github.com/otelsentry/otelsentry/sampling"
)

// errBusy is how the consumer fails the first delivery.
var errBusy = errors.New("mail server busy")

func main() {
	url := flag.String("nats", "", "URL of a NATS server with JetStream; empty starts one in this process")
	flag.Parse()
	exampleutil.Main("nats", func(w io.Writer) error { return run(w, *url) })
}

// delivery is what the consumer saw of one delivery.
type delivery struct {
	n       uint64
	keys    []string
	headers func(string) string
	outcome string
}

func run(w io.Writer, url string) error {
	ctx, cancel := context.WithTimeout(context.Background(), exampleutil.Timeout)
	defer cancel()
	embedded := url == ""
	if embedded {
		srv, err := natsqueue.StartServer()
		if err != nil {
			return err
		}
		defer srv.Close()
		url = srv.URL()
	}
	if err := exampleutil.PrintLine(w, "nats", "url", url, "embedded", strconv.FormatBool(embedded)); err != nil {
		return err
	}
	otel.SetTextMapPropagator(propagator.Composite(propagator.WithRelease("shop@1.0.0")))
	producer := exampleutil.NewTracing(sampling.New(sampling.WithSampleRate(1)))
	consumer := exampleutil.NewTracing(sampling.New()) // no rate: follows the producer

	// A queue of its own for each run, so that a server that outlives it
	// holds no old jobs; each side has its own connection, as two
	// processes would.
	name := "receipts-" + strconv.FormatInt(time.Now().UnixNano(), 36)
	out, err := natsqueue.Open(ctx, url, name, natsqueue.WithTracerProvider(producer.Provider))
	if err != nil {
		return err
	}
	defer out.Close()
	in, err := natsqueue.Open(ctx, url, name, natsqueue.WithTracerProvider(consumer.Provider))
	if err != nil {
		return err
	}
	defer in.Close()
	defer in.Delete(context.Background())

	rootCtx, root := producer.Tracer().Start(ctx, "checkout")
	err = out.Publish(rootCtx, []byte("receipt for order 42"))
	root.End()
	if err != nil {
		return err
	}

	var deliveries []delivery
	for _, fail := range []bool{true, false} {
		err := in.Process(ctx, func(ctx context.Context, job natsqueue.Job) error {
			d := delivery{n: job.Delivery, keys: natsqueue.HeaderCarrier(job.Header).Keys(), headers: job.Header.Get, outcome: "ack"}
			if fail {
				d.outcome = errBusy.Error()
			}
			deliveries = append(deliveries, d)
			if fail {
				return errBusy
			}
			_, span := consumer.Tracer().Start(ctx, "send receipt", trace.WithSpanKind(trace.SpanKindClient))
			span.End()
			return nil
		})
		if err != nil && !(fail && errors.Is(err, errBusy)) {
			return err
		}
	}

	for _, d := range deliveries {
		if err := exampleutil.PrintLine(w, "delivery", "n", strconv.FormatUint(d.n, 10), "outcome", d.outcome,
			"keys", strings.Join(d.keys, ",")); err != nil {
			return err
		}
		// A case-sensitive read, as another language's consumer makes.
		if err := exampleutil.PrintHeaders(w, "consumer", d.headers); err != nil {
			return err
		}
	}
	if err := exampleutil.PrintSpans(w, "producer", producer.Spans()); err != nil {
		return err
	}
	return exampleutil.PrintSpans(w, "consumer", consumer.Spans())
}
