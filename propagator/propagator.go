package propagator

import (
	"context"
	"log/slog"
	"strings"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
)

// Header keys, lowercase as written to carriers, and as http.Header stores
// them.
const (
	sentryTraceHeader    = "sentry-trace"
	canonicalSentryTrace = "Sentry-Trace"
	canonicalBaggage     = "Baggage"
)

// sentryPropagator reads and writes sentry-trace and the Sentry members of
// baggage.
type sentryPropagator struct {
	cfg config
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

// Composite returns the recommended composite: W3C trace context, W3C
// baggage, then the Sentry propagator configured by opts. The Sentry
// propagator must come last: Baggage's Inject replaces the whole header
// (which would erase the Sentry members written before it), and a valid
// sentry-trace takes precedence over traceparent only when it is read
// second (OT-8).
func Composite(opts ...Option) propagation.TextMapPropagator {
	return propagation.NewCompositeTextMapPropagator(
		propagation.TraceContext{}, propagation.Baggage{}, New(opts...))
}

// Fields returns the keys this propagator reads and writes.
func (p *sentryPropagator) Fields() []string {
	return []string{sentryTraceHeader, baggageHeader}
}

// Extract continues the trace in carrier's sentry-trace, with the DSC of
// its baggage frozen. Without a valid sentry-trace, or for a trace of
// another organization, it returns ctx (see OR-6 for the one exception).
func (p *sentryPropagator) Extract(ctx context.Context, carrier propagation.TextMapCarrier) context.Context {
	var one [1]string
	candidate := firstSentryTrace(carrierValues(carrier, sentryTraceHeader, canonicalSentryTrace, &one))
	if candidate == "" {
		return withoutForeignHead(ctx)
	}
	traceID, spanID, decision, ok := parseSentryTrace(candidate)
	if !ok {
		p.debug(ctx, "ignoring invalid sentry-trace")
		return withoutForeignHead(ctx)
	}
	state := &incomingState{traceID: traceID, decision: decision}
	if raw := joinValues(carrierValues(carrier, baggageHeader, canonicalBaggage, &one)); len(raw) > maxBaggageBytes {
		// A copy, so the context does not hold on to an oversize header.
		state.baggage = strings.Clone(capBaggage(raw))
	} else {
		state.baggage = raw
	}
	dsc := scanDSC(state.baggage)
	if !p.cfg.continues(dsc.orgID) {
		p.debug(ctx, "not continuing a trace of another organization",
			slog.String("org_id", dsc.orgID), slog.String("local_org_id", p.cfg.orgID))
		return withoutRemote(ctx, traceID)
	}
	if dsc.contradicts(decision) {
		p.debug(ctx, "sentry-trace flag and baggage sampled disagree; the flag decides",
			slog.String("sampled", dsc.sampled))
	}
	state.frozenEmpty = !dsc.usable
	state.sampleRate = dsc.sampleRate

	// The member "s:<d>;r:<rand>" marks the decision on the SpanContext; the
	// context state reuses its sample_rand so neither allocates twice.
	var buf [len("s:x;r:") + maxSampleRandLen]byte
	member := append(buf[:0], "s:"...)
	member = append(member, decisionChar(decision), ';', 'r', ':')
	randAt := len(member)
	if dsc.sampleRand != "" {
		member = append(member, dsc.sampleRand...)
	} else {
		rate, rateOK := ParseRate(dsc.sampleRate)
		member = backfillSampleRand(member, traceID, decision, rate, rateOK)
	}
	memberValue := string(member)
	state.sampleRand = memberValue[randAt:]

	var flags trace.TraceFlags
	var ts trace.TraceState
	// A traceparent for the same span, read before, keeps its trace state
	// and random flag (OT-9); any other is replaced.
	if prev := trace.SpanContextFromContext(ctx); prev.IsRemote() &&
		prev.TraceID() == traceID && prev.SpanID() == spanID {
		ts, flags = prev.TraceState(), prev.TraceFlags()&trace.FlagsRandom
	}
	if decision == Sampled {
		flags |= trace.FlagsSampled
	}
	ts, err := ts.Insert(traceStateKey, memberValue)
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
	ctx = context.WithValue(ctx, incomingKey{}, state)
	return trace.ContextWithRemoteSpanContext(ctx, sc)
}

// Inject writes sentry-trace for the current span and merges the trace's
// DSC into carrier's baggage (OT-5..7).
func (p *sentryPropagator) Inject(ctx context.Context, carrier propagation.TextMapCarrier) {
	sc := trace.SpanContextFromContext(ctx)
	if !sc.IsValid() || InjectSuppressed(ctx) || !p.cfg.policy.Allows(ctx, carrier) {
		return
	}
	var one [1]string
	if firstSentryTrace(carrierValues(carrier, sentryTraceHeader, canonicalSentryTrace, &one)) != "" {
		return // the caller set it; its baggage is left alone too
	}
	member, hasMember := ParseTraceState(sc.TraceState())
	decision := decisionOf(sc, member, hasMember)

	var traceBuf [maxSentryTraceLen]byte
	setCarrier(carrier, sentryTraceHeader, canonicalSentryTrace,
		string(appendSentryTrace(traceBuf[:0], sc.TraceID(), sc.SpanID(), decision)))

	existing := carrierValues(carrier, baggageHeader, canonicalBaggage, &one)
	var merged string
	if in := incomingFor(ctx, sc.TraceID()); in != nil {
		// A decision this process made itself replaces the upstream rate
		// unless the DSC froze empty (IN-7b).
		var rate string
		if !in.frozenEmpty && hasMember {
			rate = member.Rate
		}
		merged = in.frozenDSC(rate).mergeInto(existing)
	} else {
		var backing [maxBaggageMembers]dscEntry
		merged = mergeBaggage(existing, p.ownDSC(ctx, sc, member, hasMember, decision, backing[:0]))
	}
	if merged != "" {
		setCarrier(carrier, baggageHeader, canonicalBaggage, merged)
	}
}

// ownDSC returns the DSC of a trace without incoming Sentry state in ctx:
// the head-of-trace DSC, or, for a continued trace whose context was lost,
// sample_rand alone (OT-4, OT-7).
func (p *sentryPropagator) ownDSC(ctx context.Context, sc trace.SpanContext, member TraceStateMember, hasMember bool, decision Decision, entries dscEntries) dscEntries {
	if !hasMember || member.Head && !sc.IsRemote() {
		return p.headDSC(ctx, sc, member, hasMember, decision, entries)
	}
	p.debug(ctx, "continued trace without its context: sending sample_rand only")
	return entries.set(keySampleRand, sampleRandOf(sc, member), false)
}

// headDSC builds the DSC of a trace this process started (IN-8), from the
// configuration, the SpanContext and its sentry member alone, so that every
// Inject for the trace agrees.
func (p *sentryPropagator) headDSC(ctx context.Context, sc trace.SpanContext, member TraceStateMember, hasMember bool, decision Decision, entries dscEntries) dscEntries {
	// Keys go in written order (BG-15), so sorting finds them sorted. No
	// decision means no rate and no transaction either (IN-8).
	var sampled, rate, transaction string
	switch decision {
	case Sampled:
		sampled = "true"
	case NotSampled:
		sampled = "false"
	}
	if decision != Deferred {
		rate = member.Rate
		if hasMember {
			transaction = member.Transaction
		} else {
			transaction = localRootTransaction(trace.SpanFromContext(ctx), sc)
		}
	}
	return entries.
		set(keyTraceID, sc.TraceID().String(), false).
		set(keyPublicKey, p.cfg.dsn.PublicKey, false).
		set(keySampleRate, rate, false).
		set(keySampleRand, sampleRandOf(sc, member), false).
		set(keySampled, sampled, false).
		set(keyRelease, p.cfg.release, false).
		set(keyEnvironment, p.cfg.environment, false).
		set(keyTransaction, transaction, false).
		set(keyOrgID, p.cfg.orgID, false)
}

// sampleRandOf returns the sample_rand the member carries, or the one a
// trace started here uses (SM-9).
func sampleRandOf(sc trace.SpanContext, member TraceStateMember) string {
	if member.SampleRand != "" {
		return member.SampleRand
	}
	return HeadSampleRand(sc.TraceID(), sc.TraceState())
}

// rootSpan is the part of a recording SDK span that tells whether it is a
// local root and what it is called.
type rootSpan interface {
	Name() string
	Parent() trace.SpanContext
	Attributes() []attribute.KeyValue
}

// localRootTransaction returns span's name when span is the recording local
// root of sc and its name is of good quality (IN-10); "" otherwise. It
// serves traces sampled by other samplers, which record no name.
func localRootTransaction(span trace.Span, sc trace.SpanContext) string {
	r, ok := span.(rootSpan)
	if !ok || !span.IsRecording() || span.SpanContext().SpanID() != sc.SpanID() {
		return ""
	}
	if parent := r.Parent(); parent.IsValid() && !parent.IsRemote() {
		return ""
	}
	if TransactionSource(r.Attributes()) == SourceURL {
		return ""
	}
	return r.Name()
}

func decisionOf(sc trace.SpanContext, member TraceStateMember, hasMember bool) Decision {
	switch {
	case sc.IsSampled():
		return Sampled
	case hasMember && member.Decision == Deferred:
		return Deferred
	}
	return NotSampled
}

func decisionChar(d Decision) byte {
	switch d {
	case Sampled:
		return '1'
	case NotSampled:
		return '0'
	}
	return 'd'
}

// continues applies OR-4 and OR-5 to the incoming org id.
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
// DSC from a peer's (OT-4). Without such fields ctx is returned as it is.
func withoutForeignHead(ctx context.Context) context.Context {
	sc := trace.SpanContextFromContext(ctx)
	if !sc.IsRemote() {
		return ctx
	}
	m, ok := ParseTraceState(sc.TraceState())
	if !ok || !m.Head && m.Rate == "" && m.Transaction == "" {
		return ctx
	}
	ts, err := TraceStateMember{Decision: m.Decision, SampleRand: m.SampleRand}.Insert(sc.TraceState())
	if err != nil {
		return ctx
	}
	return trace.ContextWithRemoteSpanContext(ctx, sc.WithTraceState(ts))
}

// withoutRemote removes a remote SpanContext of trace id that an earlier
// propagator left, so that a rejected trace starts anew (OR-6).
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

func setCarrier(carrier propagation.TextMapCarrier, key, canonical, value string) {
	if c, ok := carrier.(propagation.HeaderCarrier); ok {
		c[canonical] = []string{value}
		return
	}
	carrier.Set(key, value)
}
