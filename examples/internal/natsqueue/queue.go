package natsqueue

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
)

// Bounds of the queue's waits.
const (
	// connectTimeout bounds connecting and setting the stream up.
	connectTimeout = 10 * time.Second
	// defaultWait bounds Process's wait for a message when its context
	// has no deadline.
	defaultWait = 10 * time.Second
	// maxDeliver is how often a message is delivered before JetStream
	// gives up on it.
	maxDeliver = 5
)

// ErrNoJob is returned by Process when no message came within its wait.
var ErrNoJob = errors.New("natsqueue: no job")

// Queue is a JetStream stream named after the queue, holding the subject
// "<name>.jobs", with one durable consumer, "<name>-worker", that every
// Queue of that name shares. Each message is delivered to one Process
// call, and again after a failed one, up to five times.
type Queue struct {
	nc       *nats.Conn
	js       jetstream.JetStream
	consumer jetstream.Consumer
	stream   string
	subject  string
	tracer   trace.Tracer
	prop     propagation.TextMapPropagator
}

// Option configures Open.
type Option func(*Queue)

// WithTracerProvider sets where the queue's spans go; by default the
// global tracer provider.
func WithTracerProvider(tp trace.TracerProvider) Option {
	return func(q *Queue) { q.tracer = tp.Tracer("github.com/otelsentry/otelsentry/examples/internal/natsqueue") }
}

// WithPropagator sets the propagator that writes and reads the trace
// headers; by default the global one, as it is at each call.
func WithPropagator(p propagation.TextMapPropagator) Option {
	return func(q *Queue) { q.prop = p }
}

// Open connects to the NATS server at url and creates the queue's stream
// and consumer, or uses them as they are.
func Open(ctx context.Context, url, name string, opts ...Option) (*Queue, error) {
	q := &Queue{stream: name, subject: name + ".jobs"}
	WithTracerProvider(otel.GetTracerProvider())(q)
	for _, o := range opts {
		o(q)
	}
	ctx, cancel := context.WithTimeout(ctx, connectTimeout)
	defer cancel()
	nc, err := nats.Connect(url, nats.Name(name), nats.Timeout(connectTimeout))
	if err != nil {
		return nil, fmt.Errorf("natsqueue: %w", err)
	}
	q.nc = nc
	if q.js, err = jetstream.New(nc); err != nil {
		nc.Close()
		return nil, fmt.Errorf("natsqueue: %w", err)
	}
	stream, err := q.js.CreateOrUpdateStream(ctx, jetstream.StreamConfig{Name: name, Subjects: []string{q.subject}})
	if err != nil {
		nc.Close()
		return nil, fmt.Errorf("natsqueue: stream %s: %w", name, err)
	}
	q.consumer, err = stream.CreateOrUpdateConsumer(ctx, jetstream.ConsumerConfig{
		Durable:    name + "-worker",
		AckPolicy:  jetstream.AckExplicitPolicy,
		MaxDeliver: maxDeliver,
	})
	if err != nil {
		nc.Close()
		return nil, fmt.Errorf("natsqueue: consumer of %s: %w", name, err)
	}
	return q, nil
}

// Delete removes the queue's stream, its messages and its consumer from
// the server, for queues on a server that outlives the program.
func (q *Queue) Delete(ctx context.Context) error {
	if err := q.js.DeleteStream(ctx, q.stream); err != nil {
		return fmt.Errorf("natsqueue: delete %s: %w", q.stream, err)
	}
	return nil
}

// Close drains the connection: what was published is flushed first.
func (q *Queue) Close() error { return q.nc.Drain() }

func (q *Queue) propagator() propagation.TextMapPropagator {
	if q.prop != nil {
		return q.prop
	}
	return otel.GetTextMapPropagator()
}

// Publish sends data as a job, in a producer span whose trace the message
// carries in its headers, and waits for JetStream to store it.
func (q *Queue) Publish(ctx context.Context, data []byte) error {
	ctx, span := q.tracer.Start(ctx, "publish "+q.subject, trace.WithSpanKind(trace.SpanKindProducer),
		trace.WithAttributes(q.attributes("send")...))
	defer span.End()
	msg := &nats.Msg{Subject: q.subject, Data: data, Header: nats.Header{}}
	q.propagator().Inject(ctx, HeaderCarrier(msg.Header))
	if _, err := q.js.PublishMsg(ctx, msg); err != nil {
		span.SetStatus(codes.Error, err.Error())
		return fmt.Errorf("natsqueue: publish: %w", err)
	}
	return nil
}

// Job is one delivery of a message.
type Job struct {
	// Data is the message's payload.
	Data []byte
	// Header holds the message's headers, as they came.
	Header nats.Header
	// Delivery counts the deliveries of this message: 1 the first time.
	Delivery uint64
}

// Process waits for the next delivery (until ctx's deadline, or for ten
// seconds if it has none; cancelling ctx does not end the wait), continues
// its trace in a consumer span, and runs
// handle in that span's context. It acknowledges the message when handle
// returns nil; otherwise it asks for the message again and returns
// handle's error. ErrNoJob says that nothing came.
func (q *Queue) Process(ctx context.Context, handle func(context.Context, Job) error) error {
	wait := defaultWait
	if deadline, ok := ctx.Deadline(); ok {
		wait = time.Until(deadline)
	}
	if wait <= 0 {
		return ErrNoJob
	}
	msg, err := q.consumer.Next(jetstream.FetchMaxWait(wait))
	if errors.Is(err, nats.ErrTimeout) || errors.Is(err, jetstream.ErrNoMessages) {
		return ErrNoJob
	}
	if err != nil {
		return fmt.Errorf("natsqueue: %w", err)
	}
	job := Job{Data: msg.Data(), Header: msg.Headers()}
	if md, err := msg.Metadata(); err == nil {
		job.Delivery = md.NumDelivered
	}
	// The message's trace, and nothing of the trace ctx is in: a job
	// continues the producer's.
	parent := q.propagator().Extract(trace.ContextWithSpanContext(ctx, trace.SpanContext{}), HeaderCarrier(job.Header))
	ctx, span := q.tracer.Start(parent, "process "+q.subject, trace.WithSpanKind(trace.SpanKindConsumer),
		trace.WithAttributes(q.attributes("process")...))
	defer span.End()
	if err := handle(ctx, job); err != nil {
		span.SetStatus(codes.Error, err.Error())
		return errors.Join(err, msg.Nak())
	}
	if err := msg.Ack(); err != nil {
		return fmt.Errorf("natsqueue: ack: %w", err)
	}
	return nil
}

// attributes are the OpenTelemetry messaging attributes of the queue's
// spans for operation ("send" or "process").
func (q *Queue) attributes(operation string) []attribute.KeyValue {
	return []attribute.KeyValue{
		attribute.String("messaging.system", "nats"),
		attribute.String("messaging.destination.name", q.subject),
		attribute.String("messaging.operation.type", operation),
	}
}
