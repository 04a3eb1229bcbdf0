package propagator

import (
	"context"
	"log/slog"
	"unsafe"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/baggage"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"

	"github.com/otelsentry/otelsentry/internal/protocol"
	"github.com/otelsentry/otelsentry/internal/targets"
)

// Header keys, lowercase as written to carriers, and as http.Header stores
// them.
const (
	sentryTraceHeader    = "sentry-trace"
	baggageHeader        = "baggage"
	canonicalSentryTrace = "Sentry-Trace"
	canonicalBaggage     = "Baggage"
)

// sentryPropagator reads and writes sentry-trace and the Sentry members of
// baggage.
type sentryPropagator struct {
	cfg   config
	heads headCache
}

var _ propagation.TextMapPropagator = (*sentryPropagator)(nil)

// New returns a propagator for Sentry's sentry-trace header and the
// Dynamic Sampling Context in baggage. Put it after propagation.Baggage in
// a composite, or use Composite.
func New(opts ...Option) propagation.TextMapPropagator {
	p := &sentryPropagator{cfg: newConfig(opts)}
	if p.cfg.dsnErr != nil {
		otel.Handle(p.cfg.dsnErr)
	}
	return p
}

// TargetPolicy returns the rule that decides which outgoing requests get
// trace headers, for a composite that gates its other members with it.
func (p *sentryPropagator) TargetPolicy() *targets.Policy { return p.cfg.policy }

// Fields returns the keys this propagator reads and writes.
func (p *sentryPropagator) Fields() []string {
	return []string{sentryTraceHeader, baggageHeader}
}

// Extract continues the trace in carrier's sentry-trace, with the DSC of
// its baggage frozen. Without a valid sentry-trace, or for a trace of
// another organization, it returns ctx, less a remote SpanContext of the
// rejected trace that an earlier propagator left.
func (p *sentryPropagator) Extract(ctx context.Context, carrier propagation.TextMapCarrier) context.Context {
	var one [1]string
	candidate := protocol.FirstSentryTrace(carrierValues(carrier, sentryTraceHeader, canonicalSentryTrace, &one))
	if candidate == "" {
		return withoutForeignHead(ctx)
	}
	traceID, spanID, decision, ok := protocol.ParseSentryTrace(candidate)
	if !ok {
		p.debug(ctx, "ignoring invalid sentry-trace")
		return withoutForeignHead(ctx)
	}
	dsc := protocol.ScanDSC(carrierValues(carrier, baggageHeader, canonicalBaggage, &one))
	if !p.cfg.continues(dsc.OrgID) {
		p.debug(ctx, "not continuing a trace of another organization",
			slog.String("org_id", dsc.OrgID), slog.String("local_org_id", p.cfg.orgID))
		return withoutRemote(ctx, traceID)
	}
	if dsc.Contradicts(decision) {
		p.debug(ctx, "sentry-trace flag and baggage sampled disagree; the flag decides",
			slog.String("sampled", dsc.Sampled))
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
	withIncoming, member := protocol.ContextWithNewIncoming(ctx, traceID, decision, dsc)
	ts, err := ts.Insert(protocol.TraceStateKey, member)
	if err != nil {
		p.debug(ctx, "ignoring sentry-trace: trace state rejected the sentry member", slog.Any("error", err))
		return ctx
	}
	sc := trace.NewSpanContext(trace.SpanContextConfig{
		TraceID:    traceID,
		SpanID:     spanID,
		TraceFlags: flags,
		TraceState: ts,
		Remote:     true,
	})
	return trace.ContextWithRemoteSpanContext(withIncoming, sc)
}

// Inject writes sentry-trace for the current span and merges the trace's
// DSC into carrier's baggage.
func (p *sentryPropagator) Inject(ctx context.Context, carrier propagation.TextMapCarrier) {
	p.inject(ctx, carrier, nil)
}

// inject is Inject, after, when otel is not nil, propagation.Baggage's
// Inject of otel, which it does itself so as to encode only the members
// that the merge keeps.
func (p *sentryPropagator) inject(ctx context.Context, carrier propagation.TextMapCarrier, otel *baggage.Baggage) {
	sc := trace.SpanContextFromContext(ctx)
	var one [1]string
	// Nothing of Sentry's is written without a trace, under suppression, for
	// a request the targets exclude, or where the caller set sentry-trace
	// (its baggage is then left alone too).
	if !sc.IsValid() || protocol.InjectSuppressed(ctx) || !p.cfg.policy.Allows(ctx, carrier) ||
		protocol.FirstSentryTrace(carrierValues(carrier, sentryTraceHeader, canonicalSentryTrace, &one)) != "" {
		if otel != nil {
			writeOTelBaggage(carrier, *otel)
		}
		return
	}
	member, hasMember := protocol.ParseTraceState(sc.TraceState())
	decision := protocol.DecisionWith(sc, member, hasMember)

	existing := carrierValues(carrier, baggageHeader, canonicalBaggage, &one)
	if otel != nil {
		if third, written := otelThirdParty(*otel); written {
			one[0] = third
			existing = one[:]
		}
	}
	var merged string
	if in, ok := protocol.IncomingFromContext(ctx, sc.TraceID()); ok {
		// The rate of a decision made here, if any, is the member's.
		merged = in.MergeInto(existing, member.Rate)
	} else {
		merged = p.headBaggage(ctx, sc, member, hasMember, decision, existing)
	}
	writeHeaders(carrier, sc, decision, merged)
}

// headerValues is what Inject writes into an http.Header, in one
// allocation: both headers' value slices and the bytes of sentry-trace,
// never written again once a string refers to them.
type headerValues struct {
	values [2]string
	trace  [protocol.MaxSentryTraceLen]byte
}

// writeHeaders sets sentry-trace for sc and decision, and baggage unless
// it is "".
func writeHeaders(carrier propagation.TextMapCarrier, sc trace.SpanContext, decision protocol.Decision, baggage string) {
	if c, ok := carrier.(propagation.HeaderCarrier); ok {
		h := new(headerValues)
		b := protocol.AppendSentryTrace(h.trace[:0], sc.TraceID(), sc.SpanID(), decision)
		h.values[0] = unsafe.String(&b[0], len(b))
		c[canonicalSentryTrace] = h.values[0:1:1]
		if baggage != "" {
			h.values[1] = baggage
			c[canonicalBaggage] = h.values[1:2:2]
		}
		return
	}
	var traceBuf [protocol.MaxSentryTraceLen]byte
	carrier.Set(sentryTraceHeader, string(protocol.AppendSentryTrace(traceBuf[:0], sc.TraceID(), sc.SpanID(), decision)))
	if baggage != "" {
		carrier.Set(baggageHeader, baggage)
	}
}

// ownDSC returns the DSC of a trace without incoming Sentry state in ctx:
// the head-of-trace DSC, or, for a continued trace whose context was lost,
// sample_rand alone, since the upstream DSC cannot be rebuilt.
func (p *sentryPropagator) ownDSC(ctx context.Context, sc trace.SpanContext, member protocol.TraceStateMember, hasMember bool, decision protocol.Decision) protocol.HeadDSC {
	rand := protocol.SampleRandOf(sc, member)
	if hasMember && (!member.Head || sc.IsRemote()) {
		p.debug(ctx, "continued trace without its context: sending sample_rand only")
		return protocol.HeadDSC{SampleRand: rand}
	}
	// The head DSC comes from the configuration, the SpanContext and its
	// sentry member alone, so that every Inject for the trace agrees. No
	// decision means no rate and no transaction either.
	dsc := protocol.HeadDSC{
		TraceID:     sc.TraceID().String(),
		PublicKey:   p.cfg.dsn.PublicKey,
		SampleRand:  rand,
		Release:     p.cfg.release,
		Environment: p.cfg.environment,
		OrgID:       p.cfg.orgID,
	}
	switch decision {
	case protocol.Sampled:
		dsc.Sampled = "true"
	case protocol.NotSampled:
		dsc.Sampled = "false"
	}
	if decision != protocol.Deferred {
		dsc.SampleRate = member.Rate
		if hasMember {
			dsc.Transaction = member.Transaction
		} else {
			dsc.Transaction = localRootTransaction(trace.SpanFromContext(ctx), sc)
		}
	}
	return dsc
}

// rootSpan is the part of a recording SDK span that tells whether it is a
// local root and what it is called.
type rootSpan interface {
	Name() string
	Parent() trace.SpanContext
	Attributes() []attribute.KeyValue
}

// localRootTransaction returns span's name when span is the recording local
// root of sc and its name is of good quality (not a raw URL); "" otherwise.
// It serves traces sampled by other samplers, which record no name.
func localRootTransaction(span trace.Span, sc trace.SpanContext) string {
	r, ok := span.(rootSpan)
	if !ok || !span.IsRecording() || span.SpanContext().SpanID() != sc.SpanID() {
		return ""
	}
	if parent := r.Parent(); parent.IsValid() && !parent.IsRemote() {
		return ""
	}
	if protocol.TransactionSource(r.Attributes()) == protocol.SourceURL {
		return ""
	}
	return r.Name()
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
	ts, err := protocol.TraceStateMember{Decision: m.Decision, SampleRand: m.SampleRand}.Insert(sc.TraceState())
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

func (p *sentryPropagator) debug(ctx context.Context, msg string, attrs ...slog.Attr) {
	if p.cfg.logger.Enabled(ctx, slog.LevelDebug) {
		p.cfg.logger.LogAttrs(ctx, slog.LevelDebug, msg, attrs...)
	}
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
