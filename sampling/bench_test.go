package sampling_test

import (
	"context"
	"sync"
	"testing"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"

	"github.com/otelsentry/otelsentry/internal/protocol"
	"github.com/otelsentry/otelsentry/sampling"
)

func samplingParams(b testing.TB, ctx context.Context) sdktrace.SamplingParameters {
	return sdktrace.SamplingParameters{ParentContext: ctx, TraceID: mustID(b), Name: "GET /users/{id}", Kind: trace.SpanKindServer}
}

func BenchmarkShouldSample(b *testing.B) {
	s := sampling.New(sampling.WithSampleRate(0.5))
	w := newWorld(b, s)
	parentCtx, _ := w.start(context.Background(), "root")
	continued := w.extract(T+"-"+S+"-1", "sentry-sample_rate=0.5,sentry-sample_rand=0.25,sentry-release=r")
	for _, bb := range []struct {
		name string
		ctx  context.Context
	}{
		{"child", parentCtx},
		{"root", context.Background()},
		{"continued", continued},
	} {
		p := samplingParams(b, bb.ctx)
		if bb.name == "child" {
			p.TraceID = trace.SpanContextFromContext(parentCtx).TraceID()
		}
		b.Run(bb.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				s.ShouldSample(p)
			}
		})
	}
}

// TestConcurrentSampling runs many goroutines through one sampler; with
// -race it proves the sampler shares no mutable state, and every goroutine
// must see the same decision for the same trace.
func TestConcurrentSampling(t *testing.T) {
	s := sampling.New(sampling.WithSampleRate(0.5))
	w := newWorld(t, s)
	ctx := w.extract(T+"-"+S, "sentry-sample_rand=0.3")
	want := s.ShouldSample(samplingParams(t, ctx))
	var wg sync.WaitGroup
	errs := make(chan string, 64)
	for range 64 {
		wg.Go(func() {
			for range 200 {
				got := s.ShouldSample(samplingParams(t, ctx))
				if got.Decision != want.Decision || got.Tracestate.String() != want.Tracestate.String() {
					errs <- got.Tracestate.String()
					return
				}
				_, span := w.start(context.Background(), "root")
				if m, ok := protocol.ParseTraceState(span.SpanContext().TraceState()); !ok || m.SampleRand != protocol.HeadSampleRand(span.SpanContext().TraceID(), trace.TraceState{}) {
					errs <- span.SpanContext().TraceState().String()
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Errorf("inconsistent decision: %s", e)
	}
	if want.Decision != sdktrace.RecordAndSample {
		t.Errorf("decision %v for sample_rand 0.3 at rate 0.5", want.Decision)
	}
}
