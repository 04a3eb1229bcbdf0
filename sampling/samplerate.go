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

// rateAttributes is the attribute of one rate, with the rate as its trace
// state member writes it, so that spans of one rate share one slice: the
// SDK copies a sampler's attributes into each span.
type rateAttributes struct {
	text  string // the rate as a trace state member's t field holds it
	rate  float64
	attrs []attribute.KeyValue
}

// clientSampleRate returns the attribute for a span whose trace was kept
// with probability rate, or nil when the rate is unknown or outside (0,1],
// which Sentry would ignore.
func (s *sentrySampler) clientSampleRate(rate float64, known bool) []attribute.KeyValue {
	if !known || rate <= 0 || rate > 1 {
		return nil
	}
	if last := s.lastRate.Load(); last != nil && last.rate == rate {
		return last.attrs
	}
	return s.remember(protocol.FormatRate(rate), rate).attrs
}

// remember makes the attribute of rate, written as text, the one the next
// spans look up first.
func (s *sentrySampler) remember(text string, rate float64) *rateAttributes {
	last := &rateAttributes{text: text, rate: rate, attrs: []attribute.KeyValue{clientSampleRateKey.Float64(rate)}}
	s.lastRate.Store(last)
	return last
}

// childAttributes returns the attribute for a sampled span with the local
// parent: the rate recorded in the parent's sentry member when this
// process decided, else the sample_rate of the DSC that came in.
func (s *sentrySampler) childAttributes(ctx context.Context, parent trace.SpanContext) []attribute.KeyValue {
	if text := protocol.RateField(parent.TraceState()); text != "" {
		if last := s.lastRate.Load(); last != nil && last.text == text {
			return last.attrs
		}
		rate, ok := protocol.ParseRate(text)
		if !ok || rate <= 0 {
			return nil
		}
		return s.remember(text, rate).attrs
	}
	if dsc := protocol.ContinuedFromContext(ctx, parent.TraceID()); dsc != nil {
		return s.clientSampleRate(dsc.UpstreamRate())
	}
	return nil
}
