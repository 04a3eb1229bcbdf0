package bridge_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/propagation"
	sdklog "go.opentelemetry.io/otel/sdk/log"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"

	"github.com/otelsentry/otelsentry/bridge"
	"github.com/otelsentry/otelsentry/propagator"
)

// Misuse gives a clear error or is harmless; it never panics and never
// leaves the package stuck.
func TestMisuse(t *testing.T) {
	shutdown, err := bridge.Setup(context.Background(), nil, bridge.WithLogger(nil), bridge.WithPropagatorOptions(nil),
		bridge.WithSamplerOptions(nil))
	if err != nil {
		t.Fatalf("Setup with nil values: %v", err)
	}
	if err := shutdown(context.Background()); err != nil {
		t.Error(err)
	}
	for name, opt := range map[string]bridge.Option{
		"WithSpanExporter(nil)":  bridge.WithSpanExporter(nil),
		"WithSpanProcessor(nil)": bridge.WithSpanProcessor(nil),
		"WithLogExporter(nil)":   bridge.WithLogExporter(nil),
	} {
		if _, err := bridge.Setup(context.Background(), opt); !errors.Is(err, bridge.ErrInvalidOption) {
			t.Errorf("Setup(%s): %v, want ErrInvalidOption", name, err)
		}
	}
	// The failed Setups installed nothing: the next one works.
	shutdown, err = bridge.Setup(context.Background())
	if err != nil {
		t.Fatalf("Setup after failed ones: %v", err)
	}
	if err := shutdown(context.Background()); err != nil {
		t.Error(err)
	}

	ctx := bridge.ContinueTraceFromCarrier(context.Background(), nil)
	if trace.SpanContextFromContext(ctx).IsValid() {
		t.Error("a nil carrier continued a trace")
	}
	if env := bridge.InjectEnv(ctx, nil); len(env) != 0 {
		t.Errorf("InjectEnv without a trace: %q", env)
	}
}

// Under SuppressInject the helpers agree: no sentry-trace, no baggage, no
// meta tag.
func TestSuppressedHelpersAgree(t *testing.T) {
	tracer, _ := setup(t, bridge.WithSampleRate(1))
	ctx, span := tracer.Start(context.Background(), "page")
	defer span.End()
	if bridge.Traceparent(ctx) == "" || bridge.Baggage(ctx) == "" {
		t.Fatal("no values to suppress")
	}
	ctx = propagator.SuppressInject(ctx)
	if got := []string{bridge.Traceparent(ctx), bridge.Baggage(ctx), string(bridge.MetaTags(ctx)), bridge.ServerTiming(ctx)}; strings.Join(got, "") != "" {
		t.Errorf("suppressed helpers wrote %q", got)
	}
}

// failingExporter rejects every batch, as Sentry does for a wrong key.
type failingExporter struct{}

var errRejected = errors.New("401 Unauthorized")

func (failingExporter) ExportSpans(context.Context, []sdktrace.ReadOnlySpan) error {
	return errRejected
}
func (failingExporter) Shutdown(context.Context) error { return nil }

// shutdown reports a final export that failed, and puts back the globals
// Setup replaced.
func TestShutdownReportsAndRestores(t *testing.T) {
	prevTP := sdktrace.NewTracerProvider()
	t.Cleanup(func() { _ = prevTP.Shutdown(context.Background()) })
	otel.SetTracerProvider(prevTP)
	prevProp := propagation.TraceContext{}
	otel.SetTextMapPropagator(prevProp)
	t.Cleanup(func() { otel.SetTextMapPropagator(propagation.NewCompositeTextMapPropagator()) })

	shutdown, err := bridge.Setup(context.Background(), bridge.WithSampleRate(1),
		bridge.WithSpanExporter(failingExporter{}))
	if err != nil {
		t.Fatal(err)
	}
	if otel.GetTracerProvider() == prevTP || len(otel.GetTextMapPropagator().Fields()) == 1 {
		t.Fatal("Setup installed nothing")
	}
	_, span := otel.Tracer("t").Start(context.Background(), "job")
	span.End()
	if err := shutdown(context.Background()); !errors.Is(err, errRejected) {
		t.Errorf("shutdown: %v, want the exporter's error", err)
	}
	if otel.GetTracerProvider() != prevTP {
		t.Error("the tracer provider was not put back")
	}
	if _, ok := otel.GetTextMapPropagator().(propagation.TraceContext); !ok {
		t.Errorf("the propagator was not put back: %T", otel.GetTextMapPropagator())
	}
}

// With a logger, Setup says in one line what it installed.
func TestSetupLogsWhatItInstalled(t *testing.T) {
	var logs bytes.Buffer
	shutdown, err := bridge.Setup(context.Background(),
		bridge.WithDSN("https://key@o1.ingest.sentry.io/42"), bridge.WithSampleRate(0.25),
		bridge.WithLogger(slog.New(slog.NewTextHandler(&logs, nil))))
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = shutdown(context.Background()) }()
	line := logs.String()
	for _, want := range []string{"otelsentry set up", "propagators=tracecontext,baggage,sentry", "dsn_host=o1.ingest.sentry.io", "project=42", "traces_sample_rate=0.25"} {
		if !strings.Contains(line, want) {
			t.Errorf("log %q lacks %q", line, want)
		}
	}
	if strings.Count(line, "\n") != 1 {
		t.Errorf("log has %d lines: %q", strings.Count(line, "\n"), line)
	}
}

// memoryLogs keeps exported log records.
type memoryLogs struct {
	mu      sync.Mutex
	records []sdklog.Record
}

func (m *memoryLogs) Export(_ context.Context, records []sdklog.Record) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, r := range records {
		m.records = append(m.records, r.Clone())
	}
	return nil
}
func (*memoryLogs) Shutdown(context.Context) error   { return nil }
func (*memoryLogs) ForceFlush(context.Context) error { return nil }

// Logs written through Logger carry the span they were written in, and
// shutdown flushes and uninstalls the logger provider.
func TestLoggerOnTheTrace(t *testing.T) {
	exp := &memoryLogs{}
	prevLP := otel.GetLoggerProvider()
	shutdown, err := bridge.Setup(context.Background(), bridge.WithSampleRate(1), bridge.WithLogExporter(exp))
	if err != nil {
		t.Fatal(err)
	}
	ctx, span := otel.Tracer("t").Start(context.Background(), "checkout")
	bridge.Logger("shop").InfoContext(ctx, "order placed", "items", 3)
	span.End()
	if err := shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	if len(exp.records) != 1 {
		t.Fatalf("%d records", len(exp.records))
	}
	r := exp.records[0]
	if r.Body().AsString() != "order placed" || r.TraceID() != span.SpanContext().TraceID() || r.SpanID() != span.SpanContext().SpanID() {
		t.Errorf("record %q on %s/%s, want the span %s/%s", r.Body().AsString(), r.TraceID(), r.SpanID(),
			span.SpanContext().TraceID(), span.SpanContext().SpanID())
	}
	if otel.GetLoggerProvider() != prevLP {
		t.Error("the logger provider was not put back")
	}
}
