package sampling

import (
	"go.opentelemetry.io/otel/trace"

	"github.com/otelsentry/otelsentry/internal/protocol"
)

// consistentOT updates the "ot" member for a decision: rv is
// added from sample_rand unless one exists; th is set for a trace sampled at
// this sampler's own rate, kept on an inherited decision, and removed
// otherwise, and whenever rv < th.
func consistentOT(ts trace.TraceState, rand float64, d protocol.Decision, localRate float64, local bool) (trace.TraceState, error) {
	ot := protocol.ParseOTMember(ts)
	if !ot.HasRV {
		ot.RV, ot.HasRV = protocol.RVFromSampleRand(rand), true
	}
	switch {
	case local && d == protocol.Sampled && localRate > 0:
		ot.TH, ot.HasTH = protocol.ThresholdFromRate(localRate), true
	case local || d != protocol.Sampled:
		ot.HasTH = false
	}
	// A threshold above rv would tell OTel samplers to drop a sampled
	// trace; that happens only with an upstream rv that disagrees with
	// sample_rand, and then no threshold is written.
	if ot.HasTH && ot.RV < ot.TH {
		ot.HasTH = false
	}
	return ot.Insert(ts)
}
