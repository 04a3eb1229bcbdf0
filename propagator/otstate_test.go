package propagator

import (
	"strconv"
	"testing"

	"go.opentelemetry.io/otel/trace"
)

func TestConsistentNumbers(t *testing.T) { // V-IO
	for rand, want := range map[string]string{
		"0": "ffffffffffffff", "0.1": "e6666666666665", "0.25": "bfffffffffffff", "0.249999": "c00010c6f7a0b5",
		"0.5": "7fffffffffffff", "0.75": "3fffffffffffff", "0.999999": "000010c6f7a0b7", "0.013370": "fc93c89f40a287",
	} {
		x, _ := strconv.ParseFloat(rand, 64)
		if got := formatHex56(RVFromSampleRand(x)); got != want {
			t.Errorf("rv(%s) = %s, want %s", rand, got, want)
		}
	}
	for rate, want := range map[float64]string{
		1: "0", 0.75: "4", 0.5: "8", 0.25: "c", 0.1: "e6666666666666", 0.01337: "fc93c89f40a288", 0.001: "ffbe76c8b43959",
	} {
		if got := formatThreshold(ThresholdFromRate(rate)); got != want {
			t.Errorf("th(%v) = %s, want %s", rate, got, want)
		}
	}
	for _, tt := range []struct {
		rand, rate float64
		sampled    bool
	}{
		{0.249999, 0.25, true}, {0.099999, 0.1, true}, {0.000005, 0.01337, true},
		{0.25, 0.25, false}, {0.1, 0.1, false}, {0.013370, 0.01337, false},
	} {
		otel := RVFromSampleRand(tt.rand) >= ThresholdFromRate(tt.rate)
		if sentry := tt.rand < tt.rate; sentry != tt.sampled || otel != tt.sampled {
			t.Errorf("rand %v rate %v: sentry %v, otel %v, want %v", tt.rand, tt.rate, sentry, otel, tt.sampled)
		}
	}
	for rv, want := range map[string]string{
		"ffffffffffffff": "0.000000", "7fffffffffffff": "0.500000", "80000000000000": "0.499999",
		"bfffffffffffff": "0.250000", "00000000000000": "0.999999",
		"e0653005814940": "0.123455", // lossy: from 0.123456
	} {
		v, ok := parseHex56(rv, true)
		if !ok {
			t.Fatalf("parse %s", rv)
		}
		if got := sampleRandFromRV(v); got != want {
			t.Errorf("rand(%s) = %s, want %s", rv, got, want)
		}
	}
	if got := formatHex56(RVFromSampleRand(0.123456)); got != "e0653005814940" {
		t.Errorf("rv(0.123456) = %s", got)
	}
	if got := sampleRandFromRV(RVFromSampleRand(0.000005)); got != "0.000004" {
		t.Errorf("round trip of 0.000005 = %s", got)
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
