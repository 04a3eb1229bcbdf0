package sampling_test

import (
	"context"
	"testing"

	"go.opentelemetry.io/otel/attribute"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/otelsentry/otelsentry/propagator"
	"github.com/otelsentry/otelsentry/sampling"
)

// clientRate returns the sentry.client_sample_rate attribute of s.
func clientRate(s sdktrace.ReadOnlySpan) (float64, bool) {
	for _, kv := range s.Attributes() {
		if kv.Key == "sentry.client_sample_rate" {
			return kv.Value.AsFloat64(), kv.Value.Type() == attribute.FLOAT64
		}
	}
	return 0, false
}

// TestClientSampleRate checks the rate that Sentry extrapolates with on
// every span of a sampled trace, the local root and its child: the rate
// this process applied, the head's from the incoming DSC for an inherited
// decision, and none where no rate is known or nothing is sampled.
func TestClientSampleRate(t *testing.T) {
	const tid, sid = "771a43a4192642f0b136d5159a501700", "b72fa28504b07285"
	for _, tt := range []struct {
		name                 string
		opts                 []sampling.Option
		sentryTrace, baggage string
		sampled              bool
		rate                 float64 // 0: no attribute
	}{
		{"own rate at the head", []sampling.Option{sampling.WithSampleRate(1)}, "", "", true, 1},
		{"own rate, continued undecided", []sampling.Option{sampling.WithSampleRate(0.25)},
			tid + "-" + sid, "sentry-trace_id=" + tid + ",sentry-sample_rand=0.1", true, 0.25},
		{"inherited with the head's rate", []sampling.Option{sampling.WithSampleRate(1)},
			tid + "-" + sid + "-1", "sentry-trace_id=" + tid + ",sentry-sample_rate=0.5,sentry-sampled=true,sentry-sample_rand=0.2", true, 0.5},
		{"inherited without a rate", []sampling.Option{sampling.WithSampleRate(1)}, tid + "-" + sid + "-1", "", true, 0},
		{"traces sampler", []sampling.Option{sampling.WithTracesSampler(func(sampling.SamplingContext) float64 { return 0.75 })},
			tid + "-" + sid, "sentry-trace_id=" + tid + ",sentry-sample_rand=0.5", true, 0.75},
		{"not sampled", []sampling.Option{sampling.WithSampleRate(0.25)},
			tid + "-" + sid, "sentry-trace_id=" + tid + ",sentry-sample_rand=0.9", false, 0},
	} {
		t.Run(tt.name, func(t *testing.T) {
			rec := tracetest.NewSpanRecorder()
			tp := sdktrace.NewTracerProvider(sdktrace.WithSampler(sampling.New(tt.opts...)), sdktrace.WithSpanProcessor(rec))
			defer func() { _ = tp.Shutdown(context.Background()) }()
			w := world{tracer: tp.Tracer("test"), prop: propagator.New()}
			ctx, root := w.tracer.Start(w.extract(tt.sentryTrace, tt.baggage), "GET /users/{id}", trace.WithSpanKind(trace.SpanKindServer))
			_, child := w.tracer.Start(ctx, "SELECT users")
			child.End()
			root.End()
			if root.SpanContext().IsSampled() != tt.sampled {
				t.Fatalf("sampled %t, want %t", root.SpanContext().IsSampled(), tt.sampled)
			}
			ended := rec.Ended()
			if len(ended) != map[bool]int{true: 2, false: 0}[tt.sampled] {
				t.Fatalf("%d spans recorded", len(ended))
			}
			for _, s := range ended {
				got, ok := clientRate(s)
				if ok != (tt.rate != 0) || got != tt.rate {
					t.Errorf("%s: sentry.client_sample_rate %v (%t), want %v", s.Name(), got, ok, tt.rate)
				}
			}
		})
	}
}

// TestClientSampleRateFromContextOnly checks a child started from a
// context that holds only the parent's SpanContext, as a goroutine might:
// the rate this process applied travels in the trace state, so the child
// still carries it.
func TestClientSampleRateFromContextOnly(t *testing.T) {
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSampler(sampling.New(sampling.WithSampleRate(1))), sdktrace.WithSpanProcessor(rec))
	defer func() { _ = tp.Shutdown(context.Background()) }()
	tracer := tp.Tracer("test")
	_, root := tracer.Start(context.Background(), "job")
	_, child := tracer.Start(trace.ContextWithSpanContext(context.Background(), root.SpanContext()), "step")
	child.End()
	root.End()
	for _, s := range rec.Ended() {
		if got, ok := clientRate(s); !ok || got != 1 {
			t.Errorf("%s: sentry.client_sample_rate %v (%t), want 1", s.Name(), got, ok)
		}
	}
}
