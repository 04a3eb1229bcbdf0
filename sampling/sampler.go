package sampling

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"sync/atomic"

	"go.opentelemetry.io/otel"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"

	"github.com/otelsentry/otelsentry/internal/protocol"
)

// ErrInvalidRate is reported, wrapped, through otel.Handle for a configured
// sample rate that is not a finite number in [0,1].
var ErrInvalidRate = errors.New("sampling: sample rate must be a finite number in [0,1]")

// sentrySampler decides once per trace, the way Sentry SDKs do, and records
// the decision in the span's "sentry" trace state member.
type sentrySampler struct {
	cfg config
	// lastRate is the sentry.client_sample_rate attribute of the rate
	// written last.
	lastRate atomic.Pointer[rateAttributes]
}

var _ sdktrace.Sampler = (*sentrySampler)(nil)

// New returns an OpenTelemetry SDK sampler with Sentry's semantics. For a
// local root span (no parent, or a remote one) it asks, in order: the
// traces sampler, the parent's sampled or negative decision, the traces
// sample rate; if none applies the decision stays deferred. A span with a
// local parent copies the parent's decision. Every decision compares the
// trace's one sample_rand with the rate, so all services agree.
func New(opts ...Option) sdktrace.Sampler {
	s := &sentrySampler{cfg: newConfig(opts)}
	if s.cfg.hasRate && !protocol.ValidRate(s.cfg.rate) {
		otel.Handle(fmt.Errorf("%w: got %v", ErrInvalidRate, s.cfg.rate))
	}
	return s
}

// Decides reports whether the sampler decides traces itself: it has a
// traces sample rate or a traces sampler. Without either, it passes
// upstream decisions on and defers the rest (tracing without
// performance), and bridge.Setup, which asks, then sends no spans, as
// Sentry SDKs send none.
func (s *sentrySampler) Decides() bool { return s.cfg.hasRate || s.cfg.tracesSampler != nil }

// ShouldSample implements sdktrace.Sampler.
func (s *sentrySampler) ShouldSample(p sdktrace.SamplingParameters) sdktrace.SamplingResult {
	parent := trace.SpanContextFromContext(p.ParentContext)
	if parent.IsValid() && !parent.IsRemote() {
		// A child span shares its local parent's state, unchanged.
		res := sdktrace.SamplingResult{Decision: otelDecision(parent.IsSampled()), Tracestate: parent.TraceState()}
		if parent.IsSampled() {
			res.Attributes = s.childAttributes(p.ParentContext, parent)
		}
		return res
	}
	return s.sampleRoot(p, parent)
}

// sampleRoot decides for a local root span, whose parent is remote or
// absent.
func (s *sentrySampler) sampleRoot(p sdktrace.SamplingParameters, parent trace.SpanContext) sdktrace.SamplingResult {
	sc := SamplingContext{
		ParentContext: p.ParentContext,
		TraceID:       p.TraceID,
		Name:          p.Name,
		Kind:          p.Kind,
		Attributes:    p.Attributes,
		Links:         p.Links,
	}
	var (
		ts        trace.TraceState
		rand      string
		hasMember bool
		// parentDecision is the upstream decision; Deferred also stands
		// for no parent.
		parentDecision = protocol.Deferred
	)
	if parent.IsValid() {
		ts = parent.TraceState()
		var member protocol.TraceStateMember
		member, hasMember = protocol.ParseTraceState(ts)
		if dsc := protocol.ContinuedFromContext(p.ParentContext, p.TraceID); dsc != nil {
			rand = dsc.SampleRand()
			sc.ParentSampleRate, sc.HasParentSampleRate = dsc.UpstreamRate()
		} else {
			rand = member.SampleRand
		}
		parentDecision = member.DecisionOf(parent, hasMember)
		sc.ParentDecision = parentDecision
	}
	// This process is the head of the trace for Sentry when nothing
	// upstream spoke Sentry: no parent, or one known from traceparent alone.
	head := !hasMember
	if rand == "" {
		rand = protocol.HeadSampleRand(p.TraceID, ts)
	}
	randValue, _ := protocol.ParseSampleRand(rand)

	member := protocol.TraceStateMember{SampleRand: rand, Head: head}
	local := true
	var rate float64
	switch {
	case s.cfg.tracesSampler != nil:
		rate = s.callTracesSampler(p.ParentContext, sc)
	case parentDecision != protocol.Deferred:
		member.Decision, local = parentDecision, false
	case s.cfg.hasRate:
		rate = s.cfg.rate
	default:
		member.Decision, local = protocol.Deferred, false
	}
	switch {
	case local && !protocol.ValidRate(rate):
		s.debug(p.ParentContext, "invalid sample rate: not sampled", slog.Float64("rate", rate))
		member.Decision = protocol.NotSampled
	case local:
		member.Decision = decide(randValue, rate)
		// A rate too small to be read back is left out rather than
		// written unreadable.
		if t := protocol.FormatRate(rate); rateReadable(t) {
			member.Rate = t
		}
	}
	if head && member.Decision != protocol.Deferred &&
		protocol.TransactionSource(p.Attributes) != protocol.SourceURL {
		var cut bool
		if member.Transaction, cut = protocol.CutTransaction(p.Name); cut {
			s.debug(p.ParentContext, "transaction name cut to the length Sentry keeps", slog.String("name", p.Name))
		}
	}

	ts, cut, err := member.Insert(ts)
	if cut {
		s.debug(p.ParentContext, "transaction name cut to fit the trace state", slog.String("name", member.Transaction))
	}
	if err != nil {
		// The decision must travel even when a field does not fit.
		ts, _, err = protocol.TraceStateMember{Decision: member.Decision, SampleRand: member.SampleRand, Head: head}.Insert(ts)
	}
	if err == nil && s.cfg.consistent {
		ts, err = consistentOT(ts, randValue, member.Decision, rate, local && member.Rate != "")
	}
	if err != nil {
		s.debug(p.ParentContext, "trace state not updated", slog.Any("error", err))
	}
	res := sdktrace.SamplingResult{Decision: otelDecision(member.Decision == protocol.Sampled), Tracestate: ts}
	switch {
	case member.Decision != protocol.Sampled:
	case local:
		res.Attributes = s.clientSampleRate(rate, true)
	default:
		res.Attributes = s.clientSampleRate(sc.ParentSampleRate, sc.HasParentSampleRate)
	}
	return res
}

// callTracesSampler runs the user's function; a panic counts as an
// invalid rate.
func (s *sentrySampler) callTracesSampler(ctx context.Context, sc SamplingContext) (rate float64) {
	defer func() {
		if r := recover(); r != nil {
			s.debug(ctx, "traces sampler panicked: not sampled", slog.Any("panic", r))
			rate = math.NaN()
		}
	}()
	return s.cfg.tracesSampler(sc)
}

// Description implements sdktrace.Sampler.
func (s *sentrySampler) Description() string {
	switch {
	case s.cfg.tracesSampler != nil:
		return "SentrySampler{tracesSampler}"
	case s.cfg.hasRate:
		return "SentrySampler{rate:" + protocol.FormatRate(s.cfg.rate) + "}"
	}
	return "SentrySampler{deferred}"
}

func (s *sentrySampler) debug(ctx context.Context, msg string, attrs ...slog.Attr) {
	if s.cfg.logger.Enabled(ctx, slog.LevelDebug) {
		s.cfg.logger.LogAttrs(ctx, slog.LevelDebug, msg, attrs...)
	}
}

// decide samples exactly when sample_rand < rate, as every Sentry SDK does.
func decide(rand, rate float64) protocol.Decision {
	if rand < rate {
		return protocol.Sampled
	}
	return protocol.NotSampled
}

func rateReadable(s string) bool {
	_, ok := protocol.ParseRate(s)
	return ok
}

func otelDecision(sampled bool) sdktrace.SamplingDecision {
	if sampled {
		return sdktrace.RecordAndSample
	}
	return sdktrace.Drop
}
