package propagator_test

import (
	"context"
	"fmt"
	"net/http"
	"regexp"
	"slices"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"

	"github.com/otelsentry/otelsentry/bridge"
	"github.com/otelsentry/otelsentry/propagator"
)

// The Sentry propagator goes after the W3C ones. An instrumented server
// (otelhttp.NewHandler) then continues traces from sentry-trace and
// baggage, and an instrumented client sends them on.
func ExampleNew() {
	otel.SetTextMapPropagator(propagation.NewCompositeTextMapPropagator(
		propagation.TraceContext{},
		propagation.Baggage{},
		propagator.New(
			propagator.WithDSN("https://public@o1.ingest.us.sentry.io/1"),
			propagator.WithRelease("shop@1.4.2"),
		),
	))
	// bridge.NewTransport, outside the instrumented transport (in a service,
	// otelhttp.NewTransport(http.DefaultTransport)), puts each request's URL
	// in its context, so that the DSN's ingest never gets trace headers.
	client := &http.Client{Transport: bridge.NewTransport(http.DefaultTransport)}
	_ = client
}

func ExampleComposite() {
	otel.SetTextMapPropagator(propagator.Composite(propagator.WithEnvironment("staging")))
	fields := otel.GetTextMapPropagator().Fields()
	slices.Sort(fields)
	fmt.Println(fields)
	// Output: [baggage sentry-trace traceparent tracestate]
}

// Extract and Inject by hand, on a map of message headers.
func ExampleNew_extractInject() {
	p := propagator.New()
	incoming := propagation.MapCarrier{
		"sentry-trace": "771a43a4192642f0b136d5159a501700-b72fa28504b07285-1",
		"baggage":      "sentry-trace_id=771a43a4192642f0b136d5159a501700,sentry-sample_rand=0.25,sentry-release=web%401.0,vendor=x",
	}
	ctx := p.Extract(context.Background(), incoming)
	sc := trace.SpanContextFromContext(ctx)
	fmt.Println(sc.TraceID(), sc.SpanID(), sc.IsSampled(), sc.TraceState())

	outgoing := propagation.MapCarrier{}
	p.Inject(ctx, outgoing)
	fmt.Println(outgoing.Get("sentry-trace"))
	fmt.Println(outgoing.Get("baggage"))
	// Output:
	// 771a43a4192642f0b136d5159a501700 b72fa28504b07285 true sentry=s:1;r:0.25
	// 771a43a4192642f0b136d5159a501700-b72fa28504b07285-1
	// sentry-trace_id=771a43a4192642f0b136d5159a501700,sentry-sample_rand=0.25,sentry-release=web%401.0
}

func ExampleIncomingFromContext() {
	ctx := propagator.New().Extract(context.Background(), propagation.MapCarrier{
		"sentry-trace": "771a43a4192642f0b136d5159a501700-b72fa28504b07285-0",
		"baggage":      "sentry-sample_rate=0.1,sentry-sample_rand=0.5",
	})
	in, ok := propagator.IncomingFromContext(ctx, trace.SpanContextFromContext(ctx).TraceID())
	rate, _ := in.SampleRate()
	fmt.Println(ok, in.Decision(), in.SampleRand(), rate)
	// Output: true not sampled 0.5 0.1
}

func ExampleWithTracePropagationTargets() {
	p := propagator.New(propagator.WithTracePropagationTargets([]propagator.Target{
		propagator.Substring("https://api.example.com"),
		regexp.MustCompile(`^https://[a-z]+\.internal/`),
	}))
	ctx := p.Extract(context.Background(), propagation.MapCarrier{
		"sentry-trace": "771a43a4192642f0b136d5159a501700-b72fa28504b07285-1"})
	for _, url := range []string{"https://api.example.com/v1/orders", "https://cdn.example.org/app.js", "https://billing.internal/charge"} {
		c := propagation.MapCarrier{}
		p.Inject(propagator.ContextWithURL(ctx, url), c)
		fmt.Println(url, c.Get("sentry-trace") != "")
	}
	// Output:
	// https://api.example.com/v1/orders true
	// https://cdn.example.org/app.js false
	// https://billing.internal/charge true
}

func ExampleSuppressInject() {
	p := propagator.New()
	ctx := p.Extract(context.Background(), propagation.MapCarrier{
		"sentry-trace": "771a43a4192642f0b136d5159a501700-b72fa28504b07285-1"})
	c := propagation.MapCarrier{}
	p.Inject(propagator.SuppressInject(ctx), c)
	fmt.Println(len(c))
	// Output: 0
}

func ExampleSentryTrace() {
	ctx := propagator.New().Extract(context.Background(), propagation.MapCarrier{
		"sentry-trace": "771a43a4192642f0b136d5159a501700-b72fa28504b07285"})
	fmt.Println(propagator.SentryTrace(trace.SpanContextFromContext(ctx)))
	// Output: 771a43a4192642f0b136d5159a501700-b72fa28504b07285
}

func ExampleTraceStateMember() {
	m := propagator.TraceStateMember{Decision: propagator.Sampled, SampleRand: "0.123456", Rate: "0.25", Head: true, Transaction: "GET /users/{id}"}
	ts, _ := m.Insert(trace.TraceState{})
	fmt.Println(ts)
	// Output: sentry=s:1;r:0.123456;t:0.25;h:1;n:GET%20/users/{id}
}

func ExampleTransactionSource() {
	fmt.Println(propagator.TransactionSource(nil))
	// Output: custom
}

func ExampleContextWithURL() {
	p := propagator.New(propagator.WithDSN("http://public@127.0.0.1:9000/42"))
	ctx := trace.ContextWithSpanContext(context.Background(), trace.NewSpanContext(trace.SpanContextConfig{
		TraceID:    trace.TraceID{0x77, 0x1a, 1},
		SpanID:     trace.SpanID{0xb7, 2},
		TraceFlags: trace.FlagsSampled,
	}))
	for _, url := range []string{"http://127.0.0.1:9000/api/42/envelope/", "http://127.0.0.1:8080/orders"} {
		carrier := propagation.MapCarrier{}
		p.Inject(propagator.ContextWithURL(ctx, url), carrier)
		fmt.Printf("%s: %q\n", url, carrier.Get("sentry-trace"))
	}
	// Output:
	// http://127.0.0.1:9000/api/42/envelope/: ""
	// http://127.0.0.1:8080/orders: "771a0100000000000000000000000000-b702000000000000-1"
}

func ExampleWithoutTrace() {
	ctx := propagator.New().Extract(context.Background(), propagation.MapCarrier{
		"sentry-trace": "771a43a4192642f0b136d5159a501700-b72fa28504b07285-1"})
	fresh := propagator.WithoutTrace(ctx)
	fmt.Println(trace.SpanContextFromContext(fresh).IsValid())
	// Output: false
}

func ExampleInjectSuppressed() {
	fmt.Println(propagator.InjectSuppressed(propagator.SuppressInject(context.Background())))
	// Output: true
}

func ExampleDecisionOf() {
	ctx := propagator.New().Extract(context.Background(), propagation.MapCarrier{
		"sentry-trace": "771a43a4192642f0b136d5159a501700-b72fa28504b07285"})
	fmt.Println(propagator.DecisionOf(trace.SpanContextFromContext(ctx)))
	// Output: deferred
}

func ExampleHeadSampleRand() {
	id, _ := trace.TraceIDFromHex("771a43a4192642f0b136d5159a501700")
	rand := propagator.HeadSampleRand(id, trace.TraceState{})
	x, ok := propagator.ParseSampleRand(rand)
	fmt.Println(len(rand), ok, x >= 0 && x < 1, rand == propagator.HeadSampleRand(id, trace.TraceState{}))
	// Output: 8 true true true
}

func ExampleParseSampleRand() {
	for _, s := range []string{"0.25", "1e-7", "1", "0.5abc"} {
		_, ok := propagator.ParseSampleRand(s)
		fmt.Println(s, ok)
	}
	// Output:
	// 0.25 true
	// 1e-7 true
	// 1 false
	// 0.5abc false
}

func ExampleParseRate() {
	rate, ok := propagator.ParseRate("1")
	fmt.Println(rate, ok, propagator.FormatRate(0.25))
	// Output: 1 true 0.25
}

func ExampleParseTraceState() {
	ts, _ := trace.ParseTraceState("sentry=s:0;r:0.9;t:0.1,vendor=x")
	m, ok := propagator.ParseTraceState(ts)
	fmt.Println(ok, m.Decision, m.SampleRand, m.Rate, m.Head)
	// Output: true not sampled 0.9 0.1 false
}

func ExampleSubstring() {
	fmt.Println(propagator.Substring(".*").MatchString("https://example.com"), propagator.Substring("example.com").MatchString("https://example.com"))
	// Output: false true
}
