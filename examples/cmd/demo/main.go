// Command demo shows two OpenTelemetry-only Go services joining a trace that
// a Sentry browser SDK started, with no Sentry SDK in either service.
//
// It starts an "api" and a "worker" service on 127.0.0.1 (ephemeral ports),
// each with its own TracerProvider and otelhttp handlers, and the global
// propagator propagator.Composite (W3C trace context, W3C baggage, Sentry).
// It then sends one request to the api the way a browser page instrumented
// with Sentry does: a sentry-trace header with a fresh trace id and sampled
// flag 1, and a baggage header holding the browser's Dynamic Sampling
// Context (DSC) plus one third-party member, vendor=third-party. The api
// calls the worker through an otelhttp transport.
//
// What to look for in the output:
//
//   - every hop's server span has the browser's trace id;
//   - the api's server span has the browser's span as parent, and the
//     worker's server span has the api's client span as parent (the span id
//     in the worker's incoming sentry-trace);
//   - sampled is true at every hop: the browser's "-1" decided;
//   - the DSC is the browser's at every hop, unchanged (frozen): release
//     stays frontend@2.3.1 although the services are configured with
//     demo@1.0.0, and sample_rand stays 0.421337;
//   - the last line sums it up; vendor=third-party is never forwarded by the
//     Sentry propagator itself, but propagation.Baggage in the composite
//     forwards OTel baggage, so the worker receives it anyway.
//
// The program exits with status 1 if the services did not join the
// browser's trace. It stops its servers itself and finishes in well under a
// second.
package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"

	"github.com/otelsentry/otelsentry/propagator"
)

const (
	// runTimeout bounds the whole demo; shutdownTimeout bounds stopping.
	runTimeout      = 5 * time.Second
	shutdownTimeout = 2 * time.Second

	apiRoute    = "GET /checkout"
	workerRoute = "GET /work"

	// thirdPartyKey is the non-Sentry baggage member the browser sends.
	thirdPartyKey = "vendor"
)

// errNotJoined is returned when a service did not continue the browser's
// trace.
var errNotJoined = errors.New("the services did not join the browser's trace")

// propagatorOptions configure the Sentry propagator of both services.
var propagatorOptions = []propagator.Option{
	propagator.WithRelease("demo@1.0.0"),
	propagator.WithEnvironment("demo"),
}

func main() {
	if err := run(os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "demo:", err)
		os.Exit(1)
	}
}

// run starts the services, sends the request of a browser with a fresh
// trace, prints every hop to w and returns errNotJoined if the trace did
// not join.
func run(w io.Writer) error {
	b, err := newBrowser()
	if err != nil {
		return err
	}
	return runBrowser(w, b)
}

// runBrowser is run for the browser request b.
func runBrowser(w io.Writer, b browser) error {
	ctx, cancel := context.WithTimeout(context.Background(), runTimeout)
	defer cancel()
	rep, err := exercise(ctx, b)
	if err != nil {
		return err
	}
	if err := rep.print(w); err != nil {
		return err
	}
	if !rep.joined {
		return errNotJoined
	}
	return nil
}

// browser is the request a Sentry browser SDK sends to the api.
type browser struct {
	traceID     string
	spanID      string
	sentryTrace string
	baggage     string
}

// newBrowser returns a browser request for a fresh sampled trace.
func newBrowser() (browser, error) {
	var ids [24]byte
	if _, err := rand.Read(ids[:]); err != nil {
		return browser{}, err
	}
	ids[0] |= 1  // never an all-zero trace id
	ids[16] |= 1 // nor span id
	traceID := hex.EncodeToString(ids[:16])
	spanID := hex.EncodeToString(ids[16:])
	return browser{
		traceID:     traceID,
		spanID:      spanID,
		sentryTrace: traceID + "-" + spanID + "-1",
		baggage: "sentry-trace_id=" + traceID +
			",sentry-public_key=demo,sentry-release=frontend@2.3.1,sentry-environment=demo" +
			",sentry-sample_rate=1,sentry-sample_rand=0.421337,sentry-sampled=true" +
			",sentry-transaction=%2Fcheckout," + thirdPartyKey + "=third-party",
	}, nil
}

func (b browser) header() http.Header {
	h := http.Header{}
	h.Set("sentry-trace", b.sentryTrace)
	h.Set("baggage", b.baggage)
	return h
}

// dsc returns the DSC the browser sends: its baggage's sentry- members,
// prefix removed, values decoded.
func (b browser) dsc() map[string]string {
	dsc := map[string]string{}
	for key, value := range baggageMembers(b.baggage) {
		if name, ok := strings.CutPrefix(key, "sentry-"); ok {
			dsc[name] = value
		}
	}
	return dsc
}

// hop is what one service saw of the request it served.
type hop struct {
	service string
	route   string
	// The incoming headers, as received.
	sentryTrace, traceparent, tracestate, baggage string
	// server is the span context of the service's otelhttp server span;
	// parent is its parent span id, read from the span recorder.
	server trace.SpanContext
	parent trace.SpanID
	// continued reports whether the propagator stored Sentry state for the
	// server span's trace; dsc is the frozen DSC it holds.
	continued bool
	dsc       propagator.DSC
}

// hopLog collects the hops the handlers record, from the servers'
// goroutines.
type hopLog struct {
	mu   sync.Mutex
	hops map[string]hop
}

func (l *hopLog) record(service string, r *http.Request) {
	sc := trace.SpanContextFromContext(r.Context())
	h := hop{
		service:     service,
		route:       r.Pattern,
		sentryTrace: r.Header.Get("sentry-trace"),
		traceparent: r.Header.Get("traceparent"),
		tracestate:  r.Header.Get("tracestate"),
		baggage:     strings.Join(r.Header.Values("baggage"), ","),
		server:      sc,
	}
	if in, ok := propagator.IncomingFromContext(r.Context(), sc.TraceID()); ok {
		h.continued, h.dsc = true, in.DSC()
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.hops == nil {
		l.hops = map[string]hop{}
	}
	l.hops[service] = h
}

func (l *hopLog) get(service string) (hop, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	h, ok := l.hops[service]
	return h, ok
}

// service is one HTTP service with its own tracer provider and in-memory
// span recorder.
type service struct {
	name  string
	tp    *sdktrace.TracerProvider
	spans *tracetest.SpanRecorder
	mux   *http.ServeMux
	srv   *http.Server
	url   string
	done  chan error
	// stopped is set by the first stop.
	stopped bool
}

func newService(name string) *service {
	spans := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(
		sdktrace.WithSampler(sdktrace.ParentBased(sdktrace.AlwaysSample())),
		sdktrace.WithResource(resource.NewWithAttributes(semconv.SchemaURL, semconv.ServiceName(name))),
		sdktrace.WithSpanProcessor(spans),
	)
	return &service{name: name, tp: tp, spans: spans, mux: http.NewServeMux()}
}

// handle registers h for pattern, wrapped in its own otelhttp handler so
// that the server span is named after the route.
func (s *service) handle(pattern string, h http.HandlerFunc) {
	s.mux.Handle(pattern, otelhttp.NewHandler(h, pattern, otelhttp.WithTracerProvider(s.tp)))
}

// start serves the mux on an ephemeral port of 127.0.0.1.
func (s *service) start() error {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return fmt.Errorf("%s: %w", s.name, err)
	}
	s.srv = &http.Server{Handler: s.mux, ReadHeaderTimeout: shutdownTimeout}
	s.url = "http://" + ln.Addr().String()
	s.done = make(chan error, 1)
	go func() { s.done <- s.srv.Serve(ln) }()
	return nil
}

// stop shuts the server down, waiting for requests in flight, then the
// tracer provider. Only the first call does anything.
func (s *service) stop(ctx context.Context) error {
	if s.stopped {
		return nil
	}
	s.stopped = true
	var err error
	if s.srv != nil {
		err = s.srv.Shutdown(ctx)
		if serveErr := <-s.done; !errors.Is(serveErr, http.ErrServerClosed) {
			err = errors.Join(err, serveErr)
		}
	}
	if tpErr := s.tp.Shutdown(ctx); tpErr != nil {
		err = errors.Join(err, tpErr)
	}
	if err != nil {
		return fmt.Errorf("stopping %s: %w", s.name, err)
	}
	return nil
}

// recordedSpan is a finished span and the service that recorded it.
type recordedSpan struct {
	service string
	span    sdktrace.ReadOnlySpan
}

// report is everything the demo prints and checks.
type report struct {
	browser        browser
	browserDSC     map[string]string
	apiURL         string
	workerURL      string
	api, worker    hop
	client         trace.SpanContext // the api's client span to the worker
	clientParent   trace.SpanID
	spans          []recordedSpan
	sentryAlone    string // baggage the Sentry propagator alone re-injects
	joined         bool
	frozen         bool
	vendorBySentry bool
	vendorAtWorker bool
}

// exercise starts both services, sends b's request to the api, stops the
// services and reports what each hop saw.
func exercise(ctx context.Context, b browser) (_ *report, err error) {
	otel.SetTextMapPropagator(propagator.Composite(propagatorOptions...))

	var hops hopLog
	worker, api := newService("worker"), newService("api")
	defer func() {
		stopCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), shutdownTimeout)
		defer cancel()
		// The api first: it is the worker's only client.
		err = errors.Join(err, api.stop(stopCtx), worker.stop(stopCtx))
	}()

	worker.handle(workerRoute, func(w http.ResponseWriter, r *http.Request) {
		hops.record(worker.name, r)
		fmt.Fprintln(w, "work done")
	})
	if err := worker.start(); err != nil {
		return nil, err
	}

	toWorker := &http.Transport{}
	defer toWorker.CloseIdleConnections()
	client := &http.Client{
		Transport: otelhttp.NewTransport(toWorker, otelhttp.WithTracerProvider(api.tp)),
		Timeout:   runTimeout,
	}
	api.handle(apiRoute, func(w http.ResponseWriter, r *http.Request) {
		hops.record(api.name, r)
		if err := get(r.Context(), client, worker.url+"/work", nil); err != nil {
			http.Error(w, "worker: "+err.Error(), http.StatusBadGateway)
			return
		}
		fmt.Fprintln(w, "checkout done")
	})
	if err := api.start(); err != nil {
		return nil, err
	}

	// The browser's own client carries no instrumentation: its headers are
	// written by hand, as the Sentry browser SDK writes them.
	fromBrowser := &http.Transport{}
	defer fromBrowser.CloseIdleConnections()
	if err := get(ctx, &http.Client{Transport: fromBrowser, Timeout: runTimeout}, api.url+"/checkout", b.header()); err != nil {
		return nil, fmt.Errorf("browser request to the api: %w", err)
	}

	// Shutdown waits for the handlers, so every server span has ended.
	stopCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), shutdownTimeout)
	defer cancel()
	if err := errors.Join(api.stop(stopCtx), worker.stop(stopCtx)); err != nil {
		return nil, err
	}

	rep := &report{browser: b, browserDSC: b.dsc(), apiURL: api.url, workerURL: worker.url}
	var ok bool
	if rep.api, ok = hops.get(api.name); !ok {
		return nil, errors.New("the api recorded no request")
	}
	if rep.worker, ok = hops.get(worker.name); !ok {
		return nil, errors.New("the worker recorded no request")
	}
	for _, s := range []*service{api, worker} {
		for _, span := range s.spans.Ended() {
			rep.spans = append(rep.spans, recordedSpan{service: s.name, span: span})
		}
	}
	rep.analyze()
	return rep, nil
}

// get sends a GET request with header and reads the whole response, which
// must have status 200.
func get(ctx context.Context, client *http.Client, target string, header http.Header) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
	if err != nil {
		return err
	}
	maps.Copy(req.Header, header)
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s: %s", resp.Status, strings.TrimSpace(string(body)))
	}
	return nil
}

// analyze links the hops to the recorded spans and works out the verdicts.
func (r *report) analyze() {
	for _, rs := range r.spans {
		sc := rs.span.SpanContext()
		switch {
		case sc.SpanID() == r.api.server.SpanID():
			r.api.parent = rs.span.Parent().SpanID()
		case sc.SpanID() == r.worker.server.SpanID():
			r.worker.parent = rs.span.Parent().SpanID()
		case rs.service == "api" && rs.span.SpanKind() == trace.SpanKindClient:
			r.client, r.clientParent = sc, rs.span.Parent().SpanID()
		}
	}

	browserTrace := r.browser.traceID
	r.joined = r.api.server.TraceID().String() == browserTrace &&
		r.api.parent.String() == r.browser.spanID &&
		r.client.TraceID().String() == browserTrace &&
		r.clientParent == r.api.server.SpanID() &&
		r.worker.server.TraceID().String() == browserTrace &&
		r.worker.parent == r.client.SpanID()

	r.frozen = r.worker.continued && maps.Equal(map[string]string(r.worker.dsc), r.browserDSC)

	_, r.vendorAtWorker = baggageMembers(r.worker.baggage)[thirdPartyKey]

	// The Sentry propagator on its own, without propagation.Baggage: what
	// does it write after continuing the browser's request?
	p := propagator.New(propagatorOptions...)
	ctx := p.Extract(context.Background(), propagation.HeaderCarrier(r.browser.header()))
	out := propagation.HeaderCarrier{}
	p.Inject(ctx, out)
	r.sentryAlone = out.Get("baggage")
	_, r.vendorBySentry = baggageMembers(r.sentryAlone)[thirdPartyKey]
}

// print writes the report, one block per hop, then the span tree and the
// verdict line.
func (r *report) print(w io.Writer) error {
	p := &printer{w: w}
	p.linef("Browser (Sentry browser SDK) starts the trace")
	p.linef("  trace id               %s", r.browser.traceID)
	p.linef("  span id                %s", r.browser.spanID)
	p.linef("  sends sentry-trace     %s", r.browser.sentryTrace)
	p.linef("  sends baggage          %s", r.browser.baggage)
	p.linef("")
	r.printHop(p, 1, r.api, r.apiURL)
	p.linef("  client span to worker  trace %s  span %s  sampled %t",
		r.client.TraceID(), r.client.SpanID(), r.client.IsSampled())
	p.linef("")
	r.printHop(p, 2, r.worker, r.workerURL)
	p.linef("")
	r.printTree(p)
	p.linef("")
	p.linef("Sentry propagator alone (Extract then Inject, no propagation.Baggage) writes")
	p.linef("  baggage                %s", orNone(r.sentryAlone))
	p.linef("")
	p.linef("Result: trace joined: %s | DSC frozen at worker: %s | %s=third-party forwarded by the Sentry propagator: %s (reached the worker via propagation.Baggage: %s)",
		yesNo(r.joined), yesNo(r.frozen), thirdPartyKey, yesNo(r.vendorBySentry), yesNo(r.vendorAtWorker))
	return p.err
}

func (r *report) printHop(p *printer, n int, h hop, addr string) {
	p.linef("Hop %d: %s (%s, route %q)", n, h.service, addr, h.route)
	p.linef("  incoming sentry-trace  %s", orNone(h.sentryTrace))
	p.linef("  incoming traceparent   %s", orNone(h.traceparent))
	p.linef("  incoming tracestate    %s", orNone(h.tracestate))
	p.linef("  incoming baggage       %s", orNone(h.baggage))
	p.linef("  server span            trace %s  span %s  parent %s",
		h.server.TraceID(), h.server.SpanID(), r.describeParent(h.parent))
	p.linef("  sampled                %t", h.server.IsSampled())
	if !h.continued {
		p.linef("  DSC                    (none: the propagator did not continue the trace)")
		return
	}
	for i, key := range slices.Sorted(maps.Keys(h.dsc)) {
		label := ""
		if i == 0 {
			label = "DSC"
		}
		p.linef("  %-22s %s=%s", label, key, h.dsc[key])
	}
}

// describeParent names the span a server span's parent id refers to.
func (r *report) describeParent(id trace.SpanID) string {
	switch {
	case !id.IsValid():
		return "none (a new root span)"
	case id.String() == r.browser.spanID:
		return id.String() + " (the browser's span)"
	case r.client.IsValid() && id == r.client.SpanID():
		return id.String() + " (the api's client span)"
	}
	return id.String() + " (unknown span)"
}

// printTree prints the recorded spans of both services under the
// browser's span, by parent.
func (r *report) printTree(p *printer) {
	children := map[trace.SpanID][]recordedSpan{}
	known := map[trace.SpanID]bool{}
	for _, rs := range r.spans {
		known[rs.span.SpanContext().SpanID()] = true
	}
	var orphans []recordedSpan
	for _, rs := range r.spans {
		parent := rs.span.Parent().SpanID()
		if parent.String() != r.browser.spanID && !known[parent] {
			orphans = append(orphans, rs)
			continue
		}
		children[parent] = append(children[parent], rs)
	}
	for _, list := range children {
		slices.SortFunc(list, func(a, b recordedSpan) int {
			return a.span.StartTime().Compare(b.span.StartTime())
		})
	}
	var walk func(parent trace.SpanID, indent string)
	walk = func(parent trace.SpanID, indent string) {
		for _, rs := range children[parent] {
			r.printSpan(p, indent+"└─ ", rs)
			walk(rs.span.SpanContext().SpanID(), indent+"   ")
		}
	}
	p.linef("Span tree (both services' recorders, trace %s)", r.browser.traceID)
	p.linef("  browser  span %s (remote)", r.browser.spanID)
	var browserSpan trace.SpanID
	if _, err := hex.Decode(browserSpan[:], []byte(r.browser.spanID)); err == nil {
		walk(browserSpan, "  ")
	}
	for _, rs := range orphans {
		r.printSpan(p, "  ", rs)
		walk(rs.span.SpanContext().SpanID(), "     ")
	}
}

func (r *report) printSpan(p *printer, prefix string, rs recordedSpan) {
	sc := rs.span.SpanContext()
	other := ""
	if sc.TraceID().String() != r.browser.traceID {
		other = "  OTHER TRACE " + sc.TraceID().String()
	}
	if parent := rs.span.Parent(); !parent.IsValid() {
		other += "  (root)"
	} else if parent.SpanID().String() != r.browser.spanID && !slices.ContainsFunc(r.spans, func(o recordedSpan) bool {
		return o.span.SpanContext().SpanID() == parent.SpanID()
	}) {
		other += "  (parent " + parent.SpanID().String() + " not recorded)"
	}
	p.linef("%s%-6s  %-6s  %-14s  span %s  sampled %t%s", prefix, rs.service,
		strings.ToLower(rs.span.SpanKind().String()), rs.span.Name(), sc.SpanID(), sc.IsSampled(), other)
}

// baggageMembers returns the members of a baggage header, values decoded;
// properties and malformed members are left out.
func baggageMembers(header string) map[string]string {
	members := map[string]string{}
	for elem := range strings.SplitSeq(header, ",") {
		elem, _, _ = strings.Cut(elem, ";")
		key, value, ok := strings.Cut(elem, "=")
		if !ok {
			continue
		}
		decoded, err := url.PathUnescape(strings.TrimSpace(value))
		if err != nil {
			continue
		}
		members[strings.TrimSpace(key)] = decoded
	}
	return members
}

// printer writes lines and keeps the first error.
type printer struct {
	w   io.Writer
	err error
}

func (p *printer) linef(format string, args ...any) {
	if p.err == nil {
		_, p.err = fmt.Fprintf(p.w, format+"\n", args...)
	}
}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}
