package bridge_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/propagation"
	sdklog "go.opentelemetry.io/otel/sdk/log"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/otelsentry/otelsentry/bridge"
	"github.com/otelsentry/otelsentry/internal/vectors"
)

// Without a rate and without a traces sampler, nothing is sent, as the
// Sentry SDKs send nothing, while propagation is untouched: an incoming
// sampled trace leaves sampled in both headers.
func TestNoRateSendsNothing(t *testing.T) { // SM-17, API-8
	clearEnv(t)
	exp := &stopCounter{SpanExporter: tracetest.NewInMemoryExporter()}
	rec := tracetest.NewSpanRecorder()
	shutdown, err := bridge.Setup(context.Background(), bridge.WithLogger(slog.New(slog.DiscardHandler)),
		bridge.WithSpanExporter(exp), bridge.WithSpanProcessor(rec))
	if err != nil {
		t.Fatal(err)
	}
	ctx := bridge.ContinueTrace(context.Background(), vectors.A+"-b72fa28504b07285-1", "sentry-sample_rand=0.5")
	ctx, span := otel.Tracer("t").Start(ctx, "GET /items")
	out := propagation.MapCarrier{}
	otel.GetTextMapPropagator().Inject(ctx, out)
	id := span.SpanContext().SpanID().String()
	span.End()
	_, root := otel.Tracer("t").Start(context.Background(), "job")
	root.End()
	if err := shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	if out.Get("sentry-trace") != vectors.A+"-"+id+"-1" || out.Get("traceparent") != "00-"+vectors.A+"-"+id+"-01" {
		t.Errorf("sent sentry-trace %q, traceparent %q: the incoming decision did not go on", out.Get("sentry-trace"), out.Get("traceparent"))
	}
	// Counted as they are exported: the exporter's Shutdown forgets them.
	if n, m := exp.exported.Load(), len(rec.Ended()); n != 0 || m != 0 {
		t.Errorf("%d spans exported and %d processed without a rate", n, m)
	}
	// The exporter that never got a span is stopped all the same: it may
	// run a goroutine of its own.
	if n := exp.stopped.Load(); n != 1 {
		t.Errorf("the unused exporter was shut down %d times, want 1", n)
	}
}

// stopCounter counts the spans its exporter is given, and its shutdowns.
type stopCounter struct {
	sdktrace.SpanExporter
	exported, stopped atomic.Int32
}

func (s *stopCounter) ExportSpans(ctx context.Context, spans []sdktrace.ReadOnlySpan) error {
	s.exported.Add(int32(len(spans)))
	return s.SpanExporter.ExportSpans(ctx, spans)
}

func (s *stopCounter) Shutdown(ctx context.Context) error {
	s.stopped.Add(1)
	return s.SpanExporter.Shutdown(ctx)
}

// A stale shutdown never touches a later Setup, and shutdown runs once.
func TestStaleShutdown(t *testing.T) {
	clearEnv(t)
	quiet := bridge.WithLogger(slog.New(slog.DiscardHandler))
	shutdownA, err := bridge.Setup(context.Background(), quiet, bridge.WithSampleRate(1))
	if err != nil {
		t.Fatal(err)
	}
	if err := shutdownA(context.Background()); err != nil {
		t.Fatal(err)
	}
	rec := tracetest.NewSpanRecorder()
	shutdownB, err := bridge.Setup(context.Background(), quiet, bridge.WithSampleRate(1), bridge.WithSpanProcessor(rec))
	if err != nil {
		t.Fatal(err)
	}
	defer shutdownB(context.Background())
	if err := shutdownA(context.Background()); err != nil {
		t.Fatalf("second call of a shutdown: %v", err)
	}
	ctx, span := otel.Tracer("t").Start(context.Background(), "after")
	span.End()
	if len(rec.Ended()) != 1 || bridge.Traceparent(ctx) == "" {
		t.Errorf("B recorded %d spans and wrote %q after A's stale shutdown", len(rec.Ended()), bridge.Traceparent(ctx))
	}
	if _, err := bridge.Setup(context.Background(), quiet); !errors.Is(err, bridge.ErrAlreadySetUp) {
		t.Errorf("a third Setup while B is installed: %v", err)
	}
}

// failingLogs rejects every export, as Sentry does for a wrong key, and
// says when it was first called.
type failingLogs struct {
	once     sync.Once
	exported chan struct{}
}

var errLogsRejected = errors.New("logs: 401 Unauthorized")

func (f *failingLogs) Export(context.Context, []sdklog.Record) error {
	f.once.Do(func() { close(f.exported) })
	return errLogsRejected
}
func (*failingLogs) Shutdown(context.Context) error   { return nil }
func (*failingLogs) ForceFlush(context.Context) error { return nil }

// shutdown returns the log exporter's failure too, even when it happened
// in an export before shutdown, which the batch processor hands only to
// otel.Handle.
func TestShutdownReportsEveryExporter(t *testing.T) {
	clearEnv(t)
	prevHandler := otel.GetErrorHandler()
	otel.SetErrorHandler(otel.ErrorHandlerFunc(func(error) {}))
	defer otel.SetErrorHandler(prevHandler)
	logs := &failingLogs{exported: make(chan struct{})}
	shutdown, err := bridge.Setup(context.Background(), bridge.WithLogger(slog.New(slog.DiscardHandler)), bridge.WithSampleRate(1),
		bridge.WithSpanExporter(failingExporter{}), bridge.WithLogExporter(logs))
	if err != nil {
		t.Fatal(err)
	}
	ctx, span := otel.Tracer("t").Start(context.Background(), "job")
	bridge.Logger("t").InfoContext(ctx, "done")
	span.End()
	select { // the batch processor's own export, within its interval
	case <-logs.exported:
	case <-time.After(10 * time.Second):
		t.Fatal("the log exporter was never called")
	}
	err = shutdown(context.Background())
	if !errors.Is(err, errLogsRejected) || !errors.Is(err, errRejected) {
		t.Errorf("shutdown: %v, want both exporters' errors", err)
	}
	if again := shutdown(context.Background()); again == nil || again.Error() != err.Error() {
		t.Errorf("second shutdown: %v, want the same %v", again, err)
	}
}

// Setup says what it installed through slog.Default when no logger is
// given, and warns once about the OpenTelemetry settings it ignores.
func TestSetupIsVisible(t *testing.T) {
	clearEnv(t)
	t.Setenv("OTEL_PROPAGATORS", "b3")
	var logs bytes.Buffer
	prev := slog.Default()
	slog.SetDefault(slog.New(slog.NewTextHandler(&logs, nil)))
	defer slog.SetDefault(prev)
	shutdown, err := bridge.Setup(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	_ = shutdown(context.Background())
	lines := strings.Split(strings.TrimSpace(logs.String()), "\n")
	if len(lines) != 2 || !strings.Contains(lines[0], "OTEL_PROPAGATORS") || !strings.Contains(lines[0], "sentryautoprop") ||
		!strings.Contains(lines[1], "otelsentry set up") || !strings.Contains(lines[1], "no spans are sent") {
		t.Errorf("slog.Default got %q", lines)
	}
}

// SENTRY_DEBUG=true writes the propagator's debug messages to standard
// error, as the Sentry SDKs' debug option does.
func TestSentryDebug(t *testing.T) {
	clearEnv(t)
	t.Setenv("SENTRY_DEBUG", "true")
	stderr := os.Stderr
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	os.Stderr = w
	shutdown, err := bridge.Setup(context.Background())
	os.Stderr = stderr
	if err != nil {
		t.Fatal(err)
	}
	bridge.ContinueTrace(context.Background(), "not-a-sentry-trace", "")
	_ = shutdown(context.Background())
	_ = w.Close()
	out, _ := io.ReadAll(r)
	if !strings.Contains(string(out), "level=DEBUG") || !strings.Contains(string(out), "ignoring invalid sentry-trace") {
		t.Errorf("standard error got %q", out)
	}
}
