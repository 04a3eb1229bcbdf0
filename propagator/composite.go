package propagator

import (
	"context"
	"strings"

	"go.opentelemetry.io/otel/baggage"
	"go.opentelemetry.io/otel/propagation"

	"github.com/otelsentry/otelsentry/internal/protocol"
)

// Composite returns the recommended composite: W3C trace context, W3C
// baggage, then the Sentry propagator configured by opts. The Sentry
// propagator must come last: Baggage's Inject replaces the whole header
// (which would erase the Sentry members written before it), and a valid
// sentry-trace takes precedence over traceparent only when it is read
// second.
//
// It behaves as propagation.NewCompositeTextMapPropagator of the three
// does, for less work: the OTel baggage of a single header is parsed once
// rather than parsed and rebuilt, and Inject does not encode the Sentry
// members of the OTel baggage only to remove them again.
func Composite(opts ...Option) propagation.TextMapPropagator {
	return &composite{sentry: New(opts...).(*sentryPropagator)}
}

// composite is TraceContext{}, Baggage{} and the Sentry propagator, fused.
type composite struct {
	tc     propagation.TraceContext
	sentry *sentryPropagator
}

var _ propagation.TextMapPropagator = (*composite)(nil)

// Fields returns the keys the three propagators read and write.
func (c *composite) Fields() []string {
	return []string{"traceparent", "tracestate", baggageHeader, sentryTraceHeader}
}

// Extract reads traceparent, baggage into the OTel baggage, then
// sentry-trace and the DSC.
func (c *composite) Extract(ctx context.Context, carrier propagation.TextMapCarrier) context.Context {
	ctx = c.tc.Extract(ctx, carrier)
	ctx = extractBaggage(ctx, carrier)
	return c.sentry.Extract(ctx, carrier)
}

// extractBaggage is propagation.Baggage's Extract. For the usual single
// header that parses without error, whose members Baggage would parse and
// then copy into a new Baggage unchanged, it keeps the parsed one.
// Everything else goes to Baggage, errors and their reporting included.
func extractBaggage(ctx context.Context, carrier propagation.TextMapCarrier) context.Context {
	var one [1]string
	if _, ok := carrier.(propagation.ValuesGetter); ok {
		if values := carrierValues(carrier, baggageHeader, canonicalBaggage, &one); len(values) == 1 {
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
// baggage that Baggage's Inject and the Sentry merge would leave.
func (c *composite) Inject(ctx context.Context, carrier propagation.TextMapCarrier) {
	c.tc.Inject(ctx, carrier)
	b := baggage.FromContext(ctx)
	if b.Len() == 0 {
		c.sentry.Inject(ctx, carrier)
		return
	}
	c.sentry.inject(ctx, carrier, &b)
}

// writeOTelBaggage is propagation.Baggage's Inject of b.
func writeOTelBaggage(carrier propagation.TextMapCarrier, b baggage.Baggage) {
	if s := b.String(); s != "" {
		carrier.Set(baggageHeader, s)
	}
}

// otelThirdParty returns what the Sentry merge keeps of the header that
// Baggage's Inject writes for b: its members that are not Sentry's, as
// Baggage encodes them. It reports false when Baggage writes no header,
// which leaves the carrier's own.
func otelThirdParty(b baggage.Baggage) (string, bool) {
	written := false
	var sb strings.Builder
	for _, m := range b.Members() {
		if strings.HasPrefix(m.Key(), "sentry-") {
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
