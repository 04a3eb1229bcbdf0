package propagator

import (
	"context"
	"fmt"
	"log/slog"
	"net/textproto"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"

	"github.com/otelsentry/otelsentry/internal/protocol"
)

// The header keys as http.Header stores them, for reading and writing it
// directly.
var (
	canonicalSentryTrace = textproto.CanonicalMIMEHeaderKey(protocol.HeaderSentryTrace)
	canonicalBaggage     = textproto.CanonicalMIMEHeaderKey(protocol.HeaderBaggage)
	canonicalTraceparent = textproto.CanonicalMIMEHeaderKey(protocol.HeaderTraceparent)
	canonicalTracestate  = textproto.CanonicalMIMEHeaderKey(protocol.HeaderTracestate)
)

// sentryPropagator reads and writes sentry-trace and the Sentry members of
// baggage.
type sentryPropagator struct {
	cfg *config
}

var _ propagation.TextMapPropagator = (*sentryPropagator)(nil)

// New returns a propagator for Sentry's sentry-trace header and the
// Dynamic Sampling Context in baggage. Put it after propagation.Baggage in
// a composite, or use Composite.
func New(opts ...Option) propagation.TextMapPropagator {
	return &sentryPropagator{cfg: newConfigReported(opts)}
}

// newConfigReported is newConfig, with an invalid DSN reported through
// otel.Handle.
func newConfigReported(opts []Option) *config {
	c := newConfig(opts)
	if c.dsnErr != nil {
		otel.Handle(fmt.Errorf("propagator: WithDSN: %w", c.dsnErr))
	}
	return c
}

// Fields returns the keys this propagator reads and writes.
func (p *sentryPropagator) Fields() []string {
	return []string{protocol.HeaderSentryTrace, protocol.HeaderBaggage}
}

// Extract continues the trace in carrier's sentry-trace, with the DSC of
// its baggage frozen. Without a valid sentry-trace, or for a trace of
// another organization, it returns ctx, less a remote SpanContext of the
// rejected trace that an earlier propagator left.
func (p *sentryPropagator) Extract(ctx context.Context, carrier propagation.TextMapCarrier) context.Context {
	return p.cfg.extract(ctx, carrier)
}

func (c *config) extract(ctx context.Context, carrier propagation.TextMapCarrier) context.Context {
	var one [1]string
	candidate := protocol.FirstSentryTrace(carrierValues(carrier, protocol.HeaderSentryTrace, canonicalSentryTrace, &one))
	if candidate == "" {
		return withoutForeignHead(ctx)
	}
	traceID, spanID, decision, ok := protocol.ParseSentryTrace(candidate)
	if !ok {
		c.debug(ctx, "ignoring invalid sentry-trace")
		return withoutForeignHead(ctx)
	}
	withDSC, member, orgID, contradicted := protocol.Continue(ctx, traceID, decision,
		carrierValues(carrier, protocol.HeaderBaggage, canonicalBaggage, &one))
	if !c.continues(orgID) {
		c.debug(ctx, "not continuing a trace of another organization",
			slog.String("org_id", orgID), slog.String("local_org_id", c.orgID))
		return withoutRemote(ctx, traceID)
	}
	if contradicted {
		c.debug(ctx, "sentry-trace flag and baggage sampled disagree; the flag decides")
	}
	var flags trace.TraceFlags
	var ts trace.TraceState
	// A traceparent for the same span, read before, keeps its trace state
	// and random flag; any other is replaced.
	if prev := trace.SpanContextFromContext(ctx); prev.IsRemote() &&
		prev.TraceID() == traceID && prev.SpanID() == spanID {
		ts, flags = prev.TraceState(), prev.TraceFlags()&trace.FlagsRandom
	}
	if decision == protocol.Sampled {
		flags |= trace.FlagsSampled
	}
	ts, err := ts.Insert(protocol.TraceStateKey, member)
	if err != nil {
		c.debug(ctx, "ignoring sentry-trace: trace state rejected the sentry member", slog.Any("error", err))
		return ctx
	}
	sc := trace.NewSpanContext(trace.SpanContextConfig{
		TraceID:    traceID,
		SpanID:     spanID,
		TraceFlags: flags,
		TraceState: ts,
		Remote:     true,
	})
	return trace.ContextWithRemoteSpanContext(withDSC, sc)
}

// Inject writes sentry-trace for the current span and merges the trace's
// DSC into carrier's baggage, unless the request is one that gets no trace
// headers: outside the trace propagation targets, to the DSN's ingest, or
// in a context from SuppressInject.
func (p *sentryPropagator) Inject(ctx context.Context, carrier propagation.TextMapCarrier) {
	if protocol.InjectSuppressed(ctx) || !p.cfg.policy.Allows(ctx, carrier) {
		return
	}
	if sc, ok := p.cfg.writes(ctx, carrier); ok {
		var one [1]string
		p.cfg.write(ctx, carrier, sc, carrierValues(carrier, protocol.HeaderBaggage, canonicalBaggage, &one))
	}
}

// writes returns the span context whose sentry-trace Inject writes, and
// false where it writes nothing: without a valid span context, or where
// the caller set sentry-trace (its baggage is then left alone too).
func (c *config) writes(ctx context.Context, carrier propagation.TextMapCarrier) (trace.SpanContext, bool) {
	sc := trace.SpanContextFromContext(ctx)
	var one [1]string
	return sc, sc.IsValid() &&
		protocol.FirstSentryTrace(carrierValues(carrier, protocol.HeaderSentryTrace, canonicalSentryTrace, &one)) == ""
}

// write writes sentry-trace for sc and baggage: existing, the baggage
// values whose third-party members stay, merged with the trace's DSC.
func (c *config) write(ctx context.Context, carrier propagation.TextMapCarrier, sc trace.SpanContext, existing []string) {
	member, hasMember := protocol.ParseTraceState(sc.TraceState())
	decision := member.DecisionOf(sc, hasMember)
	writeHeaders(carrier, sc, decision, c.dscFor(ctx, sc, member, hasMember, decision).MergeInto(existing, member.Rate))
}

// dscFor returns the DSC of sc's trace in ctx, logging a continued trace
// whose context was lost.
func (c *config) dscFor(ctx context.Context, sc trace.SpanContext, member protocol.TraceStateMember, hasMember bool, decision protocol.Decision) *protocol.DSC {
	dsc, lost := c.head.DSCFor(ctx, sc, member, hasMember, decision)
	if lost {
		c.debug(ctx, "continued trace without its context: sending sample_rand only")
	}
	return dsc
}

// WrittenDSC returns the DSC that Inject writes for ctx and the rate it
// writes it with, for the accessors; see protocol.DSCWriter.
func (p *sentryPropagator) WrittenDSC(ctx context.Context) (*protocol.DSC, string, bool) {
	return p.cfg.writtenDSC(ctx)
}

// writtenDSC returns the DSC that Inject writes for ctx and the rate it
// writes it with, or false when Inject writes none: no valid span
// context, or Inject suppressed. The trace propagation targets are about
// requests and do not apply.
func (c *config) writtenDSC(ctx context.Context) (*protocol.DSC, string, bool) {
	sc := trace.SpanContextFromContext(ctx)
	if !sc.IsValid() || protocol.InjectSuppressed(ctx) {
		return nil, "", false
	}
	member, hasMember := protocol.ParseTraceState(sc.TraceState())
	return c.dscFor(ctx, sc, member, hasMember, member.DecisionOf(sc, hasMember)), member.Rate, true
}

// writeHeaders sets sentry-trace for sc and decision, and baggage unless
// it is "". An http.Header gets both value slices in one allocation.
func writeHeaders(carrier propagation.TextMapCarrier, sc trace.SpanContext, decision protocol.Decision, baggage string) {
	var buf [protocol.MaxSentryTraceLen]byte
	sentryTrace := string(protocol.AppendSentryTrace(buf[:0], sc.TraceID(), sc.SpanID(), decision))
	if c, ok := carrier.(propagation.HeaderCarrier); ok {
		values := make([]string, 2)
		values[0], values[1] = sentryTrace, baggage
		c[canonicalSentryTrace] = values[0:1:1]
		if baggage != "" {
			c[canonicalBaggage] = values[1:2:2]
		}
		return
	}
	carrier.Set(protocol.HeaderSentryTrace, sentryTrace)
	if baggage != "" {
		carrier.Set(protocol.HeaderBaggage, baggage)
	}
}

// continues reports whether a trace with the incoming org id is continued:
// never when both org ids are set and differ; under strict continuation,
// only when they are equal or both absent.
func (c *config) continues(incomingOrg string) bool {
	if incomingOrg != "" && c.orgID != "" {
		return incomingOrg == c.orgID
	}
	return !c.strict || incomingOrg == c.orgID
}

// withoutForeignHead strips the head-of-trace fields (h, t, n) from a
// sentry member that came in with a remote SpanContext, from traceparent
// and tracestate: they describe the process that wrote them, and spans
// that copy the member under another sampler must not build their head
// DSC from a peer's. Without such fields ctx is returned as it is.
func withoutForeignHead(ctx context.Context) context.Context {
	sc := trace.SpanContextFromContext(ctx)
	if !sc.IsRemote() {
		return ctx
	}
	m, ok := protocol.ParseTraceState(sc.TraceState())
	if !ok || !m.Head && m.Rate == "" && m.Transaction == "" {
		return ctx
	}
	ts, _, err := protocol.TraceStateMember{Decision: m.Decision, SampleRand: m.SampleRand}.Insert(sc.TraceState())
	if err != nil {
		return ctx
	}
	return trace.ContextWithRemoteSpanContext(ctx, sc.WithTraceState(ts))
}

// withoutRemote removes a remote SpanContext of trace id that an earlier
// propagator left, so that a rejected trace starts anew.
func withoutRemote(ctx context.Context, traceID trace.TraceID) context.Context {
	if sc := trace.SpanContextFromContext(ctx); sc.IsRemote() && sc.TraceID() == traceID {
		return trace.ContextWithSpanContext(ctx, trace.SpanContext{})
	}
	return ctx
}

func (c *config) debug(ctx context.Context, msg string, attrs ...slog.Attr) {
	if c.logger.Enabled(ctx, slog.LevelDebug) {
		c.logger.LogAttrs(ctx, slog.LevelDebug, msg, attrs...)
	}
}

// setHeader sets key to value, as carrier.Set does. An http.Header is
// written directly with the canonical key, since its Set canonicalises
// (and allocates) on every call.
func setHeader(carrier propagation.TextMapCarrier, key, canonical, value string) {
	if c, ok := carrier.(propagation.HeaderCarrier); ok {
		c[canonical] = []string{value}
		return
	}
	carrier.Set(key, value)
}

// carrierValues returns every value of key. http.Header is read directly
// with the canonical key, since its Get canonicalises (and allocates) on
// every call; one holds a single value from a plain carrier.
func carrierValues(carrier propagation.TextMapCarrier, key, canonical string, one *[1]string) []string {
	switch c := carrier.(type) {
	case propagation.HeaderCarrier:
		return c[canonical]
	case propagation.ValuesGetter:
		return c.Values(key)
	}
	if one[0] = carrier.Get(key); one[0] == "" {
		return nil
	}
	return one[:]
}
