package propagator_test

import (
	"context"
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"os"
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

// A handler reads the decision of the trace it continues, for example to
// skip expensive debug work when the trace is not recorded.
func ExampleDecisionFromContext() {
	p := propagator.New()
	for _, header := range []string{
		"771a43a4192642f0b136d5159a501700-b72fa28504b07285-1",
		"771a43a4192642f0b136d5159a501700-b72fa28504b07285-0",
		"771a43a4192642f0b136d5159a501700-b72fa28504b07285",
	} {
		ctx := p.Extract(context.Background(), propagation.MapCarrier{"sentry-trace": header})
		fmt.Println(propagator.DecisionFromContext(ctx))
	}
	fmt.Println(propagator.DecisionFromContext(context.Background()))
	// Output:
	// sampled
	// not sampled
	// deferred
	// deferred
}

// The DSC a service sends on: here, the frozen one of the continued trace,
// as a log line or an error report would name it.
func ExampleDSCFromContext() {
	p := propagator.Composite(propagator.WithRelease("api@2.0"))
	ctx := p.Extract(context.Background(), propagation.MapCarrier{
		"sentry-trace": "771a43a4192642f0b136d5159a501700-b72fa28504b07285-1",
		"baggage":      "sentry-release=web%401.0,sentry-sample_rate=0.5,sentry-sample_rand=0.25,vendor=x",
	})
	dsc := propagator.DSCFromContext(ctx, p)
	for _, k := range slices.Sorted(maps.Keys(dsc)) {
		fmt.Printf("%s=%s\n", k, dsc[k])
	}
	// Output:
	// release=web@1.0
	// sample_rand=0.25
	// sample_rate=0.5
}

// Rejected input and withheld requests are logged at debug level.
func ExampleWithLogger() {
	logger := slog.New(slog.NewTextHandler(os.Stdout, &slog.HandlerOptions{
		Level:       slog.LevelDebug,
		ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr { return dropTime(a) },
	}))
	p := propagator.New(propagator.WithLogger(logger))
	p.Extract(context.Background(), propagation.MapCarrier{"sentry-trace": "not-a-trace"})
	// Output: level=DEBUG msg="ignoring invalid sentry-trace"
}

// dropTime removes the time from log lines, so that the output is stable.
func dropTime(a slog.Attr) slog.Attr {
	if a.Key == slog.TimeKey {
		return slog.Attr{}
	}
	return a
}

// A trace started here sends a head DSC built from the options.
func ExampleWithDSN() {
	p := propagator.New(
		propagator.WithDSN("https://public@o1.ingest.us.sentry.io/1"),
		propagator.WithRelease("shop@1.4.2"),
		propagator.WithEnvironment("staging"),
	)
	dsc := propagator.DSCFromContext(sampledContext(), p)
	fmt.Println(dsc["public_key"], dsc["org_id"], dsc["release"], dsc["environment"])
	// Output: public 1 shop@1.4.2 staging
}

func ExampleWithRelease() {
	dsc := propagator.DSCFromContext(sampledContext(), propagator.New(propagator.WithRelease("shop@1.4.2")))
	fmt.Println(dsc["release"])
	// Output: shop@1.4.2
}

func ExampleWithEnvironment() {
	fmt.Println(propagator.DSCFromContext(sampledContext(), propagator.New())["environment"])
	fmt.Println(propagator.DSCFromContext(sampledContext(), propagator.New(propagator.WithEnvironment("staging")))["environment"])
	// Output:
	// production
	// staging
}

// An org id of its own overrides the DSN's.
func ExampleWithOrgID() {
	p := propagator.New(propagator.WithDSN("https://public@o1.ingest.us.sentry.io/1"), propagator.WithOrgID("42"))
	fmt.Println(propagator.DSCFromContext(sampledContext(), p)["org_id"])
	// Output: 42
}

// Under strict continuation, a trace without an org id does not continue
// in a service that has one.
func ExampleWithStrictTraceContinuation() {
	for _, strict := range []bool{false, true} {
		p := propagator.New(propagator.WithOrgID("1"), propagator.WithStrictTraceContinuation(strict))
		ctx := p.Extract(context.Background(), propagation.MapCarrier{
			"sentry-trace": "771a43a4192642f0b136d5159a501700-b72fa28504b07285-1"})
		fmt.Println(strict, trace.SpanContextFromContext(ctx).IsValid())
	}
	// Output:
	// false true
	// true false
}

// sampledContext holds a sampled span context of a trace started here.
func sampledContext() context.Context {
	return trace.ContextWithSpanContext(context.Background(), trace.NewSpanContext(trace.SpanContextConfig{
		TraceID:    trace.TraceID{0x77, 0x1a, 1},
		SpanID:     trace.SpanID{0xb7, 2},
		TraceFlags: trace.FlagsSampled,
	}))
}

func ExampleDecision_String() {
	fmt.Println(propagator.Sampled, propagator.NotSampled, propagator.Deferred)
	// Output: sampled not sampled deferred
}

// Any type with MatchString is a Target, *regexp.Regexp among them.
func ExampleTarget() {
	targets := []propagator.Target{regexp.MustCompile(`^https://api\.`), propagator.Substring("/internal/")}
	for _, url := range []string{"https://api.example.com/v1", "https://cdn.example.com/internal/x", "https://cdn.example.com/app.js"} {
		fmt.Println(url, slices.ContainsFunc(targets, func(t propagator.Target) bool { return t.MatchString(url) }))
	}
	// Output:
	// https://api.example.com/v1 true
	// https://cdn.example.com/internal/x true
	// https://cdn.example.com/app.js false
}

func ExampleSubstring() {
	fmt.Println(propagator.Substring(".*").MatchString("https://example.com"), propagator.Substring("example.com").MatchString("https://example.com"))
	// Output: false true
}

// Without W3C baggage, Composite forwards no member of other vendors, as
// Sentry SDKs do not; the Sentry members still go on.
func ExampleWithW3CBaggage() {
	incoming := propagation.MapCarrier{
		"sentry-trace": "771a43a4192642f0b136d5159a501700-b72fa28504b07285-1",
		"baggage":      "vendor=v1,sentry-release=web%401,sentry-sample_rand=0.5",
	}
	for _, on := range []bool{true, false} {
		p := propagator.Composite(propagator.WithW3CBaggage(on))
		ctx := p.Extract(context.Background(), incoming)
		c := propagation.MapCarrier{}
		p.Inject(ctx, c)
		fmt.Println(p, c.Get("baggage"))
	}
	// Output:
	// tracecontext,baggage,sentry vendor=v1,sentry-sample_rand=0.5,sentry-release=web%401
	// tracecontext,sentry sentry-sample_rand=0.5,sentry-release=web%401
}
