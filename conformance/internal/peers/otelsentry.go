package peers

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/propagation"
	sdkresource "go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/otelsentry/otelsentry/bridge"
	"github.com/otelsentry/otelsentry/conformance/hop"
	"github.com/otelsentry/otelsentry/conformance/internal/testkit"
	"github.com/otelsentry/otelsentry/propagator"
	"github.com/otelsentry/otelsentry/sampling"
	"github.com/otelsentry/otelsentry/sentryotlp"
)

// OtelSentry is a hop of OpenTelemetry with otelsentry: otelhttp's handler
// and transport, otelsentry's propagator and sampler, and, with a DSN, spans
// exported to Sentry over OTLP. Nothing global is set, so several hops can
// share a process.
type OtelSentry struct {
	tp      *sdktrace.TracerProvider
	prop    propagation.TextMapPropagator
	handler http.Handler
}

// OtelSentryOption changes how an OtelSentry hop propagates.
type OtelSentryOption func(*otelSentrySettings)

type otelSentrySettings struct {
	composite  bool
	propOpts   []propagator.Option
	processors []sdktrace.SpanProcessor
	wrap       func(http.Handler) http.Handler
}

// WithComposite makes the hop use propagator.Composite (W3C trace context,
// W3C baggage, then Sentry) instead of W3C trace context and Sentry alone.
func WithComposite() OtelSentryOption {
	return func(s *otelSentrySettings) { s.composite = true }
}

// WithPropagatorOptions adds options to the hop's Sentry propagator, after
// those its Config implies.
func WithPropagatorOptions(opts ...propagator.Option) OtelSentryOption {
	return func(s *otelSentrySettings) { s.propOpts = append(s.propOpts, opts...) }
}

// WithSpanProcessor adds a span processor to the hop's tracer provider,
// e.g. a tracetest.SpanRecorder.
func WithSpanProcessor(sp sdktrace.SpanProcessor) OtelSentryOption {
	return func(s *otelSentrySettings) { s.processors = append(s.processors, sp) }
}

// WithWrap wraps the hop's whole handler in wrap, outside its server
// instrumentation: for what a service answers before any span starts, such
// as CORS preflights.
func WithWrap(wrap func(http.Handler) http.Handler) OtelSentryOption {
	return func(s *otelSentrySettings) { s.wrap = wrap }
}

// NewOtelSentry builds the hop. A nil cfg.Rate leaves the sampler without a
// rate: decisions that arrive are kept and passed on, a trace that arrives
// undecided stays undecided, and, as bridge.Setup does, the hop records
// and sends no span. With cfg.DSN set, the hop exports its spans to that
// project over OTLP and its propagator builds the DSC from the DSN.
func NewOtelSentry(ctx context.Context, cfg Config, opts ...OtelSentryOption) (*OtelSentry, error) {
	var st otelSentrySettings
	for _, o := range opts {
		o(&st)
	}

	var sopts []sampling.Option
	if cfg.Rate != nil {
		sopts = append(sopts, sampling.WithSampleRate(*cfg.Rate))
	}
	tpOpts := []sdktrace.TracerProviderOption{
		sdktrace.WithSampler(sampling.New(sopts...)),
		sdktrace.WithResource(sdkresource.NewSchemaless(attribute.String("service.name", cfg.Name))),
	}
	sends := cfg.Rate != nil
	if sends {
		for _, sp := range st.processors {
			tpOpts = append(tpOpts, sdktrace.WithSpanProcessor(sp))
		}
	}
	if cfg.DSN != "" {
		exp, err := sentryotlp.New(ctx, cfg.DSN)
		if err != nil {
			return nil, fmt.Errorf("otelsentry hop %s: %w", cfg.Name, err)
		}
		if sends {
			tpOpts = append(tpOpts, sdktrace.WithBatcher(exp))
		} else if err := exp.Shutdown(ctx); err != nil {
			return nil, fmt.Errorf("otelsentry hop %s: %w", cfg.Name, err)
		}
	}

	var popts []propagator.Option
	if cfg.DSN != "" {
		popts = append(popts, propagator.WithDSN(cfg.DSN))
	}
	if cfg.Release != "" {
		popts = append(popts, propagator.WithRelease(cfg.Release))
	}
	if cfg.Environment != "" {
		popts = append(popts, propagator.WithEnvironment(cfg.Environment))
	}
	popts = append(popts, st.propOpts...)

	s := &OtelSentry{tp: sdktrace.NewTracerProvider(tpOpts...)}
	if st.composite {
		s.prop = propagator.Composite(popts...)
	} else {
		s.prop = propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagator.New(popts...))
	}

	client := &http.Client{Transport: bridge.NewTransport(otelhttp.NewTransport(
		&hop.CaptureTransport{},
		otelhttp.WithTracerProvider(s.tp),
		otelhttp.WithPropagators(s.prop),
	))}
	s.handler = hop.NewHandler(hop.Peer{
		Name:       cfg.Name,
		Client:     client,
		Instrument: s.instrument,
		Current: func(ctx context.Context) hop.Span {
			span := currentOtelSpan(ctx)
			span.Sampled = span.Sampled && sends
			return span
		},
		Flush: s.Flush,
	})
	if st.wrap != nil {
		s.handler = st.wrap(s.handler)
	}
	return s, nil
}

type remoteParentKey struct{}

// instrument wraps next in otelhttp's handler. It also keeps the remote
// parent, extracted with the same propagator, because a span that is not
// recording (sampled out or deferred) does not tell its parent.
func (s *OtelSentry) instrument(next http.Handler) http.Handler {
	inner := otelhttp.NewHandler(next, "GET /hop",
		otelhttp.WithTracerProvider(s.tp),
		otelhttp.WithPropagators(s.prop),
	)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		parent := trace.SpanContextFromContext(s.prop.Extract(r.Context(), propagation.HeaderCarrier(r.Header)))
		ctx := context.WithValue(r.Context(), remoteParentKey{}, parent)
		inner.ServeHTTP(w, r.WithContext(ctx))
	})
}

func currentOtelSpan(ctx context.Context) hop.Span {
	span := trace.SpanFromContext(ctx)
	sc := span.SpanContext()
	if !sc.IsValid() {
		return hop.Span{}
	}
	out := hop.Span{TraceID: sc.TraceID().String(), SpanID: sc.SpanID().String(), Sampled: sc.IsSampled()}
	var parent trace.SpanContext
	if ro, ok := span.(sdktrace.ReadOnlySpan); ok {
		parent = ro.Parent()
	} else if p, ok := ctx.Value(remoteParentKey{}).(trace.SpanContext); ok && p.TraceID() == sc.TraceID() {
		parent = p
	}
	if parent.SpanID().IsValid() {
		out.ParentSpanID = parent.SpanID().String()
	}
	return out
}

// Handler returns the hop's HTTP handler.
func (s *OtelSentry) Handler() http.Handler { return s.handler }

// Flush exports the spans ended so far, within timeout.
func (s *OtelSentry) Flush(timeout time.Duration) bool {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	return s.tp.ForceFlush(ctx) == nil
}

// Close exports what is left and stops the tracer provider.
func (s *OtelSentry) Close(ctx context.Context) error { return s.tp.Shutdown(ctx) }

// OtelSentryHop is a running otelsentry hop.
type OtelSentryHop struct {
	*Hop
	// Recorder holds every span the hop ended.
	Recorder *tracetest.SpanRecorder
}

// StartOtelSentry runs an otelsentry hop on 127.0.0.1 until t's cleanup.
func StartOtelSentry(t testkit.TB, cfg Config, opts ...OtelSentryOption) *OtelSentryHop {
	t.Helper()
	rec := tracetest.NewSpanRecorder()
	s, err := NewOtelSentry(context.Background(), cfg, append(opts, WithSpanProcessor(rec))...)
	if err != nil {
		t.Fatal(err)
	}
	h := serve(t, cfg.Name, s.Handler(), func() {
		ctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
		defer cancel()
		_ = s.Close(ctx)
	})
	return &OtelSentryHop{Hop: h, Recorder: rec}
}
