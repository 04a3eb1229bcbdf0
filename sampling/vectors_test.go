package sampling_test

import (
	"context"
	"maps"
	"strconv"
	"testing"

	"go.opentelemetry.io/otel/propagation"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"

	"github.com/otelsentry/otelsentry/internal/protocol"
	"github.com/otelsentry/otelsentry/internal/vectors"
	"github.com/otelsentry/otelsentry/propagator"
	"github.com/otelsentry/otelsentry/sampling"
)

// fixedIDs hands out one trace id and span id.
type fixedIDs struct {
	traceID trace.TraceID
	spanID  trace.SpanID
}

func (f fixedIDs) NewIDs(context.Context) (trace.TraceID, trace.SpanID)  { return f.traceID, f.spanID }
func (f fixedIDs) NewSpanID(context.Context, trace.TraceID) trace.SpanID { return f.spanID }

func TestHeadDSC(t *testing.T) { // V-BS-13
	// A trace id whose sample_rand is 0.250000, as the vector requires.
	var id trace.TraceID
	for i := 0; protocol.HeadSampleRand(id, trace.TraceState{}) != "0.250000"; i++ {
		id = trace.TraceID{0: 0x4b, 12: byte(i >> 24), 13: byte(i >> 16), 14: byte(i >> 8), 15: byte(i)}
	}
	tp := sdktrace.NewTracerProvider(sdktrace.WithSampler(sampling.New(sampling.WithSampleRate(0.5))),
		sdktrace.WithIDGenerator(fixedIDs{id, trace.SpanID{1}}))
	defer func() { _ = tp.Shutdown(context.Background()) }()
	ctx, span := tp.Tracer("t").Start(context.Background(), "Head SDK tx")
	defer span.End()
	out := propagation.MapCarrier{}
	propagator.New(propagator.WithRelease("foo")).Inject(ctx, out)
	got := vectors.Members(t, out.Get("baggage"))
	want := map[string]string{
		"sentry-trace_id": id.String(), "sentry-sample_rand": "0.250000", "sentry-environment": "production",
		"sentry-release": "foo", "sentry-transaction": "Head%20SDK%20tx", "sentry-sample_rate": "0.5", "sentry-sampled": "true",
	}
	if !maps.Equal(got, want) {
		t.Errorf("baggage %v,\nwant %v", got, want)
	}
}

func TestPropagatorRows(t *testing.T) { // V-PR-5, V-PR-8
	opts := []propagator.Option{propagator.WithEnvironment("production"), propagator.WithRelease("1.0.0"), propagator.WithDSN("https://abc@domain/123")}
	t.Run("V-PR-5", func(t *testing.T) {
		w := newWorld(t, sampling.New(sampling.WithSampleRate(1)), opts...)
		ctx, span := w.start(w.extract(T+"-"+S, ""), "child")
		out := w.inject(ctx)
		if want := T + "-" + span.SpanContext().SpanID().String() + "-1"; out.Get("sentry-trace") != want {
			t.Errorf("sentry-trace %q, want %q", out.Get("sentry-trace"), want)
		}
		got := vectors.Members(t, out.Get("baggage"))
		if len(got) != 1 || got["sentry-sample_rand"] == "" {
			t.Errorf("baggage %v, want sample_rand alone (frozen empty)", got)
		}
	})
	t.Run("V-PR-8", func(t *testing.T) {
		w := newWorld(t, sampling.New(sampling.WithSampleRate(1)), opts...)
		ctx, span := w.start(context.Background(), "checkout")
		got := vectors.Members(t, w.inject(ctx).Get("baggage"))
		rand := got["sentry-sample_rand"]
		if x, err := strconv.ParseFloat(rand, 64); err != nil || x < 0 || x >= 1 {
			t.Errorf("sample_rand %q", rand)
		}
		want := map[string]string{
			"sentry-environment": "production", "sentry-release": "1.0.0", "sentry-public_key": "abc",
			"sentry-trace_id": span.SpanContext().TraceID().String(), "sentry-sample_rate": "1", "sentry-sample_rand": rand,
			"sentry-sampled": "true", "sentry-transaction": "checkout",
		}
		if !maps.Equal(got, want) {
			t.Errorf("baggage %v,\nwant %v", got, want)
		}
	})
}

func TestSampleRandDecides(t *testing.T) { // V-SR rows with a local rate, and SM-10 through the sampler
	for _, tt := range vectors.SampleRand() {
		if tt.LocalRate == nil {
			continue // checked in package propagator
		}
		t.Run(tt.ID, func(t *testing.T) {
			w := newWorld(t, sampling.New(sampling.WithSampleRate(*tt.LocalRate)))
			ctx, span := w.start(w.extract(tt.SentryTrace, tt.Baggage), "root")
			if tt.Sampled != nil && span.SpanContext().IsSampled() != *tt.Sampled {
				t.Errorf("sampled = %v", span.SpanContext().IsSampled())
			}
			if m := member(t, span.SpanContext()); m.SampleRand != tt.Want {
				t.Errorf("member r %q, want %q", m.SampleRand, tt.Want)
			}
			if got := vectors.Members(t, w.inject(ctx).Get("baggage"))["sentry-sample_rand"]; got != tt.Want {
				t.Errorf("outgoing sample_rand %q, want %q", got, tt.Want)
			}
		})
	}
}

func TestRejectedTraceStartsFresh(t *testing.T) { // V-OR rows with a sampler
	var parent propagator.Decision = 99
	s := sampling.New(sampling.WithTracesSampler(func(c sampling.SamplingContext) float64 {
		parent = c.ParentDecision
		return 1
	}))
	w := newWorld(t, s, propagator.WithOrgID("1"), propagator.WithStrictTraceContinuation(true))
	for _, org := range []string{"2", ""} {
		baggage := "sentry-trace_id=bc6d53f15eb88f4320054569b8c553d4"
		if org != "" {
			baggage += ",sentry-org_id=" + org
		}
		_, span := w.start(w.extract("bc6d53f15eb88f4320054569b8c553d4-b72fa28504b07285-1", baggage), "root")
		ro := span.(sdktrace.ReadOnlySpan)
		if span.SpanContext().TraceID().String() == "bc6d53f15eb88f4320054569b8c553d4" || ro.Parent().IsValid() || parent != propagator.Deferred {
			t.Errorf("org %q: trace %s, parent %v, parent decision %v", org, span.SpanContext().TraceID(), ro.Parent(), parent)
		}
	}
}
