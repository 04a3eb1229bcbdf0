// Package fleet runs a chain of three otelsentry services on 127.0.0.1,
// each with its own tracer provider, sampler, propagator and exporters, as
// the processes of a fleet have them, for the tests that follow spans
// through an OpenTelemetry Collector and through an ingest that fails.
package fleet

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/propagation"
	sdkresource "go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"

	"github.com/otelsentry/otelsentry/bridge"
	"github.com/otelsentry/otelsentry/propagator"
	"github.com/otelsentry/otelsentry/sampling"
)

// Hops is the length of the chain, and SpansPerTrace the spans a sampled
// request leaves: a server span in each service and a client span in each
// but the last.
const (
	Hops          = 3
	SpansPerTrace = 2*Hops - 1
)

// requestTimeout bounds every request inside the chain.
const requestTimeout = 30 * time.Second

// Config configures every service of a chain.
type Config struct {
	// Rate is Sentry's traces sample rate.
	Rate float64
	// Consistent turns on sampling.WithConsistentSampling.
	Consistent bool
	// Exporters returns the span exporters of service hop, each put behind
	// a batch span processor; nil exports nothing.
	Exporters func(hop int) ([]sdktrace.SpanExporter, error)
	// Batch holds options of those batch span processors.
	Batch []sdktrace.BatchSpanProcessorOption
	// Processors returns further span processors of service hop.
	Processors func(hop int) []sdktrace.SpanProcessor
	// Report is what a service answers about the request it serves, one
	// line, followed by the next service's answer; nil answers as Get
	// reads it.
	Report func(r *http.Request, prop propagation.TextMapPropagator) string
}

// Chain is a running chain.
type Chain struct {
	// URL is the first service's.
	URL string

	servers    []*http.Server
	transports []*http.Transport
	providers  []*sdktrace.TracerProvider
	ended      atomic.Int64
}

// Start starts the chain, the last service first so that each knows the
// next one's URL.
func Start(cfg Config) (*Chain, error) {
	c := &Chain{}
	next := ""
	report := cfg.Report
	if report == nil {
		report = traceReport
	}
	for hop := Hops - 1; hop >= 0; hop-- {
		var exps []sdktrace.SpanExporter
		if cfg.Exporters != nil {
			var err error
			if exps, err = cfg.Exporters(hop); err != nil {
				_ = c.Shutdown(context.Background())
				return nil, err
			}
		}
		opts := []sdktrace.TracerProviderOption{
			sdktrace.WithSampler(sampling.New(sampling.WithSampleRate(cfg.Rate), sampling.WithConsistentSampling(cfg.Consistent))),
			sdktrace.WithResource(sdkresource.NewSchemaless(attribute.String("service.name", fmt.Sprintf("svc%d", hop)))),
			sdktrace.WithSpanProcessor(endCounter{&c.ended}),
		}
		for _, exp := range exps {
			opts = append(opts, sdktrace.WithBatcher(exp, cfg.Batch...))
		}
		if cfg.Processors != nil {
			for _, sp := range cfg.Processors(hop) {
				opts = append(opts, sdktrace.WithSpanProcessor(sp))
			}
		}
		tp := sdktrace.NewTracerProvider(opts...)
		c.providers = append(c.providers, tp)
		prop := propagator.Composite(propagator.WithRelease(fmt.Sprintf("svc%d@1", hop)))
		transport := &http.Transport{MaxIdleConnsPerHost: 256, IdleConnTimeout: time.Minute}
		c.transports = append(c.transports, transport)
		client := &http.Client{Timeout: requestTimeout, Transport: bridge.NewTransport(otelhttp.NewTransport(transport,
			otelhttp.WithTracerProvider(tp), otelhttp.WithPropagators(prop)))}
		handler := otelhttp.NewHandler(hopHandler(client, next, prop, report), fmt.Sprintf("GET /svc%d", hop),
			otelhttp.WithTracerProvider(tp), otelhttp.WithPropagators(prop))
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			_ = c.Shutdown(context.Background())
			return nil, err
		}
		srv := &http.Server{Handler: handler, ReadHeaderTimeout: 10 * time.Second}
		go func() { _ = srv.Serve(l) }()
		c.servers = append(c.servers, srv)
		next = "http://" + l.Addr().String() + "/"
	}
	c.URL = next
	return c, nil
}

// Ended returns how many sampled spans the services have ended.
func (c *Chain) Ended() int64 { return c.ended.Load() }

// Shutdown stops the services, the first one first, then their tracer
// providers, which send what their exporters hold, side by side as the
// processes of a fleet would; it returns what the exporters reported. The
// caller closes its own idle connections to the chain first: a connection
// that never carried a request holds a server's Shutdown for seconds.
func (c *Chain) Shutdown(ctx context.Context) error {
	var errs []error
	// The servers get at most half the time: a request still under way
	// after it is cut short, so that the providers keep the rest.
	sctx, cancel := ctx, context.CancelFunc(func() {})
	if d, ok := ctx.Deadline(); ok {
		sctx, cancel = context.WithDeadline(ctx, time.Now().Add(time.Until(d)/2))
	}
	defer cancel()
	for i := len(c.servers) - 1; i >= 0; i-- {
		if err := c.servers[i].Shutdown(sctx); err != nil {
			errs = append(errs, fmt.Errorf("svc%d: requests cut short: %w", Hops-1-i, err), c.servers[i].Close())
		}
		c.transports[i].CloseIdleConnections()
	}
	tpErrs := make([]error, len(c.providers))
	var wg sync.WaitGroup
	for i, tp := range c.providers {
		wg.Go(func() { tpErrs[i] = tp.Shutdown(ctx) })
	}
	wg.Wait()
	return errors.Join(append(errs, tpErrs...)...)
}

// endCounter counts the sampled spans that end.
type endCounter struct{ n *atomic.Int64 }

func (c endCounter) OnStart(context.Context, sdktrace.ReadWriteSpan) {}
func (c endCounter) OnEnd(s sdktrace.ReadOnlySpan) {
	if s.SpanContext().IsSampled() {
		c.n.Add(1)
	}
}
func (endCounter) Shutdown(context.Context) error   { return nil }
func (endCounter) ForceFlush(context.Context) error { return nil }

// traceReport is a service's view of the trace, as Get reads it.
func traceReport(r *http.Request, prop propagation.TextMapPropagator) string {
	sc := trace.SpanContextFromContext(r.Context())
	return fmt.Sprintf("%s %t %s", sc.TraceID(), sc.IsSampled(), propagator.DSCFromContext(r.Context(), prop)["sample_rand"])
}

// hopHandler calls the next service, if any, and answers with this
// service's report line, then the next one's.
func hopHandler(client *http.Client, next string, prop propagation.TextMapPropagator, line func(*http.Request, propagation.TextMapPropagator) string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		report := line(r, prop) + "\n"
		if next == "" {
			_, _ = io.WriteString(w, report)
			return
		}
		req, err := http.NewRequestWithContext(r.Context(), http.MethodGet, next, nil)
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		resp, err := client.Do(req)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<16))
		if err != nil || resp.StatusCode != http.StatusOK {
			http.Error(w, fmt.Sprintf("next hop: %d %v", resp.StatusCode, err), http.StatusBadGateway)
			return
		}
		_, _ = io.WriteString(w, report+string(body))
	})
}

// Trace is what the services saw of one request's trace.
type Trace struct {
	// ID is the trace id, the same in every service.
	ID string
	// Sampled is the decision, the same in every service.
	Sampled bool
	// SampleRand is the trace's sample_rand, the same in every service.
	SampleRand string
}

// Get sends one request with header h (nil for none: the chain starts the
// trace) and returns the trace, checking that every service agrees on it.
func Get(ctx context.Context, client *http.Client, url string, h http.Header) (Trace, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return Trace{}, err
	}
	if h != nil {
		req.Header = h
	}
	resp, err := client.Do(req)
	if err != nil {
		return Trace{}, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<16))
	if err != nil || resp.StatusCode != http.StatusOK {
		return Trace{}, fmt.Errorf("status %d: %v %s", resp.StatusCode, err, body)
	}
	lines := strings.Split(strings.TrimSuffix(string(body), "\n"), "\n")
	if len(lines) != Hops {
		return Trace{}, fmt.Errorf("%d hop reports: %q", len(lines), body)
	}
	var first Trace
	for i, line := range lines {
		var t Trace
		if _, err := fmt.Sscanf(line, "%s %t %s", &t.ID, &t.Sampled, &t.SampleRand); err != nil {
			return Trace{}, fmt.Errorf("report %q: %v", line, err)
		}
		if i == 0 {
			first = t
		} else if t != first {
			return Trace{}, fmt.Errorf("hop %d saw %+v, hop 0 %+v", i, t, first)
		}
	}
	return first, nil
}
