package bench_test

import (
	"context"
	"log/slog"
	"maps"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/getsentry/sentry-go"
	sentryotel "github.com/getsentry/sentry-go/otel"
	"go.opentelemetry.io/contrib/propagators/b3"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/propagation"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"

	"github.com/otelsentry/otelsentry/bridge"
	"github.com/otelsentry/otelsentry/internal/vectors"
	"github.com/otelsentry/otelsentry/propagator"
)

// The notation of docs/protocol.md#notation.
const (
	T = vectors.T
	S = vectors.S
	K = vectors.K
)

// The headers of a sampled request: sentry-trace as a Sentry SDK sends it,
// traceparent and the single b3 header with the same ids, and a baggage of 8
// Sentry members (one of them percent-encoded) and one third-party member.
const (
	sentryTrace = vectors.RequestSentryTrace
	traceparent = "00-" + T + "-" + S + "-01"
	b3Single    = T + "-" + S + "-1"
	baggage     = vectors.RequestBaggage
	dsn         = "https://" + K + "@o1.ingest.sentry.io/123"
	release     = "1.4.2"
	environment = "production"
)

// contender is one propagator under test, with the headers of the request
// it is given and the headers its Inject must write.
type contender struct {
	name string
	p    propagation.TextMapPropagator
	// in holds the incoming headers, with lowercase keys.
	in map[string]string
	// continued and head are the headers Inject must write for a continued
	// trace and for the head of a trace started in this process.
	continued, head []string
	// provider returns the TracerProvider that starts the head span; nil
	// means a plain SDK provider.
	provider func(testing.TB) *sdktrace.TracerProvider
}

// contenders returns the propagators under test, ours first: benchstat
// -col /propagator compares the others with the first column.
func contenders(tb testing.TB) []contender {
	opts := []propagator.Option{
		propagator.WithDSN(dsn),
		propagator.WithRelease(release),
		propagator.WithEnvironment(environment),
	}
	return []contender{
		{
			name:      "sentry",
			p:         propagator.New(opts...),
			in:        map[string]string{"sentry-trace": sentryTrace, "baggage": baggage},
			continued: []string{"sentry-trace", "baggage"},
			head:      []string{"sentry-trace", "baggage"},
		},
		{
			name:      "composite",
			p:         propagator.Composite(opts...),
			in:        map[string]string{"sentry-trace": sentryTrace, "traceparent": traceparent, "baggage": baggage},
			continued: []string{"sentry-trace", "traceparent", "baggage"},
			head:      []string{"sentry-trace", "traceparent", "baggage"},
		},
		{
			// What a service that follows the README runs: Composite, as
			// Setup installs it.
			name:      "setup",
			p:         setupPropagator(tb),
			in:        map[string]string{"sentry-trace": sentryTrace, "traceparent": traceparent, "baggage": baggage},
			continued: []string{"sentry-trace", "traceparent", "baggage"},
			head:      []string{"sentry-trace", "traceparent", "baggage"},
		},
		{
			// What Composite replaces: the three composed by hand.
			name: "w3c+sentry",
			p: propagation.NewCompositeTextMapPropagator(
				propagation.TraceContext{}, propagation.Baggage{}, propagator.New(opts...)),
			in:        map[string]string{"sentry-trace": sentryTrace, "traceparent": traceparent, "baggage": baggage},
			continued: []string{"sentry-trace", "traceparent", "baggage"},
			head:      []string{"sentry-trace", "traceparent", "baggage"},
		},
		{
			name:      "w3c",
			p:         propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{}),
			in:        map[string]string{"traceparent": traceparent, "baggage": baggage},
			continued: []string{"traceparent", "baggage"},
			// A head span has no OTel baggage, so Baggage writes nothing.
			head: []string{"traceparent"},
		},
		{
			// b3.New writes the single b3 header; B3 carries no baggage.
			name:      "b3",
			p:         b3.New(),
			in:        map[string]string{"b3": b3Single},
			continued: []string{"b3"},
			head:      []string{"b3"},
		},
		{
			name:      "sentryotel",
			p:         sentryotel.NewSentryPropagator(),
			in:        map[string]string{"sentry-trace": sentryTrace, "baggage": baggage},
			continued: []string{"sentry-trace", "baggage"},
			head:      []string{"sentry-trace", "baggage"},
			provider:  sentryOTelProvider,
		},
	}
}

// carrierType is one TextMapCarrier implementation.
type carrierType struct {
	name string
	// new returns a carrier holding headers.
	new func(headers map[string]string) propagation.TextMapCarrier
	// reset empties c, keeping its storage, so that reuse does not allocate.
	reset func(c propagation.TextMapCarrier)
}

var carrierTypes = []carrierType{
	{
		name: "HeaderCarrier",
		new: func(headers map[string]string) propagation.TextMapCarrier {
			c := propagation.HeaderCarrier(http.Header{})
			for k, v := range headers {
				c.Set(k, v)
			}
			return c
		},
		reset: func(c propagation.TextMapCarrier) { clear(c.(propagation.HeaderCarrier)) },
	},
	{
		name: "MapCarrier",
		new: func(headers map[string]string) propagation.TextMapCarrier {
			c := make(propagation.MapCarrier, len(headers))
			maps.Copy(c, headers)
			return c
		},
		reset: func(c propagation.TextMapCarrier) { clear(c.(propagation.MapCarrier)) },
	},
}

// run runs f as the sub-benchmark carrier=…/propagator=… of every carrier
// type and contender, the names that benchstat -col /propagator lines up.
func run(b *testing.B, f func(b *testing.B, ct carrierType, c contender)) {
	for _, ct := range carrierTypes {
		b.Run("carrier="+ct.name, func(b *testing.B) {
			for _, c := range contenders(b) {
				b.Run("propagator="+c.name, func(b *testing.B) { f(b, ct, c) })
			}
		})
	}
}

// mustContinue fails b unless ctx continues the sampled trace of the
// incoming headers.
func mustContinue(b *testing.B, ctx context.Context) {
	b.Helper()
	sc := trace.SpanContextFromContext(ctx)
	if sc.TraceID().String() != T || sc.SpanID().String() != S || !sc.IsSampled() {
		b.Fatalf("Extract did not continue the trace: %v", sc)
	}
}

// mustWrite fails b unless carrier holds every key.
func mustWrite(b *testing.B, carrier propagation.TextMapCarrier, keys []string) {
	b.Helper()
	for _, k := range keys {
		if carrier.Get(k) == "" {
			b.Fatalf("Inject wrote %v, want %v", carrier.Keys(), keys)
		}
	}
}

// headContext returns a context holding a sampled local root span, the
// head of a trace started in this process.
func headContext(tb testing.TB, tp *sdktrace.TracerProvider) context.Context {
	tb.Helper()
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

// sdkProvider returns a plain SDK provider that samples every span.
func sdkProvider(testing.TB) *sdktrace.TracerProvider {
	return sdktrace.NewTracerProvider(sdktrace.WithSampler(sdktrace.AlwaysSample()))
}

var setUp struct {
	once sync.Once
	p    propagation.TextMapPropagator
	err  error
}

// setupPropagator returns the global propagator that bridge.Setup installs
// for dsn, release and environment. Setup runs once in the process and
// stays installed: the other benchmarks pass their propagators and
// providers explicitly and never read the globals.
func setupPropagator(tb testing.TB) propagation.TextMapPropagator {
	tb.Helper()
	setUp.once.Do(func() {
		_, setUp.err = bridge.Setup(context.Background(),
			bridge.WithDSN(dsn), bridge.WithRelease(release), bridge.WithEnvironment(environment),
			bridge.WithLogger(slog.New(slog.DiscardHandler)))
		setUp.p = otel.GetTextMapPropagator()
	})
	if setUp.err != nil {
		tb.Fatal(setUp.err)
	}
	return setUp.p
}

var initSentry sync.Once

// sentryOTelProvider returns a provider with sentry-go's span processor: the
// legacy propagator finds a local span's sentry-trace and DSC only in the
// Sentry transaction that processor starts, from the global hub's client.
func sentryOTelProvider(tb testing.TB) *sdktrace.TracerProvider {
	initSentry.Do(func() {
		err := sentry.Init(sentry.ClientOptions{
			Dsn:              dsn,
			Release:          release,
			Environment:      environment,
			EnableTracing:    true,
			TracesSampleRate: 1,
			Transport:        discard{},
		})
		if err != nil {
			tb.Fatal(err)
		}
	})
	return sdktrace.NewTracerProvider(
		sdktrace.WithSampler(sdktrace.AlwaysSample()),
		sdktrace.WithSpanProcessor(sentryotel.NewSentrySpanProcessor()),
	)
}

// discard is a sentry.Transport that drops every event.
type discard struct{}

func (discard) Flush(time.Duration) bool              { return true }
func (discard) FlushWithContext(context.Context) bool { return true }
func (discard) Configure(sentry.ClientOptions)        {}
func (discard) SendEvent(*sentry.Event)               {}
func (discard) Close()                                {}

// BenchmarkExtract reads the headers of a sampled request.
func BenchmarkExtract(b *testing.B) {
	run(b, func(b *testing.B, ct carrierType, c contender) {
		carrier := ct.new(c.in)
		ctx := context.Background()
		mustContinue(b, c.p.Extract(ctx, carrier))
		b.ReportAllocs()
		for b.Loop() {
			c.p.Extract(ctx, carrier)
		}
	})
}

// BenchmarkExtractNoSentryTrace reads, with the Sentry propagator alone, a
// carrier that has traceparent and baggage but no sentry-trace: the common
// request from a W3C-only peer, which it must pass over.
func BenchmarkExtractNoSentryTrace(b *testing.B) {
	c := contenders(b)[0]
	for _, ct := range carrierTypes {
		b.Run("carrier="+ct.name, func(b *testing.B) {
			b.Run("propagator="+c.name, func(b *testing.B) {
				carrier := ct.new(map[string]string{"traceparent": traceparent, "baggage": baggage})
				ctx := context.Background()
				if got := c.p.Extract(ctx, carrier); got != ctx {
					b.Fatal("Extract changed the context without sentry-trace")
				}
				b.ReportAllocs()
				for b.Loop() {
					c.p.Extract(ctx, carrier)
				}
			})
		})
	}
}

// BenchmarkInject writes the headers of a continued trace: the context is
// the one each propagator's Extract made of its incoming headers.
func BenchmarkInject(b *testing.B) {
	run(b, func(b *testing.B, ct carrierType, c contender) {
		ctx := c.p.Extract(context.Background(), ct.new(c.in))
		mustContinue(b, ctx)
		carrier := ct.new(nil)
		c.p.Inject(ctx, carrier)
		mustWrite(b, carrier, c.continued)
		b.ReportAllocs()
		for b.Loop() {
			ct.reset(carrier)
			c.p.Inject(ctx, carrier)
		}
	})
}

// BenchmarkInjectHead writes the headers for a sampled local root span of
// a trace that this process started: the Sentry propagators build the
// head-of-trace DSC, the W3C pair writes traceparent only.
func BenchmarkInjectHead(b *testing.B) {
	run(b, func(b *testing.B, ct carrierType, c contender) {
		provider := c.provider
		if provider == nil {
			provider = sdkProvider
		}
		ctx := headContext(b, provider(b))
		carrier := ct.new(nil)
		c.p.Inject(ctx, carrier)
		mustWrite(b, carrier, c.head)
		b.ReportAllocs()
		for b.Loop() {
			ct.reset(carrier)
			c.p.Inject(ctx, carrier)
		}
	})
}

// BenchmarkRequest is one request's propagation: Extract of the incoming
// headers, then one Inject for an outgoing call, so the first Inject of a
// continued trace, which may encode the DSC it froze, is measured too.
func BenchmarkRequest(b *testing.B) {
	run(b, func(b *testing.B, ct carrierType, c contender) {
		in, out := ct.new(c.in), ct.new(nil)
		ctx := c.p.Extract(context.Background(), in)
		mustContinue(b, ctx)
		c.p.Inject(ctx, out)
		mustWrite(b, out, c.continued)
		b.ReportAllocs()
		for b.Loop() {
			ct.reset(out)
			c.p.Inject(c.p.Extract(context.Background(), in), out)
		}
	})
}
