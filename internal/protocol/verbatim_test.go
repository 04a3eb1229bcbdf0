package protocol

import (
	"testing"

	"go.opentelemetry.io/otel/trace"
)

// FuzzVerbatimDSC checks that a frozen DSC forwarded as it came is the one
// that decoding and encoding it again writes.
func FuzzVerbatimDSC(f *testing.F) {
	f.Add("sentry-trace_id=771a43a4192642f0b136d5159a501700,sentry-sample_rate=0.25,sentry-sample_rand=0.123456,sentry-transaction=GET%20%2Fusers,vendor=x")
	f.Add("sentry-release=1.0,sentry-sample_rand=0.5")
	f.Add("sentry-sample_rand=0.5,sentry-release=1.0")
	f.Add("sentry-sample_rand=0.5,sentry-release=a%2fb")
	f.Add("sentry-sample_rand=0.5,sentry-release=a%41")
	f.Add("sentry-sample_rand=0.5,sentry-zz=1,sentry-aa=2")
	f.Add("sentry-sample_rand=0.5, sentry-release=1 ;p=1")
	f.Fuzz(func(t *testing.T, baggage string) {
		in, _ := NewIncoming(trace.TraceID{1}, Sampled, ScanDSC([]string{baggage}))
		var backing [maxBaggageMembers]dscEntry
		built := mergeBaggage(nil, in.state.entries(backing[:0], ""))
		if got := in.state.frozenDSC("").text; got != built {
			t.Fatalf("frozen DSC of %q: %q, encoded again %q", baggage, got, built)
		}
	})
}

// The usual DSC of a Sentry SDK is forwarded without being encoded again.
func TestVerbatimDSC(t *testing.T) {
	const sentry = "sentry-trace_id=771a43a4192642f0b136d5159a501700,sentry-sample_rate=0.25,sentry-sample_rand=0.123456,sentry-sampled=true,sentry-transaction=GET%20%2Fusers"
	in, _ := NewIncoming(trace.TraceID{1}, Sampled, ScanDSC([]string{sentry + ",vendor=x"}))
	if got := in.state.frozenDSC("").text; got != sentry || in.state.frozen.Load() != nil {
		t.Errorf("frozen DSC %q (cached: %v), want %q forwarded as it came", got, in.state.frozen.Load() != nil, sentry)
	}
	if got := testing.AllocsPerRun(100, func() { in.MergeInto(nil, "") }); got != 0 {
		t.Errorf("MergeInto allocated %v times", got)
	}
	// A local rate replaces sample_rate, which takes encoding.
	if got := in.state.frozenDSC("0.5").text; got == sentry {
		t.Errorf("frozen DSC with a local rate: %q", got)
	}
}
