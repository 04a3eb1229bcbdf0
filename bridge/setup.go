package bridge

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"go.opentelemetry.io/contrib/bridges/otelslog"
	"go.opentelemetry.io/otel"
	otellog "go.opentelemetry.io/otel/log"
	"go.opentelemetry.io/otel/propagation"
	sdklog "go.opentelemetry.io/otel/sdk/log"
	sdkresource "go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"

	"github.com/otelsentry/otelsentry/dsn"
	"github.com/otelsentry/otelsentry/internal/protocol"
	"github.com/otelsentry/otelsentry/internal/settings"
	"github.com/otelsentry/otelsentry/propagator"
	"github.com/otelsentry/otelsentry/sampling"
)

// installed is the Setup in place, so that a second one fails instead of
// replacing its globals, and only its own shutdown puts the earlier ones
// back.
var installed atomic.Pointer[installation]

// Setup builds the configuration that opts and the SENTRY_* environment
// variables describe and installs it: propagator.Composite as the global
// propagator, a global tracer provider with the Sentry sampler, the given
// span exporters and processors and a resource from OTEL_SERVICE_NAME and
// OTEL_RESOURCE_ATTRIBUTES, and, with log exporters, a global logger
// provider (see Logger). The package-level helpers then use it.
//
// Setup reads SENTRY_DSN, SENTRY_RELEASE, SENTRY_ENVIRONMENT and
// SENTRY_TRACES_SAMPLE_RATE where the options leave a setting empty, and
// SENTRY_DEBUG. It fails with an error wrapping ErrInvalidDSN,
// ErrInvalidSampleRate or ErrInvalidOption for invalid settings, and with
// ErrAlreadySetUp while an earlier Setup is installed.
//
// Without a traces sample rate and without a traces sampler, this service
// decides nothing and sends no spans, as the Sentry SDKs send none: the
// span exporters and processors are not installed. Traces are still
// continued and propagated with the decision they came with, so an
// incoming sampled trace leaves sampled, and one this service starts stays
// undecided for a later service to decide.
//
// Setup logs one line saying what it installed, through the logger that
// WithLogger gives, which also gets the propagator's and the sampler's
// debug messages. Without WithLogger, SENTRY_DEBUG=true sends that line
// and the debug messages to standard error, and otherwise the line goes
// through slog.Default and the debug messages nowhere.
// OTEL_PROPAGATORS and OTEL_TRACES_SAMPLER do not apply to Setup, which
// says so once when either is set.
//
// shutdown flushes and stops the providers and puts back the global
// propagator and providers that Setup replaced; Setup may then run again.
// It returns the exporters' errors, spans' and logs' alike, joined: those
// of the final flush and of their own Shutdown, and a failure of an
// earlier export that no export followed (a DSN that Sentry rejects shows
// up here). It runs once: later
// calls return the same error and change nothing, even after another
// Setup.
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
		append([]propagator.Option{propagator.WithLogger(cfg.debugLogger)}, cfg.propagatorOpts...))
	if err != nil {
		return nil, fmt.Errorf("bridge: %w", err)
	}
	res, err := resource(ctx)
	if err != nil {
		return nil, err
	}
	sampler := sampling.New(cfg.samplerOptions()...)
	inst := &installation{prevTP: otel.GetTracerProvider(), prevProp: otel.GetTextMapPropagator(), prevLP: otel.GetLoggerProvider()}
	if !installed.CompareAndSwap(nil, inst) {
		return nil, ErrAlreadySetUp
	}
	if len(inst.prevProp.Fields()) == 0 {
		// The default global propagator forwards to whatever is set after
		// it, this one included: put back one that does nothing instead.
		inst.prevProp = propagation.NewCompositeTextMapPropagator()
	}
	sends := decides(sampler)
	tpOpts := []sdktrace.TracerProviderOption{sdktrace.WithSampler(sampler), sdktrace.WithResource(res)}
	if sends {
		for _, exp := range cfg.exporters {
			r := &spanResults{SpanExporter: exp}
			inst.results = append(inst.results, &r.exportResult)
			tpOpts = append(tpOpts, sdktrace.WithBatcher(r))
		}
		for _, sp := range cfg.processors {
			tpOpts = append(tpOpts, sdktrace.WithSpanProcessor(sp))
		}
	} else {
		// Exporters and processors that will never get a span are still
		// the caller's to stop (an exporter may run a goroutine of its
		// own): shutdown stops them.
		for _, exp := range cfg.exporters {
			inst.unused = append(inst.unused, exp.Shutdown)
		}
		for _, sp := range cfg.processors {
			inst.unused = append(inst.unused, sp.Shutdown)
		}
	}
	inst.tp = sdktrace.NewTracerProvider(tpOpts...)
	otel.SetTracerProvider(inst.tp)
	composite := propagator.Composite(prop.Options...)
	otel.SetTextMapPropagator(composite)
	if len(cfg.logExporters) > 0 {
		lpOpts := []sdklog.LoggerProviderOption{sdklog.WithResource(res)}
		for _, exp := range cfg.logExporters {
			r := &logResults{Exporter: exp}
			inst.results = append(inst.results, &r.exportResult)
			lpOpts = append(lpOpts, sdklog.WithProcessor(sdklog.NewBatchProcessor(r)))
		}
		inst.lp = sdklog.NewLoggerProvider(lpOpts...)
		otel.SetLoggerProvider(inst.lp)
	}
	cfg.warnIgnoredSettings(ctx)
	cfg.logInstalled(ctx, composite, prop.DSN, sends)
	return inst.shutdown, nil
}

// decides reports whether sampler decides traces itself, as the Sentry
// sampler tells.
func decides(sampler sdktrace.Sampler) bool {
	d, ok := sampler.(interface{ Decides() bool })
	return !ok || d.Decides()
}

// installation is what one Setup installed, and what it replaced.
type installation struct {
	tp      *sdktrace.TracerProvider
	lp      *sdklog.LoggerProvider
	results []*exportResult
	// unused stops the exporters and processors not installed.
	unused   []func(context.Context) error
	prevTP   trace.TracerProvider
	prevProp propagation.TextMapPropagator
	prevLP   otellog.LoggerProvider
	once     sync.Once
	err      error
}

// shutdown flushes and stops the providers and puts the globals back, the
// first time it is called.
func (i *installation) shutdown(ctx context.Context) error {
	i.once.Do(func() {
		// ForceFlush returns what the exporters say; the final export of
		// Shutdown would tell only otel.Handle.
		err := errors.Join(i.tp.ForceFlush(ctx), i.tp.Shutdown(ctx))
		if i.lp != nil {
			err = errors.Join(err, i.lp.ForceFlush(ctx), i.lp.Shutdown(ctx))
		}
		for _, stop := range i.unused {
			err = errors.Join(err, stop(ctx))
		}
		// An exporter whose latest export failed is failing still, even
		// when that export ran before shutdown or finished while it began.
		for _, r := range i.results {
			if last := r.latest(); last != nil && !errors.Is(err, last) {
				err = errors.Join(err, last)
			}
		}
		i.err = err
		if installed.CompareAndSwap(i, nil) {
			otel.SetTracerProvider(i.prevTP)
			otel.SetTextMapPropagator(i.prevProp)
			if i.lp != nil {
				otel.SetLoggerProvider(i.prevLP)
			}
		}
	})
	return i.err
}

// exportResult keeps the error of an exporter's latest export, nil after
// a success, which its batch processor hands only to otel.Handle, for
// shutdown to report.
type exportResult struct {
	mu  sync.Mutex
	err error
}

func (r *exportResult) record(err error) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.err = err
	return err
}

func (r *exportResult) latest() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.err
}

// spanResults is a span exporter that keeps its latest outcome.
type spanResults struct {
	sdktrace.SpanExporter
	exportResult
}

func (e *spanResults) ExportSpans(ctx context.Context, spans []sdktrace.ReadOnlySpan) error {
	return e.record(e.SpanExporter.ExportSpans(ctx, spans))
}

// logResults is a log exporter that keeps its latest outcome.
type logResults struct {
	sdklog.Exporter
	exportResult
}

func (e *logResults) Export(ctx context.Context, records []sdklog.Record) error {
	return e.record(e.Exporter.Export(ctx, records))
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
	switch debug, _ := strconv.ParseBool(os.Getenv(settings.EnvDebug)); {
	case c.logger != nil:
		c.debugLogger = c.logger
	case debug:
		// As the Sentry SDKs' debug option: debug messages to standard
		// error.
		c.logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
		c.debugLogger = c.logger
	default:
		c.logger, c.debugLogger = slog.Default(), slog.New(slog.DiscardHandler)
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
	if r := c.sampleRate; r != nil && !protocol.ValidRate(*r) {
		return nil, fmt.Errorf("%w: got %v", ErrInvalidSampleRate, *r)
	}
	return c, nil
}

func (c *config) samplerOptions() []sampling.Option {
	opts := []sampling.Option{sampling.WithLogger(c.debugLogger)}
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

// resource describes the service: OTEL_RESOURCE_ATTRIBUTES and
// OTEL_SERVICE_NAME, and the SDK.
func resource(ctx context.Context) (*sdkresource.Resource, error) {
	res, err := sdkresource.New(ctx, sdkresource.WithFromEnv(), sdkresource.WithTelemetrySDK())
	if err != nil && !errors.Is(err, sdkresource.ErrPartialResource) {
		return nil, err
	}
	if res, err = sdkresource.Merge(sdkresource.Default(), res); err != nil && !errors.Is(err, sdkresource.ErrSchemaURLConflict) {
		return nil, err
	}
	return res, nil
}

// logInstalled logs, at info level, one line saying what Setup installed.
func (c *config) logInstalled(ctx context.Context, p propagation.TextMapPropagator, d dsn.DSN, sends bool) {
	attrs := []slog.Attr{slog.String("propagators", fmt.Sprint(p))}
	if d.Host != "" {
		attrs = append(attrs, slog.String("dsn_host", d.Host), slog.String("project", d.ProjectID))
	} else {
		attrs = append(attrs, slog.String("dsn", "none"))
	}
	switch {
	case c.sampleRate != nil:
		attrs = append(attrs, slog.String("traces_sample_rate", strconv.FormatFloat(*c.sampleRate, 'f', -1, 64)))
	case !sends:
		attrs = append(attrs, slog.String("traces_sample_rate", "none: no spans are sent, and traces are left for later services to decide"))
	}
	if len(c.samplerOpts) > 0 {
		attrs = append(attrs, slog.Int("sampler_options", len(c.samplerOpts)))
	}
	if sends {
		attrs = append(attrs, slog.Int("span_exporters", len(c.exporters)), slog.Int("span_processors", len(c.processors)))
	}
	attrs = append(attrs, slog.Int("log_exporters", len(c.logExporters)))
	c.logger.LogAttrs(ctx, slog.LevelInfo, "otelsentry set up", attrs...)
}

// warnIgnoredSettings says, once, that the OpenTelemetry settings for
// propagators and samplers do not apply to Setup.
func (c *config) warnIgnoredSettings(ctx context.Context) {
	var set []string
	for _, name := range []string{"OTEL_PROPAGATORS", "OTEL_TRACES_SAMPLER"} {
		if os.Getenv(name) != "" {
			set = append(set, name)
		}
	}
	if len(set) > 0 {
		c.logger.LogAttrs(ctx, slog.LevelWarn, "otelsentry ignores "+strings.Join(set, " and ")+
			": Setup installs propagator.Composite and the Sentry sampler; to compose propagators from "+
			"OTEL_PROPAGATORS, register the Sentry propagator with the sentryautoprop module instead")
	}
}
