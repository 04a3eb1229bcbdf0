package protocol

import (
	"context"

	"go.opentelemetry.io/otel/trace"
)

type (
	continuedKey  struct{}
	suppressedKey struct{}
)

// continuedContext holds a continued trace's DSC without a separate
// allocation, since Extract runs on every request.
type continuedContext struct {
	context.Context
	dsc DSC
}

func (c *continuedContext) Value(key any) any {
	if key == (continuedKey{}) {
		return &c.dsc
	}
	return c.Context.Value(key)
}

// Continue returns ctx holding the frozen DSC of the trace traceID,
// continued with the upstream decision d, read from the carrier's baggage
// values, for Inject, the sampler and the accessors. It also returns the
// value of the sentry trace state member for the remote parent,
// "s:<decision>;r:<sample_rand>", the incoming org id, trimmed, and
// whether the incoming sampled value contradicts d: Extract checks both
// before it uses the context.
func Continue(ctx context.Context, traceID trace.TraceID, d Decision, baggage []string) (_ context.Context, member, orgID string, contradicted bool) {
	c := &continuedContext{Context: ctx}
	c.dsc.traceID, c.dsc.continued = traceID, true
	member, orgID, sampled := c.dsc.readIncoming(d, baggage)
	return c, member, orgID, contradicts(sampled, d)
}

// ContinuedFromContext returns the DSC that Extract stored in ctx for the
// trace traceID, or nil. A DSC stored for another trace does not count, so
// a new root started from a request's context never inherits it.
func ContinuedFromContext(ctx context.Context, traceID trace.TraceID) *DSC {
	d, _ := ctx.Value(continuedKey{}).(*DSC)
	if d == nil || d.traceID != traceID {
		return nil
	}
	return d
}

// SuppressInject returns a context in which Inject writes nothing.
func SuppressInject(ctx context.Context) context.Context {
	return context.WithValue(ctx, suppressedKey{}, true)
}

// InjectSuppressed reports whether ctx came from SuppressInject.
func InjectSuppressed(ctx context.Context) bool {
	on, _ := ctx.Value(suppressedKey{}).(bool)
	return on
}

// WithoutTrace returns ctx without its span and without the DSC of a
// continued trace, so that nothing of the trace it was in stays with it.
func WithoutTrace(ctx context.Context) context.Context {
	ctx = context.WithValue(ctx, continuedKey{}, (*DSC)(nil))
	return trace.ContextWithSpanContext(ctx, trace.SpanContext{})
}
