package sampling

import (
	"log/slog"
)

// Option configures the sampler. A nil Option is ignored.
type Option interface {
	apply(*config)
}

type optionFunc func(*config)

func (f optionFunc) apply(c *config) { f(c) }

type config struct {
	rate          float64
	hasRate       bool
	tracesSampler TracesSampler
	consistent    bool
	logger        *slog.Logger
}

func newConfig(opts []Option) config {
	c := config{logger: slog.New(slog.DiscardHandler)}
	for _, o := range opts {
		if o != nil {
			o.apply(&c)
		}
	}
	return c
}

// WithSampleRate sets Sentry's traces sample rate: the share of traces
// started here, or continued here undecided, that are sampled. Without it
// and without WithTracesSampler, the sampler leaves head decisions deferred
// (tracing without performance). A rate outside [0,1] is reported through
// otel.Handle by New and samples nothing.
func WithSampleRate(rate float64) Option {
	return optionFunc(func(c *config) { c.rate, c.hasRate = rate, true })
}

// WithTracesSampler sets Sentry's traces sampler: a function that returns
// the sample rate of each local root span, taking precedence over the
// parent's decision and over WithSampleRate. Return
// SamplingContext.Inherit(rate) to honour the parent's decision. A rate
// outside [0,1], NaN or a panic gives a negative decision.
func WithTracesSampler(fn TracesSampler) Option {
	return optionFunc(func(c *config) { c.tracesSampler = fn })
}

// WithConsistentSampling turns on OpenTelemetry consistent probability
// sampling interop: the sampler writes the randomness (rv) and, on spans it
// samples, the threshold (th) of the "ot" trace state member, so that OTel
// consistent samplers downstream make the same decision as Sentry. It is
// off by default.
func WithConsistentSampling(on bool) Option {
	return optionFunc(func(c *config) { c.consistent = on })
}

// WithLogger sets the logger for debug messages about invalid rates and
// failing traces samplers. The default discards them.
func WithLogger(l *slog.Logger) Option {
	return optionFunc(func(c *config) {
		if l != nil {
			c.logger = l
		}
	})
}
