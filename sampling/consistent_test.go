package sampling

import (
	"testing"

	"go.opentelemetry.io/otel/trace"

	"github.com/otelsentry/otelsentry/internal/protocol"
)

func TestConsistentTraceState(t *testing.T) { // IO-4, IO-5
	parse := func(s string) trace.TraceState {
		ts, err := trace.ParseTraceState(s)
		if err != nil {
			t.Fatal(err)
		}
		return ts
	}
	tests := []struct {
		name     string
		in       string
		rand     float64
		decision protocol.Decision
		rate     float64
		local    bool
		want     string
	}{
		{"own rate sets th and rv", "", 0.1, protocol.Sampled, 0.25, true, "rv:e6666666666665;th:c"},
		{"existing rv kept", "ot=rv:ffffffffffffff", 0.1, protocol.Sampled, 0.25, true, "rv:ffffffffffffff;th:c"},
		{"no th above an existing rv", "ot=rv:00000000000001", 0.1, protocol.Sampled, 0.25, true, "rv:00000000000001"},
		{"malformed sub-keys dropped", "ot=rv ;th;x:1", 0.5, protocol.Deferred, 0, false, "rv:7fffffffffffff;x:1"},
		{"inherited th kept when rv >= th", "ot=th:8;x:1", 0.25, protocol.Sampled, 0, false, "rv:bfffffffffffff;th:8;x:1"},
		{"inherited th dropped when rv < th", "ot=th:c", 0.5, protocol.Sampled, 0, false, "rv:7fffffffffffff"},
		{"negative drops th", "ot=th:8", 0.1, protocol.NotSampled, 0.05, true, "rv:e6666666666665"},
		{"deferred has rv only", "", 0.5, protocol.Deferred, 0, false, "rv:7fffffffffffff"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ts, err := consistentOT(parse(tt.in), tt.rand, tt.decision, tt.rate, tt.local)
			if err != nil {
				t.Fatal(err)
			}
			if got := ts.Get("ot"); got != tt.want {
				t.Errorf("ot=%q, want %q", got, tt.want)
			}
		})
	}
}
