package bridge

import (
	"context"
	"errors"
	"log/slog"
	"strconv"
	"sync/atomic"

	"go.opentelemetry.io/contrib/bridges/otelslog"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/propagation"
	sdklog "go.opentelemetry.io/otel/sdk/log"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/otelsentry/otelsentry/dsn"
)

// setUp is set while a Setup is installed, so that a second one fails
// instead of replacing the first one's globals.
var setUp atomic.Bool

// Setup builds the configuration that opts and the SENTRY_* environment
// variables describe and installs it: the global propagator (see
// Bridge.Propagator), a global tracer provider with the Sentry sampler, the
// given span exporters and processors and a service.name resource, and,
// with log exporters, a global logger provider (see Logger). The
// package-level helpers then use it.
//
// shutdown flushes and stops the providers, returning the exporters'
// errors (a DSN that Sentry rejects shows up here), and puts back the
// global propagator and providers that Setup replaced; Setup may then run
// again.
//
// The installed propagation.Baggage forwards incoming baggage members of
// other vendors, as OpenTelemetry does and Sentry SDKs do not; use
// WithoutBaggagePropagator to leave it out.
func Setup(ctx context.Context, opts ...Option) (shutdown func(context.Context) error, err error) {
	b, err := New(opts...)
	if err != nil {
		return nil, err
	}
	res, err := b.resource(ctx)
	if err != nil {
		return nil, err
	}
	if !setUp.CompareAndSwap(false, true) {
		return nil, ErrAlreadySetUp
	}
	prevTP, prevProp, prevLP := otel.GetTracerProvider(), otel.GetTextMapPropagator(), otel.GetLoggerProvider()
	if len(prevProp.Fields()) == 0 {
		// The default global propagator forwards to whatever is set after
		// it, this one included: put back one that does nothing instead.
		prevProp = propagation.NewCompositeTextMapPropagator()
	}
	tp := sdktrace.NewTracerProvider(b.tracerProviderOptions(res)...)
	otel.SetTracerProvider(tp)
	otel.SetTextMapPropagator(b.Propagator())
	var lp *sdklog.LoggerProvider
	if len(b.cfg.logExporters) > 0 {
		lpOpts := []sdklog.LoggerProviderOption{sdklog.WithResource(res)}
		for _, exp := range b.cfg.logExporters {
			lpOpts = append(lpOpts, sdklog.WithProcessor(sdklog.NewBatchProcessor(exp)))
		}
		lp = sdklog.NewLoggerProvider(lpOpts...)
		otel.SetLoggerProvider(lp)
	}
	b.logInstalled(ctx)

	return func(ctx context.Context) error {
		// ForceFlush returns what the exporters say; the final export of
		// Shutdown would tell only otel.Handle.
		err := errors.Join(tp.ForceFlush(ctx), tp.Shutdown(ctx))
		if lp != nil {
			err = errors.Join(err, lp.ForceFlush(ctx), lp.Shutdown(ctx))
			otel.SetLoggerProvider(prevLP)
		}
		otel.SetTracerProvider(prevTP)
		otel.SetTextMapPropagator(prevProp)
		setUp.Store(false)
		return err
	}, nil
}

// Logger returns a logger whose records go to the logger provider Setup
// installed, through OpenTelemetry's slog bridge: a record logged with a
// context (InfoContext and the like) carries the trace id and span id of
// that context's span. name names the instrumentation scope. Before Setup,
// or without log exporters, the records go to the global logger provider,
// which discards them unless one was installed otherwise.
func Logger(name string) *slog.Logger {
	return otelslog.NewLogger(name)
}

// TracerProviderOptions returns the options of the tracer provider Setup
// installs: the Sentry sampler, the resource and the configured exporters
// and processors.
func (b *Bridge) TracerProviderOptions(ctx context.Context) ([]sdktrace.TracerProviderOption, error) {
	res, err := b.resource(ctx)
	if err != nil {
		return nil, err
	}
	return b.tracerProviderOptions(res), nil
}

func (b *Bridge) tracerProviderOptions(res *resource.Resource) []sdktrace.TracerProviderOption {
	opts := []sdktrace.TracerProviderOption{sdktrace.WithSampler(b.Sampler()), sdktrace.WithResource(res)}
	if b == nil {
		return opts
	}
	for _, exp := range b.cfg.exporters {
		opts = append(opts, sdktrace.WithBatcher(exp))
	}
	for _, sp := range b.cfg.processors {
		opts = append(opts, sdktrace.WithSpanProcessor(sp))
	}
	return opts
}

// resource describes the service: OTEL_RESOURCE_ATTRIBUTES and
// OTEL_SERVICE_NAME, the SDK, and the WithServiceName option.
func (b *Bridge) resource(ctx context.Context) (*resource.Resource, error) {
	detectors := []resource.Option{resource.WithFromEnv(), resource.WithTelemetrySDK()}
	if b != nil && b.cfg.serviceName != "" {
		detectors = append(detectors, resource.WithAttributes(attribute.String("service.name", b.cfg.serviceName)))
	}
	res, err := resource.New(ctx, detectors...)
	if err != nil && !errors.Is(err, resource.ErrPartialResource) {
		return nil, err
	}
	if res, err = resource.Merge(resource.Default(), res); err != nil && !errors.Is(err, resource.ErrSchemaURLConflict) {
		return nil, err
	}
	return res, nil
}

// logInstalled logs, at info level, one line saying what Setup installed.
func (b *Bridge) logInstalled(ctx context.Context) {
	attrs := []slog.Attr{
		slog.String("propagators", "tracecontext,baggage,sentry"),
		slog.Int("span_exporters", len(b.cfg.exporters)),
		slog.Int("span_processors", len(b.cfg.processors)),
		slog.Int("log_exporters", len(b.cfg.logExporters)),
	}
	if b.cfg.noBaggage {
		attrs[0] = slog.String("propagators", "tracecontext,sentry")
	}
	if d, err := dsn.Parse(b.cfg.dsn); err == nil {
		attrs = append(attrs, slog.String("dsn_host", d.Host), slog.String("project", d.ProjectID))
	} else {
		attrs = append(attrs, slog.String("dsn", "none"))
	}
	switch {
	case b.cfg.sampleRate != nil:
		attrs = append(attrs, slog.String("traces_sample_rate", strconv.FormatFloat(*b.cfg.sampleRate, 'f', -1, 64)))
	case len(b.cfg.samplerOpts) == 0:
		attrs = append(attrs, slog.String("traces_sample_rate", "none: nothing is recorded here, decisions are left to later services"))
	}
	if len(b.cfg.samplerOpts) > 0 {
		attrs = append(attrs, slog.Int("sampler_options", len(b.cfg.samplerOpts)))
	}
	b.cfg.logger.LogAttrs(ctx, slog.LevelInfo, "otelsentry set up", attrs...)
}
