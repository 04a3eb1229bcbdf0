package sentryotlp_test

import (
	"context"
	"errors"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/otelsentry/otelsentry/sentryotlp"
)

// fastRetry shortens the OTLP exporter's backoff, whose first wait is 5 s
// by default, so that the tests retry within a second.
var fastRetry = otlptracehttp.WithRetry(otlptracehttp.RetryConfig{
	Enabled: true, InitialInterval: 50 * time.Millisecond, MaxInterval: 200 * time.Millisecond, MaxElapsedTime: 20 * time.Second,
})

// faultyIngest answers the requests of a test with the status its answer
// function gives for each (0 accepts), keeping what it accepted in fake and
// what it refused in refused.
type faultyIngest struct {
	fake, refused fakeSentry
	answer        func(n int) (status int, retryAfter string)

	mu    sync.Mutex
	times []time.Time // of every request
}

func (f *faultyIngest) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	n := len(f.times)
	f.times = append(f.times, time.Now())
	f.mu.Unlock()
	if status, retryAfter := f.answer(n); status != 0 {
		f.refused.ServeHTTP(httptest.NewRecorder(), r)
		if retryAfter != "" {
			w.Header().Set("Retry-After", retryAfter)
		}
		http.Error(w, http.StatusText(status), status)
		return
	}
	f.fake.ServeHTTP(w, r)
}

func (f *faultyIngest) requestTimes() []time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]time.Time(nil), f.times...)
}

// serveOn serves h on addr, 127.0.0.1, until the test ends.
func serveOn(t *testing.T, addr string, h http.Handler) {
	t.Helper()
	l, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(l) }()
	t.Cleanup(func() { _ = srv.Close() })
}

// freeAddr returns a 127.0.0.1 address nothing listens on.
func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	_ = l.Close()
	return addr
}

// newExporter returns an exporter to project 42 at addr, retrying fast.
func newExporter(t *testing.T, addr string) sdktrace.SpanExporter {
	t.Helper()
	exp, err := sentryotlp.New(context.Background(), "http://key@"+addr+"/42", fastRetry)
	if err != nil {
		t.Fatal(err)
	}
	return exp
}

// exporterTo serves in on a free address and returns an exporter to it.
func exporterTo(t *testing.T, in *faultyIngest) sdktrace.SpanExporter {
	t.Helper()
	addr := freeAddr(t)
	serveOn(t, addr, in)
	return newExporter(t, addr)
}

// handled collects what the exporter reports through otel.Handle during
// the test.
func handled(t *testing.T) func() []string {
	t.Helper()
	var mu sync.Mutex
	var errs []string
	prev := otel.GetErrorHandler()
	otel.SetErrorHandler(otel.ErrorHandlerFunc(func(err error) {
		mu.Lock()
		errs = append(errs, err.Error())
		mu.Unlock()
	}))
	t.Cleanup(func() { otel.SetErrorHandler(prev) })
	return func() []string {
		mu.Lock()
		defer mu.Unlock()
		return append([]string(nil), errs...)
	}
}

// endSpans ends n spans through a provider that exports to exp with a
// batch span processor, and returns the provider.
func endSpans(exp sdktrace.SpanExporter, n int, prefix string) *sdktrace.TracerProvider {
	tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(exp, sdktrace.WithBatchTimeout(20*time.Millisecond)))
	for i := range n {
		_, span := tp.Tracer("test").Start(context.Background(), prefix+strconv.Itoa(i))
		span.End()
	}
	return tp
}

// TestRefusedConnectionsRetried exports while nothing listens on the
// ingest's address: the OTLP exporter alone would give the batch up at
// once; here it is retried, and arrives once the ingest listens.
func TestRefusedConnectionsRetried(t *testing.T) {
	reported := handled(t)
	addr := freeAddr(t)
	exp := newExporter(t, addr)
	tp := endSpans(exp, 10, "down-")
	time.Sleep(300 * time.Millisecond) // a few refused attempts
	fake := &fakeSentry{}
	serveOn(t, addr, fake)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := tp.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	if names := spanNames(t, fake.requests()); len(names) != 10 {
		t.Errorf("%d spans arrived, want 10", len(names))
	}
	if r := reported(); len(r) != 0 {
		t.Errorf("reported %q, nothing was lost", r)
	}
}

// TestRetryAfterHonoured answers 429 with Retry-After: 1, then accepts:
// the retry waits the second the ingest asked for, and nothing is lost.
func TestRetryAfterHonoured(t *testing.T) {
	in := &faultyIngest{answer: func(n int) (int, string) {
		if n == 0 {
			return http.StatusTooManyRequests, "1"
		}
		return 0, ""
	}}
	exp := exporterTo(t, in)
	tp := endSpans(exp, 5, "limited-")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := tp.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	times := in.requestTimes()
	if len(times) != 2 {
		t.Fatalf("%d requests, want the refused one and its retry", len(times))
	}
	if wait := times[1].Sub(times[0]); wait < time.Second {
		t.Errorf("retried after %v, before Retry-After's second", wait)
	}
	if names := spanNames(t, in.fake.requests()); len(names) != 5 {
		t.Errorf("%d spans arrived, want 5", len(names))
	}
}

// TestUnauthorizedNotRetried answers 401 to everything: each batch is
// tried once, one error names the project and the status however many
// batches fail, and Shutdown reports the spans it could not send.
func TestUnauthorizedNotRetried(t *testing.T) {
	reported := handled(t)
	in := &faultyIngest{answer: func(int) (int, string) { return http.StatusUnauthorized, "" }}
	exp := exporterTo(t, in)
	tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(exp, sdktrace.WithBatchTimeout(time.Hour)))
	for batch := range 3 {
		for i := range 4 {
			_, span := tp.Tracer("test").Start(context.Background(), "refused-"+strconv.Itoa(batch*4+i))
			span.End()
		}
		if err := tp.ForceFlush(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err := tp.Shutdown(ctx)
	names := spanNames(t, in.refused.requests())
	slices.Sort(names)
	if len(names) != 12 || len(slices.Compact(names)) != 12 {
		t.Errorf("spans sent %q: each once, a 401 is not retried", names)
	}
	if !errors.Is(err, sentryotlp.ErrNotSent) || !strings.Contains(err.Error(), ": 12 spans to") || !strings.Contains(err.Error(), "401 Unauthorized") {
		t.Errorf("Shutdown: %v", err)
	}
	r := reported()
	if len(r) != 1 || !strings.Contains(r[0], "project 42") || !strings.Contains(r[0], "401 Unauthorized") {
		t.Errorf("reported %q, want one error naming project 42 and the status", r)
	}
}

// TestUntrustedCertificateNotRetried exports to an ingest whose TLS
// certificate the system does not trust: the OTLP exporter gives the
// batch up at once, and the refusal is reported once, naming the project,
// as for a 401, rather than waited out as a fault that would pass.
func TestUntrustedCertificateNotRetried(t *testing.T) {
	reported := handled(t)
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t.Error("a request got through the untrusted certificate")
	}))
	t.Cleanup(srv.Close)
	srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	exp, err := sentryotlp.New(context.Background(), "https://key@"+srv.Listener.Addr().String()+"/42", fastRetry)
	if err != nil {
		t.Fatal(err)
	}
	tp := endSpans(exp, 3, "untrusted-")
	if err := tp.ForceFlush(context.Background()); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = tp.Shutdown(ctx)
	r := reported()
	if len(r) != 1 || !strings.Contains(r[0], "project 42") || !strings.Contains(r[0], "not retried") || !strings.Contains(r[0], "certificate") {
		t.Errorf("reported %q, want one refusal naming project 42 and the certificate", r)
	}
}

// TestQueueBound fails the ingest with 503 while more spans end than the
// queue holds: the ones that fit arrive once it answers again, and the
// others are counted in one report.
func TestQueueBound(t *testing.T) {
	t.Setenv("OTEL_BSP_MAX_QUEUE_SIZE", "10")
	reported := handled(t)
	var down atomic.Bool
	down.Store(true)
	in := &faultyIngest{answer: func(int) (int, string) {
		if down.Load() {
			return http.StatusServiceUnavailable, ""
		}
		return 0, ""
	}}
	exp := exporterTo(t, in)
	ctx := context.Background()
	for _, n := range []int{8, 8, 2} { // 8 queued, 8 do not fit, 2 fit
		spans := make([]sdktrace.ReadOnlySpan, n)
		tp := sdktrace.NewTracerProvider()
		for i := range spans {
			_, s := tp.Tracer("test").Start(ctx, "queued")
			s.End()
			spans[i] = s.(sdktrace.ReadOnlySpan)
		}
		if err := exp.ExportSpans(ctx, spans); err != nil {
			t.Fatal(err)
		}
	}
	down.Store(false) // the ingest recovers
	sctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := exp.Shutdown(sctx); err != nil {
		t.Fatal(err)
	}
	if names := spanNames(t, in.fake.requests()); len(names) != 10 {
		t.Errorf("%d spans arrived, want the 10 that fit", len(names))
	}
	r := reported()
	if len(r) != 1 || !strings.Contains(r[0], ": 8 spans to") || !strings.Contains(r[0], "503 Service Unavailable") {
		t.Errorf("reported %q, want one report of 8 dropped spans", r)
	}
}

// TestShutdownDuringFault shuts down while the ingest answers 503: it
// returns before its context's deadline, saying what was not sent and what
// the ingest answered.
func TestShutdownDuringFault(t *testing.T) {
	handled(t)
	in := &faultyIngest{answer: func(int) (int, string) { return http.StatusServiceUnavailable, "" }}
	exp := exporterTo(t, in)
	tp := endSpans(exp, 6, "stuck-")
	time.Sleep(100 * time.Millisecond)
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	err := tp.Shutdown(ctx)
	if ctx.Err() != nil {
		t.Errorf("Shutdown returned after its deadline: %v", err)
	}
	if !errors.Is(err, sentryotlp.ErrNotSent) || !strings.Contains(err.Error(), "6 spans to Sentry project 42") || !strings.Contains(err.Error(), "503 Service Unavailable") {
		t.Errorf("Shutdown: %v", err)
	}
}
