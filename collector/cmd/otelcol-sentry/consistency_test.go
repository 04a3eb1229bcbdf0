package main

import (
	"context"
	"encoding/binary"
	"fmt"
	"net/http"
	"testing"

	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/processor/processortest"
	"go.opentelemetry.io/otel/propagation"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"

	"github.com/open-telemetry/opentelemetry-collector-contrib/processor/probabilisticsamplerprocessor"

	"github.com/otelsentry/otelsentry/propagator"
	"github.com/otelsentry/otelsentry/sampling"
)

// headRate is the Sentry traces sample rate of the services, and
// collectorPercentage the Collector's sampling percentage.
const (
	headRate            = 0.5
	collectorPercentage = 10
	sampleRandSteps     = 1_000_000 // sample_rand has six decimals
)

// sampledState is what otelsentry's sampler decided for one sample_rand.
type sampledState struct {
	rand       int // sample_rand in millionths
	traceState string
}

// headDecisions runs otelsentry's sampler, with consistent sampling on, at
// the head of one trace per six-decimal sample_rand (arriving undecided in
// the DSC, as from a browser that defers), and returns the trace states of
// those it sampled: the input the Collector sees. Under the race detector
// it takes every sample_rand within 0.001 of a rate the test uses and one
// in 64 of the others.
func headDecisions(t *testing.T) []sampledState {
	t.Helper()
	prop := propagator.Composite()
	sampler := sampling.New(sampling.WithSampleRate(headRate), sampling.WithConsistentSampling(true))
	near := func(k int) bool {
		for _, r := range []float64{headRate, headRate * collectorPercentage / 100, collectorPercentage / 100.0} {
			if d := float64(k)/sampleRandSteps - r; d > -0.001 && d < 0.001 {
				return true
			}
		}
		return false
	}
	var out []sampledState
	for k := range sampleRandSteps {
		if raceEnabled && k%64 != 0 && !near(k) {
			continue
		}
		var tid trace.TraceID
		binary.BigEndian.PutUint64(tid[8:], uint64(k)+1)
		tid[0] = 0x5e
		h := http.Header{}
		h.Set("Sentry-Trace", tid.String()+"-0123456789abcdef")
		h.Set("Baggage", fmt.Sprintf("sentry-trace_id=%s,sentry-public_key=k,sentry-sample_rand=0.%06d", tid, k))
		ctx := prop.Extract(context.Background(), propagation.HeaderCarrier(h))
		res := sampler.ShouldSample(sdktrace.SamplingParameters{ParentContext: ctx, TraceID: tid, Name: "GET /", Kind: trace.SpanKindServer})
		if sampled := res.Decision == sdktrace.RecordAndSample; sampled != (float64(k)/sampleRandSteps < headRate) {
			t.Fatalf("sample_rand 0.%06d: sampled %t at rate %v", k, sampled, headRate)
		}
		if res.Decision == sdktrace.RecordAndSample {
			out = append(out, sampledState{rand: k, traceState: res.Tracestate.String()})
		}
	}
	return out
}

// collectorKeeps runs the Collector's probabilistic sampler processor, in
// this process, over one span per state and returns the sample_rands of
// the spans it kept.
func collectorKeeps(t *testing.T, states []sampledState, mode string, precision int) map[int]bool {
	t.Helper()
	factory := probabilisticsamplerprocessor.NewFactory()
	cfg := factory.CreateDefaultConfig().(*probabilisticsamplerprocessor.Config)
	cfg.SamplingPercentage = collectorPercentage
	cfg.SamplingPrecision = precision
	if err := cfg.Mode.UnmarshalText([]byte(mode)); err != nil {
		t.Fatal(err)
	}
	sink := new(consumertest.TracesSink)
	proc, err := factory.CreateTraces(context.Background(), processortest.NewNopSettings(factory.Type()), cfg, sink)
	if err != nil {
		t.Fatal(err)
	}
	if err := proc.Start(context.Background(), componenttest.NewNopHost()); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = proc.Shutdown(context.Background()) }()

	td := ptrace.NewTraces()
	spans := td.ResourceSpans().AppendEmpty().ScopeSpans().AppendEmpty().Spans()
	for _, s := range states {
		span := spans.AppendEmpty()
		var tid [16]byte
		binary.BigEndian.PutUint64(tid[8:], uint64(s.rand)+1)
		tid[0] = 0x5e
		span.SetTraceID(tid)
		var sid [8]byte
		binary.BigEndian.PutUint64(sid[:], uint64(s.rand)+1)
		span.SetSpanID(sid)
		span.TraceState().FromRaw(s.traceState)
	}
	if err := proc.ConsumeTraces(context.Background(), td); err != nil {
		t.Fatal(err)
	}
	kept := map[int]bool{}
	for _, got := range sink.AllTraces() {
		rss := got.ResourceSpans()
		for i := range rss.Len() {
			sss := rss.At(i).ScopeSpans()
			for j := range sss.Len() {
				ss := sss.At(j).Spans()
				for k := range ss.Len() {
					sid := ss.At(k).SpanID()
					kept[int(binary.BigEndian.Uint64(sid[:]))-1] = true
				}
			}
		}
	}
	return kept
}

// TestCollectorAgreesWithSentry checks, for every six-decimal sample_rand,
// that the Collector's consistent sampler keeps exactly the traces a
// Sentry SDK keeps at the effective rate: sample_rand < 0.5 × 10 % in
// proportional mode, < 10 % in equalizing mode, with all 14 digits of the
// threshold. With 4 digits, the threshold is rounded up to the next
// 4-digit step, so a few sample_rands just above the rate are kept too;
// the test counts them and checks that all lie in that one step.
func TestCollectorAgreesWithSentry(t *testing.T) {
	states := headDecisions(t)
	for _, tt := range []struct {
		mode string
		rate float64
	}{
		{"proportional", headRate * collectorPercentage / 100},
		{"equalizing", collectorPercentage / 100.0},
	} {
		for _, precision := range []int{14, 4} {
			t.Run(fmt.Sprintf("%s/precision=%d", tt.mode, precision), func(t *testing.T) {
				kept := collectorKeeps(t, states, tt.mode, precision)
				var want, disagree int
				for _, s := range states {
					sentry := float64(s.rand)/sampleRandSteps < tt.rate
					if sentry {
						want++
					}
					if kept[s.rand] == sentry {
						continue
					}
					disagree++
					// One step of a 4-digit threshold is 2^-16 of the
					// probability range.
					if r := float64(s.rand) / sampleRandSteps; precision == 14 || sentry || r >= tt.rate+1.0/(1<<16) {
						t.Errorf("sample_rand 0.%06d: Collector kept %t, Sentry at %v %t", s.rand, kept[s.rand], tt.rate, sentry)
					}
				}
				t.Logf("%s, precision %d: %d of %d sampled traces kept, Sentry at rate %v keeps %d; %d disagree",
					tt.mode, precision, len(kept), len(states), tt.rate, want, disagree)
				if want == 0 || len(kept) == 0 {
					t.Error("nothing kept")
				}
			})
		}
	}
}
