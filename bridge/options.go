package bridge

import (
	"errors"
	"fmt"
	"log/slog"
	"math"
	"os"
	"slices"
	"strconv"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/otelsentry/otelsentry/dsn"
	"github.com/otelsentry/otelsentry/internal/targets"
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
	// ErrAlreadySetUp reports a second Setup before the first one's
	// shutdown.
	ErrAlreadySetUp = errors.New("bridge: already set up")
)

// The environment variables New reads; options take precedence, and an
// empty value counts as unset.
const (
	EnvDSN              = "SENTRY_DSN"
	EnvRelease          = "SENTRY_RELEASE"
	EnvEnvironment      = "SENTRY_ENVIRONMENT"
	EnvTracesSampleRate = "SENTRY_TRACES_SAMPLE_RATE"
)

// Option configures New and Setup.
type Option interface {
	apply(*config)
}

type optionFunc func(*config)

func (f optionFunc) apply(c *config) { f(c) }

type config struct {
	dsn, release, environment string
	ingest                    targets.Ingest // the parsed DSN's
	sampleRate                *float64
	tracesSampler             sampling.TracesSampler
	consistent                bool
	targets                   []propagator.Target
	orgID                     string
	strict                    bool
	noBaggage                 bool
	serviceName               string
	exporters                 []sdktrace.SpanExporter
	processors                []sdktrace.SpanProcessor
	logger                    *slog.Logger
	getenv                    func(string) string
	// settingsFromEnv reads the SENTRY_* settings through getenv.
	settingsFromEnv bool
}

// WithDSN sets the DSN, instead of SENTRY_DSN.
func WithDSN(s string) Option { return optionFunc(func(c *config) { c.dsn = s }) }

// WithRelease sets the release, instead of SENTRY_RELEASE.
func WithRelease(s string) Option { return optionFunc(func(c *config) { c.release = s }) }

// WithEnvironment sets the environment, instead of SENTRY_ENVIRONMENT; the
// default is "production".
func WithEnvironment(s string) Option { return optionFunc(func(c *config) { c.environment = s }) }

// WithSampleRate sets the traces sample rate, instead of
// SENTRY_TRACES_SAMPLE_RATE. Without a rate and a traces sampler, traces
// are propagated but not sampled here (tracing without performance).
func WithSampleRate(rate float64) Option {
	return optionFunc(func(c *config) { c.sampleRate = &rate })
}

// WithTracesSampler sets the traces sampler; see sampling.WithTracesSampler.
func WithTracesSampler(fn sampling.TracesSampler) Option {
	return optionFunc(func(c *config) { c.tracesSampler = fn })
}

// WithConsistentSampling turns on OpenTelemetry consistent probability
// sampling interop; see sampling.WithConsistentSampling.
func WithConsistentSampling(on bool) Option {
	return optionFunc(func(c *config) { c.consistent = on })
}

// WithTracePropagationTargets limits outgoing trace headers to requests
// whose URL matches one of targets: the headers of every member of
// Propagator (W3C ones included), and of SentryPropagator alone. nil, the
// default, allows every URL; an empty, non-nil slice allows none. The
// DSN's ingest (its host and port) never gets trace headers. The URL is
// the one NewTransport records, so wrap the client's transport with it.
func WithTracePropagationTargets(targets []propagator.Target) Option {
	return optionFunc(func(c *config) { c.targets = slices.Clone(targets) })
}

// WithOrgID sets the organization id, instead of the one in the DSN.
func WithOrgID(id string) Option { return optionFunc(func(c *config) { c.orgID = id }) }

// WithStrictTraceContinuation continues incoming traces only from the same
// organization; see propagator.WithStrictTraceContinuation.
func WithStrictTraceContinuation(on bool) Option {
	return optionFunc(func(c *config) { c.strict = on })
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
// tracer provider Setup installs.
func WithSpanExporter(exp sdktrace.SpanExporter) Option {
	return optionFunc(func(c *config) { c.exporters = append(c.exporters, exp) })
}

// WithSpanProcessor adds a span processor to the tracer provider Setup
// installs.
func WithSpanProcessor(sp sdktrace.SpanProcessor) Option {
	return optionFunc(func(c *config) { c.processors = append(c.processors, sp) })
}

// WithLogger sets the logger for debug messages of the propagator and the
// sampler. The default discards them.
func WithLogger(l *slog.Logger) Option { return optionFunc(func(c *config) { c.logger = l }) }

// WithGetenv replaces os.Getenv for reading SENTRY_* settings and, in
// ContinueTraceFromEnv, SENTRY_TRACE and SENTRY_BAGGAGE.
func WithGetenv(getenv func(string) string) Option {
	return optionFunc(func(c *config) {
		if getenv != nil {
			c.getenv = getenv
		}
	})
}

// withoutSettingsFromEnv ignores the SENTRY_* settings of the
// environment; SENTRY_TRACE and SENTRY_BAGGAGE are still read.
func withoutSettingsFromEnv() Option {
	return optionFunc(func(c *config) { c.settingsFromEnv = false })
}

// newConfig applies opts over the environment and validates the result.
func newConfig(opts []Option) (config, error) {
	c := config{getenv: os.Getenv, settingsFromEnv: true}
	for _, o := range opts {
		o.apply(&c)
	}
	fromEnv := func(field *string, name string) {
		if *field == "" && c.settingsFromEnv {
			*field = c.getenv(name)
		}
	}
	fromEnv(&c.dsn, EnvDSN)
	fromEnv(&c.release, EnvRelease)
	fromEnv(&c.environment, EnvEnvironment)
	if c.sampleRate == nil && c.settingsFromEnv {
		if text := c.getenv(EnvTracesSampleRate); text != "" {
			rate, err := strconv.ParseFloat(text, 64)
			if err != nil {
				return c, fmt.Errorf("%w: %s=%q", ErrInvalidSampleRate, EnvTracesSampleRate, text)
			}
			c.sampleRate = &rate
		}
	}
	if r := c.sampleRate; r != nil && (math.IsNaN(*r) || *r < 0 || *r > 1) {
		return c, fmt.Errorf("%w: %v is not in [0,1]", ErrInvalidSampleRate, *r)
	}
	if c.dsn != "" {
		d, err := dsn.Parse(c.dsn)
		if err != nil {
			return c, fmt.Errorf("%w: %w", ErrInvalidDSN, err)
		}
		c.ingest = targets.NewIngest(d.Scheme, d.Host, d.Port)
	}
	return c, nil
}

func (c *config) propagatorOptions() []propagator.Option {
	return []propagator.Option{
		propagator.WithDSN(c.dsn),
		propagator.WithRelease(c.release),
		propagator.WithEnvironment(c.environment),
		propagator.WithOrgID(c.orgID),
		propagator.WithStrictTraceContinuation(c.strict),
		propagator.WithLogger(c.logger),
	}
}

func (c *config) samplingOptions() []sampling.Option {
	opts := []sampling.Option{sampling.WithConsistentSampling(c.consistent), sampling.WithLogger(c.logger)}
	if c.sampleRate != nil {
		opts = append(opts, sampling.WithSampleRate(*c.sampleRate))
	}
	if c.tracesSampler != nil {
		opts = append(opts, sampling.WithTracesSampler(c.tracesSampler))
	}
	return opts
}
