package chains_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/propagation"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/otelsentry/otelsentry/bridge"
	"github.com/otelsentry/otelsentry/conformance/browser"
	"github.com/otelsentry/otelsentry/conformance/hop"
	"github.com/otelsentry/otelsentry/conformance/internal/ingest"
	"github.com/otelsentry/otelsentry/conformance/internal/peers"
	"github.com/otelsentry/otelsentry/conformance/runner"
	"github.com/otelsentry/otelsentry/propagator"
	"github.com/otelsentry/otelsentry/sampling"
)

// The browser chains' participants, as runner.Hop names them.
const (
	browserImpl = "browser"
	webName     = "web"
	apiName     = "api"
)

// browserCase is one page load: the rates of the page's service, the
// browser SDK and the API (nil: none), how the page hands its trace to the
// browser, and the trace the page's service continues, if any.
type browserCase struct {
	name                       string
	web, browser, api          *float64
	carry                      carrier
	upstreamTrace, upstreamBag string
}

// carrier is how a page hands its trace to the browser SDK.
type carrier int

const (
	// noTrace: the page hands over nothing, the browser starts the trace.
	noTrace carrier = iota
	// metaTags: the sentry-trace and baggage meta tags of bridge.MetaTags.
	metaTags
	// serverTiming: a Server-Timing header on the page's response, with
	// sentry-trace and baggage entries whose descriptions are the values.
	serverTiming
)

// continuedBaggage is a DSC whose sample_rand a JavaScript number cannot
// keep as written, with third-party members around it.
const continuedBaggage = "vendor=v1,sentry-trace_id={trace},sentry-public_key=49d0f7386ad645858ae85020e393bef3," +
	"sentry-release=web%401.0,sentry-environment=staging,sentry-sample_rate=0.5,sentry-sample_rand=0.0012340," +
	"sentry-sampled=true,other=a%20b"

var browserCases = []browserCase{
	// The page decided; the browser and the API, at rates that would
	// decide otherwise, keep its decision.
	{name: "page sampled", web: runner.Rate(1), browser: runner.Rate(0), api: runner.Rate(0), carry: metaTags},
	{name: "page negative", web: runner.Rate(0), browser: runner.Rate(1), api: runner.Rate(1), carry: metaTags},
	// The page's service continued an upstream trace, whose DSC the
	// browser and the API must pass on as it came.
	{name: "page continued", web: runner.Rate(0), browser: runner.Rate(0), api: runner.Rate(0), carry: metaTags,
		upstreamTrace: "{trace}-{span}-1", upstreamBag: continuedBaggage},
	// A DSC without public_key, which the SDK passes on but does not
	// report in its envelopes.
	{name: "page continued, partial DSC", web: runner.Rate(0), browser: runner.Rate(0), api: runner.Rate(0), carry: metaTags,
		upstreamTrace: "{trace}-{span}-1", upstreamBag: "sentry-trace_id={trace},sentry-sample_rand=0.25"},
	// The page left the decision to the browser, which takes it.
	{name: "page deferred, browser samples", browser: runner.Rate(1), api: runner.Rate(0), carry: metaTags},
	{name: "page deferred, browser drops", browser: runner.Rate(0), api: runner.Rate(1), carry: metaTags},
	// Without meta tags, the SDK reads the navigation's Server-Timing.
	{name: "page by Server-Timing", web: runner.Rate(1), browser: runner.Rate(0), api: runner.Rate(0), carry: serverTiming},
	// No meta tags: the browser starts the trace.
	{name: "browser head", web: runner.Rate(1), browser: runner.Rate(1), api: runner.Rate(0)},
}

// TestBrowserChains loads a page of an otelsentry service in headless
// Chromium with the unmodified Sentry browser SDK, in both its span
// lifecycles, and checks the chain page → browser → API on another origin:
// from the hops' reports with the runner's rules, from what the SDK sent to
// the ingest, and from what each Go service recorded.
func TestBrowserChains(t *testing.T) {
	b := browser.ForTest(t)
	in := ingest.New(t)
	// bridge.MetaTags writes the DSC of the global propagator; every page
	// service here is configured alike, so they share it. The release must
	// reach the browser intact through the meta tag's escaping.
	webProp := propagator.Composite(propagator.WithDSN(in.DSN("webpk", "42")),
		propagator.WithRelease(`web"></script><script>&'@1`), propagator.WithEnvironment("conformance"))
	setGlobalPropagator(t, webProp)

	deviations := map[string]bool{}
	var mu sync.Mutex
	for _, lc := range []browser.Lifecycle{browser.Stream, browser.Static} {
		for _, c := range browserCases {
			t.Run(string(lc)+"/"+c.name, func(t *testing.T) {
				t.Parallel()
				checks := runBrowserCase(t, b, in, webProp, lc, c)
				mu.Lock()
				defer mu.Unlock()
				report(t, c.name, checks, deviations)
			})
		}
	}
	t.Cleanup(func() {
		for d := range deviations {
			t.Logf("recorded deviation: %s", d)
		}
		for _, e := range in.Envelopes() {
			if networkErrors(e) {
				t.Errorf("the browser SDK reported its own envelopes as network errors: %s", e.Items[0].Payload)
			}
		}
		if rejected := in.Rejected(); len(rejected) > 0 {
			t.Errorf("the ingest rejected %d requests: %v", len(rejected), rejected)
		}
	})
}

// runBrowserCase loads one page and returns every check of the chain.
func runBrowserCase(t *testing.T, b *browser.Browser, in *ingest.Ingest, webProp propagation.TextMapPropagator,
	lc browser.Lifecycle, c browserCase) []runner.Check {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	upstreamTrace, upstreamBag := runner.Expand(c.upstreamTrace, c.upstreamBag)

	api := startBrowserAPI(t, c.api)
	other := startPlain(t)
	web := startPage(t, b, webProp, c.web, upstreamTrace, upstreamBag, browser.Page{
		DSN: in.DSN("browserpk", "42"), Rate: c.browser, Lifecycle: lc,
		Targets: []string{api.url + "/"}, Fetch: []string{api.url + "/hop", other.url + "/other"},
		Release: "browser@1", Environment: "conformance",
	}, c.carry)
	api.allow(web.url)
	other.allow(web.url)

	page, err := b.Load(ctx, web.url+"/page")
	if err != nil {
		t.Fatal(err)
	}
	apiReport := fetchedReport(t, page, api.url+"/hop")
	if f := page.Fetches[1]; f.Status != http.StatusOK {
		t.Errorf("fetch to the origin outside the targets: %+v", f)
	}
	if got := other.received(); len(got) != 1 || len(got[0]) != 0 {
		t.Errorf("the origin outside the targets received trace headers: %v", got)
	}
	if !api.preflighted() {
		t.Error("the API on another origin got no preflight for sentry-trace and baggage")
	}

	browserHop := runner.Hop{Name: browserImpl, Impl: browserImpl, Rate: c.browser}
	apiHop := runner.Hop{Name: apiName, Impl: otelsentry, Rate: c.api}
	browserReport := &hop.Report{Service: browserImpl, TraceID: page.TraceID, SpanID: page.SpanID,
		ParentSpanID: page.ParentSpanID, Sampled: page.Sampled, Sent: apiReport.Received, Next: apiReport}
	hops := []runner.Hop{browserHop, apiHop}
	first := browserReport
	if c.carry != noTrace {
		webReport := web.report()
		webReport.Next = browserReport
		browserReport.Received = webReport.Sent
		hops = append([]runner.Hop{{Name: webName, Impl: otelsentry, Rate: c.web}}, hops...)
		first = webReport
	} else {
		upstreamTrace, upstreamBag = "", ""
	}
	res := runner.Evaluate(hops, upstreamTrace, upstreamBag, first)
	if page.Scripts != 2 {
		t.Errorf("%d scripts in the page, want the SDK's and the page's: the meta tags added some", page.Scripts)
	}
	if page.Op != "pageload" || !page.Ended || !page.Flushed {
		t.Errorf("the SDK's pageload: %+v", page)
	}
	return append(res.Checks, browserTelemetry(ctx, t, in, res, lc, map[string]*tracetest.SpanRecorder{
		webName: web.recorder, apiName: api.recorder})...)
}

// browserTelemetry checks what the browser SDK sent to the ingest and what
// the Go services recorded: each recorded its span exactly when sampled;
// a sampled browser sent, in one envelope, its pageload span under the
// page's span and the http.client span that the API continued, with the
// DSC it propagates as the envelope's trace header; an unsampled one sent
// no span of the trace.
func browserTelemetry(ctx context.Context, t *testing.T, in *ingest.Ingest, res *runner.Result, lc browser.Lifecycle,
	recorders map[string]*tracetest.SpanRecorder) []runner.Check {
	var checks []runner.Check
	for i, h := range res.Hops {
		r := res.Reports[i]
		if r == nil {
			break
		}
		check := func(name string, err error) {
			checks = append(checks, runner.Check{Hop: h.Name, Impl: h.Impl, Name: name, Err: err})
		}
		if rec, ok := recorders[h.Name]; ok {
			recorded := slices.ContainsFunc(rec.Ended(), func(s sdktrace.ReadOnlySpan) bool {
				return s.SpanContext().SpanID().String() == r.SpanID
			})
			check(runner.CheckRecorded, expect("recorded its span", recorded, r.Sampled))
			continue
		}
		if !r.Sampled {
			// The page flushed the SDK before it reported: what it sent is here.
			for _, e := range in.Envelopes() {
				if traceOf(e) == res.TraceID && (slices.Contains(e.Types(), "span") || slices.Contains(e.Types(), "transaction")) {
					check(runner.CheckRecorded, fmt.Errorf("sent spans of an unsampled trace: %v", e.Types()))
				}
			}
			continue
		}
		wctx, cancel := context.WithTimeout(ctx, telemetryWait)
		env, err := in.WaitForEnvelope(wctx, func(e ingest.Envelope) bool { return e.HasSpan(r.SpanID) })
		cancel()
		if err != nil {
			check(runner.CheckRecorded, fmt.Errorf("sent no envelope with its pageload span %s: %w", r.SpanID, err))
			continue
		}
		check(runner.CheckRecorded, envelopeSpans(env, lc, r))
		checks = append(checks, res.CheckDSC(i, runner.CheckEnvelopeDSC, env.Trace))
	}
	return checks
}

// envelopeSpans checks the browser's envelope: the item type of its
// lifecycle, the pageload span with the parent it reported, and an
// http.client child whose id the next hop received as its parent.
func envelopeSpans(env ingest.Envelope, lc browser.Lifecycle, r *hop.Report) error {
	want := map[browser.Lifecycle]string{browser.Stream: "span", browser.Static: "transaction"}[lc]
	if !slices.Equal(env.Types(), []string{want}) {
		return fmt.Errorf("envelope items %v, want one %s item (traceLifecycle %s)", env.Types(), want, lc)
	}
	var spans []ingest.SpanContext
	for _, it := range env.Items {
		spans = append(spans, it.Spans...)
		if tx := it.Transaction; tx != nil {
			spans = append(append(spans, tx.Trace), tx.Spans...)
		}
	}
	var pageload, client *ingest.SpanContext
	for i, s := range spans {
		if s.TraceID != r.TraceID {
			return fmt.Errorf("span %s in trace %s, want %s", s.SpanID, s.TraceID, r.TraceID)
		}
		switch {
		case s.SpanID == r.SpanID:
			pageload = &spans[i]
		case r.Next != nil && s.SpanID == r.Next.ParentSpanID:
			client = &spans[i]
		}
	}
	switch {
	case pageload == nil:
		return fmt.Errorf("no pageload span %s", r.SpanID)
	case pageload.ParentSpanID != r.ParentSpanID:
		return fmt.Errorf("pageload's parent_span_id %q, want %q", pageload.ParentSpanID, r.ParentSpanID)
	case client == nil:
		return fmt.Errorf("no span %s, the parent the API continued", r.Next.ParentSpanID)
	case client.ParentSpanID != r.SpanID:
		return fmt.Errorf("the API's parent %s is a child of %s, not of the pageload", client.SpanID, client.ParentSpanID)
	}
	return nil
}

// traceOf returns the trace of an envelope's first span or transaction.
func traceOf(e ingest.Envelope) string {
	for _, it := range e.Items {
		if len(it.Spans) > 0 {
			return it.Spans[0].TraceID
		}
		if it.Transaction != nil {
			return it.Transaction.Trace.TraceID
		}
	}
	return e.Trace["trace_id"]
}

// networkErrors reports whether e is a client report of envelopes the SDK
// could not send.
func networkErrors(e ingest.Envelope) bool {
	for _, it := range e.Items {
		if it.Type == "client_report" && strings.Contains(string(it.Payload), "network_error") {
			return true
		}
	}
	return false
}

// fetchedReport returns the hop report the page fetched from url.
func fetchedReport(t *testing.T, page browser.Report, url string) *hop.Report {
	t.Helper()
	for _, f := range page.Fetches {
		if f.URL != url {
			continue
		}
		var r hop.Report
		if f.Status != http.StatusOK || json.Unmarshal([]byte(f.Body), &r) != nil {
			t.Fatalf("the page's fetch of %s: %+v", url, f)
		}
		return &r
	}
	t.Fatalf("the page did not fetch %s: %+v", url, page.Fetches)
	return nil
}

func setGlobalPropagator(t *testing.T, p propagation.TextMapPropagator) {
	prev := otel.GetTextMapPropagator()
	otel.SetTextMapPropagator(p)
	t.Cleanup(func() { otel.SetTextMapPropagator(prev) })
}

// listen serves h on a free port of 127.0.0.1 until t's cleanup.
func listen(t *testing.T, h http.Handler) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(l) }()
	t.Cleanup(func() { _ = srv.Close() })
	return "http://" + l.Addr().String()
}

// pageService is the otelsentry service that renders the page.
type pageService struct {
	url      string
	recorder *tracetest.SpanRecorder
	mu       sync.Mutex
	rendered *hop.Report
}

// startPage starts the page's service: page is the page it renders, with
// the trace of its server span as carry says; a request reaches its
// otelhttp handler with upstreamTrace and upstreamBag, as if a proxy that
// traces had sent them.
func startPage(t *testing.T, b *browser.Browser, prop propagation.TextMapPropagator, rate *float64,
	upstreamTrace, upstreamBag string, page browser.Page, carry carrier) *pageService {
	s := &pageService{recorder: tracetest.NewSpanRecorder()}
	var sopts []sampling.Option
	if rate != nil {
		sopts = append(sopts, sampling.WithSampleRate(*rate))
	}
	tp := sdktrace.NewTracerProvider(sdktrace.WithSampler(sampling.New(sopts...)), sdktrace.WithSpanProcessor(s.recorder))
	t.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
	page.ScriptURL = "/sentry.js"
	render := otelhttp.NewHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		sc := trace.SpanContextFromContext(ctx)
		rep := &hop.Report{Service: webName, Received: hop.Capture(r.Header), TraceID: sc.TraceID().String(),
			SpanID: sc.SpanID().String(), Sampled: sc.IsSampled(),
			Sent: map[string]string{hop.HeaderSentryTrace: bridge.Traceparent(ctx), hop.HeaderBaggage: bridge.Baggage(ctx)}}
		if parent := trace.SpanContextFromContext(prop.Extract(context.Background(), propagation.HeaderCarrier(r.Header))); parent.IsValid() {
			rep.ParentSpanID = parent.SpanID().String()
		}
		s.mu.Lock()
		s.rendered = rep
		s.mu.Unlock()
		p := page
		switch carry {
		case metaTags:
			p.Head = bridge.MetaTags(ctx)
		case serverTiming:
			w.Header().Set("Server-Timing", bridge.ServerTiming(ctx))
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_ = p.Render(w)
	}), "GET /page", otelhttp.WithTracerProvider(tp), otelhttp.WithPropagators(prop))
	mux := http.NewServeMux()
	mux.Handle("GET /sentry.js", b.Script())
	mux.Handle("GET /page", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if upstreamTrace != "" {
			r.Header.Set(hop.HeaderSentryTrace, upstreamTrace)
			r.Header.Set(hop.HeaderBaggage, upstreamBag)
		}
		render.ServeHTTP(w, r)
	}))
	s.url = listen(t, mux)
	return s
}

func (s *pageService) report() *hop.Report {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.rendered == nil {
		return &hop.Report{Service: webName, Error: "the page was not rendered"}
	}
	r := *s.rendered
	return &r
}

// corsService is a service on another origin than the page's, which
// allows the page's origin once it is known.
type corsService struct {
	url      string
	recorder *tracetest.SpanRecorder
	mu       sync.Mutex
	origin   string
	options  []http.Header
	headers  []map[string]string
}

func (s *corsService) allow(origin string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.origin = origin
}

// wrap records every request's trace headers and preflights, and lets the
// page's origin call next with the trace headers.
func (s *corsService) wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		if r.Method == http.MethodOptions {
			s.options = append(s.options, r.Header.Clone())
		} else {
			s.headers = append(s.headers, hop.Capture(r.Header))
		}
		origin := s.origin
		s.mu.Unlock()
		browser.AllowTraceHeaders(next, origin).ServeHTTP(w, r)
	})
}

// preflighted reports whether a preflight asked for sentry-trace and baggage.
func (s *corsService) preflighted() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, h := range s.options {
		asked := strings.ToLower(strings.Join(h.Values("Access-Control-Request-Headers"), ","))
		if strings.Contains(asked, "sentry-trace") && strings.Contains(asked, "baggage") {
			return true
		}
	}
	return false
}

func (s *corsService) received() []map[string]string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.headers)
}

// startBrowserAPI starts the API: an otelsentry hop with
// propagator.Composite at rate (nil: none).
func startBrowserAPI(t *testing.T, rate *float64) *corsService {
	s := &corsService{}
	api := peers.StartOtelSentry(t, peers.Config{Name: apiName, Rate: rate}, peers.WithComposite(), peers.WithWrap(s.wrap))
	s.url, s.recorder = api.URL, api.Recorder
	return s
}

// startPlain starts a service outside the browser's propagation targets.
func startPlain(t *testing.T) *corsService {
	s := &corsService{}
	s.url = listen(t, s.wrap(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write([]byte("ok"))
	})))
	return s
}
