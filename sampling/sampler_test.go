package sampling_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"math"
	"strings"
	"testing"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/propagation"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"

	"github.com/otelsentry/otelsentry/internal/protocol"
	"github.com/otelsentry/otelsentry/internal/vectors"
	"github.com/otelsentry/otelsentry/propagator"
	"github.com/otelsentry/otelsentry/sampling"
)

func TestDecisionMatrix(t *testing.T) { // V-SM-1..13
	for _, tt := range vectors.Sampling() {
		t.Run(tt.ID, func(t *testing.T) {
			var opts []sampling.Option
			if tt.Rate != nil {
				opts = append(opts, sampling.WithSampleRate(*tt.Rate))
			}
			w := newWorld(t, sampling.New(opts...))
			ctx := context.Background()
			if tt.SentryTrace != "" {
				ctx = w.extract(tt.SentryTrace, tt.Baggage)
			}
			ctx, span := w.start(ctx, "root")
			sc := span.SpanContext()
			if sc.IsSampled() != tt.Sampled {
				t.Errorf("sampled = %v, want %v", sc.IsSampled(), tt.Sampled)
			}
			if continued := sc.TraceID().String() == T; continued != tt.Continued {
				t.Errorf("continued = %v", continued)
			}
			want := sc.TraceID().String() + "-" + sc.SpanID().String() + tt.OutgoingFlag
			if got := w.inject(ctx).Get("sentry-trace"); got != want {
				t.Errorf("sentry-trace %q, want %q", got, want)
			}
		})
	}
}

func TestRates(t *testing.T) { // V-SM-14, SM-3
	count := func(s sdktrace.Sampler) int {
		w := newWorld(t, s)
		n := 0
		for range 1000 {
			if _, span := w.start(context.Background(), "root"); span.SpanContext().IsSampled() {
				n++
			}
		}
		return n
	}
	if n := count(sampling.New(sampling.WithSampleRate(0))); n != 0 {
		t.Errorf("rate 0 sampled %d of 1000", n)
	}
	if n := count(sampling.New(sampling.WithSampleRate(1))); n != 1000 {
		t.Errorf("rate 1 sampled %d of 1000", n)
	}
	if n := count(sampling.New(sampling.WithSampleRate(0.3))); n < 240 || n > 360 {
		t.Errorf("rate 0.3 sampled %d of 1000", n)
	}

	var reported []error
	otel.SetErrorHandler(otel.ErrorHandlerFunc(func(err error) { reported = append(reported, err) }))
	t.Cleanup(func() { otel.SetErrorHandler(otel.ErrorHandlerFunc(func(error) {})) })
	for _, rate := range []float64{1.5, -0.1, math.NaN(), math.Inf(1)} {
		reported = nil
		var logs bytes.Buffer
		s := sampling.New(sampling.WithSampleRate(rate), sampling.WithLogger(debugLogger(&logs)))
		if len(reported) != 1 || !errors.Is(reported[0], sampling.ErrInvalidRate) {
			t.Errorf("rate %v: reported %v, want one ErrInvalidRate", rate, reported)
		}
		if n := count(s); n != 0 {
			t.Errorf("rate %v sampled %d", rate, n)
		}
		if len(reported) != 1 {
			t.Errorf("rate %v reported again per decision", rate)
		}
		if !strings.Contains(logs.String(), "invalid sample rate") {
			t.Errorf("rate %v: no debug log", rate)
		}
	}
}

func debugLogger(buf *bytes.Buffer) *slog.Logger {
	return slog.New(slog.NewTextHandler(buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

func TestSpecRows(t *testing.T) { // V-SM-16..24
	t.Run("V-SM-16", func(t *testing.T) {
		var logs bytes.Buffer
		w := newWorld(t, sampling.New(sampling.WithSampleRate(1)), propagator.WithLogger(debugLogger(&logs)))
		in := "sentry-sampled=true,sentry-sample_rate=0.75,sentry-sample_rand=0.500000"
		ctx, span := w.start(w.extract(T+"-"+S+"-0", in), "root")
		if span.SpanContext().IsSampled() {
			t.Error("sampled")
		}
		out := w.inject(ctx)
		if want := T + "-" + span.SpanContext().SpanID().String() + "-0"; out.Get("sentry-trace") != want {
			t.Errorf("sentry-trace %q", out.Get("sentry-trace"))
		}
		got := protocol.DecodeDSC(out.Get("baggage"))
		if got["sampled"] != "true" || got["sample_rate"] != "0.75" || got["sample_rand"] != "0.500000" || len(got) != 3 {
			t.Errorf("DSC %v, want the 3 members unchanged", got)
		}
		if !strings.Contains(logs.String(), "disagree") {
			t.Error("no debug log for the contradiction")
		}
	})
	t.Run("V-SM-17", func(t *testing.T) {
		w := newWorld(t, sampling.New(sampling.WithTracesSampler(func(c sampling.SamplingContext) float64 { return c.Inherit(0.1) })))
		ctx, span := w.start(w.extract(T+"-"+S+"-1", "sentry-sample_rate=0.5,sentry-sample_rand=0.3"), "root")
		if !span.SpanContext().IsSampled() {
			t.Error("not sampled")
		}
		if got := propagator.DSCFromContext(ctx, w.prop)["sample_rate"]; got != "0.5" {
			t.Errorf("sample_rate %q", got)
		}
	})
	t.Run("V-SM-18", func(t *testing.T) {
		w := newWorld(t, sampling.New(sampling.WithTracesSampler(func(sampling.SamplingContext) float64 { return 0 })))
		ctx, span := w.start(w.extract(T+"-"+S+"-1", "sentry-sample_rate=0.5"), "root")
		out := w.inject(ctx)
		if span.SpanContext().IsSampled() || !strings.HasSuffix(out.Get("sentry-trace"), "-0") {
			t.Errorf("sampled %v, sentry-trace %q", span.SpanContext().IsSampled(), out.Get("sentry-trace"))
		}
		if got := protocol.DecodeDSC(out.Get("baggage"))["sample_rate"]; got != "0" {
			t.Errorf("sample_rate %q", got)
		}
	})
	t.Run("V-SM-19", func(t *testing.T) {
		w := newWorld(t, sampling.New(sampling.WithSampleRate(0)))
		ctx, span := w.start(context.Background(), "root")
		m := member(t, span.SpanContext())
		if span.SpanContext().IsSampled() || m.Decision != protocol.NotSampled || m.Rate != "0" || m.SampleRand == "" || !m.Head {
			t.Errorf("member %+v", m)
		}
		out := w.inject(ctx)
		got := protocol.DecodeDSC(out.Get("baggage"))
		if !strings.HasSuffix(out.Get("sentry-trace"), "-0") || got["sampled"] != "false" || got["sample_rate"] != "0" || got["sample_rand"] != m.SampleRand {
			t.Errorf("out %v, DSC %v", out, got)
		}
	})
	t.Run("V-SM-20", func(t *testing.T) {
		w := newWorld(t, sampling.New(sampling.WithSampleRate(0)))
		ctx, parent := w.start(context.Background(), "root")
		_, child := w.start(ctx, "child")
		if child.SpanContext().IsSampled() || child.SpanContext().TraceState().String() != parent.SpanContext().TraceState().String() {
			t.Errorf("child %v, parent state %q", child.SpanContext(), parent.SpanContext().TraceState().String())
		}
	})
	t.Run("V-SM-21", func(t *testing.T) {
		w := newWorld(t, sampling.New())
		ctx, span := w.start(context.Background(), "root")
		m := member(t, span.SpanContext())
		out := w.inject(ctx)
		got := protocol.DecodeDSC(out.Get("baggage"))
		if span.SpanContext().IsSampled() || m.Decision != protocol.Deferred || strings.Count(out.Get("sentry-trace"), "-") != 1 {
			t.Errorf("span %v, member %+v, sentry-trace %q", span.SpanContext(), m, out.Get("sentry-trace"))
		}
		for _, k := range []string{"sampled", "sample_rate", "transaction"} {
			if _, ok := got[k]; ok {
				t.Errorf("DSC has %s: %v", k, got)
			}
		}
	})
	t.Run("V-SM-22", func(t *testing.T) {
		w := newWorld(t, sampling.New(sampling.WithSampleRate(1)))
		_, span := w.start(context.Background(), "GET", trace.WithSpanKind(trace.SpanKindClient),
			trace.WithAttributes(attribute.String("http.request.method", "GET")))
		if !span.SpanContext().IsSampled() {
			t.Error("client root not sampled")
		}
	})
	t.Run("V-SM-23", func(t *testing.T) {
		w := newWorld(t, sampling.New(sampling.WithSampleRate(0.5)))
		ctx, span := w.start(w.extract(T+"-"+S, "sentry-release=r,sentry-sample_rand=0.3"), "root")
		if !span.SpanContext().IsSampled() {
			t.Error("not sampled")
		}
		if got := propagator.DSCFromContext(ctx, w.prop); got["sample_rate"] != "0.5" || got["release"] != "r" {
			t.Errorf("DSC %v", got)
		}
	})
	t.Run("V-SM-24", func(t *testing.T) {
		w := newWorld(t, sdktrace.ParentBased(sdktrace.AlwaysSample()))
		ctx, span := w.start(w.extract(T+"-"+S, ""), "child")
		if span.SpanContext().IsSampled() || member(t, span.SpanContext()).Decision != protocol.Deferred {
			t.Errorf("span %v", span.SpanContext())
		}
		if got, want := w.inject(ctx).Get("sentry-trace"), T+"-"+span.SpanContext().SpanID().String(); got != want {
			t.Errorf("sentry-trace %q, want %q", got, want)
		}
	})
}

func TestTracesSampler(t *testing.T) { // SM-2, SM-7, bad input
	var seen []sampling.SamplingContext
	fn := func(c sampling.SamplingContext) float64 {
		seen = append(seen, c)
		switch c.Name {
		case "panics":
			panic("boom")
		case "nan":
			return math.NaN()
		case "negative":
			return -1
		}
		return 1
	}
	var logs bytes.Buffer
	w := newWorld(t, sampling.New(sampling.WithTracesSampler(fn), sampling.WithSampleRate(0), sampling.WithLogger(debugLogger(&logs))))
	ctx := w.extract(T+"-"+S+"-0", "sentry-sample_rate=0.125")
	root, span := w.start(ctx, "root", trace.WithSpanKind(trace.SpanKindServer), trace.WithAttributes(attribute.String("k", "v")))
	if !span.SpanContext().IsSampled() {
		t.Error("traces sampler's 1 did not override the negative parent")
	}
	_, _ = w.start(root, "child")
	if len(seen) != 1 {
		t.Fatalf("traces sampler ran %d times, want once (local roots only)", len(seen))
	}
	c := seen[0]
	if c.Name != "root" || c.Kind != trace.SpanKindServer || len(c.Attributes) != 1 || c.ParentDecision != propagator.NotSampled ||
		!c.HasParentSampleRate || c.ParentSampleRate != 0.125 || c.TraceID.String() != T || c.ParentContext == nil {
		t.Errorf("sampling context %+v", c)
	}
	for _, name := range []string{"panics", "nan", "negative"} {
		if _, span := w.start(context.Background(), name); span.SpanContext().IsSampled() {
			t.Errorf("%s: sampled", name)
		}
	}
	if !strings.Contains(logs.String(), "panicked") || strings.Count(logs.String(), "invalid sample rate") < 2 {
		t.Errorf("logs:\n%s", logs.String())
	}
}

func TestInherit(t *testing.T) { // SM-2 helper
	tests := []struct {
		c    sampling.SamplingContext
		want float64
	}{
		{sampling.SamplingContext{HasParentSampleRate: true, ParentSampleRate: 0.3, ParentDecision: propagator.NotSampled}, 0.3},
		{sampling.SamplingContext{ParentDecision: propagator.Sampled}, 1},
		{sampling.SamplingContext{ParentDecision: propagator.NotSampled}, 0},
		{sampling.SamplingContext{}, 0.42},
	}
	for _, tt := range tests {
		if got := tt.c.Inherit(0.42); got != tt.want {
			t.Errorf("%+v: %v, want %v", tt.c, got, tt.want)
		}
	}
}

func TestParentRecordsDecision(t *testing.T) { // OT-3: state follows the SpanContext alone
	w := newWorld(t, sampling.New(sampling.WithSampleRate(1)))
	ctx, root := w.start(context.Background(), "GET /users/{id}", trace.WithAttributes(
		attribute.String("http.request.method", "GET"), attribute.String("http.route", "/users/{id}")))
	m := member(t, root.SpanContext())
	if !m.Head || m.Transaction != "GET /users/{id}" || m.Rate != "1" || m.Decision != protocol.Sampled {
		t.Errorf("member %+v", m)
	}
	_, child := w.start(ctx, "db")
	detached := trace.ContextWithSpanContext(context.Background(), child.SpanContext())
	done := make(chan string)
	go func() { done <- w.inject(detached).Get("baggage") }()
	got := protocol.DecodeDSC(<-done)
	if got["transaction"] != "GET /users/{id}" || got["sample_rate"] != "1" || got["sampled"] != "true" || got["sample_rand"] != m.SampleRand {
		t.Errorf("DSC from a detached child %v", got)
	}
	_, urlRoot := w.start(context.Background(), "GET", trace.WithAttributes(attribute.String("http.request.method", "GET")))
	if m := member(t, urlRoot.SpanContext()); m.Transaction != "" {
		t.Errorf("url-sourced name recorded: %+v", m)
	}
}

func TestOtherTraceStateKept(t *testing.T) { // SM-15
	w := newWorld(t, sampling.New(sampling.WithSampleRate(1)), propagator.WithLogger(nil))
	tc := trace.NewSpanContext(trace.SpanContextConfig{TraceID: mustID(t), SpanID: trace.SpanID{1}, Remote: true})
	var ts trace.TraceState
	var err error
	for i := range 32 {
		if ts, err = ts.Insert("k"+string(rune('a'+i%26))+string(rune('a'+i/26)), "v"); err != nil {
			t.Fatal(err)
		}
	}
	ctx := trace.ContextWithRemoteSpanContext(context.Background(), tc.WithTraceState(ts))
	_, span := w.start(ctx, "root")
	got := span.SpanContext().TraceState()
	if got.Len() != 32 || got.Get("sentry") == "" || got.Get("kaa") != "" || got.Get("kba") != "v" { // the right-most member makes room
		t.Errorf("trace state %q", got.String())
	}
}

func mustID(t testing.TB) trace.TraceID {
	id, err := trace.TraceIDFromHex(T)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func TestInsideParentBased(t *testing.T) {
	w := newWorld(t, sdktrace.ParentBased(sampling.New(sampling.WithSampleRate(1))))
	// Without a parent, ParentBased asks the Sentry sampler.
	_, root := w.start(context.Background(), "root")
	if m := member(t, root.SpanContext()); !root.SpanContext().IsSampled() || !m.Head || m.Rate != "1" {
		t.Errorf("root %v, member %+v", root.SpanContext(), m)
	}
	// Remote parents are ParentBased's: deferred is dropped, and stays
	// deferred downstream; sampled is kept.
	ctx, deferred := w.start(w.extract(T+"-"+S, ""), "deferred")
	if deferred.SpanContext().IsSampled() || strings.Count(w.inject(ctx).Get("sentry-trace"), "-") != 1 {
		t.Errorf("deferred parent: %v", deferred.SpanContext())
	}
	_, sampled := w.start(w.extract(T+"-"+S+"-1", ""), "sampled")
	if !sampled.SpanContext().IsSampled() || member(t, sampled.SpanContext()).Decision != protocol.Sampled {
		t.Errorf("sampled parent: %v", sampled.SpanContext())
	}
}

func TestExtremeRates(t *testing.T) { // OT-4, SM-14: what is written can be read back
	for _, rate := range []float64{1e-300, 1e-31, math.Copysign(0, -1)} {
		w := newWorld(t, sampling.New(sampling.WithTracesSampler(func(sampling.SamplingContext) float64 { return rate })))
		ctx, span := w.start(w.extract(T+"-"+S, "sentry-release=r"), "root")
		m := member(t, span.SpanContext())
		if span.SpanContext().IsSampled() || m.Decision != protocol.NotSampled {
			t.Errorf("rate %v: span %v, member %+v", rate, span.SpanContext(), m)
		}
		if m.Rate != "" {
			if _, ok := protocol.ParseRate(m.Rate); !ok {
				t.Errorf("rate %v written as unreadable t:%s", rate, m.Rate)
			}
		}
		if got := w.inject(ctx).Get("sentry-trace"); !strings.HasSuffix(got, "-0") {
			t.Errorf("rate %v: sentry-trace %q, want a negative flag", rate, got)
		}
	}
}

// A trace continued from traceparent with OTel's rv has one sample_rand,
// whether injected before or after a span starts (SM-9, IO-4).
func TestSampleRandFromOTelRandomness(t *testing.T) {
	w := newWorld(t, sampling.New(sampling.WithSampleRate(1), sampling.WithConsistentSampling(true)))
	composite := propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, w.prop)
	ctx := composite.Extract(context.Background(), propagation.MapCarrier{
		"traceparent": "00-" + T + "-" + S + "-01", "tracestate": "ot=rv:7fffffffffffff"})
	before := vectors.Members(t, w.inject(ctx).Get("baggage"))["sentry-sample_rand"]
	spanCtx, _ := w.start(ctx, "root")
	after := vectors.Members(t, w.inject(spanCtx).Get("baggage"))["sentry-sample_rand"]
	if before != "0.500000" || after != before {
		t.Errorf("sample_rand %q before the span, %q after", before, after)
	}
}

// A nil Option is ignored, never a panic.
func TestNilOption(t *testing.T) {
	w := newWorld(t, sampling.New(nil, sampling.WithSampleRate(1), nil))
	if _, span := w.start(context.Background(), "root"); !span.SpanContext().IsSampled() {
		t.Error("the option after nil was not applied")
	}
}
