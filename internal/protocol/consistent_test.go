package protocol

import (
	"strconv"
	"testing"

	"go.opentelemetry.io/otel/trace"

	"github.com/otelsentry/otelsentry/internal/vectors"
)

func TestConsistentNumbers(t *testing.T) { // V-IO
	float := func(t *testing.T, s string) float64 {
		t.Helper()
		x, err := strconv.ParseFloat(s, 64)
		if err != nil {
			t.Fatal(err)
		}
		return x
	}
	for _, tt := range vectors.Interop() {
		t.Run(tt.ID, func(t *testing.T) {
			if tt.SampleRand != "" && tt.RV != "" {
				if got := formatHex56(RVFromSampleRand(float(t, tt.SampleRand))); got != tt.RV {
					t.Errorf("rv(%s) = %s, want %s", tt.SampleRand, got, tt.RV)
				}
			}
			if tt.Rate != "" && tt.Sampled == nil {
				th := ThresholdFromRate(float(t, tt.Rate))
				switch {
				case tt.TH == "":
					// No 56-bit threshold rejects everything.
					if th != 1<<56 {
						t.Errorf("th(%s) = %x, want none", tt.Rate, th)
					}
				case formatThreshold(th) != tt.TH:
					t.Errorf("th(%s) = %s, want %s", tt.Rate, formatThreshold(th), tt.TH)
				}
			}
			if tt.Sampled != nil {
				rand, rate := float(t, tt.SampleRand), float(t, tt.Rate)
				otel := RVFromSampleRand(rand) >= ThresholdFromRate(rate)
				if sentry := rand < rate; sentry != *tt.Sampled || otel != *tt.Sampled {
					t.Errorf("rand %v rate %v: sentry %v, otel %v, want %v", rand, rate, sentry, otel, *tt.Sampled)
				}
			}
			if tt.WantRand != "" {
				var rv uint64
				if tt.RV != "" {
					var ok bool
					if rv, ok = parseHex56(tt.RV, true); !ok {
						t.Fatalf("parse %s", tt.RV)
					}
				} else {
					rv = RVFromSampleRand(float(t, tt.SampleRand))
				}
				if got := string(appendSampleRandFromRV(nil, rv)); got != tt.WantRand {
					t.Errorf("rand(%014x) = %s, want %s", rv, got, tt.WantRand)
				}
			}
		})
	}
	for th, want := range map[string]uint64{"c": 0xc0000000000000, "8": 0x80000000000000, "0": 0, "fc93c89f40a288": 0xfc93c89f40a288} {
		if got, ok := parseHex56(th, false); !ok || got != want {
			t.Errorf("th %s = %x", th, got)
		}
	}
	for _, bad := range []string{"", "g", "ABC", "123456789012345"} {
		if _, ok := parseHex56(bad, false); ok {
			t.Errorf("th %q accepted", bad)
		}
	}
}

func TestHeadSampleRandFromRV(t *testing.T) { // IO-4, SM-9
	id := trace.TraceID{1}
	ts, err := trace.ParseTraceState("ot=rv:7fffffffffffff")
	if err != nil {
		t.Fatal(err)
	}
	if got := HeadSampleRand(id, ts); got != "0.500000" {
		t.Errorf("with rv: %s", got)
	}
	if a, b := HeadSampleRand(id, trace.TraceState{}), HeadSampleRand(id, trace.TraceState{}); a != b || a == "0.500000" {
		t.Errorf("from the trace id: %s, %s", a, b)
	}
}
