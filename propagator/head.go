package propagator

import (
	"context"
	"sync/atomic"

	"go.opentelemetry.io/otel/trace"

	"github.com/otelsentry/otelsentry/internal/protocol"
)

// headCacheSize bounds the head-of-trace DSCs a propagator keeps encoded:
// traces started here that Inject runs for concurrently. A trace whose
// slot another took is encoded again, never wrong.
const headCacheSize = 256

// headCache keeps recently encoded head-of-trace DSCs in a fixed array
// indexed by trace id, so that the DSC is built once per trace and the
// memory does not grow with traffic.
type headCache [headCacheSize]atomic.Pointer[headEntry]

// headEntry is one encoded DSC with everything that went into it besides
// the configuration, compared on every read.
type headEntry struct {
	traceID trace.TraceID
	sampled bool
	// sentry and ot are the trace state members that hold the decision,
	// rate, name and sample_rand.
	sentry, ot  string
	transaction string
	dsc         *protocol.EncodedDSC
}

// slot returns the entry for traceID. Trace ids are random, so their last
// byte spreads traces evenly.
func (c *headCache) slot(traceID trace.TraceID) *atomic.Pointer[headEntry] {
	return &c[int(traceID[len(traceID)-1])%headCacheSize]
}

// headBaggage returns the baggage to write for a trace without incoming
// Sentry state in ctx: the carrier's values merged with the head DSC,
// encoded once per trace.
func (p *sentryPropagator) headBaggage(ctx context.Context, sc trace.SpanContext, member protocol.TraceStateMember, hasMember bool, decision protocol.Decision, existing []string) string {
	if hasMember && (!member.Head || sc.IsRemote()) {
		dsc := p.ownDSC(ctx, sc, member, hasMember, decision)
		return dsc.MergeInto(existing)
	}
	var transaction string
	if !hasMember && decision != protocol.Deferred {
		transaction = localRootTransaction(trace.SpanFromContext(ctx), sc)
	}
	ts := sc.TraceState()
	sentry, ot := ts.Get(protocol.TraceStateKey), ts.Get(protocol.OTKey)
	slot := p.heads.slot(sc.TraceID())
	if e := slot.Load(); e != nil && e.traceID == sc.TraceID() && e.sampled == sc.IsSampled() &&
		e.sentry == sentry && e.ot == ot && e.transaction == transaction {
		return e.dsc.MergeInto(existing)
	}
	dsc := p.ownDSC(ctx, sc, member, hasMember, decision)
	e := &headEntry{
		traceID:     sc.TraceID(),
		sampled:     sc.IsSampled(),
		sentry:      sentry,
		ot:          ot,
		transaction: transaction,
		dsc:         dsc.Encode(),
	}
	slot.Store(e)
	return e.dsc.MergeInto(existing)
}
