package bridge

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"os"
	"strconv"
	"sync/atomic"

	"go.opentelemetry.io/contrib/bridges/otelslog"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/propagation"
	sdklog "go.opentelemetry.io/otel/sdk/log"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/otelsentry/otelsentry/dsn"
	"github.com/otelsentry/otelsentry/internal/settings"
	"github.com/otelsentry/otelsentry/propagator"
	"github.com/otelsentry/otelsentry/sampling"
)

// setUp is set while a Setup is installed, so that a second one fails
// instead of replacing the first one's globals.
var setUp atomic.Bool

// Setup builds the configuration that opts and the SENTRY_* environment
// variables describe and installs it: propagator.Composite as the global
// propagator, a global tracer provider with the Sentry sampler, the given
// span exporters and processors and a service.name resource, and, with log
// exporters, a global logger provider (see Logger). The package-level
// helpers then use it.
//
// Setup reads SENTRY_DSN, SENTRY_RELEASE, SENTRY_ENVIRONMENT and
// SENTRY_TRACES_SAMPLE_RATE where the options leave a setting empty. It
// fails with an error wrapping ErrInvalidDSN, ErrInvalidSampleRate or
// ErrInvalidOption for invalid settings, and with ErrAlreadySetUp while an
// earlier Setup is installed.
//
// shutdown flushes and stops the providers, returning the exporters'
// errors (a DSN that Sentry rejects shows up here), and puts back the
// global propagator and providers that Setup replaced; Setup may then run
// again.
//
// The installed propagator forwards incoming baggage members of other
// vendors, as OpenTelemetry does and Sentry SDKs do not; pass
// propagator.WithW3CBaggage(false) through WithPropagatorOptions to leave
// them out.
func Setup(ctx context.Context, opts ...Option) (shutdown func(context.Context) error, err error) {
	cfg, err := newConfig(opts)
	if err != nil {
		return nil, err
	}
	prop, err := settings.ReadPropagation(cfg.dsn, cfg.release, cfg.environment,
		append([]propagator.Option{propagator.WithLogger(cfg.logger)}, cfg.propagatorOpts...))
	if err != nil {
		return nil, fmt.Errorf("bridge: %w", err)
	}
	res, err := cfg.resource(ctx)
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
	tp := sdktrace.NewTracerProvider(cfg.tracerProviderOptions(res)...)
	otel.SetTracerProvider(tp)
	composite := propagator.Composite(prop.Options...)
	otel.SetTextMapPropagator(composite)
	var lp *sdklog.LoggerProvider
	if len(cfg.logExporters) > 0 {
		lpOpts := []sdklog.LoggerProviderOption{sdklog.WithResource(res)}
		for _, exp := range cfg.logExporters {
			lpOpts = append(lpOpts, sdklog.WithProcessor(sdklog.NewBatchProcessor(exp)))
		}
		lp = sdklog.NewLoggerProvider(lpOpts...)
		otel.SetLoggerProvider(lp)
	}
	cfg.logInstalled(ctx, composite, prop.DSN)

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

// newConfig applies opts and reads SENTRY_TRACES_SAMPLE_RATE where no
// option set the rate.
func newConfig(opts []Option) (*config, error) {
	c := &config{}
	for _, o := range opts {
		if o != nil {
			o.apply(c)
		}
	}
	if c.invalid != nil {
		return nil, c.invalid
	}
	if c.logger == nil {
		c.logger = slog.New(slog.DiscardHandler)
	}
	if c.sampleRate == nil {
		if text := os.Getenv(settings.EnvTracesSampleRate); text != "" {
			rate, err := strconv.ParseFloat(text, 64)
			if err != nil {
				return nil, fmt.Errorf("%w: %s=%q", ErrInvalidSampleRate, settings.EnvTracesSampleRate, text)
			}
			c.sampleRate = &rate
		}
	}
	if r := c.sampleRate; r != nil && (math.IsNaN(*r) || *r < 0 || *r > 1) {
		return nil, fmt.Errorf("%w: %v is not in [0,1]", ErrInvalidSampleRate, *r)
	}
	return c, nil
}

func (c *config) samplerOptions() []sampling.Option {
	opts := []sampling.Option{sampling.WithLogger(c.logger)}
	if c.sampleRate != nil {
		opts = append(opts, sampling.WithSampleRate(*c.sampleRate))
	}
	return append(opts, c.samplerOpts...)
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

func (c *config) tracerProviderOptions(res *resource.Resource) []sdktrace.TracerProviderOption {
	opts := []sdktrace.TracerProviderOption{sdktrace.WithSampler(sampling.New(c.samplerOptions()...)), sdktrace.WithResource(res)}
	for _, exp := range c.exporters {
		opts = append(opts, sdktrace.WithBatcher(exp))
	}
	for _, sp := range c.processors {
		opts = append(opts, sdktrace.WithSpanProcessor(sp))
	}
	return opts
}

// resource describes the service: OTEL_RESOURCE_ATTRIBUTES and
// OTEL_SERVICE_NAME, and the SDK.
func (c *config) resource(ctx context.Context) (*resource.Resource, error) {
	detectors := []resource.Option{resource.WithFromEnv(), resource.WithTelemetrySDK()}
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
func (c *config) logInstalled(ctx context.Context, p propagation.TextMapPropagator, d dsn.DSN) {
	attrs := []slog.Attr{
		slog.String("propagators", fmt.Sprint(p)),
		slog.Int("span_exporters", len(c.exporters)),
		slog.Int("span_processors", len(c.processors)),
		slog.Int("log_exporters", len(c.logExporters)),
	}
	if d.Host != "" {
		attrs = append(attrs, slog.String("dsn_host", d.Host), slog.String("project", d.ProjectID))
	} else {
		attrs = append(attrs, slog.String("dsn", "none"))
	}
	switch {
	case c.sampleRate != nil:
		attrs = append(attrs, slog.String("traces_sample_rate", strconv.FormatFloat(*c.sampleRate, 'f', -1, 64)))
	case len(c.samplerOpts) == 0:
		attrs = append(attrs, slog.String("traces_sample_rate", "none: nothing is recorded here, decisions are left to later services"))
	}
	if len(c.samplerOpts) > 0 {
		attrs = append(attrs, slog.Int("sampler_options", len(c.samplerOpts)))
	}
	c.logger.LogAttrs(ctx, slog.LevelInfo, "otelsentry set up", attrs...)
}
