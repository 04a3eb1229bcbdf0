package bridge

import (
	"errors"
	"fmt"
	"log/slog"

	sdklog "go.opentelemetry.io/otel/sdk/log"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/otelsentry/otelsentry/internal/settings"
	"github.com/otelsentry/otelsentry/propagator"
	"github.com/otelsentry/otelsentry/sampling"
)

// Sentinel errors of Setup.
var (
	// ErrInvalidDSN reports a DSN that does not parse or has no public key.
	ErrInvalidDSN = settings.ErrInvalidDSN
	// ErrInvalidSampleRate reports a traces sample rate that is not a
	// number in [0,1]. It wraps sampling.ErrInvalidRate.
	ErrInvalidSampleRate = fmt.Errorf("bridge: invalid traces sample rate: %w", sampling.ErrInvalidRate)
	// ErrInvalidOption reports an option given nothing to work with, such
	// as a nil exporter or span processor.
	ErrInvalidOption = errors.New("bridge: invalid option")
	// ErrAlreadySetUp reports a second Setup before the first one's
	// shutdown.
	ErrAlreadySetUp = errors.New("bridge: already set up")
)

// Option configures Setup. A nil Option is ignored.
type Option interface {
	apply(*config)
}

type optionFunc func(*config)

func (f optionFunc) apply(c *config) { f(c) }

type config struct {
	dsn, release, environment string
	sampleRate                *float64
	propagatorOpts            []propagator.Option
	samplerOpts               []sampling.Option
	exporters                 []sdktrace.SpanExporter
	processors                []sdktrace.SpanProcessor
	logExporters              []sdklog.Exporter
	// logger gets the line Setup logs; debugLogger the propagator's and
	// the sampler's debug messages.
	logger, debugLogger *slog.Logger
	// invalid records the first option that was given nothing.
	invalid error
}

// WithDSN sets the DSN, instead of SENTRY_DSN. Its public key goes into the
// DSC of the traces this service starts, and requests to its ingest never
// carry trace headers.
func WithDSN(s string) Option { return optionFunc(func(c *config) { c.dsn = s }) }

// WithRelease sets the release, instead of SENTRY_RELEASE.
func WithRelease(s string) Option { return optionFunc(func(c *config) { c.release = s }) }

// WithEnvironment sets the environment, instead of SENTRY_ENVIRONMENT; the
// default is "production".
func WithEnvironment(s string) Option { return optionFunc(func(c *config) { c.environment = s }) }

// WithSampleRate sets the traces sample rate, instead of
// SENTRY_TRACES_SAMPLE_RATE. Without a rate and without a traces sampler,
// this service decides nothing and sends no spans; traces keep the
// decision they came with, and those it starts stay undecided for a later
// service to decide.
func WithSampleRate(rate float64) Option {
	return optionFunc(func(c *config) { c.sampleRate = &rate })
}

// WithPropagatorOptions passes options to the propagator Setup installs,
// propagator.Composite, after those the other settings imply (the DSN,
// release, environment and logger): trace propagation targets, an org id,
// strict trace continuation, leaving out W3C baggage. Trace propagation
// targets given here keep every trace header off other requests, W3C ones
// included.
func WithPropagatorOptions(opts ...propagator.Option) Option {
	return optionFunc(func(c *config) { c.propagatorOpts = append(c.propagatorOpts, opts...) })
}

// WithSamplerOptions passes options to the Sentry sampler, after the rate
// of WithSampleRate or SENTRY_TRACES_SAMPLE_RATE: a traces sampler,
// consistent sampling.
func WithSamplerOptions(opts ...sampling.Option) Option {
	return optionFunc(func(c *config) { c.samplerOpts = append(c.samplerOpts, opts...) })
}

// WithSpanExporter adds an exporter, behind a batch span processor, to the
// tracer provider Setup installs. A nil exporter makes Setup fail with
// ErrInvalidOption.
func WithSpanExporter(exp sdktrace.SpanExporter) Option {
	return adding("WithSpanExporter", exp, func(c *config) *[]sdktrace.SpanExporter { return &c.exporters })
}

// WithSpanProcessor adds a span processor to the tracer provider Setup
// installs. A nil processor makes Setup fail with ErrInvalidOption.
func WithSpanProcessor(sp sdktrace.SpanProcessor) Option {
	return adding("WithSpanProcessor", sp, func(c *config) *[]sdktrace.SpanProcessor { return &c.processors })
}

// WithLogExporter adds a log exporter, behind a batch processor, to the
// logger provider Setup installs. A nil exporter makes Setup fail with
// ErrInvalidOption.
func WithLogExporter(exp sdklog.Exporter) Option {
	return adding("WithLogExporter", exp, func(c *config) *[]sdklog.Exporter { return &c.logExporters })
}

// adding returns the option that appends v to the list of the config that
// field selects, or, for a nil v, records that the option named name was
// given nothing.
func adding[T any](name string, v T, field func(*config) *[]T) Option {
	return optionFunc(func(c *config) {
		if any(v) == nil {
			c.invalidate(name + "(nil)")
			return
		}
		list := field(c)
		*list = append(*list, v)
	})
}

// WithLogger sets the logger for the line Setup logs about what it
// installed and for the propagator's and the sampler's debug messages,
// which it gets when its handler is enabled for slog.LevelDebug. Without
// it, SENTRY_DEBUG=true sends Setup's line and the debug messages to
// standard error; otherwise the line goes to slog.Default and the debug
// messages nowhere.
func WithLogger(l *slog.Logger) Option { return optionFunc(func(c *config) { c.logger = l }) }

func (c *config) invalidate(what string) {
	if c.invalid == nil {
		c.invalid = fmt.Errorf("%w: %s", ErrInvalidOption, what)
	}
}
