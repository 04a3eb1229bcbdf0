// Package exampleutil holds what the example programs share: services on
// 127.0.0.1 with their own TracerProvider and an in-memory span recorder,
// HTTP clients that trace, and one line format for everything the examples
// print, which their tests parse back.
package exampleutil

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"

	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/otelsentry/otelsentry/bridge"
)

// Timeout bounds a whole example run.
const Timeout = 5 * time.Second

// shutdownTimeout bounds stopping one server.
const shutdownTimeout = 2 * time.Second

// TraceHeaders are the incoming headers the servers record and the examples
// print: Sentry's two and W3C's traceparent.
var TraceHeaders = []string{"sentry-trace", "baggage", "traceparent"}

// Tracing is one service's tracing: a TracerProvider whose ended spans a
// SpanRecorder keeps in memory.
type Tracing struct {
	Provider trace.TracerProvider
	Recorder *tracetest.SpanRecorder
}

// NewTracing returns a Tracing with its own SDK TracerProvider that samples
// with sampler.
func NewTracing(sampler sdktrace.Sampler) *Tracing {
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSampler(sampler), sdktrace.WithSpanProcessor(rec))
	return &Tracing{Provider: tp, Recorder: rec}
}

// Tracer returns the service's tracer.
func (t *Tracing) Tracer() trace.Tracer { return t.Provider.Tracer("example") }

// Spans returns the spans that have ended, in the order they ended.
func (t *Tracing) Spans() []sdktrace.ReadOnlySpan { return t.Recorder.Ended() }

// Client returns an HTTP client whose otelhttp transport starts client
// spans with this provider and injects the global propagator's headers;
// bridge.NewTransport around it gives the propagator each request's URL.
func (t *Tracing) Client() *http.Client {
	return &http.Client{Transport: bridge.NewTransport(otelhttp.NewTransport(http.DefaultTransport, otelhttp.WithTracerProvider(t.Provider)))}
}

// Server is an HTTP service on 127.0.0.1 with an ephemeral port. Its
// route is wrapped in otelhttp, which extracts with the global propagator,
// and it records the trace headers of every request the route receives.
type Server struct {
	Name string
	// URL is the base URL, "http://127.0.0.1:<port>".
	URL     string
	Tracing *Tracing

	path      string
	srv       *http.Server
	served    chan error
	closeOnce sync.Once
	closeErr  error

	mu       sync.Mutex
	received []http.Header
}

// ServerOption adds to what StartServer serves.
type ServerOption func(mux *http.ServeMux, wrap *func(http.Handler) http.Handler)

// WithRoute serves h at pattern too, without otelhttp and unrecorded: a
// route that takes no part in a trace, such as a script.
func WithRoute(pattern string, h http.Handler) ServerOption {
	return func(mux *http.ServeMux, _ *func(http.Handler) http.Handler) { mux.Handle(pattern, h) }
}

// WithWrap wraps the whole server in wrap, outside otelhttp and the
// recording of trace headers: for what a service answers before any span
// starts, such as CORS preflights.
func WithWrap(wrap func(http.Handler) http.Handler) ServerOption {
	return func(_ *http.ServeMux, w *func(http.Handler) http.Handler) { *w = wrap }
}

// StartServer starts the service name, serving pattern, a method and a
// path without wildcards such as "GET /work", with h inside an otelhttp
// handler named after pattern, so that the server span knows its route
// when it starts.
func StartServer(name string, tracing *Tracing, pattern string, h http.HandlerFunc, opts ...ServerOption) (*Server, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	_, path, _ := strings.Cut(pattern, " ")
	s := &Server{Name: name, URL: "http://" + ln.Addr().String(), Tracing: tracing, path: path, served: make(chan error, 1)}
	mux := http.NewServeMux()
	mux.Handle(pattern, s.record(otelhttp.NewHandler(h, pattern, otelhttp.WithTracerProvider(tracing.Provider))))
	wrap := func(h http.Handler) http.Handler { return h }
	for _, o := range opts {
		o(mux, &wrap)
	}
	s.srv = &http.Server{Handler: wrap(mux), ReadHeaderTimeout: shutdownTimeout}
	go func() { s.served <- s.srv.Serve(ln) }()
	return s, nil
}

// Endpoint returns the URL of the server's route.
func (s *Server) Endpoint() string { return s.URL + s.path }

// record keeps the trace headers of each request before next runs.
func (s *Server) record(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := http.Header{}
		for _, key := range TraceHeaders {
			if v := r.Header.Values(key); len(v) > 0 {
				h[http.CanonicalHeaderKey(key)] = v
			}
		}
		s.mu.Lock()
		s.received = append(s.received, h)
		s.mu.Unlock()
		next.ServeHTTP(w, r)
	})
}

// Received returns the trace headers of the requests served so far.
func (s *Server) Received() []http.Header {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]http.Header(nil), s.received...)
}

// Close shuts the server down, waiting for running handlers, so that
// every server span has ended when it returns. Only the first call acts.
func (s *Server) Close() error {
	s.closeOnce.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
		defer cancel()
		s.closeErr = s.srv.Shutdown(ctx)
		if err := <-s.served; !errors.Is(err, http.ErrServerClosed) {
			s.closeErr = errors.Join(s.closeErr, err)
		}
	})
	return s.closeErr
}

// Get sends a GET request with the extra header h (may be nil) and returns
// the response body; see Do.
func Get(ctx context.Context, client *http.Client, url string, h http.Header) (string, error) {
	return Do(ctx, client, http.MethodGet, url, h)
}

// Do sends a request without body and with the extra header h (may be
// nil), and returns the response body; a status other than 2xx is an
// error. Reading the body to the end also ends an otelhttp client span.
func Do(ctx context.Context, client *http.Client, method, url string, h http.Header) (string, error) {
	req, err := http.NewRequestWithContext(ctx, method, url, nil)
	if err != nil {
		return "", err
	}
	maps.Copy(req.Header, h)
	resp, err := client.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return "", err
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return "", fmt.Errorf("%s %s: %s: %s", method, url, resp.Status, body)
	}
	return string(body), nil
}

// Forward returns a handler that calls url with client, in the request's
// context, and answers with the response's body: a service that calls the
// next one.
func Forward(client *http.Client, url string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		body, err := Get(r.Context(), client, url, nil)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		_, _ = io.WriteString(w, body)
	}
}

// Hop is one service of a chain.
type Hop struct {
	Name    string
	Pattern string // as for StartServer
	Sampler sdktrace.Sampler
}

// Chain is services that call each other in order.
type Chain []*Server

// StartChain starts a service for each hop, each with its own Tracing:
// each one's handler calls the next one with an otelhttp client; the last
// one answers "ok".
func StartChain(hops ...Hop) (Chain, error) {
	chain := make(Chain, len(hops))
	for i := len(hops) - 1; i >= 0; i-- {
		tracing := NewTracing(hops[i].Sampler)
		h := func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, "ok") }
		if i+1 < len(hops) {
			h = Forward(tracing.Client(), chain[i+1].Endpoint())
		}
		s, err := StartServer(hops[i].Name, tracing, hops[i].Pattern, h)
		if err != nil {
			_ = chain.Close()
			return nil, err
		}
		chain[i] = s
	}
	return chain, nil
}

// Close closes every service, the first first.
func (c Chain) Close() error {
	var errs []error
	for _, s := range c {
		if s != nil {
			errs = append(errs, s.Close())
		}
	}
	return errors.Join(errs...)
}

// Report reports every service in order; see Server.Report.
func (c Chain) Report(w io.Writer) error {
	for _, s := range c {
		if err := s.Report(w); err != nil {
			return err
		}
	}
	return nil
}

// Main runs an example's run function with standard output and exits
// with status 1 if it fails.
func Main(name string, run func(io.Writer) error) {
	if err := run(os.Stdout); err != nil {
		fmt.Fprintf(os.Stderr, "%s: %v\n", name, err)
		os.Exit(1)
	}
}
