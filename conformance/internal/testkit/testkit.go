// Package testkit runs otelhttp services on 127.0.0.1 for the integration
// tests, each with its own tracer provider, span recorder and client.
package testkit

import (
	"context"
	"io"
	"net"
	"net/http"
	"time"

	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/otelsentry/otelsentry/bridge"
)

// TB is the part of testing.TB that the conformance helpers use, so that
// they, which tests import, do not import testing themselves.
type TB interface {
	Helper()
	Fatal(args ...any)
	Fatalf(format string, args ...any)
	Errorf(format string, args ...any)
	Cleanup(func())
}

// requestTimeout bounds every request a test sends.
const requestTimeout = 10 * time.Second

// Service is one running service.
type Service struct {
	// URL is the service's base URL, ending in "/".
	URL string
	// Recorder holds the spans the service recorded.
	Recorder *tracetest.SpanRecorder
	// Provider is the service's tracer provider.
	Provider *sdktrace.TracerProvider
	// Client calls other services through otelhttp with Provider.
	Client *http.Client
}

// Start starts a service whose handler, wrapped in otelhttp.NewHandler, is
// handle. The test's cleanup stops it.
func Start(t TB, name string, sampler sdktrace.Sampler, handle func(s *Service, w http.ResponseWriter, r *http.Request)) *Service {
	t.Helper()
	s := &Service{Recorder: tracetest.NewSpanRecorder()}
	s.Provider = sdktrace.NewTracerProvider(sdktrace.WithSampler(sampler), sdktrace.WithSpanProcessor(s.Recorder))
	s.Client = &http.Client{Transport: bridge.NewTransport(otelhttp.NewTransport(http.DefaultTransport, otelhttp.WithTracerProvider(s.Provider)))}
	handler := otelhttp.NewHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		handle(s, w, r)
	}), name, otelhttp.WithTracerProvider(s.Provider))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: handler, ReadHeaderTimeout: requestTimeout}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
		_ = s.Provider.Shutdown(ctx)
	})
	s.URL = "http://" + ln.Addr().String() + "/"
	return s
}

// Get sends a GET with header through client and returns the body.
func Get(ctx context.Context, client *http.Client, url string, header http.Header) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, requestTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return "", err
	}
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := client.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	return string(body), err
}

// Spans returns the ended spans of kind, in the order they ended.
func (s *Service) Spans(kind trace.SpanKind) []sdktrace.ReadOnlySpan {
	var out []sdktrace.ReadOnlySpan
	for _, span := range s.Recorder.Ended() {
		if span.SpanKind() == kind {
			out = append(out, span)
		}
	}
	return out
}
