package propagator

import (
	"context"
	"log/slog"
	"strings"

	"go.opentelemetry.io/otel/baggage"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"

	"github.com/otelsentry/otelsentry/internal/protocol"
)

// Composite returns the composite to install as the global propagator:
// W3C trace context, W3C baggage (unless WithW3CBaggage(false)) and the
// Sentry propagator configured by opts, in that order. It is the one
// bridge.Setup installs.
//
// A valid sentry-trace takes precedence over traceparent. Inject merges
// the Sentry members into the baggage the W3C baggage propagator writes,
// replacing the Sentry members of the OpenTelemetry baggage. A request
// outside the trace propagation targets, to the DSN's ingest, or in a
// context from SuppressInject gets no trace header at all: neither
// sentry-trace and baggage nor traceparent and tracestate.
//
// It reads and writes what propagation.NewCompositeTextMapPropagator of
// propagation.TraceContext, propagation.Baggage and New would, for less
// work: the OpenTelemetry baggage of a single header is parsed once rather
// than parsed and rebuilt, and Inject does not encode the Sentry members of
// the OpenTelemetry baggage only to remove them again.
func Composite(opts ...Option) propagation.TextMapPropagator {
	return &composite{cfg: newConfigReported(opts)}
}

// composite is TraceContext{}, Baggage{} and the Sentry propagator, fused.
type composite struct {
	cfg *config
}

var _ propagation.TextMapPropagator = (*composite)(nil)

// String names the propagators the composite is made of, in order.
func (c *composite) String() string {
	if !c.cfg.w3cBaggage {
		return "tracecontext,sentry"
	}
	return "tracecontext,baggage,sentry"
}

// Fields returns the keys the composite reads and writes.
func (c *composite) Fields() []string {
	if !c.cfg.w3cBaggage {
		return []string{protocol.HeaderTraceparent, protocol.HeaderTracestate, protocol.HeaderSentryTrace, protocol.HeaderBaggage}
	}
	return []string{protocol.HeaderTraceparent, protocol.HeaderTracestate, protocol.HeaderBaggage, protocol.HeaderSentryTrace}
}

// Extract reads traceparent and tracestate, baggage into the
// OpenTelemetry baggage, then sentry-trace and the DSC.
func (c *composite) Extract(ctx context.Context, carrier propagation.TextMapCarrier) context.Context {
	var parents, states [1]string
	sc, dropped := protocol.ExtractTraceContext(
		carrierValues(carrier, protocol.HeaderTraceparent, canonicalTraceparent, &parents),
		carrierValues(carrier, protocol.HeaderTracestate, canonicalTracestate, &states))
	if dropped > 0 {
		c.cfg.debug(ctx, "tracestate members dropped that OpenTelemetry's trace state cannot hold", slog.Int("members", dropped))
	}
	if sc.IsValid() {
		ctx = trace.ContextWithRemoteSpanContext(ctx, sc)
	}
	if c.cfg.w3cBaggage {
		ctx = extractBaggage(ctx, carrier)
	}
	return c.cfg.extract(ctx, carrier)
}

// extractBaggage is propagation.Baggage's Extract. For the usual single
// header that parses without error, whose members Baggage would parse and
// then copy into a new Baggage unchanged, it keeps the parsed one.
// Everything else goes to Baggage, errors and their reporting included.
func extractBaggage(ctx context.Context, carrier propagation.TextMapCarrier) context.Context {
	var one [1]string
	if _, ok := carrier.(propagation.ValuesGetter); ok {
		if values := carrierValues(carrier, protocol.HeaderBaggage, canonicalBaggage, &one); len(values) == 1 {
			if b, err := baggage.Parse(values[0]); err == nil {
				if b.Len() == 0 {
					return ctx
				}
				return baggage.ContextWithBaggage(ctx, b)
			}
		}
	}
	return propagation.Baggage{}.Extract(ctx, carrier)
}

// Inject writes traceparent and tracestate, then sentry-trace and the
// baggage that Baggage's Inject and the Sentry merge would leave, unless
// the request gets no trace headers at all.
func (c *composite) Inject(ctx context.Context, carrier propagation.TextMapCarrier) {
	if protocol.InjectSuppressed(ctx) || !c.cfg.policy.Allows(ctx, carrier) {
		return
	}
	injectTraceContext(ctx, carrier)
	var b baggage.Baggage
	if c.cfg.w3cBaggage {
		b = baggage.FromContext(ctx)
	}
	sc, ok := c.cfg.writes(ctx, carrier)
	if !ok {
		// Baggage's Inject alone.
		if s := b.String(); s != "" {
			carrier.Set(protocol.HeaderBaggage, s)
		}
		return
	}
	var one [1]string
	existing := carrierValues(carrier, protocol.HeaderBaggage, canonicalBaggage, &one)
	// Baggage's Inject writes the OpenTelemetry baggage over the carrier's,
	// and the merge keeps its members that are not Sentry's.
	if third, written := otelThirdParty(b); written {
		one[0] = third
		existing = one[:]
	}
	c.cfg.write(ctx, carrier, sc, existing)
}

// injectTraceContext writes tracestate and traceparent for the span
// context of ctx, when it is valid.
func injectTraceContext(ctx context.Context, carrier propagation.TextMapCarrier) {
	sc := trace.SpanContextFromContext(ctx)
	if !sc.IsValid() {
		return
	}
	if ts := protocol.Tracestate(sc.TraceState()); ts != "" {
		setHeader(carrier, protocol.HeaderTracestate, canonicalTracestate, ts)
	}
	setHeader(carrier, protocol.HeaderTraceparent, canonicalTraceparent, protocol.Traceparent(sc))
}

// WrittenDSC returns the DSC that Inject writes for ctx and the rate it
// writes it with, for the accessors; see protocol.DSCWriter.
func (c *composite) WrittenDSC(ctx context.Context) (*protocol.DSC, string, bool) {
	return c.cfg.writtenDSC(ctx)
}

// otelThirdParty returns what the Sentry merge keeps of the header that
// Baggage's Inject writes for b: its members that are not Sentry's, as
// Baggage encodes them. It reports false when Baggage writes no header,
// which leaves the carrier's own.
func otelThirdParty(b baggage.Baggage) (string, bool) {
	written := false
	var sb strings.Builder
	for _, m := range b.Members() {
		if protocol.IsSentryKey(m.Key()) {
			// Baggage writes every member with a valid key.
			written = written || protocol.IsToken(m.Key())
			continue
		}
		if s := m.String(); s != "" {
			written = true
			if sb.Len() > 0 {
				sb.WriteByte(',')
			}
			sb.WriteString(s)
		}
	}
	return sb.String(), written
}
