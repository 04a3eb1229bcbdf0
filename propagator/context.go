package propagator

import (
	"context"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"

	"github.com/otelsentry/otelsentry/internal/protocol"
	"github.com/otelsentry/otelsentry/internal/targets"
)

// SuppressInject returns a context in which Inject writes nothing, for
// requests that must not carry trace headers. Composite then writes no
// trace header at all.
func SuppressInject(ctx context.Context) context.Context {
	return protocol.SuppressInject(ctx)
}

// ContextWithURL records the URL of the outgoing request that ctx belongs
// to, so that Inject can check it against the trace propagation targets
// and the DSN's ingest. HTTP clients set it once per request, before
// Inject runs; bridge.NewTransport does it for an http.Client. Inject
// never reads the URL from a span, whose attributes exist only when it is
// sampled.
func ContextWithURL(ctx context.Context, url string) context.Context {
	return targets.ContextWithURL(ctx, url)
}

// DecisionFromContext returns the Sentry decision of the trace of ctx's span
// context: Sampled when it has FlagsSampled, Deferred when its "sentry"
// trace state member says the decision is deferred, NotSampled otherwise.
// It returns Deferred when ctx holds no valid span context.
func DecisionFromContext(ctx context.Context) Decision {
	sc := trace.SpanContextFromContext(ctx)
	if !sc.IsValid() {
		return Deferred
	}
	return protocol.DecisionOf(sc)
}

// DSCFromContext returns the Dynamic Sampling Context that p sends
// downstream for the trace of ctx: the frozen one of a continued trace, or
// the one of a trace this service started. Keys have no "sentry-" prefix
// ("release", "sample_rate", "sample_rand") and values are decoded. p is the
// Sentry propagator, Composite, or a composite built elsewhere around the
// Sentry propagator; nil means the global propagator. It returns nil when p
// writes no DSC for ctx: no valid span context, no Sentry propagator, or
// Inject suppressed.
func DSCFromContext(ctx context.Context, p propagation.TextMapPropagator) map[string]string {
	if p == nil {
		p = otel.GetTextMapPropagator()
	}
	return protocol.DecodeDSC(protocol.WrittenMembers(ctx, p))
}
