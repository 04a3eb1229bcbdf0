package propagator

import (
	"context"
	"sync/atomic"

	"go.opentelemetry.io/otel/trace"

	"github.com/otelsentry/otelsentry/internal/targets"
)

type (
	incomingKey   struct{}
	suppressedKey struct{}
)

// incomingState is what Extract learned about a continued trace. Its fields
// do not change once stored; only the encoding cache fills in.
type incomingState struct {
	traceID  trace.TraceID
	decision Decision
	// baggage is the capped incoming header, kept to decode its Sentry
	// members, the frozen DSC, only when they are first written; its
	// third-party members are never read from it.
	baggage string
	// sampleRand is the valid incoming value, verbatim, or the backfill.
	sampleRand string
	// sampleRate is the incoming sample_rate, decoded, or ""; SampleRate
	// checks that it is valid.
	sampleRate string
	// frozenEmpty records that no usable Sentry member came in (IN-3).
	frozenEmpty bool
	// frozen caches the encoded DSC for Inject.
	frozen atomic.Pointer[frozenDSC]
}

// Incoming is the Sentry state of a trace continued by Extract: the
// decision, sample_rand and frozen DSC of the upstream service.
// The zero Incoming is a deferred trace with no state.
type Incoming struct {
	state *incomingState
}

func (in Incoming) s() *incomingState {
	if in.state == nil {
		return &incomingState{}
	}
	return in.state
}

// IncomingFromContext returns the Sentry state Extract stored in ctx for
// the trace traceID. State stored for another trace does not count (OT-2),
// so a new root started from a request's context never inherits it.
func IncomingFromContext(ctx context.Context, traceID trace.TraceID) (Incoming, bool) {
	s := incomingFor(ctx, traceID)
	if s == nil {
		return Incoming{}, false
	}
	return Incoming{state: s}, true
}

func incomingFor(ctx context.Context, traceID trace.TraceID) *incomingState {
	s, _ := ctx.Value(incomingKey{}).(*incomingState)
	if s == nil || s.traceID != traceID {
		return nil
	}
	return s
}

// TraceID returns the continued trace's id.
func (in Incoming) TraceID() trace.TraceID { return in.s().traceID }

// Decision returns the upstream decision from the sentry-trace flag.
func (in Incoming) Decision() Decision { return in.s().decision }

// SampleRand returns the trace's sample_rand: the valid incoming value
// verbatim, or the deterministic backfill.
func (in Incoming) SampleRand() string { return in.s().sampleRand }

// SampleRate returns the upstream sample_rate when the DSC has a valid one.
func (in Incoming) SampleRate() (float64, bool) {
	return ParseRate(in.s().sampleRate)
}

// FrozenEmpty reports whether the trace came without any usable Sentry
// baggage member; its DSC then holds only sample_rand (IN-3).
func (in Incoming) FrozenEmpty() bool { return in.s().frozenEmpty }

// DSC returns a copy of the frozen DSC, sample_rand included.
func (in Incoming) DSC() DSC {
	var buf [maxBaggageMembers]dscEntry
	entries := in.s().entries(buf[:0], "")
	dsc := make(DSC, len(entries))
	for _, e := range entries {
		dsc[e.key], _ = percentDecodeIf(e.value, e.encoded)
	}
	return dsc
}

// entries appends the frozen DSC to dst, with sample_rate replaced by rate
// when rate is not empty (IN-7b).
func (s *incomingState) entries(dst dscEntries, rate string) dscEntries {
	dst = dst.addFrozen(s.baggage).set(keySampleRand, s.sampleRand, false)
	if rate != "" {
		dst = dst.set(keySampleRate, rate, false)
	}
	return dst
}

func percentDecodeIf(v string, encoded bool) (string, bool) {
	if !encoded {
		return v, true
	}
	return percentDecode(v)
}

// SuppressInject returns a context in which Inject writes nothing, for
// requests that must not carry trace headers, such as those to Sentry.
func SuppressInject(ctx context.Context) context.Context {
	return context.WithValue(ctx, suppressedKey{}, true)
}

// InjectSuppressed reports whether ctx came from SuppressInject.
func InjectSuppressed(ctx context.Context) bool {
	on, _ := ctx.Value(suppressedKey{}).(bool)
	return on
}

// ContextWithURL records the URL of the outgoing request that ctx belongs
// to, so that Inject can check it against the trace propagation targets
// and the DSN's ingest. HTTP clients set it once per request, before
// Inject runs; bridge.NewTransport does it for an http.Client. Inject
// never reads the URL from a span, whose attributes exist only when it is
// sampled.
func ContextWithURL(ctx context.Context, url string) context.Context {
	return targets.ContextWithURL(ctx, url)
}

// WithoutTrace returns ctx without its span and without Sentry state, so
// that the next span started from it is the root of a new trace.
func WithoutTrace(ctx context.Context) context.Context {
	ctx = context.WithValue(ctx, incomingKey{}, (*incomingState)(nil))
	return trace.ContextWithSpanContext(ctx, trace.SpanContext{})
}
