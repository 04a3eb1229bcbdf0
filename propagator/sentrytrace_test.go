package propagator_test

import (
	"context"
	"strings"
	"testing"

	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"

	"github.com/otelsentry/otelsentry/propagator"
)

type continued struct {
	traceID, spanID string
	decision        propagator.Decision
}

func TestExtractSentryTrace(t *testing.T) { // V-ST
	a32, b16 := strings.Repeat("a", 32), strings.Repeat("b", 16)
	hit := func(tid, sid string, d propagator.Decision) *continued { return &continued{tid, sid, d} }
	sampled, negative, deferred := propagator.Sampled, propagator.NotSampled, propagator.Deferred
	tests := []struct {
		id     string
		values []string
		want   *continued // nil: no incoming trace
	}{
		{"V-ST-1", []string{T + "-" + S + "-1"}, hit(T, S, sampled)},
		{"V-ST-2", []string{T + "-" + S + "-0"}, hit(T, S, negative)},
		{"V-ST-3", []string{T + "-" + S}, hit(T, S, deferred)},
		{"V-ST-4", []string{"D4CDA95B652F4A1592B449D5929FDA1B-6E0C63257DE34C92-1"}, nil},
		{"V-ST-5", []string{"  " + T + "-" + S + "-1"}, hit(T, S, sampled)},
		{"V-ST-6", []string{"\t" + T + "-" + S + "-1\t"}, hit(T, S, sampled)},
		{"V-ST-7", []string{T + "-" + S + "-1\n"}, nil},
		{"V-ST-8", []string{T + "-" + S + "-"}, hit(T, S, deferred)},
		{"V-ST-9", []string{T + "-" + S + "-2"}, nil},
		{"V-ST-10", []string{T + "-" + S + "-11"}, nil},
		{"V-ST-11", []string{T + "-" + S + "-true"}, nil},
		{"V-ST-12", []string{T + "-" + S + "-1-extra"}, nil},
		{"V-ST-13", []string{strings.Repeat("0", 32) + "-" + strings.Repeat("0", 16) + "-1"}, nil},
		{"V-ST-14", []string{T + "-0000000000000000-1"}, nil},
		{"V-ST-15", []string{T[:31] + "-" + S + "-1"}, nil},
		{"V-ST-16", []string{T + "a-" + S + "-1"}, nil},
		{"V-ST-17", []string{T + "-" + S[:15] + "-1"}, nil},
		{"V-ST-18", []string{"d4cda95b652f4a1592b449d5929fda1b6e0c63257de34c921"}, nil},
		{"V-ST-19", []string{T}, nil},
		{"V-ST-20", []string{T + "-"}, nil},
		{"V-ST-21", []string{"-" + S + "-1"}, nil},
		{"V-ST-22", []string{"0"}, nil},
		{"V-ST-23", []string{"1"}, nil},
		{"V-ST-24", []string{"-"}, nil},
		{"V-ST-25", []string{""}, nil},
		{"V-ST-26", []string{"00-" + T + "-" + S + "-01"}, nil},
		{"V-ST-27", []string{"00-" + T + "-" + S + "-00"}, nil},
		{"V-ST-28", []string{T + "-" + S + "-1," + a32 + "-" + b16 + "-0"}, hit(T, S, sampled)},
		{"V-ST-29", []string{"xxx"}, nil},
		{"V-ST-30", []string{"d4cda95b652f4a1592b449d5929fda1g-" + S + "-1"}, nil},
		{"V-ST-31", []string{a32 + "-" + b16}, hit(a32, b16, deferred)},
		{"V-ST-32a", []string{"a-" + b16 + "-1"}, nil},
		{"V-ST-32b", []string{a32 + "-b-1"}, nil},
		{"V-ST-32c", []string{a32 + "-" + b16 + "-11"}, nil},
		{"V-ST-33a", []string{"someStuffHereWhichIsNotAtAllHexy-" + b16 + "-1"}, nil},
		{"V-ST-33b", []string{a32 + "-alsoNotSuperHexy-1"}, nil},
		{"V-ST-33c", []string{a32 + "-" + b16 + "-x"}, nil},
		{"V-ST-34a", []string{T[:8] + "-" + S + "-1"}, nil},
		{"V-ST-34b", []string{T + "abc-" + S + "-1"}, nil},
		{"V-ST-34c", []string{T + "-" + S[:8] + "-1"}, nil},
		{"V-ST-34d", []string{T + "-" + S + "abc-1"}, nil},
		{"V-ST-34e", []string{T + "-" + S[:7] + "g" + S[8:] + "-1"}, nil},
		{"V-ST-35", []string{" \t" + T + "-" + S + " \t"}, hit(T, S, deferred)},
		{"V-ST-36", []string{"xxx-malformed"}, nil},
		{"V-ST-37a", []string{"d49d9bf66f13450b81f65bc51cf49c03-1cc4b26ab9094ef0-1"}, hit("d49d9bf66f13450b81f65bc51cf49c03", "1cc4b26ab9094ef0", sampled)},
		{"V-ST-37b", []string{"d49d9bf66f13450b81f65bc51cf49c03-1cc4b26ab9094ef0-0"}, hit("d49d9bf66f13450b81f65bc51cf49c03", "1cc4b26ab9094ef0", negative)},
		{"V-ST-38", []string{"", T + "-" + S + "-1"}, hit(T, S, sampled)},
		{"V-ST-39", []string{"xxx", T + "-" + S + "-1"}, nil},
		{"V-ST-40", []string{T + "-" + S + "-," + strings.Repeat("c", 32) + "-" + strings.Repeat("e", 16) + "-1"}, hit(T, S, deferred)},
		{"V-ST-41", []string{", " + T + "-" + S + "-0"}, hit(T, S, negative)},
	}
	p := propagator.New()
	for _, tt := range tests {
		t.Run(tt.id, func(t *testing.T) {
			carriers := map[string]propagation.TextMapCarrier{
				"values": propagation.HeaderCarrier{"Sentry-Trace": tt.values},
			}
			if len(tt.values) == 1 {
				carriers["map"] = propagation.MapCarrier{"sentry-trace": tt.values[0]}
			}
			for name, carrier := range carriers {
				ctx := p.Extract(context.Background(), carrier)
				sc := trace.SpanContextFromContext(ctx)
				if tt.want == nil {
					if sc.IsValid() {
						t.Errorf("%s: continued %v, want no incoming trace", name, sc)
					}
					continue
				}
				if got := sc.TraceID().String(); got != tt.want.traceID {
					t.Errorf("%s: trace id %s, want %s", name, got, tt.want.traceID)
				}
				if got := sc.SpanID().String(); got != tt.want.spanID {
					t.Errorf("%s: span id %s, want %s", name, got, tt.want.spanID)
				}
				if !sc.IsRemote() {
					t.Errorf("%s: not remote", name)
				}
				if got := propagator.DecisionOf(sc); got != tt.want.decision {
					t.Errorf("%s: decision %v, want %v", name, got, tt.want.decision)
				}
				if sc.IsSampled() != (tt.want.decision == propagator.Sampled) {
					t.Errorf("%s: FlagsSampled %v for %v", name, sc.IsSampled(), tt.want.decision)
				}
			}
		})
	}
}

func TestSerialisation(t *testing.T) { // V-SE
	tid, sid := mustTraceID(t, T), mustSpanID(t, S)
	p := propagator.New()
	composite := propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, p)
	remote := func(header string) context.Context {
		return extract(p, map[string]string{"sentry-trace": header})
	}
	local := func(flags trace.TraceFlags) context.Context {
		return trace.ContextWithSpanContext(context.Background(), trace.NewSpanContext(trace.SpanContextConfig{
			TraceID: tid, SpanID: sid, TraceFlags: flags}))
	}
	tests := []struct {
		id               string
		ctx              context.Context
		carrier          propagation.MapCarrier
		sentry, w3c      string
		baggageUntouched bool
	}{
		{id: "V-SE-1", ctx: local(trace.FlagsSampled), sentry: T + "-" + S + "-1", w3c: "00-" + T + "-" + S + "-01"},
		{id: "V-SE-2", ctx: remote(T + "-" + S + "-0"), sentry: T + "-" + S + "-0", w3c: "00-" + T + "-" + S + "-00"},
		{id: "V-SE-3", ctx: remote(T + "-" + S), sentry: T + "-" + S, w3c: "00-" + T + "-" + S + "-00"},
		{id: "V-SE-4", ctx: remote(T + "-" + S + "-1"), sentry: T + "-" + S + "-1", w3c: "00-" + T + "-" + S + "-01"},
		{id: "V-SE-5", ctx: local(trace.FlagsSampled), carrier: propagation.MapCarrier{"sentry-trace": "abcdef-xyz-1", "baggage": "a=b"},
			sentry: "abcdef-xyz-1", w3c: "00-" + T + "-" + S + "-01", baggageUntouched: true},
		{id: "V-SE-6", ctx: propagator.SuppressInject(local(trace.FlagsSampled))},
	}
	for _, tt := range tests {
		t.Run(tt.id, func(t *testing.T) {
			c := tt.carrier
			if c == nil {
				c = propagation.MapCarrier{}
			}
			composite.Inject(tt.ctx, c)
			if got := c.Get("sentry-trace"); got != tt.sentry {
				t.Errorf("sentry-trace %q, want %q", got, tt.sentry)
			}
			if tt.id == "V-SE-6" {
				if got := c.Get("baggage"); got != "" {
					t.Errorf("baggage %q on a suppressed context", got)
				}
				return // traceparent is the bridge's wrapper's business
			}
			if got := c.Get("traceparent"); got != tt.w3c {
				t.Errorf("traceparent %q, want %q", got, tt.w3c)
			}
			if tt.baggageUntouched && c.Get("baggage") != "a=b" {
				t.Errorf("baggage changed to %q", c.Get("baggage"))
			}
		})
	}
	t.Run("V-SE-7", func(t *testing.T) {
		ctx := remote("D4CDA95B652F4A1592B449D5929FDA1B-6E0C63257DE34C92-1")
		ctx, span := tracer(t, alwaysOn).Start(ctx, "root")
		defer span.End()
		got := inject(ctx, p).Get("sentry-trace")
		if strings.HasPrefix(got, T) || !strings.HasPrefix(got, span.SpanContext().TraceID().String()+"-") {
			t.Errorf("sentry-trace %q, want the new root's own trace id", got)
		}
	})
}

func TestSentryTraceHelper(t *testing.T) {
	if got := propagator.SentryTrace(trace.SpanContext{}); got != "" {
		t.Errorf("invalid SpanContext: %q", got)
	}
	ctx := extract(propagator.New(), map[string]string{"sentry-trace": T + "-" + S})
	if got := propagator.SentryTrace(trace.SpanContextFromContext(ctx)); got != T+"-"+S {
		t.Errorf("deferred: %q", got)
	}
}
