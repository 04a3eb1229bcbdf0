package sampling

import (
	"context"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"

	"github.com/otelsentry/otelsentry/internal/protocol"
)

// clientSampleRateKey is the span attribute from which Sentry's ingest
// reads the probability with which the SDK kept a span: it counts each
// span it stores as 1/rate spans when it extrapolates, and a span without
// it as one.
const clientSampleRateKey = attribute.Key("sentry.client_sample_rate")

// clientSampleRate returns the attribute for a span whose trace was kept
// with probability rate, or nil when the rate is unknown or outside (0,1],
// which Sentry would ignore.
func clientSampleRate(rate float64, known bool) []attribute.KeyValue {
	if !known || rate <= 0 || rate > 1 {
		return nil
	}
	return []attribute.KeyValue{clientSampleRateKey.Float64(rate)}
}

// childSampleRate returns the rate at which the trace of a span with the
// local parent was kept: the one recorded in the parent's sentry member
// when this process decided, else the sample_rate of the DSC that came in.
func childSampleRate(ctx context.Context, parent trace.SpanContext) (float64, bool) {
	if m, ok := protocol.ParseTraceState(parent.TraceState()); ok && m.Rate != "" {
		return protocol.ParseRate(m.Rate)
	}
	if dsc := protocol.ContinuedFromContext(ctx, parent.TraceID()); dsc != nil {
		return dsc.UpstreamRate()
	}
	return 0, false
}
