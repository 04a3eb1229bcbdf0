package protocol

import (
	"testing"

	"go.opentelemetry.io/otel/trace"
)

// The usual DSC of a Sentry SDK is forwarded without being encoded again.
func TestVerbatimDSC(t *testing.T) {
	const sentry = "sentry-trace_id=771a43a4192642f0b136d5159a501700,sentry-sample_rate=0.25,sentry-sample_rand=0.123456,sentry-sampled=true,sentry-transaction=GET%20%2Fusers"
	dsc, _ := continued(t, trace.TraceID{1}, Sampled, sentry+",vendor=x")
	if got := encodedMembers(dsc, ""); got != sentry || dsc.encoded.Load() != nil {
		t.Errorf("frozen DSC %q (cached: %v), want %q forwarded as it came", got, dsc.encoded.Load() != nil, sentry)
	}
	if got := testing.AllocsPerRun(100, func() { dsc.MergeInto(nil, "") }); got != 0 {
		t.Errorf("MergeInto allocated %v times", got)
	}
	// A local rate replaces sample_rate, which takes encoding.
	if got := encodedMembers(dsc, "0.5"); got == sentry {
		t.Errorf("frozen DSC with a local rate: %q", got)
	}
}

// encodedMembers returns dsc's members in written form for rate.
func encodedMembers(dsc *DSC, rate string) string {
	members, _ := dsc.encoding(rate)
	return members
}
