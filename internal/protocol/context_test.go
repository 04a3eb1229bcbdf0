package protocol

import (
	"context"
	"strings"
	"testing"
	"unsafe"

	"go.opentelemetry.io/otel/trace"
)

// The context keeps the Sentry members of an incoming baggage, values as
// they came, and nothing of the third-party ones, not even their memory.
func TestIncomingKeepsSentryMembersOnly(t *testing.T) {
	large := "vendor=" + strings.Repeat("x", 4000)
	// Three of these fill the 8192 bytes that are read exactly.
	long := "sentry-a=" + strings.Repeat("y", 2721)
	tests := []struct {
		name   string
		values []string
		want   string
	}{
		{"third party first", []string{large + ",sentry-release=1.0,sentry-sample_rand=0.25"}, "sentry-release=1.0,sentry-sample_rand=0.25"},
		{"third party between", []string{"sentry-release=1.0, " + large + " ,sentry-environment=prod"}, "sentry-release=1.0,sentry-environment=prod"},
		{"two values", []string{"sentry-release=1.0", large}, "sentry-release=1.0"},
		{"properties and empty members", []string{"sentry-release=1.0;p=x,sentry-empty=,,other=1"}, "sentry-release=1.0"},
		{"spaces within a member", []string{"sentry-a = 1 ;p=x,\tsentry-b=%2F"}, "sentry-a=1,sentry-b=%2F"},
		{"malformed members", []string{"sentry-a=1,sentry-=2,sentry-b=\"x\",sentry-c=%zz,sentry-d=4"}, "sentry-a=1,sentry-d=4"},
		{"Sentry members up to the limit", []string{long + "," + long + "," + long + "," + large}, long + "," + long + "," + long},
		{"oversize", []string{"sentry-release=1.0," + large + "," + large}, "sentry-release=1.0"},
		{"third party only", []string{large}, ""},
		{"spaces around a member", []string{"sentry-a=1,sentry-b=2 ,sentry-c=3," + large + ",\tsentry-d=4"}, "sentry-a=1,sentry-b=2,sentry-c=3,sentry-d=4"},
		{"four stretches", []string{"sentry-a=1,x=1,sentry-b=2,x=2,sentry-c=3,x=3,sentry-d=4," + large}, "sentry-a=1,sentry-b=2,sentry-c=3,sentry-d=4"},
		{"five stretches", []string{"sentry-a=1,x=1,sentry-b=2,x=2,sentry-c=3,x=3,sentry-d=4,x=4,sentry-e=5," + large}, "sentry-a=1,sentry-b=2,sentry-c=3,sentry-d=4,sentry-e=5"},
		{"repeated key", []string{"sentry-a=1,sentry-a=2," + large + ",sentry-a=3"}, "sentry-a=1,sentry-a=2,sentry-a=3"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dsc, _ := continued(t, trace.TraceID{1}, Sampled, tt.values...)
			got := dsc.frozen
			if got != tt.want {
				t.Errorf("kept %q, want %q", got, tt.want)
			}
			for _, v := range tt.values {
				if sharesMemory(got, v) {
					t.Errorf("kept members share the memory of the header %.40q...", v)
				}
			}
		})
	}
	// A header of Sentry members alone is kept as it is, without a copy.
	header := "sentry-release=1.0,sentry-sample_rand=0.25"
	if dsc, _ := continued(t, trace.TraceID{1}, Sampled, header); !sharesMemory(dsc.frozen, header) {
		t.Error("a header of Sentry members alone was copied")
	}
}

// sharesMemory reports whether a is a non-empty part of b's bytes.
func sharesMemory(a, b string) bool {
	if a == "" || b == "" {
		return false
	}
	pa, pb := uintptr(unsafe.Pointer(unsafe.StringData(a))), uintptr(unsafe.Pointer(unsafe.StringData(b)))
	return pa >= pb && pa < pb+uintptr(len(b))
}

func TestContinuedFromContext(t *testing.T) {
	ctx, member, orgID, contradicted := Continue(context.Background(), trace.TraceID{1}, NotSampled,
		[]string{"sentry-sample_rate=0.5,sentry-sample_rand=0.25,sentry-org_id=%2042%20,sentry-sampled=true"})
	if member != "s:0;r:0.25" || orgID != "42" || !contradicted {
		t.Errorf("member %q, org id %q, contradicted %v", member, orgID, contradicted)
	}
	got := ContinuedFromContext(ctx, trace.TraceID{1})
	if got == nil {
		t.Fatal("no DSC")
	}
	if rate, rateOK := got.UpstreamRate(); got.SampleRand() != "0.25" || !rateOK || rate != 0.5 {
		t.Errorf("sample_rand %q, upstream rate %v (%v)", got.SampleRand(), rate, rateOK)
	}
	if ContinuedFromContext(ctx, trace.TraceID{2}) != nil {
		t.Error("DSC of another trace returned")
	}
	// sample_rand lives in the member, not in the header.
	header := "sentry-sample_rand=0.5,vendor=x"
	dsc, _ := continued(t, trace.TraceID{1}, Sampled, header)
	if sharesMemory(dsc.SampleRand(), header) {
		t.Error("sample_rand shares the memory of the header")
	}
}

func TestSentryTrace(t *testing.T) {
	if got := SentryTrace(trace.SpanContext{}); got != "" {
		t.Errorf("invalid SpanContext: %q", got)
	}
	ts, _, err := TraceStateMember{Decision: Deferred}.Insert(trace.TraceState{})
	if err != nil {
		t.Fatal(err)
	}
	sc := trace.NewSpanContext(trace.SpanContextConfig{TraceID: trace.TraceID{1}, SpanID: trace.SpanID{2}, TraceState: ts})
	if got, want := SentryTrace(sc), "01000000000000000000000000000000-0200000000000000"; got != want {
		t.Errorf("deferred: %q, want %q", got, want)
	}
	if got := SentryTrace(sc.WithTraceState(trace.TraceState{})); !strings.HasSuffix(got, "-0") {
		t.Errorf("no member: %q, want a negative flag", got)
	}
}
