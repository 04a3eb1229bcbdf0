package sentryotlp_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlplog/otlploghttp"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/log"
	sdklog "go.opentelemetry.io/otel/sdk/log"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
	collogspb "go.opentelemetry.io/proto/otlp/collector/logs/v1"
	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	"google.golang.org/protobuf/proto"

	"github.com/otelsentry/otelsentry/bridge"
	"github.com/otelsentry/otelsentry/dsn"
	"github.com/otelsentry/otelsentry/sentryotlp"
)

// request is what the fake OTLP endpoint saw of one export.
type request struct {
	method, path, contentType, encoding, auth string
	incoming                                  string // sentry-trace and traceparent, which must never arrive here
	body                                      []byte // decompressed
}

// fakeSentry records the OTLP/HTTP requests it receives.
type fakeSentry struct {
	mu   sync.Mutex
	reqs []request
}

// newFake starts a fake OTLP endpoint on 127.0.0.1 and returns it with its
// host:port.
func newFake(t *testing.T) (*fakeSentry, string) {
	t.Helper()
	f := &fakeSentry{}
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	return f, strings.TrimPrefix(srv.URL, "http://")
}

func (f *fakeSentry) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var body io.Reader = r.Body
	if r.Header.Get("Content-Encoding") == "gzip" {
		zr, err := gzip.NewReader(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		body = zr
	}
	b, err := io.ReadAll(body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	f.mu.Lock()
	f.reqs = append(f.reqs, request{
		method:      r.Method,
		path:        r.URL.Path,
		contentType: r.Header.Get("Content-Type"),
		encoding:    r.Header.Get("Content-Encoding"),
		auth:        r.Header.Get("X-Sentry-Auth"),
		incoming:    r.Header.Get("Sentry-Trace") + r.Header.Get("Traceparent"),
		body:        b,
	})
	f.mu.Unlock()
	w.Header().Set("Content-Type", "application/x-protobuf")
}

// requests returns the requests received so far.
func (f *fakeSentry) requests() []request {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]request(nil), f.reqs...)
}

// checkRequest checks what every OTLP request to Sentry must be.
func checkRequest(t *testing.T, r request, path, auth string) {
	t.Helper()
	if r.method != http.MethodPost {
		t.Errorf("method %q", r.method)
	}
	if r.path != path {
		t.Errorf("path %q, want %q", r.path, path)
	}
	if r.contentType != "application/x-protobuf" {
		t.Errorf("content type %q", r.contentType)
	}
	if r.auth != auth {
		t.Errorf("%s %q, want %q", sentryotlp.AuthHeader, r.auth, auth)
	}
	if r.incoming != "" {
		t.Errorf("trace headers sent to Sentry: %q", r.incoming)
	}
	if len(r.body) == 0 {
		t.Error("empty body")
	}
}

// spanNames decodes the span names of trace export requests.
func spanNames(t *testing.T, reqs []request) []string {
	t.Helper()
	var names []string
	for _, r := range reqs {
		var req coltracepb.ExportTraceServiceRequest
		if err := proto.Unmarshal(r.body, &req); err != nil {
			t.Fatalf("decode traces: %v", err)
		}
		for _, rs := range req.GetResourceSpans() {
			for _, ss := range rs.GetScopeSpans() {
				for _, s := range ss.GetSpans() {
					names = append(names, s.GetName())
				}
			}
		}
	}
	return names
}

// TestSetupExportsToSentry configures everything from environment
// variables, as a deployed service would, and checks what reached the
// fake Sentry endpoint.
func TestSetupExportsToSentry(t *testing.T) {
	fake, host := newFake(t)
	t.Setenv("SENTRY_DSN", "http://publickey@"+host+"/42")
	t.Setenv("SENTRY_TRACES_SAMPLE_RATE", "1")
	t.Setenv("SENTRY_RELEASE", "otlp-test@1")

	ctx := context.Background()
	exporter, err := sentryotlp.New(ctx, "http://publickey@"+host+"/42")
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv("OTEL_SERVICE_NAME", "otlp-test")
	shutdown, err := bridge.Setup(ctx, bridge.WithSpanExporter(exporter))
	if err != nil {
		t.Fatal(err)
	}
	_, span := otel.Tracer("test").Start(ctx, "checkout")
	span.End()
	if err := shutdown(ctx); err != nil {
		t.Fatal(err)
	}

	reqs := fake.requests()
	if len(reqs) == 0 {
		t.Fatal("no OTLP request arrived")
	}
	for _, r := range reqs {
		checkRequest(t, r, "/api/42/integration/otlp/v1/traces", "sentry sentry_key=publickey")
	}
	if names := spanNames(t, reqs); len(names) != 1 || names[0] != "checkout" {
		t.Errorf("spans %q", names)
	}
}

// TestNewLogExporter emits a log record inside a span through a log SDK
// provider and checks the request and the record that reached Sentry.
func TestNewLogExporter(t *testing.T) {
	fake, host := newFake(t)
	ctx := context.Background()
	exp, err := sentryotlp.NewLogExporter(ctx, "http://publickey@"+host+"/42")
	if err != nil {
		t.Fatal(err)
	}
	provider := sdklog.NewLoggerProvider(sdklog.WithProcessor(sdklog.NewSimpleProcessor(exp)))

	sc := trace.NewSpanContext(trace.SpanContextConfig{
		TraceID:    trace.TraceID{0x77, 0x1a, 0x43, 0xa4, 0x19, 0x26, 0x42, 0xf0, 0xb1, 0x36, 0xd5, 0x15, 0x9a, 0x50, 0x17, 0x00},
		SpanID:     trace.SpanID{0xb7, 0x2f, 0xa2, 0x85, 0x04, 0xb0, 0x72, 0x85},
		TraceFlags: trace.FlagsSampled,
	})
	var rec log.Record
	rec.SetSeverity(log.SeverityError)
	rec.SetBody(attribute.StringValue("payment declined"))
	rec.AddAttributes(attribute.String("order", "o-1"))
	provider.Logger("checkout").Emit(trace.ContextWithSpanContext(ctx, sc), rec)
	if err := provider.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}

	reqs := fake.requests()
	if len(reqs) != 1 {
		t.Fatalf("%d requests, want 1", len(reqs))
	}
	checkRequest(t, reqs[0], "/api/42/integration/otlp/v1/logs", "sentry sentry_key=publickey")
	var req collogspb.ExportLogsServiceRequest
	if err := proto.Unmarshal(reqs[0].body, &req); err != nil {
		t.Fatalf("decode logs: %v", err)
	}
	var got []string
	for _, rl := range req.GetResourceLogs() {
		for _, sl := range rl.GetScopeLogs() {
			if sl.GetScope().GetName() != "checkout" {
				t.Errorf("scope %q", sl.GetScope().GetName())
			}
			for _, lr := range sl.GetLogRecords() {
				got = append(got, lr.GetBody().GetStringValue())
				if tid, sid := sc.TraceID(), sc.SpanID(); !bytes.Equal(lr.GetTraceId(), tid[:]) || !bytes.Equal(lr.GetSpanId(), sid[:]) {
					t.Errorf("trace %x span %x, want the span's", lr.GetTraceId(), lr.GetSpanId())
				}
				if lr.GetSeverityText() != "" || lr.GetSeverityNumber() != 17 { // SEVERITY_NUMBER_ERROR
					t.Errorf("severity %v %q", lr.GetSeverityNumber(), lr.GetSeverityText())
				}
				if a := lr.GetAttributes(); len(a) != 1 || a[0].GetKey() != "order" || a[0].GetValue().GetStringValue() != "o-1" {
					t.Errorf("attributes %v", a)
				}
			}
		}
	}
	if len(got) != 1 || got[0] != "payment declined" {
		t.Errorf("log bodies %q", got)
	}
}

// TestPathPrefixAndPort checks both exporters with a DSN whose project sits
// below a path prefix on an explicit port, as self-hosted Sentry behind a
// reverse proxy has it.
func TestPathPrefixAndPort(t *testing.T) {
	fake, host := newFake(t) // host is 127.0.0.1:{port}
	ctx := context.Background()
	dsnString := "http://k3y@" + host + "/sentry/eu/7/"

	spans, err := sentryotlp.New(ctx, dsnString)
	if err != nil {
		t.Fatal(err)
	}
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(spans))
	_, span := tp.Tracer("test").Start(ctx, "prefixed")
	span.End()
	if err := tp.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}

	logs, err := sentryotlp.NewLogExporter(ctx, dsnString)
	if err != nil {
		t.Fatal(err)
	}
	lp := sdklog.NewLoggerProvider(sdklog.WithProcessor(sdklog.NewSimpleProcessor(logs)))
	var rec log.Record
	rec.SetBody(attribute.StringValue("prefixed"))
	lp.Logger("test").Emit(ctx, rec)
	if err := lp.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}

	reqs := fake.requests()
	if len(reqs) != 2 {
		t.Fatalf("%d requests, want 2", len(reqs))
	}
	checkRequest(t, reqs[0], "/sentry/eu/api/7/integration/otlp/v1/traces", "sentry sentry_key=k3y")
	checkRequest(t, reqs[1], "/sentry/eu/api/7/integration/otlp/v1/logs", "sentry sentry_key=k3y")
}

// TestDSNOverridesEnvironment checks that the OTLP environment variables
// cannot send Sentry's data elsewhere or drop its key, while options given
// to the constructors still apply.
func TestDSNOverridesEnvironment(t *testing.T) {
	sentry, host := newFake(t)
	collector, other := newFake(t)
	t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://"+other)
	t.Setenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "http://"+other+"/v1/traces")
	t.Setenv("OTEL_EXPORTER_OTLP_LOGS_ENDPOINT", "http://"+other+"/v1/logs")
	t.Setenv("OTEL_EXPORTER_OTLP_HEADERS", "x-sentry-auth=stolen")
	ctx := context.Background()
	dsnString := "http://publickey@" + host + "/42"

	spans, err := sentryotlp.New(ctx, dsnString, otlptracehttp.WithCompression(otlptracehttp.GzipCompression))
	if err != nil {
		t.Fatal(err)
	}
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(spans))
	_, span := tp.Tracer("test").Start(ctx, "env")
	span.End()
	if err := tp.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	logs, err := sentryotlp.NewLogExporter(ctx, dsnString, otlploghttp.WithCompression(otlploghttp.GzipCompression))
	if err != nil {
		t.Fatal(err)
	}
	lp := sdklog.NewLoggerProvider(sdklog.WithProcessor(sdklog.NewSimpleProcessor(logs)))
	var rec log.Record
	rec.SetBody(attribute.StringValue("env"))
	lp.Logger("test").Emit(ctx, rec)
	if err := lp.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}

	if n := len(collector.requests()); n != 0 {
		t.Errorf("%d requests went to OTEL_EXPORTER_OTLP_ENDPOINT", n)
	}
	reqs := sentry.requests()
	if len(reqs) != 2 {
		t.Fatalf("%d requests, want 2", len(reqs))
	}
	checkRequest(t, reqs[0], "/api/42/integration/otlp/v1/traces", "sentry sentry_key=publickey")
	checkRequest(t, reqs[1], "/api/42/integration/otlp/v1/logs", "sentry sentry_key=publickey")
	for _, r := range reqs {
		if r.encoding != "gzip" {
			t.Errorf("%s: content encoding %q, want the option's gzip", r.path, r.encoding)
		}
	}
	if names := spanNames(t, reqs[:1]); len(names) != 1 || names[0] != "env" {
		t.Errorf("spans %q", names)
	}
}

// TestNoDSN checks that an empty or invalid DSN is an error, never an
// exporter to the OTLP defaults, even when the OTLP environment variables
// name a collector.
func TestNoDSN(t *testing.T) {
	collector, other := newFake(t)
	t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://"+other)
	ctx := context.Background()
	for _, tt := range []struct {
		dsn  string
		want error
	}{
		{"", sentryotlp.ErrNoDSN},
		{"not a dsn", dsn.ErrInvalid},
		{"https://host/1", dsn.ErrInvalid},                  // no public key
		{"https://k@host/", dsn.ErrInvalid},                 // no project
		{"ftp://k@host/1", dsn.ErrInvalid},                  // scheme
		{"https://k@o1.ingest.sentry.io/x", dsn.ErrInvalid}, // project id not numeric
	} {
		spans, err := sentryotlp.New(ctx, tt.dsn)
		if !errors.Is(err, tt.want) || spans != nil {
			t.Errorf("New(%q) = %v, %v; want nil, %v", tt.dsn, spans, err, tt.want)
		}
		logs, err := sentryotlp.NewLogExporter(ctx, tt.dsn)
		if !errors.Is(err, tt.want) || logs != nil {
			t.Errorf("NewLogExporter(%q) = %v, %v; want nil, %v", tt.dsn, logs, err, tt.want)
		}
	}
	// A service that exports only when SENTRY_DSN is set must be able to
	// tell "not set" from "mistyped".
	if _, err := sentryotlp.New(ctx, ""); errors.Is(err, dsn.ErrInvalid) {
		t.Errorf("empty DSN reported as invalid: %v", err)
	}
	if n := len(collector.requests()); n != 0 {
		t.Errorf("%d requests went to OTEL_EXPORTER_OTLP_ENDPOINT", n)
	}
}

func TestEndpoints(t *testing.T) {
	for _, tt := range []struct {
		dsn, traces, logs string
	}{
		{
			"https://k@o1.ingest.us.sentry.io/42",
			"https://o1.ingest.us.sentry.io/api/42/integration/otlp/v1/traces",
			"https://o1.ingest.us.sentry.io/api/42/integration/otlp/v1/logs",
		},
		{
			"http://k@sentry.internal:9000/prefix/42",
			"http://sentry.internal:9000/prefix/api/42/integration/otlp/v1/traces",
			"http://sentry.internal:9000/prefix/api/42/integration/otlp/v1/logs",
		},
		{
			"http://k@[::1]:9000/a/b/42",
			"http://[::1]:9000/a/b/api/42/integration/otlp/v1/traces",
			"http://[::1]:9000/a/b/api/42/integration/otlp/v1/logs",
		},
	} {
		d, err := dsn.Parse(tt.dsn)
		if err != nil {
			t.Fatal(err)
		}
		if got := sentryotlp.TracesEndpoint(d); got != tt.traces {
			t.Errorf("TracesEndpoint(%q) = %q, want %q", tt.dsn, got, tt.traces)
		}
		if got := sentryotlp.LogsEndpoint(d); got != tt.logs {
			t.Errorf("LogsEndpoint(%q) = %q, want %q", tt.dsn, got, tt.logs)
		}
	}
}
