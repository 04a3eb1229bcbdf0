package protocol

import (
	"context"
	"sync/atomic"
	"unsafe"

	"go.opentelemetry.io/otel/trace"
)

type (
	incomingKey   struct{}
	suppressedKey struct{}
)

// incomingState is what Extract learned about a continued trace. Its fields
// do not change once stored; only the encoding cache fills in.
type incomingState struct {
	traceID trace.TraceID
	// member holds the bytes of the trace state member's value, which
	// sampleRand shares.
	member [len("s:x;r:") + maxSampleRandLen]byte
	// sentry holds the usable Sentry members of the incoming baggage, as
	// they came, joined with commas: the frozen DSC, decoded only when it
	// is first written. Third-party members are never kept.
	sentry string
	// sampleRand is the valid incoming value, verbatim, or the backfill.
	sampleRand string
	// sampleRate is the incoming sample_rate, decoded, or ""; SampleRate
	// checks that it is valid.
	sampleRate string
	// frozenEmpty records that no usable Sentry member came in, so that the
	// DSC holds only sample_rand and a local rate is not added to it.
	frozenEmpty bool
	// verbatim is the frozen DSC when the kept members are it already.
	verbatim frozenDSC
	// frozen caches the encoded DSC for Inject otherwise.
	frozen atomic.Pointer[frozenDSC]
}

// Incoming is the Sentry state of a trace continued by Extract: the
// decision, sample_rand and frozen DSC of the upstream service.
type Incoming struct {
	state *incomingState
}

// NewIncoming returns the state of the trace traceID continued with the
// upstream decision d and the incoming DSC, and the value of the sentry
// trace state member, "s:<decision>;r:<sample_rand>", that Extract puts on
// the remote SpanContext.
func NewIncoming(traceID trace.TraceID, d Decision, dsc IncomingDSC) (Incoming, string) {
	s := new(incomingState)
	return Incoming{state: s}, s.init(traceID, d, dsc)
}

// ContextWithNewIncoming is ContextWithIncoming(ctx, NewIncoming(...)) in
// one allocation for the state and the context, and one more only to copy
// Sentry members out of a header that holds others, since Extract runs on
// every request.
func ContextWithNewIncoming(ctx context.Context, traceID trace.TraceID, d Decision, dsc IncomingDSC) (context.Context, string) {
	c := &incomingContext{Context: ctx}
	return c, c.state.init(traceID, d, dsc)
}

// init fills s and returns the trace state member's value, whose bytes s
// holds.
func (s *incomingState) init(traceID trace.TraceID, d Decision, dsc IncomingDSC) string {
	member := append(s.member[:0], 's', ':', decisionChar(d), ';', 'r', ':')
	randAt := len(member)
	if dsc.SampleRand != "" {
		member = append(member, dsc.SampleRand...)
	} else {
		rate, rateOK := ParseRate(dsc.SampleRate)
		member = backfillSampleRand(member, traceID, d, rate, rateOK)
	}
	// The member's bytes stay in s, which nothing writes once init
	// returns.
	text := unsafe.String(&member[0], len(member))
	s.sentry = dsc.kept()
	s.traceID = traceID
	s.sampleRand = text[randAt:]
	s.sampleRate = dsc.SampleRate
	s.frozenEmpty = !dsc.Usable
	if dsc.verbatim {
		s.verbatim = frozenDSC{state: s, text: s.sentry, members: dsc.members, complete: true}
	}
	return text
}

// incomingContext holds an incomingState without a separate allocation.
type incomingContext struct {
	context.Context
	state incomingState
}

func (c *incomingContext) Value(key any) any {
	if key == (incomingKey{}) {
		return &c.state
	}
	return c.Context.Value(key)
}

// ContextWithIncoming returns ctx holding in, for Inject and the sampler.
func ContextWithIncoming(ctx context.Context, in Incoming) context.Context {
	return context.WithValue(ctx, incomingKey{}, in.state)
}

// IncomingFromContext returns the Sentry state Extract stored in ctx for
// the trace traceID. State stored for another trace does not count, so a
// new root started from a request's context never inherits it.
func IncomingFromContext(ctx context.Context, traceID trace.TraceID) (Incoming, bool) {
	s, _ := ctx.Value(incomingKey{}).(*incomingState)
	if s == nil || s.traceID != traceID {
		return Incoming{}, false
	}
	return Incoming{state: s}, true
}

// SampleRand returns the trace's sample_rand: the valid incoming value
// verbatim, or the deterministic backfill.
func (in Incoming) SampleRand() string { return in.state.sampleRand }

// SampleRate returns the upstream sample_rate when the DSC has a valid one.
func (in Incoming) SampleRate() (float64, bool) {
	return ParseRate(in.state.sampleRate)
}

// entries appends the frozen DSC to dst, with sample_rate replaced by rate
// when rate is not empty.
func (s *incomingState) entries(dst dscEntries, rate string) dscEntries {
	dst = dst.addFrozen(s.sentry).set(keySampleRand, s.sampleRand, false)
	if rate != "" {
		dst = dst.set(keySampleRate, rate, false)
	}
	return dst
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

// WithoutTrace returns ctx without its span and without Sentry state, so
// that the next span started from it is the root of a new trace.
func WithoutTrace(ctx context.Context) context.Context {
	ctx = context.WithValue(ctx, incomingKey{}, (*incomingState)(nil))
	return trace.ContextWithSpanContext(ctx, trace.SpanContext{})
}
