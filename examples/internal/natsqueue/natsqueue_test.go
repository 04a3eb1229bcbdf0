package natsqueue_test

import (
	"context"
	"errors"
	"net/http"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"go.opentelemetry.io/otel/propagation"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/otelsentry/otelsentry/examples/internal/natsqueue"
	"github.com/otelsentry/otelsentry/propagator"
	"github.com/otelsentry/otelsentry/sampling"
)

const (
	sentryTrace = "4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-1"
	baggage     = "sentry-trace_id=4bf92f3577b34da6a3ce929d0e0e4736,sentry-sample_rand=0.25,sentry-release=shop%401.0.0"
)

// TestCarrierKeepsCase: the propagator's keys reach the message as it
// writes them, where http.Header would have canonicalised them.
func TestCarrierKeepsCase(t *testing.T) {
	prop := propagator.Composite()
	ctx := prop.Extract(context.Background(), propagation.MapCarrier{"sentry-trace": sentryTrace, "baggage": baggage})

	h := nats.Header{}
	prop.Inject(ctx, natsqueue.HeaderCarrier(h))
	if got := natsqueue.HeaderCarrier(h).Keys(); !slices.Equal(got, []string{"baggage", "sentry-trace", "traceparent", "tracestate"}) {
		t.Errorf("keys %v, want them as the propagator names them", got)
	}
	if got := h.Get("sentry-trace"); !strings.HasPrefix(got, "4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7") {
		t.Errorf("a case-sensitive reader finds sentry-trace %q", got)
	}
	viaHTTP := http.Header{}
	prop.Inject(ctx, propagation.HeaderCarrier(viaHTTP))
	if nats.Header(viaHTTP).Get("sentry-trace") != "" {
		t.Error("http.Header no longer canonicalises: the carrier's reason is gone")
	}

	// A producer that wrote through http.Header is still read.
	back := prop.Extract(context.Background(), natsqueue.HeaderCarrier(viaHTTP))
	if sc := trace.SpanContextFromContext(back); sc.TraceID().String() != "4bf92f3577b34da6a3ce929d0e0e4736" {
		t.Errorf("canonicalised headers not read: %v", sc)
	}
}

func TestCarrier(t *testing.T) {
	c := natsqueue.HeaderCarrier{"Sentry-Trace": {"a"}, "SENTRY-TRACE": {"b"}, "baggage": {"x=1", "y=2"}}
	if got := c.Get("sentry-trace"); got != "b" {
		t.Errorf("Get in another case: %q, want the first key in byte order", got)
	}
	if got := c.Values("BAGGAGE"); !slices.Equal(got, []string{"x=1", "y=2"}) {
		t.Errorf("Values %v", got)
	}
	if got := c.Get("traceparent"); got != "" {
		t.Errorf("Get of a missing key: %q", got)
	}
	c.Set("sentry-trace", "c")
	if got := c.Keys(); !slices.Equal(got, []string{"baggage", "sentry-trace"}) || c.Get("Sentry-Trace") != "c" {
		t.Errorf("after Set: %v", c)
	}
	var none natsqueue.HeaderCarrier
	none.Set("sentry-trace", "x") // no panic
	if none.Get("sentry-trace") != "" || len(none.Keys()) != 0 {
		t.Error("a nil carrier holds something")
	}
}

func TestServer(t *testing.T) {
	srv, err := natsqueue.StartServer()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(srv.URL(), "nats://127.0.0.1:") {
		t.Errorf("URL %s", srv.URL())
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	q, err := natsqueue.Open(ctx, srv.URL(), "idle")
	if err != nil {
		t.Fatal(err)
	}
	short, cancelShort := context.WithTimeout(ctx, 100*time.Millisecond)
	defer cancelShort()
	called := false
	if err := q.Process(short, func(context.Context, natsqueue.Job) error { called = true; return nil }); !errors.Is(err, natsqueue.ErrNoJob) || called {
		t.Errorf("Process of an empty queue: %v, handler called %v", err, called)
	}
	if err := q.Close(); err != nil {
		t.Error(err)
	}
	if entries, err := os.ReadDir(srv.Dir()); err != nil || len(entries) == 0 {
		t.Errorf("JetStream stored nothing in %s: %v", srv.Dir(), err)
	}
	if err := srv.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(srv.Dir()); !os.IsNotExist(err) {
		t.Errorf("the storage outlived the server: %v", err)
	}
}

// TestRedelivery: a job whose first processing fails is delivered again,
// and each delivery continues the producer's trace.
func TestRedelivery(t *testing.T) {
	srv, err := natsqueue.StartServer()
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSampler(sampling.New(sampling.WithSampleRate(1))), sdktrace.WithSpanProcessor(rec))
	q, err := natsqueue.Open(ctx, srv.URL(), "mail", natsqueue.WithTracerProvider(tp), natsqueue.WithPropagator(propagator.Composite()))
	if err != nil {
		t.Fatal(err)
	}
	defer q.Close()
	if err := q.Publish(ctx, []byte("receipt")); err != nil {
		t.Fatal(err)
	}
	busy := errors.New("busy")
	var deliveries []uint64
	for _, outcome := range []error{busy, nil} {
		err := q.Process(ctx, func(_ context.Context, job natsqueue.Job) error {
			deliveries = append(deliveries, job.Delivery)
			if string(job.Data) != "receipt" || job.Header.Get("sentry-trace") == "" {
				t.Errorf("job %q with headers %v", job.Data, job.Header)
			}
			return outcome
		})
		if !errors.Is(err, outcome) {
			t.Fatalf("Process: %v, want %v", err, outcome)
		}
	}
	if !slices.Equal(deliveries, []uint64{1, 2}) {
		t.Errorf("deliveries %v, want 1 then 2", deliveries)
	}
	spans := rec.Ended()
	if len(spans) != 3 || spans[0].SpanKind() != trace.SpanKindProducer {
		t.Fatalf("spans %v", spans)
	}
	for _, s := range spans[1:] {
		if s.SpanKind() != trace.SpanKindConsumer || s.Parent().SpanID() != spans[0].SpanContext().SpanID() ||
			s.SpanContext().TraceID() != spans[0].SpanContext().TraceID() {
			t.Errorf("consumer span %s is not a child of the producer span %s", s.Parent().SpanID(), spans[0].SpanContext().SpanID())
		}
	}
}

// BenchmarkStartServer measures starting the embedded server with
// JetStream until it accepts connections; stopping it is not counted.
func BenchmarkStartServer(b *testing.B) {
	for b.Loop() {
		srv, err := natsqueue.StartServer()
		if err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		if err := srv.Close(); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
	}
}
