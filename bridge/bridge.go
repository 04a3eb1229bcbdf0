package bridge

import (
	"context"

	"go.opentelemetry.io/otel/propagation"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/otelsentry/otelsentry/internal/protocol"
	"github.com/otelsentry/otelsentry/internal/targets"
	"github.com/otelsentry/otelsentry/propagator"
	"github.com/otelsentry/otelsentry/sampling"
)

// Bridge is one Sentry configuration on OpenTelemetry: its propagators and
// its sampler. New builds one and installs nothing; Setup builds one and
// installs it. The zero Bridge propagates nothing and samples as Sentry
// does without a rate.
type Bridge struct {
	cfg       config
	sentry    propagation.TextMapPropagator
	composite propagation.TextMapPropagator
	sampler   sdktrace.Sampler
}

// New returns the configuration that opts and the SENTRY_* environment
// variables describe, without installing anything. It fails with an error
// wrapping ErrInvalidDSN, ErrInvalidSampleRate or ErrInvalidOption for
// invalid settings.
func New(opts ...Option) (*Bridge, error) {
	cfg, err := newConfig(opts)
	if err != nil {
		return nil, err
	}
	b := &Bridge{
		cfg:     cfg,
		sentry:  propagator.New(cfg.propagatorOptions()...),
		sampler: sampling.New(cfg.samplerOptions()...),
	}
	members := []propagation.TextMapPropagator{propagation.TraceContext{}}
	if !cfg.noBaggage {
		members = append(members, propagation.Baggage{})
	}
	b.composite = gate{
		TextMapPropagator: propagation.NewCompositeTextMapPropagator(append(members, b.sentry)...),
		policy:            targets.PolicyOf(b.sentry),
	}
	return b, nil
}

// Propagator returns the composite to install as the global propagator: W3C
// trace context, W3C baggage (unless WithoutBaggagePropagator) and Sentry,
// in that order. For a request outside the trace propagation targets, to
// the DSN's ingest, or in a context from propagator.SuppressInject, none of
// them injects anything.
func (b *Bridge) Propagator() propagation.TextMapPropagator {
	if b == nil || b.composite == nil {
		return propagation.NewCompositeTextMapPropagator()
	}
	return b.composite
}

// SentryPropagator returns the Sentry propagator alone, for composites
// built elsewhere (OTEL_PROPAGATORS).
func (b *Bridge) SentryPropagator() propagation.TextMapPropagator {
	if b == nil || b.sentry == nil {
		return propagation.NewCompositeTextMapPropagator()
	}
	return b.sentry
}

// Sampler returns the Sentry sampler of the configuration.
func (b *Bridge) Sampler() sdktrace.Sampler {
	if b == nil || b.sampler == nil {
		return sampling.New()
	}
	return b.sampler
}

// gate skips every member's Inject for a request that the Sentry
// propagator's targets exclude, or in a suppressed context.
type gate struct {
	propagation.TextMapPropagator
	policy *targets.Policy
}

func (g gate) Inject(ctx context.Context, carrier propagation.TextMapCarrier) {
	if protocol.InjectSuppressed(ctx) || !g.policy.Allows(ctx, carrier) {
		return
	}
	g.TextMapPropagator.Inject(ctx, carrier)
}
