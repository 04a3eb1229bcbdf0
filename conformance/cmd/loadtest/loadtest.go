package main

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
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/propagation"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"

	"github.com/otelsentry/otelsentry/bridge"
	"github.com/otelsentry/otelsentry/propagator"
	"github.com/otelsentry/otelsentry/sampling"
)

// config bounds a run.
type config struct {
	Requests  int
	Clients   int
	TimeLimit time.Duration
}

// Request kinds, by what the first service receives.
const (
	kindSampled  = "sampled"  // sentry-trace -1 and a Sentry baggage
	kindNegative = "negative" // sentry-trace -0 and a Sentry baggage
	kindDeferred = "deferred" // sentry-trace without flag
	kindAbsent   = "absent"   // no trace headers
	kindGarbage  = "garbage"  // an invalid sentry-trace naming the request's ids
)

var kinds = []string{kindSampled, kindNegative, kindDeferred, kindAbsent, kindGarbage}

// hops is the length of the chain.
const hops = 3

// Releases in the DSC: the upstream's, frozen by every hop of a continued
// trace, and the first service's, frozen by the others for a new trace.
const (
	upstreamRelease = "frontend@1.0"
	edgeRelease     = "svc0@1"
)

// summary is what a run found.
type summary struct {
	Requests int
	Kinds    map[string]int
	Sampled  int // requests whose trace was sampled
	Spans    int
	Broken   int // requests whose hops disagree or whose spans are misparented
	Lost     int // sampled requests missing spans, unsampled ones with spans
	Errors   int
	Duration time.Duration
}

func (s summary) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "requests: %d (", s.Requests)
	for i, k := range kinds {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%s %d", k, s.Kinds[k])
	}
	fmt.Fprintf(&b, ")\nsampled traces: %d\nspans: %d\nbroken traces: %d\nlost spans: %d\nerrors: %d\n", s.Sampled, s.Spans, s.Broken, s.Lost, s.Errors)
	rate := 0.0
	if s.Duration > 0 {
		rate = float64(s.Requests) / s.Duration.Seconds()
	}
	fmt.Fprintf(&b, "duration: %s\nreq/s: %.0f\n", s.Duration.Round(time.Millisecond), rate)
	return b.String()
}

// spanRecord is what the checks need of an ended span.
type spanRecord struct {
	hop     int
	kind    trace.SpanKind
	traceID trace.TraceID
	spanID  trace.SpanID
	parent  trace.SpanID
}

// recorder keeps every ended span of all services.
type recorder struct {
	hop   int
	mu    *sync.Mutex
	spans *[]spanRecord
}

func (r recorder) OnStart(context.Context, sdktrace.ReadWriteSpan) {}
func (r recorder) OnEnd(s sdktrace.ReadOnlySpan) {
	r.mu.Lock()
	*r.spans = append(*r.spans, spanRecord{r.hop, s.SpanKind(), s.SpanContext().TraceID(), s.SpanContext().SpanID(), s.Parent().SpanID()})
	r.mu.Unlock()
}
func (r recorder) Shutdown(context.Context) error   { return nil }
func (r recorder) ForceFlush(context.Context) error { return nil }

// hopReport is one service's view of a request, passed back in the
// response body as "<trace id> <sampled> <DSC release>", one line a hop.
type hopReport struct {
	traceID string
	sampled bool
	release string
}

// chain is the running services.
type chain struct {
	url       string
	servers   []*http.Server
	providers []*sdktrace.TracerProvider
	mu        sync.Mutex
	spans     []spanRecord
}

func startChain() (*chain, error) {
	c := &chain{}
	next := ""
	// Start from the last service, so each knows the next one's URL.
	for hop := hops - 1; hop >= 0; hop-- {
		prop := propagator.Composite(propagator.WithRelease(fmt.Sprintf("svc%d@1", hop)))
		tp := sdktrace.NewTracerProvider(
			sdktrace.WithSampler(sampling.New(sampling.WithSampleRate(0.5))),
			sdktrace.WithSpanProcessor(recorder{hop, &c.mu, &c.spans}))
		base := &http.Transport{MaxIdleConnsPerHost: 256, IdleConnTimeout: time.Minute}
		client := &http.Client{Timeout: 30 * time.Second, Transport: bridge.NewTransport(otelhttp.NewTransport(base,
			otelhttp.WithTracerProvider(tp), otelhttp.WithPropagators(prop)))}
		handler := otelhttp.NewHandler(hopHandler(client, next, prop), fmt.Sprintf("svc%d", hop),
			otelhttp.WithTracerProvider(tp), otelhttp.WithPropagators(prop))
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			c.stop()
			return nil, err
		}
		srv := &http.Server{Handler: handler, ReadHeaderTimeout: 10 * time.Second}
		go func() { _ = srv.Serve(ln) }()
		c.servers = append(c.servers, srv)
		c.providers = append(c.providers, tp)
		next = "http://" + ln.Addr().String() + "/"
	}
	c.url = next
	return c, nil
}

// stop shuts the servers down, waiting for their handlers, so that every
// span has ended before the checks read them.
func (c *chain) stop() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for i := len(c.servers) - 1; i >= 0; i-- { // the first service first
		_ = c.servers[i].Shutdown(ctx)
	}
	for _, tp := range c.providers {
		_ = tp.Shutdown(ctx)
	}
}

// hopHandler reports this hop's view of the trace, then the next hop's.
func hopHandler(client *http.Client, next string, prop propagation.TextMapPropagator) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sc := trace.SpanContextFromContext(r.Context())
		report := fmt.Sprintf("%s %t %s\n", sc.TraceID(), sc.IsSampled(), propagator.DSCFromContext(r.Context(), prop)["release"])
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
		body, err := io.ReadAll(resp.Body)
		if err != nil || resp.StatusCode != http.StatusOK {
			http.Error(w, fmt.Sprintf("next hop: %d %v", resp.StatusCode, err), http.StatusBadGateway)
			return
		}
		_, _ = io.WriteString(w, report+string(body))
	})
}

// incoming returns request n's kind, ids and headers. Ids are unique per
// request and never generated by the SDK's random source in practice.
func incoming(n int) (kind, traceID, spanID string, h http.Header) {
	kind = kinds[n%len(kinds)]
	traceID = fmt.Sprintf("10ad%012x%016x", n/len(kinds), n+1)
	spanID = fmt.Sprintf("5a%014x", n+1)
	h = http.Header{}
	dsc := "othervendor=x,sentry-trace_id=" + traceID + ",sentry-public_key=k,sentry-release=" + strings.ReplaceAll(upstreamRelease, "@", "%40")
	switch kind {
	case kindSampled:
		h.Set("Sentry-Trace", traceID+"-"+spanID+"-1")
		h.Set("Baggage", dsc+",sentry-sample_rate=1,sentry-sampled=true")
	case kindNegative:
		h.Set("Sentry-Trace", traceID+"-"+spanID+"-0")
		h.Set("Baggage", dsc+",sentry-sample_rate=0,sentry-sampled=false")
	case kindDeferred:
		h.Set("Sentry-Trace", traceID+"-"+spanID)
		h.Set("Baggage", dsc)
	case kindGarbage:
		garbage := []string{
			strings.ToUpper(traceID) + "-" + spanID + "-1",
			traceID + "-" + spanID + "-2",
			"00-" + traceID + "-" + spanID + "-01",
			traceID + spanID + "1",
			traceID + "-" + spanID + "-1-x",
			traceID[:31] + "-" + spanID + "-1",
			"garbage," + traceID + "-" + spanID + "-1",
			strings.Repeat("a", 4096),
		}
		h.Set("Sentry-Trace", garbage[(n/len(kinds))%len(garbage)])
		h.Set("Baggage", dsc+",sentry-sampled=true,%%,=,sentry-=")
	}
	return kind, traceID, spanID, h
}

// result is one request's outcome, checked once every span has ended.
type result struct {
	n       int
	kind    string
	traceID string // the trace the request started or continued
	spanID  string // the incoming span id of a continued trace
	sampled bool
	err     error
	broken  string
}

func run(ctx context.Context, cfg config) (summary, error) {
	sum := summary{Kinds: map[string]int{}}
	if cfg.Requests <= 0 || cfg.Clients <= 0 {
		return sum, errors.New("requests and clients must be positive")
	}
	// Garbage baggage makes propagation.Baggage report every request
	// through otel.Handle; those reports are expected here.
	otel.SetErrorHandler(otel.ErrorHandlerFunc(func(error) {}))
	c, err := startChain()
	if err != nil {
		return sum, err
	}
	ctx, cancel := context.WithTimeout(ctx, cfg.TimeLimit)
	defer cancel()

	client := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: cfg.Clients}}
	results := make([]result, cfg.Requests)
	var next atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	for range cfg.Clients {
		wg.Go(func() {
			for {
				n := int(next.Add(1) - 1)
				if n >= cfg.Requests || ctx.Err() != nil {
					return
				}
				results[n] = send(ctx, client, c.url, n)
			}
		})
	}
	wg.Wait()
	sum.Duration = time.Since(start)
	c.stop()
	timedOut := ctx.Err()

	byTrace := map[string][]spanRecord{}
	for _, s := range c.spans {
		byTrace[s.traceID.String()] = append(byTrace[s.traceID.String()], s)
	}
	sum.Spans = len(c.spans)
	seen := map[string]bool{}
	for _, r := range results {
		if r.kind == "" {
			continue // not sent before the time limit
		}
		sum.Requests++
		sum.Kinds[r.kind]++
		switch {
		case r.err != nil:
			sum.Errors++
			continue
		case r.broken != "":
			sum.Broken++
			continue
		case seen[r.traceID]:
			sum.Broken++ // two requests on one trace
			continue
		}
		seen[r.traceID] = true
		spans := byTrace[r.traceID]
		delete(byTrace, r.traceID)
		if !r.sampled {
			if len(spans) > 0 {
				sum.Lost++
			}
			continue
		}
		sum.Sampled++
		if len(spans) != 2*hops-1 {
			sum.Lost++
			continue
		}
		if !wellParented(spans, r.spanID) {
			sum.Broken++
		}
	}
	// Spans on no request's trace belong to a broken one.
	sum.Broken += len(byTrace)

	switch {
	case timedOut != nil:
		return sum, fmt.Errorf("time limit reached after %d of %d requests", sum.Requests, cfg.Requests)
	case sum.Errors > 0 || sum.Broken > 0 || sum.Lost > 0:
		return sum, fmt.Errorf("%d errors, %d broken traces, %d requests with lost spans", sum.Errors, sum.Broken, sum.Lost)
	}
	return sum, nil
}

// send sends request n and checks the hops' reports against its kind.
func send(ctx context.Context, client *http.Client, url string, n int) result {
	kind, traceID, spanID, h := incoming(n)
	r := result{n: n, kind: kind}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		r.err = err
		return r
	}
	req.Header = h
	resp, err := client.Do(req)
	if err != nil {
		r.err = err
		return r
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		r.err = fmt.Errorf("status %d: %v %s", resp.StatusCode, err, body)
		return r
	}
	var reports []hopReport
	for _, line := range strings.Split(strings.TrimSuffix(string(body), "\n"), "\n") {
		var rep hopReport
		if _, err := fmt.Sscanf(line+" -", "%s %t %s", &rep.traceID, &rep.sampled, &rep.release); err != nil {
			r.err = fmt.Errorf("report %q: %v", line, err)
			return r
		}
		reports = append(reports, rep)
	}
	if len(reports) != hops {
		r.err = fmt.Errorf("%d hop reports", len(reports))
		return r
	}
	continued := kind == kindSampled || kind == kindNegative || kind == kindDeferred
	r.traceID, r.sampled = reports[0].traceID, reports[0].sampled
	wantRelease := edgeRelease
	if continued {
		r.spanID, wantRelease = spanID, upstreamRelease
	}
	for i, rep := range reports {
		switch {
		case rep.traceID != r.traceID || rep.sampled != r.sampled:
			r.broken = fmt.Sprintf("hop %d on %s (sampled %t), hop 0 on %s (%t)", i, rep.traceID, rep.sampled, r.traceID, r.sampled)
		case continued != (rep.traceID == traceID):
			r.broken = fmt.Sprintf("hop %d on %s, incoming %s (%s)", i, rep.traceID, traceID, kind)
		case rep.release != wantRelease:
			r.broken = fmt.Sprintf("hop %d DSC release %q, want %q", i, rep.release, wantRelease)
		}
	}
	if kind == kindSampled && !r.sampled || kind == kindNegative && r.sampled {
		r.broken = fmt.Sprintf("%s request decided sampled=%t", kind, r.sampled)
	}
	return r
}

// wellParented reports that a sampled trace's spans form the chain:
// server 0 (under the incoming span, or a root), client 0 under it,
// server 1 under client 0, and so on.
func wellParented(spans []spanRecord, incomingSpan string) bool {
	var server, client [hops]*spanRecord
	for i := range spans {
		s := &spans[i]
		switch s.kind {
		case trace.SpanKindServer:
			if server[s.hop] != nil {
				return false
			}
			server[s.hop] = s
		case trace.SpanKindClient:
			if client[s.hop] != nil || s.hop == hops-1 {
				return false
			}
			client[s.hop] = s
		default:
			return false
		}
	}
	for hop := range hops {
		if server[hop] == nil || hop < hops-1 && client[hop] == nil {
			return false
		}
		want := trace.SpanID{}
		if hop > 0 {
			want = client[hop-1].spanID
		} else if incomingSpan != "" {
			id, _ := trace.SpanIDFromHex(incomingSpan)
			want = id
		}
		if server[hop].parent != want || hop < hops-1 && client[hop].parent != server[hop].spanID {
			return false
		}
	}
	return true
}
