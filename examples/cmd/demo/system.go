package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"slices"
	"strconv"
	"sync"
	"time"

	"go.opentelemetry.io/contrib/bridges/otelslog"
	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/propagation"
	sdklog "go.opentelemetry.io/otel/sdk/log"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/otelsentry/otelsentry/bridge"
	"github.com/otelsentry/otelsentry/conformance/browser"
	"github.com/otelsentry/otelsentry/examples/internal/exampleutil"
	"github.com/otelsentry/otelsentry/examples/internal/natsqueue"
	"github.com/otelsentry/otelsentry/propagator"
	"github.com/otelsentry/otelsentry/sampling"
	"github.com/otelsentry/otelsentry/sentryotlp"
)

// system is the set of services of one run.
type system struct {
	sentry    *sentryConfig
	rate      float64
	exporting []string
	services  map[string]*service
	servers   []*http.Server
	webURL    string
	apiURL    string
	workerURL string
	hops      hopLog
	// nats is the embedded NATS server; nil with -nats.
	nats    *natsqueue.Server
	natsURL string
	// queueName names the queue's stream, and its subject "<name>.jobs".
	queueName string
	queue     *natsqueue.Queue
	consumer  *child
	// browser runs the Sentry browser SDK; nil when it cannot run here, for
	// the reason in standIn.
	browser   *browser.Browser
	standIn   error
	envelopes browser.Envelopes
	mu        sync.Mutex
	// sentBaggage is what the browser sent the api in its baggage headers.
	sentBaggage []string
}

// service is one named participant with its own tracer and logger
// providers.
type service struct {
	name     string
	provider *sdktrace.TracerProvider
	recorder *tracetest.SpanRecorder
	tracer   trace.Tracer
	logs     *sdklog.LoggerProvider
	logged   *logRecorder
	logger   *slog.Logger
}

// shutdown shuts the service's providers down, flushing their exporters.
func (s *service) shutdown(ctx context.Context) error {
	return errors.Join(s.provider.Shutdown(ctx), s.logs.Shutdown(ctx))
}

// logRecorder is a log processor that keeps what it is given in memory, as
// the span recorder does for spans.
type logRecorder struct {
	service string
	mu      sync.Mutex
	records []logRecord
}

func (r *logRecorder) Enabled(context.Context, sdklog.EnabledParameters) bool { return true }

func (r *logRecorder) OnEmit(_ context.Context, rec *sdklog.Record) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.records = append(r.records, newLogRecord(r.service, rec))
	return nil
}

func (r *logRecorder) Shutdown(context.Context) error   { return nil }
func (r *logRecorder) ForceFlush(context.Context) error { return nil }

// Records returns the log records emitted so far, in the order they were.
func (r *logRecorder) Records() []logRecord {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.records)
}

// sentryConfig is the Sentry configuration every participant shares: the
// propagator, and the traces sample rate of their samplers.
type sentryConfig struct {
	propagator propagation.TextMapPropagator
	rate       float64
}

// newSentryConfig returns the shared configuration; SENTRY_DSN adds the
// public key of the DSC and keeps trace headers off the DSN's ingest.
func newSentryConfig(rate float64) *sentryConfig {
	c := &sentryConfig{
		propagator: propagator.Composite(propagator.WithDSN(os.Getenv("SENTRY_DSN")),
			propagator.WithRelease("demo@1.0.0"), propagator.WithEnvironment("demo"),
			propagator.WithTracePropagationTargets([]propagator.Target{propagator.Substring("http://127.0.0.1:")})),
		rate: rate,
	}
	// The bridge's helpers (meta tags, job metadata, the subprocess's
	// environment) work with the global propagator.
	otel.SetTextMapPropagator(c.propagator)
	return c
}

// sampler returns a participant's sampler.
func (c *sentryConfig) sampler() sdktrace.Sampler {
	return sampling.New(sampling.WithSampleRate(c.rate))
}

// newService returns a participant whose spans and log records are
// recorded in memory and, when SENTRY_DSN is set, exported to Sentry; with
// OTEL_EXPORTER_OTLP_ENDPOINT set, its spans also go to that collector.
func newService(ctx context.Context, name string, b *sentryConfig) (*service, []string, error) {
	res, err := resource.Merge(resource.Default(), resource.NewSchemaless(attribute.String("service.name", name)))
	if err != nil {
		return nil, nil, err
	}
	s := &service{name: name, recorder: tracetest.NewSpanRecorder(), logged: &logRecorder{service: name}}
	opts := []sdktrace.TracerProviderOption{sdktrace.WithSampler(b.sampler()), sdktrace.WithResource(res), sdktrace.WithSpanProcessor(s.recorder)}
	logOpts := []sdklog.LoggerProviderOption{sdklog.WithResource(res), sdklog.WithProcessor(s.logged)}
	var exporting []string
	if dsn := os.Getenv("SENTRY_DSN"); dsn != "" {
		exp, err := sentryotlp.New(ctx, dsn)
		if err != nil {
			return nil, nil, err
		}
		logExp, err := sentryotlp.NewLogExporter(ctx, dsn)
		if err != nil {
			return nil, nil, err
		}
		opts = append(opts, sdktrace.WithBatcher(exp))
		logOpts = append(logOpts, sdklog.WithProcessor(sdklog.NewBatchProcessor(logExp)))
		exporting = append(exporting, "spans and log lines to Sentry (SENTRY_DSN)")
	}
	if os.Getenv("OTEL_EXPORTER_OTLP_ENDPOINT") != "" {
		exp, err := otlptracehttp.New(ctx) // reads every OTEL_EXPORTER_OTLP_* setting
		if err != nil {
			return nil, nil, err
		}
		opts = append(opts, sdktrace.WithBatcher(exp))
		exporting = append(exporting, "spans to the OTLP collector at OTEL_EXPORTER_OTLP_ENDPOINT")
	}
	s.provider = sdktrace.NewTracerProvider(opts...)
	s.tracer = s.provider.Tracer("otelsentry-demo")
	s.logs = sdklog.NewLoggerProvider(logOpts...)
	s.logger = otelslog.NewLogger("otelsentry-demo", otelslog.WithLoggerProvider(s.logs))
	return s, exporting, nil
}

// startSystem prepares the browser, starts web, api and worker on
// 127.0.0.1, the queue and the consumer's process.
func startSystem(ctx context.Context, opts options) (*system, error) {
	b := newSentryConfig(opts.rate)
	sys := &system{sentry: b, rate: opts.rate, services: map[string]*service{}, natsURL: opts.natsURL}
	if err := sys.start(ctx, opts.chromium); err != nil {
		_ = sys.stop()
		return nil, err
	}
	return sys, nil
}

// start does startSystem's work; on an error, the caller stops what it
// started.
func (sys *system) start(ctx context.Context, chromium string) error {
	if err := sys.startBrowser(ctx, chromium); err != nil {
		return err
	}
	names := []string{"web", "api", "worker"}
	if sys.browser == nil {
		names = append(names, "browser") // the stand-in records its spans as a service does
	}
	for _, name := range names {
		s, exporting, err := newService(ctx, name, sys.sentry)
		if err != nil {
			return err
		}
		sys.services[name], sys.exporting = s, exporting
	}
	if err := sys.startQueue(ctx); err != nil {
		return err
	}
	// Each server calls the next, or renders its URL: every URL is known
	// before any server starts.
	var listeners []net.Listener
	for _, url := range []*string{&sys.webURL, &sys.apiURL, &sys.workerURL} {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			for _, l := range listeners {
				_ = l.Close()
			}
			return err
		}
		listeners = append(listeners, ln)
		*url = "http://" + ln.Addr().String()
	}
	web := sys.route("web", "GET /page", sys.servePage)
	if sys.browser != nil {
		sys.handleSDK(web)
	}
	// The api is on another origin than the page: it answers the browser's
	// preflight for sentry-trace and baggage.
	api := browser.AllowTraceHeaders(sys.route("api", "GET /api/checkout", sys.serveCheckout), sys.webURL)
	for i, h := range []http.Handler{web, api, sys.route("worker", "POST /work", sys.serveWork)} {
		srv := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second}
		go func() { _ = srv.Serve(listeners[i]) }()
		sys.servers = append(sys.servers, srv)
	}
	return nil
}

// route returns a mux with one route of service, traced. Wrapping the
// route inside the mux lets otelhttp's span start with the route, which
// becomes the transaction name.
func (sys *system) route(service, pattern string, h http.HandlerFunc) *http.ServeMux {
	mux := http.NewServeMux()
	mux.Handle(pattern, otelhttp.NewHandler(h, pattern,
		otelhttp.WithTracerProvider(sys.services[service].provider), otelhttp.WithPropagators(sys.sentry.propagator)))
	return mux
}

// startQueue starts the embedded NATS server unless -nats names one,
// opens the queue, under a name of its own so that a server that outlives
// the run holds no old jobs for it, and starts the consumer's process.
func (sys *system) startQueue(ctx context.Context) error {
	if sys.natsURL == "" {
		srv, err := natsqueue.StartServer()
		if err != nil {
			return err
		}
		sys.nats, sys.natsURL = srv, srv.URL()
	}
	sys.queueName = "checkout-" + strconv.FormatInt(time.Now().UnixNano(), 36)
	q, err := natsqueue.Open(ctx, sys.natsURL, sys.queueName,
		natsqueue.WithTracerProvider(sys.services["worker"].provider), natsqueue.WithPropagator(sys.sentry.propagator))
	if err != nil {
		return err
	}
	sys.queue = q
	sys.consumer, err = startChild(ctx, childConfig{Role: roleConsumer, Rate: sys.rate, NATS: sys.natsURL, Queue: sys.queueName}, os.Environ())
	return err
}

// queueLine says which NATS server the queue is on.
func (sys *system) queueLine() string {
	if sys.nats != nil {
		return fmt.Sprintf("NATS JetStream started in this process at %s, storing in a temporary directory removed at exit (-nats URL for another server)", sys.natsURL)
	}
	return fmt.Sprintf("NATS JetStream at %s (-nats)", sys.natsURL)
}

// stop stops the consumer's process if it still runs, shuts the servers
// down, removes the queue and stops the NATS server, and shuts the
// services' providers down, flushing exporters.
func (sys *system) stop() error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if sys.consumer != nil {
		sys.consumer.stop()
	}
	var errs []error
	for _, srv := range sys.servers {
		errs = append(errs, srv.Shutdown(ctx))
	}
	if sys.queue != nil {
		errs = append(errs, sys.queue.Delete(ctx), sys.queue.Close())
	}
	if sys.nats != nil {
		errs = append(errs, sys.nats.Close())
	}
	for _, s := range sys.services {
		errs = append(errs, s.shutdown(ctx))
	}
	return errors.Join(errs...)
}

// hopOrder is the order of the participants along the trace.
var hopOrder = []string{"web", "browser", "api", "worker", "consumer", "subprocess"}

// follow plays the browser, waits for the job and the subprocess, and
// returns what every participant saw.
func (sys *system) follow(ctx context.Context) (*result, error) {
	browserHop, browserSpans, hidden, err := sys.browse(ctx)
	if err != nil {
		return nil, fmt.Errorf("the browser: %w", err)
	}
	consumed, err := sys.consumer.wait(ctx)
	if err != nil {
		return nil, fmt.Errorf("the consumer: %w", err)
	}
	all := childReport{Hops: append(sys.hops.all(), browserHop), Spans: browserSpans}
	for _, s := range sys.services {
		all.addService(s)
	}
	all.add(consumed)
	slices.SortStableFunc(all.Hops, func(a, b hop) int {
		return slices.Index(hopOrder, a.Service) - slices.Index(hopOrder, b.Service)
	})
	return &result{hops: all.Hops, spans: all.Spans, logs: all.Logs, hiddenSpans: hidden}, nil
}

// servePage renders the page with the meta tags of its own span.
func (sys *system) servePage(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	sys.hops.add(newHop(sys.sentry, "web", "starts the trace", ctx))
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	if err := sys.page(ctx).Render(w); err != nil {
		sys.services["web"].logger.ErrorContext(ctx, "rendering the page", "error", err)
		return
	}
	// The context carries the server span, so the line is logged on it.
	sys.services["web"].logger.InfoContext(ctx, "rendered the page")
}

// serveCheckout is the API: it calls the worker through otelhttp.
func (sys *system) serveCheckout(w http.ResponseWriter, r *http.Request) {
	sys.mu.Lock()
	sys.sentBaggage = r.Header.Values("baggage")
	sys.mu.Unlock()
	sys.hops.add(newHop(sys.sentry, "api", "sentry-trace and baggage headers", r.Context()))
	client := &http.Client{Transport: bridge.NewTransport(otelhttp.NewTransport(http.DefaultTransport,
		otelhttp.WithTracerProvider(sys.services["api"].provider), otelhttp.WithPropagators(sys.sentry.propagator)))}
	if _, err := exampleutil.Do(r.Context(), client, http.MethodPost, sys.workerURL+"/work", nil); err != nil {
		sys.services["api"].logger.ErrorContext(r.Context(), "calling the worker", "error", err)
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	sys.services["api"].logger.InfoContext(r.Context(), "checkout accepted")
}

// serveWork publishes a job whose message carries the trace in its
// headers.
func (sys *system) serveWork(w http.ResponseWriter, r *http.Request) {
	sys.hops.add(newHop(sys.sentry, "worker", "sentry-trace and baggage headers", r.Context()))
	worker := sys.services["worker"]
	if err := sys.queue.Publish(r.Context(), []byte("receipt for the checkout")); err != nil {
		worker.logger.ErrorContext(r.Context(), "publishing the job", "error", err)
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	worker.logger.InfoContext(r.Context(), "job queued")
	w.WriteHeader(http.StatusAccepted)
}

// newHop describes how a participant continued the trace in ctx: the trace,
// its decision and the DSC it sends on, which is the one it continued with,
// or, at the head, its own.
func newHop(b *sentryConfig, service, from string, ctx context.Context) hop {
	return hop{
		Service:  service,
		From:     from,
		Process:  "pid " + strconv.Itoa(os.Getpid()),
		TraceID:  trace.SpanContextFromContext(ctx).TraceID().String(),
		Decision: propagator.DecisionFromContext(ctx).String(),
		DSC:      propagator.DSCFromContext(ctx, b.propagator),
	}
}

// hopLog collects the hops, from the servers' goroutines.
type hopLog struct {
	mu   sync.Mutex
	hops []hop
}

func (l *hopLog) add(h hop) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.hops = append(l.hops, h)
}

func (l *hopLog) all() []hop {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]hop(nil), l.hops...)
}

// browserBaggage returns the baggage headers the api received from the
// browser.
func (sys *system) browserBaggage() []string {
	sys.mu.Lock()
	defer sys.mu.Unlock()
	return sys.sentBaggage
}
