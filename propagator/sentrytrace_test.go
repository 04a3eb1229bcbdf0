package propagator_test

import (
	"context"
	"strings"
	"testing"

	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"

	"github.com/otelsentry/otelsentry/internal/vectors"
	"github.com/otelsentry/otelsentry/propagator"
)

// decisions maps the vectors' decisions to the propagator's.
var decisions = map[vectors.Decision]propagator.Decision{
	vectors.Sampled:  propagator.Sampled,
	vectors.Negative: propagator.NotSampled,
	vectors.Deferred: propagator.Deferred,
}

func TestExtractSentryTrace(t *testing.T) { // V-ST
	p := propagator.New()
	for _, tt := range vectors.SentryTrace() {
		t.Run(tt.ID, func(t *testing.T) {
			carriers := map[string]propagation.TextMapCarrier{
				"values": propagation.HeaderCarrier{"Sentry-Trace": tt.Values},
			}
			if len(tt.Values) == 1 {
				carriers["map"] = propagation.MapCarrier{"sentry-trace": tt.Values[0]}
			}
			for name, carrier := range carriers {
				ctx := p.Extract(context.Background(), carrier)
				sc := trace.SpanContextFromContext(ctx)
				if tt.Want == nil {
					if sc.IsValid() {
						t.Errorf("%s: continued %v, want no incoming trace", name, sc)
					}
					continue
				}
				want, ok := decisions[tt.Want.Decision]
				if !ok {
					t.Fatalf("unknown decision %q", tt.Want.Decision)
				}
				if got := sc.TraceID().String(); got != tt.Want.TraceID {
					t.Errorf("%s: trace id %s, want %s", name, got, tt.Want.TraceID)
				}
				if got := sc.SpanID().String(); got != tt.Want.SpanID {
					t.Errorf("%s: span id %s, want %s", name, got, tt.Want.SpanID)
				}
				if !sc.IsRemote() {
					t.Errorf("%s: not remote", name)
				}
				if got := decisionOf(sc); got != want {
					t.Errorf("%s: decision %v, want %v", name, got, want)
				}
				if sc.IsSampled() != (want == propagator.Sampled) {
					t.Errorf("%s: FlagsSampled %v for %v", name, sc.IsSampled(), want)
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
