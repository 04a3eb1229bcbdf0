package sampling_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/propagation"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/otelsentry/otelsentry/propagator"
	"github.com/otelsentry/otelsentry/sampling"
)

// A quarter of the traces this service starts are sampled; traces that
// come in decided keep their decision.
func ExampleWithSampleRate() {
	tp := sdktrace.NewTracerProvider(sdktrace.WithSampler(sampling.New(sampling.WithSampleRate(0.25))))
	defer func() { _ = tp.Shutdown(context.Background()) }()

	// An upstream service sampled this trace; 0.25 does not undo that.
	ctx := propagator.New().Extract(context.Background(), propagation.MapCarrier{
		"sentry-trace": "771a43a4192642f0b136d5159a501700-b72fa28504b07285-1",
		"baggage":      "sentry-sample_rate=1,sentry-sample_rand=0.9",
	})
	_, span := tp.Tracer("example").Start(ctx, "GET /orders")
	defer span.End()
	fmt.Println(span.SpanContext().IsSampled())
	// Output: true
}

// A traces sampler that keeps every upstream decision, samples health
// checks never and everything else at 10%.
func ExampleWithTracesSampler() {
	s := sampling.New(sampling.WithTracesSampler(func(c sampling.SamplingContext) float64 {
		if strings.HasPrefix(c.Name, "GET /healthz") {
			return 0
		}
		return c.Inherit(0.1)
	}))
	tp := sdktrace.NewTracerProvider(sdktrace.WithSampler(s))
	defer func() { _ = tp.Shutdown(context.Background()) }()

	_, span := tp.Tracer("example").Start(context.Background(), "GET /healthz")
	defer span.End()
	fmt.Println(span.SpanContext().IsSampled())
	// Output: false
}

// With interop on, the sampler writes OTel's consistent-probability
// randomness (rv) and threshold (th) beside the sentry member, so OTel
// consistent samplers downstream agree with the decision.
func ExampleWithConsistentSampling() {
	s := sampling.New(sampling.WithSampleRate(0.5), sampling.WithConsistentSampling(true))
	tp := sdktrace.NewTracerProvider(sdktrace.WithSampler(s))
	defer func() { _ = tp.Shutdown(context.Background()) }()

	ctx := propagator.New().Extract(context.Background(), propagation.MapCarrier{
		"sentry-trace": "771a43a4192642f0b136d5159a501700-b72fa28504b07285",
		"baggage":      "sentry-sample_rand=0.25",
	})
	_, span := tp.Tracer("example").Start(ctx, "checkout")
	defer span.End()
	ts := span.SpanContext().TraceState()
	fmt.Println(span.SpanContext().IsSampled(), ts.Get("ot"), ts.Get("sentry"))
	// Output: true rv:bfffffffffffff;th:8 s:1;r:0.25;t:0.5
}

func ExampleNew() {
	// Tracing without performance: no rate, no traces sampler. Nothing is
	// recorded here, traces are still continued and propagated, and the next
	// service that has a rate decides.
	tp := sdktrace.NewTracerProvider(sdktrace.WithSampler(sampling.New()))
	defer func() { _ = tp.Shutdown(context.Background()) }()
	ctx, span := tp.Tracer("example").Start(context.Background(), "job")
	defer span.End()
	c := propagation.MapCarrier{}
	propagator.New().Inject(ctx, c)
	fmt.Println(strings.Count(c.Get("sentry-trace"), "-"), span.SpanContext().IsSampled())
	// Output: 1 false
}

func ExampleSamplingContext_Inherit() {
	c := sampling.SamplingContext{ParentDecision: propagator.Sampled}
	fmt.Println(c.Inherit(0.1), sampling.SamplingContext{}.Inherit(0.1))
	// Output: 1 0.1
}

// Invalid rates from a traces sampler, and its panics, are logged at debug
// level; the span is not sampled.
func ExampleWithLogger() {
	logger := slog.New(slog.NewTextHandler(os.Stdout, &slog.HandlerOptions{
		Level: slog.LevelDebug,
		ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
			if a.Key == slog.TimeKey {
				return slog.Attr{}
			}
			return a
		},
	}))
	s := sampling.New(sampling.WithLogger(logger),
		sampling.WithTracesSampler(func(sampling.SamplingContext) float64 { return 2 }))
	tp := sdktrace.NewTracerProvider(sdktrace.WithSampler(s))
	defer func() { _ = tp.Shutdown(context.Background()) }()
	_, span := tp.Tracer("example").Start(context.Background(), "job")
	defer span.End()
	// Output: level=DEBUG msg="invalid sample rate: not sampled" rate=2
}

// A configured rate outside [0,1] is reported through otel.Handle.
func ExampleErrInvalidRate() {
	otel.SetErrorHandler(otel.ErrorHandlerFunc(func(err error) {
		fmt.Println(errors.Is(err, sampling.ErrInvalidRate))
	}))
	defer otel.SetErrorHandler(otel.ErrorHandlerFunc(func(error) {}))
	sampling.New(sampling.WithSampleRate(1.5))
	// Output: true
}

// The traces sampler sees the parent's decision.
func ExampleTracesSampler() {
	var sampler sampling.TracesSampler = func(c sampling.SamplingContext) float64 {
		fmt.Println(c.Name, c.ParentDecision)
		return c.Inherit(0.5)
	}
	tp := sdktrace.NewTracerProvider(sdktrace.WithSampler(sampling.New(sampling.WithTracesSampler(sampler))))
	defer func() { _ = tp.Shutdown(context.Background()) }()
	ctx := propagator.New().Extract(context.Background(), propagation.MapCarrier{
		"sentry-trace": "771a43a4192642f0b136d5159a501700-b72fa28504b07285-0"})
	_, span := tp.Tracer("example").Start(ctx, "GET /orders")
	defer span.End()
	fmt.Println(span.SpanContext().IsSampled())
	// Output:
	// GET /orders not sampled
	// false
}
