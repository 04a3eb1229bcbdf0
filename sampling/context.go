package sampling

import (
	"context"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"

	"github.com/otelsentry/otelsentry/propagator"
)

// TracesSampler returns the sample rate for a local root span, in [0,1].
type TracesSampler func(SamplingContext) float64

// SamplingContext is what a TracesSampler is told about a local root span.
type SamplingContext struct {
	// ParentContext is the context the span starts in.
	ParentContext context.Context
	// TraceID is the span's trace id.
	TraceID trace.TraceID
	// Name is the span's name when it starts.
	Name string
	// Kind is the span's kind.
	Kind trace.SpanKind
	// Attributes are those given when the span starts.
	Attributes []attribute.KeyValue
	// Links are those given when the span starts.
	Links []trace.Link
	// ParentDecision is the upstream decision: Deferred when there is no
	// parent, or when the parent deferred the decision.
	ParentDecision propagator.Decision
	// ParentSampleRate is the upstream sample_rate; valid when
	// HasParentSampleRate is set.
	ParentSampleRate    float64
	HasParentSampleRate bool
}

// Inherit returns the parent's sample rate when known, else 1 or 0 from
// the parent's decision, else fallback: what a traces sampler returns to
// keep upstream decisions and decide the rest itself.
func (c SamplingContext) Inherit(fallback float64) float64 {
	switch {
	case c.HasParentSampleRate:
		return c.ParentSampleRate
	case c.ParentDecision == propagator.Sampled:
		return 1
	case c.ParentDecision == propagator.NotSampled:
		return 0
	}
	return fallback
}
