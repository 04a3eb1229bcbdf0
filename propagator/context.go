package propagator

import (
	"context"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/baggage"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"

	"github.com/otelsentry/otelsentry/internal/protocol"
	"github.com/otelsentry/otelsentry/internal/targets"
)

// SuppressInject returns a context in which Inject writes nothing, for
// requests that must not carry trace headers, such as those to Sentry.
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

// DecisionFromContext returns the Sentry decision of the trace of ctx's
// span context: Sampled when it has FlagsSampled, Deferred when its
// "sentry" trace state member says the decision is deferred, NotSampled
// otherwise. It returns Deferred when ctx holds no valid span context.
func DecisionFromContext(ctx context.Context) Decision {
	sc := trace.SpanContextFromContext(ctx)
	if !sc.IsValid() {
		return Deferred
	}
	return Decision(protocol.DecisionOf(sc))
}

// SampleRandFromContext returns the sample_rand of the trace of ctx's span
// context, as it is propagated: the one that came in with the trace, else
// the one its "sentry" trace state member records, else the one a trace
// started here derives from its trace id. It reports false when ctx holds
// no valid span context.
func SampleRandFromContext(ctx context.Context) (string, bool) {
	sc := trace.SpanContextFromContext(ctx)
	if !sc.IsValid() {
		return "", false
	}
	if in, ok := protocol.IncomingFromContext(ctx, sc.TraceID()); ok {
		return in.SampleRand(), true
	}
	m, _ := protocol.ParseTraceState(sc.TraceState())
	return protocol.SampleRandOf(sc, m), true
}

// DSCFromContext returns the Dynamic Sampling Context that p sends
// downstream for the trace of ctx: the frozen one of a continued trace, or
// the one of a trace this service started. Keys have no "sentry-" prefix
// ("release", "sample_rate") and values are decoded. p is the Sentry
// propagator or a composite holding it; nil means the global propagator.
// It returns nil when p writes no DSC for ctx: no valid span context, no
// Sentry propagator, or Inject suppressed.
func DSCFromContext(ctx context.Context, p propagation.TextMapPropagator) map[string]string {
	if p == nil {
		p = otel.GetTextMapPropagator()
	}
	// Without the OTel baggage, whose members a composite writes first and
	// which could take up the header's limits before the Sentry members.
	c := propagation.MapCarrier{}
	p.Inject(baggage.ContextWithoutBaggage(ctx), c)
	return protocol.DecodeDSC(c.Get(baggageHeader))
}
