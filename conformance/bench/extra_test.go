package bench_test

import (
	"context"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/contrib/propagators/b3"
	"go.opentelemetry.io/otel/propagation"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"

	"github.com/otelsentry/otelsentry/propagator"
)

// BenchmarkInjectTargets is Inject for a continued trace with the URL in
// the context, by a propagator without a DSN or targets ("plain") and by one
// with both, which must not parse the URL on every call. The two take turns
// in batches within every iteration, so that they share the machine's state
// of the moment; it reports each one's time per Inject and the difference
// ("extra-ns/op"), the comparison to read.
func BenchmarkInjectTargets(b *testing.B) {
	plain := propagator.New(propagator.WithRelease(release))
	targeted := propagator.New(propagator.WithDSN(dsn), propagator.WithRelease(release),
		propagator.WithTracePropagationTargets([]propagator.Target{
			propagator.Substring("https://api.example.com"), propagator.Substring("http://localhost"),
		}))
	type config struct {
		p       propagation.TextMapPropagator
		ctx     context.Context
		elapsed time.Duration
	}
	configs := [2]*config{{p: plain}, {p: targeted}}
	out := propagation.HeaderCarrier(http.Header{})
	for _, c := range configs {
		in := propagation.HeaderCarrier(http.Header{"Sentry-Trace": {sentryTrace}, "Baggage": {baggage}})
		c.ctx = propagator.ContextWithURL(c.p.Extract(context.Background(), in), "https://api.example.com/v1/users/42?expand=orders")
		mustContinue(b, c.ctx)
		clear(out)
		c.p.Inject(c.ctx, out)
		mustWrite(b, out, []string{"sentry-trace", "baggage"})
	}
	const batch = 64
	round := 0
	for b.Loop() {
		for i := range configs {
			c := configs[(round+i)%len(configs)]
			start := time.Now()
			for range batch {
				clear(out)
				c.p.Inject(c.ctx, out)
			}
			c.elapsed += time.Since(start)
		}
		round++
	}
	injects := float64(b.N * batch)
	b.ReportMetric(float64(configs[0].elapsed)/injects, "plain-ns/op")
	b.ReportMetric(float64(configs[1].elapsed)/injects, "targets-ns/op")
	b.ReportMetric(float64(configs[1].elapsed-configs[0].elapsed)/injects, "extra-ns/op")
}

// BenchmarkRequestSize is BenchmarkRequest for the Sentry propagator in an
// http.Header, with baggage of growing size: up to the 8192-byte and
// 64-member cap the cost grows with the header, beyond it it must not.
func BenchmarkRequestSize(b *testing.B) {
	p := contenders(b)[0].p
	member := func(i int) string { return "vendor" + strconv.Itoa(i) + "=" + strings.Repeat("v", 8) }
	sized := func(n int) string {
		var sb strings.Builder
		sb.WriteString(baggage)
		for i := 0; sb.Len() < n; i++ {
			sb.WriteString("," + member(i))
		}
		return sb.String()
	}
	members := func(n int) string {
		parts := strings.Split(baggage, ",")
		for i := 0; len(parts) < n; i++ {
			parts = append(parts, member(i))
		}
		return strings.Join(parts[:n], ",")
	}
	cases := []struct{ name, baggage string }{
		{"members=1", "sentry-sample_rand=0.123456"},
		{"members=9", baggage},
		{"members=32", members(32)},
		{"members=64", members(64)},
		{"bytes=8K", sized(8192)},
		{"bytes=16K", sized(16 << 10)},
		{"bytes=1M", sized(1 << 20)},
	}
	for _, tc := range cases {
		b.Run(tc.name, func(b *testing.B) {
			in := propagation.HeaderCarrier(http.Header{"Sentry-Trace": {sentryTrace}, "Baggage": {tc.baggage}})
			out := propagation.HeaderCarrier(http.Header{})
			ctx := p.Extract(context.Background(), in)
			mustContinue(b, ctx)
			b.ReportAllocs()
			for b.Loop() {
				clear(out)
				p.Inject(p.Extract(context.Background(), in), out)
			}
		})
	}
}

// fixedHeaders writes constant sentry-trace and baggage headers of about
// the size that sentry's Inject writes for BenchmarkHTTP's client span,
// and reads nothing. Into an http.Header it stores shared values under
// canonical keys, so that it costs nothing but carrying them.
type fixedHeaders struct{}

var (
	fixedSentryTrace = []string{sentryTrace}
	fixedBaggage     = []string{"sentry-trace_id=" + T + ",sentry-public_key=" + K +
		",sentry-sample_rand=0.123456,sentry-sampled=true,sentry-release=" + release + ",sentry-org_id=1"}
)

func (fixedHeaders) Inject(_ context.Context, c propagation.TextMapCarrier) {
	if h, ok := c.(propagation.HeaderCarrier); ok {
		h["Sentry-Trace"], h["Baggage"] = fixedSentryTrace, fixedBaggage
		return
	}
	c.Set("sentry-trace", fixedSentryTrace[0])
	c.Set("baggage", fixedBaggage[0])
}

func (fixedHeaders) Extract(ctx context.Context, _ propagation.TextMapCarrier) context.Context {
	return ctx
}

func (fixedHeaders) Fields() []string { return []string{"sentry-trace", "baggage"} }

// httpCase is one propagator that BenchmarkHTTP sends requests through,
// with what its requests have cost.
type httpCase struct {
	name string
	p    propagation.TextMapPropagator
	// sends is a header the server must receive ("" for none), and
	// continues reports that the server continues the client's trace.
	sends     string
	continues bool
	// get sends one request through otelhttp's client and server.
	get           func()
	elapsed       time.Duration
	allocs, bytes float64
}

// startHTTP starts a server for c.p on 127.0.0.1 and returns a function
// that sends it one request from a client span, both instrumented by
// otelhttp with c.p and a tracer provider of their own that records every
// span. It sends the first request itself and fails b unless the server
// received c.sends and its span is on the client's trace exactly when
// c.continues is set.
func startHTTP(b *testing.B, c *httpCase) func() {
	tp := sdktrace.NewTracerProvider(sdktrace.WithSampler(sdktrace.AlwaysSample()))
	b.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
	opts := []otelhttp.Option{otelhttp.WithTracerProvider(tp), otelhttp.WithPropagators(c.p)}
	var served struct {
		sync.Mutex
		traceID trace.TraceID
		sent    bool
	}
	srv := httptest.NewServer(otelhttp.NewHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		served.Lock()
		served.traceID = trace.SpanContextFromContext(r.Context()).TraceID()
		served.sent = c.sends == "" || r.Header.Get(c.sends) != ""
		served.Unlock()
		_, _ = io.WriteString(w, "ok")
	}), "server", opts...))
	b.Cleanup(srv.Close)
	client := &http.Client{Transport: otelhttp.NewTransport(http.DefaultTransport, opts...)}
	ctx, span := tp.Tracer("bench").Start(context.Background(), "GET /users/{id}")
	b.Cleanup(func() { span.End() })
	get := func() {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL+"/users/42", nil)
		resp, err := client.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		_ = resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			b.Fatalf("status %d", resp.StatusCode)
		}
	}
	get()
	served.Lock()
	defer served.Unlock()
	if !served.sent {
		b.Fatalf("the server received no %s header", c.sends)
	}
	if got := served.traceID == span.SpanContext().TraceID(); got != c.continues {
		b.Fatalf("server span on the client's trace: %v, want %v", got, c.continues)
	}
	return get
}

// BenchmarkHTTP is whole requests through otelhttp on 127.0.0.1: a client
// span injects, the server extracts and starts its span. Each case has its
// server and client; every iteration sends a small batch of requests
// through each case, in an order shuffled anew each time, so that all cases
// share the machine's state of the moment and none always follows the
// same neighbour. It runs with one P: client and server then take turns
// on one thread that never waits for another to wake up, so the wall time
// of a batch is close to the CPU time of its requests (process CPU clocks
// lag by up to a scheduler tick for threads running on other cores, which
// is too coarse here). The garbage collector's background work runs in
// whichever batch is under way, so each case's share of it follows its
// time rather than its allocations; the allocations are reported apart.
// It reports each case's time per request, its allocations and bytes per
// request, and its time over the case without propagation in percent
// ("-%"), the comparison to read: each run is paired within itself, so
// benchstat's interval over -count runs tells a few percent apart, and the
// control case, the same as none, shows how far apart two equal cases
// come out.
func BenchmarkHTTP(b *testing.B) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	opts := []propagator.Option{propagator.WithDSN(dsn), propagator.WithRelease(release), propagator.WithEnvironment(environment)}
	cases := []*httpCase{
		{name: "none", p: propagation.NewCompositeTextMapPropagator()},
		// none again: how far apart the method puts two equal cases.
		{name: "control", p: propagation.NewCompositeTextMapPropagator()},
		{name: "traceparent", p: propagation.TraceContext{}, sends: "traceparent", continues: true},
		{name: "b3", p: b3.New(), sends: "b3", continues: true},
		// The headers that sentry writes, as constants: what carrying
		// them costs without any propagation work.
		{name: "headers", p: fixedHeaders{}, sends: "sentry-trace"},
		{name: "sentry", p: propagator.New(opts...), sends: "sentry-trace", continues: true},
		{name: "composite", p: propagator.Composite(opts...), sends: "sentry-trace", continues: true},
		// Composite as Setup installs it, with the same settings.
		{name: "setup", p: setupPropagator(b), sends: "sentry-trace", continues: true},
		// What Composite replaces: the three composed by hand.
		{name: "w3c+sentry", p: propagation.NewCompositeTextMapPropagator(
			propagation.TraceContext{}, propagation.Baggage{}, propagator.New(opts...),
		), sends: "sentry-trace", continues: true},
	}
	var ms runtime.MemStats
	for _, c := range cases {
		c.get = startHTTP(b, c)
		// Allocations are counted apart, once: reading them stops the
		// world, which the timed loop must not do.
		const counted = 200
		runtime.ReadMemStats(&ms)
		allocs, bytes := ms.Mallocs, ms.TotalAlloc
		for range counted {
			c.get()
		}
		runtime.ReadMemStats(&ms)
		c.allocs = float64(ms.Mallocs-allocs) / counted
		c.bytes = float64(ms.TotalAlloc-bytes) / counted
	}
	// Small batches, so that the cases alternate faster than the
	// machine's speed drifts.
	const batch = 10
	order := slices.Clone(cases)
	shuffle := rand.New(rand.NewPCG(1, 2))
	for b.Loop() {
		shuffle.Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
		for _, c := range order {
			start := time.Now()
			for range batch {
				c.get()
			}
			c.elapsed += time.Since(start)
		}
	}
	requests := float64(b.N * batch)
	for _, c := range cases {
		b.ReportMetric(float64(c.elapsed)/requests, c.name+"-ns/req")
		b.ReportMetric(c.allocs, c.name+"-allocs/req")
		b.ReportMetric(c.bytes, c.name+"-B/req")
		if c != cases[0] {
			b.ReportMetric(100*(float64(c.elapsed)/float64(cases[0].elapsed)-1), c.name+"-%")
		}
	}
}
