package bridge

import (
	"errors"
	"fmt"
	"log/slog"
	"math"
	"os"
	"strconv"

	sdklog "go.opentelemetry.io/otel/sdk/log"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/otelsentry/otelsentry/dsn"
	"github.com/otelsentry/otelsentry/propagator"
	"github.com/otelsentry/otelsentry/sampling"
)

// Sentinel errors of New and Setup.
var (
	// ErrInvalidDSN reports a DSN that does not parse or has no public key.
	ErrInvalidDSN = errors.New("bridge: invalid DSN")
	// ErrInvalidSampleRate reports a traces sample rate that is not a
	// number in [0,1].
	ErrInvalidSampleRate = errors.New("bridge: invalid traces sample rate")
	// ErrInvalidOption reports an option given nothing to work with, such
	// as a nil exporter or span processor.
	ErrInvalidOption = errors.New("bridge: invalid option")
	// ErrAlreadySetUp reports a second Setup before the first one's
	// shutdown.
	ErrAlreadySetUp = errors.New("bridge: already set up")
)

// The SENTRY_* settings New reads; options take precedence, and an empty
// value counts as unset.
const (
	envDSN              = "SENTRY_DSN"
	envRelease          = "SENTRY_RELEASE"
	envEnvironment      = "SENTRY_ENVIRONMENT"
	envTracesSampleRate = "SENTRY_TRACES_SAMPLE_RATE"
)

// Option configures New and Setup. A nil Option is ignored.
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
	noBaggage                 bool
	serviceName               string
	exporters                 []sdktrace.SpanExporter
	processors                []sdktrace.SpanProcessor
	logExporters              []sdklog.Exporter
	logger                    *slog.Logger
	getenv                    func(string) string
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
// SENTRY_TRACES_SAMPLE_RATE. Without a rate and without a traces sampler
// nothing is recorded here: traces stay undecided (deferred) and are still
// propagated, so that a later service decides.
func WithSampleRate(rate float64) Option {
	return optionFunc(func(c *config) { c.sampleRate = &rate })
}

// WithPropagatorOptions passes options to the Sentry propagator, after
// those the other settings imply: trace propagation targets, org id,
// strict trace continuation. Trace propagation targets given here keep
// every header of Propagator off other requests, W3C ones included.
func WithPropagatorOptions(opts ...propagator.Option) Option {
	return optionFunc(func(c *config) { c.propagatorOpts = append(c.propagatorOpts, opts...) })
}

// WithSamplerOptions passes options to the Sentry sampler, after the rate
// of WithSampleRate or SENTRY_TRACES_SAMPLE_RATE: a traces sampler,
// consistent sampling.
func WithSamplerOptions(opts ...sampling.Option) Option {
	return optionFunc(func(c *config) { c.samplerOpts = append(c.samplerOpts, opts...) })
}

// WithoutBaggagePropagator leaves propagation.Baggage out of the installed
// composite. With it, OpenTelemetry forwards every incoming baggage member,
// other vendors' included, which Sentry SDKs do not.
func WithoutBaggagePropagator() Option {
	return optionFunc(func(c *config) { c.noBaggage = true })
}

// WithServiceName sets the service.name resource attribute; the default
// comes from OTEL_SERVICE_NAME.
func WithServiceName(name string) Option {
	return optionFunc(func(c *config) { c.serviceName = name })
}

// WithSpanExporter adds an exporter, behind a batch span processor, to the
// tracer provider Setup installs. A nil exporter makes New and Setup fail
// with ErrInvalidOption.
func WithSpanExporter(exp sdktrace.SpanExporter) Option {
	return adding("WithSpanExporter", exp, func(c *config) *[]sdktrace.SpanExporter { return &c.exporters })
}

// WithSpanProcessor adds a span processor to the tracer provider Setup
// installs. A nil processor makes New and Setup fail with
// ErrInvalidOption.
func WithSpanProcessor(sp sdktrace.SpanProcessor) Option {
	return adding("WithSpanProcessor", sp, func(c *config) *[]sdktrace.SpanProcessor { return &c.processors })
}

// WithLogExporter adds a log exporter, behind a batch processor, to the
// logger provider Setup installs. A nil exporter makes New and Setup fail
// with ErrInvalidOption.
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

// WithLogger sets the logger for the propagator's and the sampler's debug
// messages and for the line Setup logs about what it installed. The
// default discards them.
func WithLogger(l *slog.Logger) Option { return optionFunc(func(c *config) { c.logger = l }) }

// WithGetenv replaces os.Getenv for reading the SENTRY_* settings.
func WithGetenv(getenv func(string) string) Option {
	return optionFunc(func(c *config) {
		if getenv != nil {
			c.getenv = getenv
		}
	})
}

func (c *config) invalidate(what string) {
	if c.invalid == nil {
		c.invalid = fmt.Errorf("%w: %s", ErrInvalidOption, what)
	}
}

// newConfig applies opts over the SENTRY_* settings and validates the
// result.
func newConfig(opts []Option) (config, error) {
	c := config{getenv: os.Getenv}
	for _, o := range opts {
		if o != nil {
			o.apply(&c)
		}
	}
	if c.invalid != nil {
		return c, c.invalid
	}
	if c.logger == nil {
		c.logger = slog.New(slog.DiscardHandler)
	}
	for field, name := range map[*string]string{&c.dsn: envDSN, &c.release: envRelease, &c.environment: envEnvironment} {
		if *field == "" {
			*field = c.getenv(name)
		}
	}
	if c.sampleRate == nil {
		if text := c.getenv(envTracesSampleRate); text != "" {
			rate, err := strconv.ParseFloat(text, 64)
			if err != nil {
				return c, fmt.Errorf("%w: %s=%q", ErrInvalidSampleRate, envTracesSampleRate, text)
			}
			c.sampleRate = &rate
		}
	}
	if r := c.sampleRate; r != nil && (math.IsNaN(*r) || *r < 0 || *r > 1) {
		return c, fmt.Errorf("%w: %v is not in [0,1]", ErrInvalidSampleRate, *r)
	}
	if c.dsn != "" {
		if _, err := dsn.Parse(c.dsn); err != nil {
			return c, fmt.Errorf("%w: %w", ErrInvalidDSN, err)
		}
	}
	return c, nil
}

func (c *config) propagatorOptions() []propagator.Option {
	return append([]propagator.Option{
		propagator.WithDSN(c.dsn),
		propagator.WithRelease(c.release),
		propagator.WithEnvironment(c.environment),
		propagator.WithLogger(c.logger),
	}, c.propagatorOpts...)
}

func (c *config) samplerOptions() []sampling.Option {
	opts := []sampling.Option{sampling.WithLogger(c.logger)}
	if c.sampleRate != nil {
		opts = append(opts, sampling.WithSampleRate(*c.sampleRate))
	}
	return append(opts, c.samplerOpts...)
}
