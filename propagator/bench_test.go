package propagator_test

import (
	"context"
	"net/http"
	"testing"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/baggage"
	"go.opentelemetry.io/otel/propagation"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"

	"github.com/otelsentry/otelsentry/propagator"
)

// The headers of a sampled request from a Sentry SDK: sentry-trace and a
// baggage of 8 Sentry members (one of them percent-encoded) and one
// third-party member; traceparent carries the same ids for the W3C pair.
const (
	benchSentryTrace = T + "-" + S + "-1"
	benchTraceparent = "00-" + T + "-" + S + "-01"
	benchBaggage     = "sentry-trace_id=" + T + "," +
		"sentry-public_key=" + K + "," +
		"sentry-sample_rate=0.25," +
		"sentry-sample_rand=0.123456," +
		"sentry-sampled=true," +
		"sentry-release=1.4.2," +
		"sentry-environment=production," +
		"sentry-transaction=GET%20%2Fusers," +
		"othervendor=t61rcWkgMzE"
	benchDSN = "https://" + K + "@o1.ingest.sentry.io/123"
)

// Canonical HeaderCarrier keys and lowercase MapCarrier keys of every header
// either propagator writes.
var (
	benchHeaderKeys = []string{"Sentry-Trace", "Baggage", "Traceparent", "Tracestate"}
	benchMapKeys    = []string{"sentry-trace", "baggage", "traceparent", "tracestate"}
)

func benchSentry() propagation.TextMapPropagator {
	return propagator.New(
		propagator.WithDSN(benchDSN),
		propagator.WithRelease("1.4.2"),
		propagator.WithEnvironment("production"),
	)
}

func benchW3C() propagation.TextMapPropagator {
	return propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{})
}

// benchCarrier is one carrier type: a fresh empty carrier, a way to empty it
// again without allocating, and the incoming carriers for both propagators.
type benchCarrier struct {
	name   string
	empty  func() propagation.TextMapCarrier
	reset  func(propagation.TextMapCarrier)
	sentry func() propagation.TextMapCarrier // sentry-trace + baggage
	w3c    func() propagation.TextMapCarrier // traceparent + baggage
}

var benchCarriers = []benchCarrier{
	{
		name:  "HeaderCarrier",
		empty: func() propagation.TextMapCarrier { return propagation.HeaderCarrier(http.Header{}) },
		reset: func(c propagation.TextMapCarrier) {
			for _, k := range benchHeaderKeys {
				delete(c.(propagation.HeaderCarrier), k)
			}
		},
		sentry: func() propagation.TextMapCarrier {
			return propagation.HeaderCarrier(http.Header{
				"Sentry-Trace": {benchSentryTrace},
				"Baggage":      {benchBaggage},
			})
		},
		w3c: func() propagation.TextMapCarrier {
			return propagation.HeaderCarrier(http.Header{
				"Traceparent": {benchTraceparent},
				"Baggage":     {benchBaggage},
			})
		},
	},
	{
		name:  "MapCarrier",
		empty: func() propagation.TextMapCarrier { return propagation.MapCarrier{} },
		reset: func(c propagation.TextMapCarrier) {
			for _, k := range benchMapKeys {
				delete(c.(propagation.MapCarrier), k)
			}
		},
		sentry: func() propagation.TextMapCarrier {
			return propagation.MapCarrier{"sentry-trace": benchSentryTrace, "baggage": benchBaggage}
		},
		w3c: func() propagation.TextMapCarrier {
			return propagation.MapCarrier{"traceparent": benchTraceparent, "baggage": benchBaggage}
		},
	},
}

// benchContinuedContexts returns the context our Extract produces from the
// Sentry headers, and one for the W3C pair with the same SpanContext and an
// OTel baggage of the same 9 members.
func benchContinuedContexts(tb testing.TB, p propagation.TextMapPropagator, cc benchCarrier) (sentryCtx, w3cCtx context.Context) {
	tb.Helper()
	sentryCtx = p.Extract(context.Background(), cc.sentry())
	sc := trace.SpanContextFromContext(sentryCtx)
	if !sc.IsValid() || !sc.IsSampled() {
		tb.Fatalf("Extract did not continue the trace: %v", sc)
	}
	bag, err := baggage.Parse(benchBaggage)
	if err != nil {
		tb.Fatal(err)
	}
	if bag.Len() != 9 {
		tb.Fatalf("OTel baggage has %d members, want 9", bag.Len())
	}
	w3cCtx = baggage.ContextWithBaggage(trace.ContextWithRemoteSpanContext(context.Background(), sc), bag)
	return sentryCtx, w3cCtx
}

// benchHeadContext returns a context holding a sampled local root span, the
// head of a trace started in this process.
func benchHeadContext(tb testing.TB) context.Context {
	tb.Helper()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSampler(sdktrace.AlwaysSample()))
	tb.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
	ctx, span := tp.Tracer("bench").Start(context.Background(), "GET /users/{id}",
		trace.WithSpanKind(trace.SpanKindServer),
		trace.WithAttributes(
			attribute.String("http.request.method", "GET"),
			attribute.String("http.route", "/users/{id}"),
		))
	tb.Cleanup(func() { span.End() })
	return ctx
}

func BenchmarkExtract(b *testing.B) {
	props := []struct {
		name    string
		p       propagation.TextMapPropagator
		carrier func(benchCarrier) propagation.TextMapCarrier
	}{
		{"sentry", benchSentry(), func(cc benchCarrier) propagation.TextMapCarrier { return cc.sentry() }},
		{"w3c", benchW3C(), func(cc benchCarrier) propagation.TextMapCarrier { return cc.w3c() }},
	}
	for _, cc := range benchCarriers {
		b.Run(cc.name, func(b *testing.B) {
			for _, pp := range props {
				b.Run(pp.name, func(b *testing.B) {
					carrier := pp.carrier(cc)
					ctx := context.Background()
					if sc := trace.SpanContextFromContext(pp.p.Extract(ctx, carrier)); !sc.IsSampled() {
						b.Fatalf("Extract did not continue the trace: %v", sc)
					}
					b.ReportAllocs()
					for b.Loop() {
						pp.p.Extract(ctx, carrier)
					}
				})
			}
		})
	}
}

// BenchmarkExtractNoSentryTrace reads a carrier that has traceparent and
// baggage but no sentry-trace: the common request from a W3C-only peer.
func BenchmarkExtractNoSentryTrace(b *testing.B) {
	p := benchSentry()
	for _, cc := range benchCarriers {
		b.Run(cc.name, func(b *testing.B) {
			carrier := cc.w3c()
			ctx := context.Background()
			if got := p.Extract(ctx, carrier); got != ctx {
				b.Fatal("Extract changed the context without sentry-trace")
			}
			b.ReportAllocs()
			for b.Loop() {
				p.Extract(ctx, carrier)
			}
		})
	}
}

func BenchmarkInject(b *testing.B) {
	sentry, w3c := benchSentry(), benchW3C()
	for _, cc := range benchCarriers {
		b.Run(cc.name, func(b *testing.B) {
			sentryCtx, w3cCtx := benchContinuedContexts(b, sentry, cc)
			props := []struct {
				name string
				p    propagation.TextMapPropagator
				ctx  context.Context
				key  string
			}{
				{"sentry", sentry, sentryCtx, "sentry-trace"},
				{"w3c", w3c, w3cCtx, "traceparent"},
			}
			for _, pp := range props {
				b.Run(pp.name, func(b *testing.B) {
					carrier := cc.empty()
					pp.p.Inject(pp.ctx, carrier)
					if carrier.Get(pp.key) == "" || carrier.Get("baggage") == "" {
						b.Fatalf("Inject wrote %v", carrier.Keys())
					}
					b.ReportAllocs()
					for b.Loop() {
						cc.reset(carrier)
						pp.p.Inject(pp.ctx, carrier)
					}
				})
			}
		})
	}
}

// BenchmarkInjectHead injects for a sampled local root span of a trace that
// this process started: ours builds the head-of-trace DSC; the W3C pair
// writes traceparent only, as the context holds no OTel baggage.
func BenchmarkInjectHead(b *testing.B) {
	ctx := benchHeadContext(b)
	props := []struct {
		name string
		p    propagation.TextMapPropagator
		key  string
	}{
		{"sentry", benchSentry(), "sentry-trace"},
		{"w3c", benchW3C(), "traceparent"},
	}
	for _, cc := range benchCarriers {
		b.Run(cc.name, func(b *testing.B) {
			for _, pp := range props {
				b.Run(pp.name, func(b *testing.B) {
					carrier := cc.empty()
					pp.p.Inject(ctx, carrier)
					if carrier.Get(pp.key) == "" {
						b.Fatalf("Inject wrote %v", carrier.Keys())
					}
					b.ReportAllocs()
					for b.Loop() {
						cc.reset(carrier)
						pp.p.Inject(ctx, carrier)
					}
				})
			}
		})
	}
}

// TestAllocations holds the propagator to its allocation ceilings on the
// hot path. Allocation counts are deterministic; times are not asserted.
func TestAllocations(t *testing.T) {
	p := benchSentry()
	cc := benchCarriers[0] // HeaderCarrier
	ctx := context.Background()

	in := cc.sentry()
	if got := testing.AllocsPerRun(100, func() { p.Extract(ctx, in) }); got > 6 {
		t.Errorf("Extract (sentry-trace + 9-member baggage): %v allocs, want <= 6", got)
	}

	continued, _ := benchContinuedContexts(t, p, cc)
	out := cc.empty()
	if got := testing.AllocsPerRun(100, func() {
		cc.reset(out)
		p.Inject(continued, out)
	}); got > 5 {
		t.Errorf("Inject (continued trace): %v allocs, want <= 5", got)
	}
	if out.Get("sentry-trace") != benchSentryTrace || out.Get("baggage") == "" {
		t.Errorf("Inject wrote sentry-trace %q, baggage %q", out.Get("sentry-trace"), out.Get("baggage"))
	}

	noTrace := cc.w3c()
	if got := testing.AllocsPerRun(100, func() { p.Extract(ctx, noTrace) }); got != 0 {
		t.Errorf("Extract without sentry-trace: %v allocs, want 0", got)
	}
}

// BenchmarkRequest is one request's propagation: Extract of the incoming
// headers, then one Inject for an outgoing call, so the first Inject of a
// continued trace, which encodes its frozen DSC, is measured too.
func BenchmarkRequest(b *testing.B) {
	for _, cc := range benchCarriers {
		b.Run(cc.name, func(b *testing.B) {
			for _, pp := range []struct {
				name string
				p    propagation.TextMapPropagator
				in   propagation.TextMapCarrier
			}{
				{"sentry", benchSentry(), cc.sentry()},
				{"w3c", benchW3C(), cc.w3c()},
			} {
				b.Run(pp.name, func(b *testing.B) {
					out := cc.empty()
					b.ReportAllocs()
					for b.Loop() {
						cc.reset(out)
						pp.p.Inject(pp.p.Extract(context.Background(), pp.in), out)
					}
				})
			}
		})
	}
}
