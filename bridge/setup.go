package bridge

import (
	"context"
	"errors"
	"html/template"
	"net/http"
	"sync"
	"sync/atomic"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/otelsentry/otelsentry/internal/protocol"
	"github.com/otelsentry/otelsentry/propagator"
)

// installed is the configuration Setup installed, read by the package-level
// helpers.
var installed atomic.Pointer[Bridge]

// Setup builds the configuration that opts and the SENTRY_* environment
// variables describe and installs it: the global propagator (see
// Bridge.Propagator), a global tracer provider with the Sentry sampler, the
// given exporters and processors and a service.name resource, and the
// configuration the package-level helpers use; otel.GetTracerProvider
// returns the provider. shutdown flushes and stops the tracer provider and
// uninstalls the configuration, after which Setup may run again.
//
// The installed propagation.Baggage forwards incoming baggage members of
// other vendors, as OpenTelemetry does and Sentry SDKs do not; use
// WithoutBaggagePropagator to leave it out.
func Setup(ctx context.Context, opts ...Option) (shutdown func(context.Context) error, err error) {
	b, err := New(opts...)
	if err != nil {
		return nil, err
	}
	tpOpts, err := b.TracerProviderOptions(ctx)
	if err != nil {
		return nil, err
	}
	if !installed.CompareAndSwap(nil, b) {
		return nil, ErrAlreadySetUp
	}
	tp := sdktrace.NewTracerProvider(tpOpts...)
	otel.SetTracerProvider(tp)
	otel.SetTextMapPropagator(b.Propagator())
	return func(ctx context.Context) error {
		err := tp.Shutdown(ctx)
		installed.CompareAndSwap(b, nil)
		return err
	}, nil
}

// TracerProviderOptions returns the options of the tracer provider Setup
// installs: the Sentry sampler, the resource and the configured exporters
// and processors.
func (b *Bridge) TracerProviderOptions(ctx context.Context) ([]sdktrace.TracerProviderOption, error) {
	detectors := []resource.Option{resource.WithFromEnv(), resource.WithTelemetrySDK()}
	if b.cfg.serviceName != "" {
		detectors = append(detectors, resource.WithAttributes(attribute.String("service.name", b.cfg.serviceName)))
	}
	res, err := resource.New(ctx, detectors...)
	if err != nil && !errors.Is(err, resource.ErrPartialResource) {
		return nil, err
	}
	if res, err = resource.Merge(resource.Default(), res); err != nil && !errors.Is(err, resource.ErrSchemaURLConflict) {
		return nil, err
	}
	opts := []sdktrace.TracerProviderOption{sdktrace.WithSampler(b.sampler), sdktrace.WithResource(res)}
	for _, exp := range b.cfg.exporters {
		opts = append(opts, sdktrace.WithBatcher(exp))
	}
	for _, sp := range b.cfg.processors {
		opts = append(opts, sdktrace.WithSpanProcessor(sp))
	}
	return opts, nil
}

// current returns the installed configuration, or, before Setup, the
// default one.
func current() *Bridge {
	if b := installed.Load(); b != nil {
		return b
	}
	return defaultBridge()
}

// defaultBridge is built once, from the SENTRY_* settings of the
// environment, or, where those are invalid (only Setup reports them), from
// none.
var defaultBridge = sync.OnceValue(func() *Bridge {
	if b, err := New(); err == nil {
		return b
	}
	b, _ := New(withoutSettingsFromEnv())
	return b
})

// ContinueTrace continues a trace with the installed configuration; see
// Bridge.ContinueTrace.
func ContinueTrace(ctx context.Context, sentryTrace, baggage string) context.Context {
	return current().ContinueTrace(ctx, sentryTrace, baggage)
}

// ContinueTraceFromHeaders continues the trace of incoming request headers
// with the installed configuration.
func ContinueTraceFromHeaders(ctx context.Context, h http.Header) context.Context {
	return current().ContinueTraceFromHeaders(ctx, h)
}

// ContinueTraceFromMetadata continues the trace in a job's metadata with
// the installed configuration.
func ContinueTraceFromMetadata(ctx context.Context, metadata map[string]string) context.Context {
	return current().ContinueTraceFromMetadata(ctx, metadata)
}

// ContinueTraceFromCarrier continues the trace in any carrier with the
// installed configuration.
func ContinueTraceFromCarrier(ctx context.Context, carrier propagation.TextMapCarrier) context.Context {
	return current().ContinueTraceFromCarrier(ctx, carrier)
}

// ContinueTraceFromEnv continues the trace in SENTRY_TRACE and
// SENTRY_BAGGAGE with the installed configuration.
func ContinueTraceFromEnv(ctx context.Context) context.Context {
	return current().ContinueTraceFromEnv(ctx)
}

// Inject writes the Sentry trace headers for ctx into carrier with the
// installed configuration; see Bridge.Inject.
func Inject(ctx context.Context, carrier propagation.TextMapCarrier) {
	current().Inject(ctx, carrier)
}

// InjectEnv returns env with SENTRY_TRACE and SENTRY_BAGGAGE for ctx; see
// Bridge.InjectEnv.
func InjectEnv(ctx context.Context, env []string) []string { return current().InjectEnv(ctx, env) }

// Traceparent returns the sentry-trace value for ctx's span.
func Traceparent(ctx context.Context) string { return current().Traceparent(ctx) }

// Baggage returns the Sentry baggage members for ctx's trace.
func Baggage(ctx context.Context) string { return current().Baggage(ctx) }

// MetaTags returns the sentry-trace and baggage meta tags for ctx.
func MetaTags(ctx context.Context) template.HTML { return current().MetaTags(ctx) }

// ServerTiming returns a Server-Timing value with sentry-trace and baggage.
func ServerTiming(ctx context.Context) string { return current().ServerTiming(ctx) }

// NewTrace returns ctx without span and Sentry state: the next span
// started from it begins a new trace.
func NewTrace(ctx context.Context) context.Context { return protocol.WithoutTrace(ctx) }

// SuppressInject returns ctx marked so that no propagator of the installed
// composite injects anything, for requests that must carry no trace, such
// as those to Sentry itself.
func SuppressInject(ctx context.Context) context.Context { return propagator.SuppressInject(ctx) }
