package sampling

import (
	"strconv"
	"strings"
	"testing"

	"go.opentelemetry.io/otel/trace"

	"github.com/otelsentry/otelsentry/internal/protocol"
	"github.com/otelsentry/otelsentry/internal/vectors"
)

// FuzzConsistentOT feeds arbitrary "ot" members and sample_rand values to
// the interop code: it never fails on input it parsed, keeps an existing
// rv, and writes th only where rv >= th.
func FuzzConsistentOT(f *testing.F) {
	// Malformed members, which no vector holds.
	for _, s := range []string{"th:c", "rv:00000000000001;th:8;x:1", "th:", "rv:zz", "th:123456789012345", ""} {
		f.Add(s, 0.25, 0.5, true, uint8(1))
	}
	// The V-IO numbers; a field a case leaves out parses as 0.
	for _, c := range vectors.Interop() {
		rand, _ := strconv.ParseFloat(c.SampleRand, 64)
		rate, _ := strconv.ParseFloat(c.Rate, 64)
		var ot []string
		if c.RV != "" {
			ot = append(ot, "rv:"+c.RV)
		}
		if c.TH != "" {
			ot = append(ot, "th:"+c.TH)
		}
		f.Add(strings.Join(ot, ";"), rand, rate, true, uint8(1))
	}
	f.Fuzz(func(t *testing.T, ot string, rand, rate float64, local bool, decision uint8) {
		if !(rand >= 0 && rand < 1) || !(rate >= 0 && rate <= 1) {
			return
		}
		ts, err := trace.TraceState{}.Insert("ot", ot)
		if err != nil {
			return
		}
		in := protocol.ParseOTMember(ts)
		out, err := consistentOT(ts, rand, protocol.Decision(decision%3), rate, local)
		if err != nil {
			t.Fatalf("ot=%q: %v", ot, err)
		}
		got := protocol.ParseOTMember(out)
		if !got.HasRV || in.HasRV && got.RV != in.RV {
			t.Fatalf("ot=%q: rv %x, was %x", ot, got.RV, in.RV)
		}
		if got.HasTH && got.RV < got.TH {
			t.Fatalf("ot=%q: th %x above rv %x", ot, got.TH, got.RV)
		}
	})
}
