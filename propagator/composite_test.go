package propagator_test

import (
	"context"
	"slices"
	"testing"

	"go.opentelemetry.io/otel/baggage"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"

	"github.com/otelsentry/otelsentry/internal/vectors"
	"github.com/otelsentry/otelsentry/propagator"
)

func TestComposition(t *testing.T) { // V-CP
	const (
		T2 = "0af7651916cd43dd8448eb211c80319c"
		S2 = "b7ad6b7169203331"
	)
	tc := propagation.TraceContext{}
	bg := propagation.Baggage{}
	sentry := propagator.New()
	tcSentry := propagation.NewCompositeTextMapPropagator(tc, sentry)

	type want struct {
		traceID, spanID string
		sampled         bool
		decision        propagator.Decision
		traceState      []string // members besides sentry, in order
	}
	extractTests := []struct {
		id      string
		headers map[string]string
		want    *want // nil: no SpanContext
		p       propagation.TextMapPropagator
	}{
		{"V-CP-1", map[string]string{"traceparent": "00-" + T2 + "-" + S2 + "-01", "tracestate": "v=1", "sentry-trace": T + "-" + S + "-0"},
			&want{T, S, false, propagator.NotSampled, nil}, tcSentry},
		{"V-CP-2", map[string]string{"traceparent": "00-" + T2 + "-" + S2 + "-01", "tracestate": "v=1"},
			&want{T2, S2, true, propagator.Sampled, []string{"v=1"}}, tcSentry},
		{"V-CP-3", map[string]string{"traceparent": "00-" + T2 + "-" + S2 + "-01", "tracestate": "v=1", "sentry-trace": "xxx"},
			&want{T2, S2, true, propagator.Sampled, []string{"v=1"}}, tcSentry},
		{"V-CP-4", map[string]string{"traceparent": "00-" + T + "-" + S + "-01", "tracestate": "v=1", "sentry-trace": T + "-" + S + "-1"},
			&want{T, S, true, propagator.Sampled, []string{"v=1"}}, tcSentry},
		{"V-CP-9", map[string]string{"traceparent": "00-" + T + "-" + S + "-01", "sentry-trace": T + "-" + S + "-1", "baggage": "sentry-org_id=2"},
			nil, propagation.NewCompositeTextMapPropagator(tc, propagator.New(propagator.WithOrgID("1")))},
	}
	for _, tt := range extractTests {
		t.Run(tt.id, func(t *testing.T) {
			sc := trace.SpanContextFromContext(extract(tt.p, tt.headers))
			if tt.want == nil {
				if sc.IsValid() {
					t.Errorf("span context %v, want none", sc)
				}
				return
			}
			if sc.TraceID().String() != tt.want.traceID || sc.SpanID().String() != tt.want.spanID || sc.IsSampled() != tt.want.sampled {
				t.Errorf("span context %s-%s sampled=%v", sc.TraceID(), sc.SpanID(), sc.IsSampled())
			}
			if got := decisionOf(sc); got != tt.want.decision {
				t.Errorf("decision %v, want %v", got, tt.want.decision)
			}
			var others []string
			sc.TraceState().Walk(func(k, v string) bool {
				if k != "sentry" {
					others = append(others, k+"="+v)
				}
				return true
			})
			if !slices.Equal(others, tt.want.traceState) {
				t.Errorf("trace state %q, want %q plus the sentry member", sc.TraceState().String(), tt.want.traceState)
			}
		})
	}

	t.Run("V-CP-4/random flag kept", func(t *testing.T) {
		sc := trace.SpanContextFromContext(extract(tcSentry, map[string]string{
			"traceparent": "00-" + T + "-" + S + "-03", "sentry-trace": T + "-" + S + "-0"}))
		if !sc.TraceFlags().IsRandom() || sc.IsSampled() {
			t.Errorf("flags %v, want random and not sampled", sc.TraceFlags())
		}
	})

	// V-CP-5/6: Baggage{} replaces the whole header, so Sentry goes after it.
	incoming := extract(sentry, map[string]string{"sentry-trace": T + "-" + S + "-1", "baggage": "sentry-release=r"})
	m, _ := baggage.NewMemberRaw("k", "v")
	b, _ := baggage.New(m)
	ctx := baggage.ContextWithBaggage(incoming, b)
	t.Run("V-CP-5", func(t *testing.T) {
		got := vectors.Members(t, inject(ctx, propagation.NewCompositeTextMapPropagator(bg, sentry)).Get("baggage"))
		if got["k"] != "v" || got["sentry-release"] != "r" || got["sentry-sample_rand"] == "" || len(got) != 3 {
			t.Errorf("baggage %v", got)
		}
	})
	t.Run("V-CP-6", func(t *testing.T) {
		got := vectors.Members(t, inject(ctx, propagation.NewCompositeTextMapPropagator(sentry, bg)).Get("baggage"))
		if len(got) != 1 || got["k"] != "v" {
			t.Errorf("baggage %v, want k=v only (the wrong order loses the DSC)", got)
		}
	})

	// V-CP-7/8: OTel's Baggage{} forwards third-party members; Sentry does not.
	headers := map[string]string{"sentry-trace": T + "-" + S + "-1", "baggage": "tp=1,sentry-release=r"}
	t.Run("V-CP-7", func(t *testing.T) {
		full := propagator.Composite()
		got := vectors.Members(t, inject(extract(full, headers), full).Get("baggage"))
		if got["tp"] != "1" || got["sentry-release"] != "r" {
			t.Errorf("baggage %v", got)
		}
	})
	t.Run("V-CP-8", func(t *testing.T) {
		got := vectors.Members(t, inject(extract(sentry, headers), sentry).Get("baggage"))
		if _, ok := got["tp"]; ok || got["sentry-release"] != "r" {
			t.Errorf("baggage %v", got)
		}
	})
}

// A peer's head fields in tracestate never become this process's head DSC.
func TestForeignHeadFieldsIgnored(t *testing.T) { // OT-4
	composite := propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagator.New(propagator.WithDSN("https://mykey@o5.ingest.sentry.io/1")))
	ctx := extract(composite, map[string]string{
		"traceparent": "00-" + T + "-" + S + "-01",
		"tracestate":  "sentry=s:1;r:0.1;t:0.25;h:1;n:GET%20/upstream,v=1",
	})
	ts := trace.SpanContextFromContext(ctx).TraceState()
	if got := ts.Get("sentry"); got != "s:1;r:0.1" || ts.Get("v") != "1" {
		t.Errorf("trace state %q", ts.String())
	}
	remoteOnly := vectors.Members(t, inject(ctx, composite).Get("baggage"))
	childCtx, _ := child(t, ctx)
	fromChild := vectors.Members(t, inject(childCtx, composite).Get("baggage"))
	for name, got := range map[string]map[string]string{"remote-only": remoteOnly, "child": fromChild} {
		if len(got) != 1 || got["sentry-sample_rand"] != "0.1" {
			t.Errorf("%s: baggage %v, want sample_rand alone", name, got)
		}
	}
}

// Without W3C baggage, Composite reads no OpenTelemetry baggage and writes
// none, and is otherwise the same.
func TestCompositeWithoutW3CBaggage(t *testing.T) {
	p := propagator.Composite(propagator.WithW3CBaggage(false))
	in := propagation.MapCarrier{
		"traceparent":  "00-" + T + "-" + S + "-01",
		"sentry-trace": T + "-" + S + "-1",
		"baggage":      "vendor=v1,sentry-release=r,sentry-sample_rand=0.5",
	}
	ctx := p.Extract(context.Background(), in)
	if b := baggage.FromContext(ctx); b.Len() != 0 {
		t.Errorf("OTel baggage %q extracted", b)
	}
	if sc := trace.SpanContextFromContext(ctx); sc.TraceID().String() != T || !sc.IsSampled() {
		t.Errorf("span context %v", sc)
	}
	member, err := baggage.NewMember("app", "x")
	if err != nil {
		t.Fatal(err)
	}
	b, err := baggage.New(member)
	if err != nil {
		t.Fatal(err)
	}
	out := propagation.MapCarrier{}
	p.Inject(baggage.ContextWithBaggage(ctx, b), out)
	if got := sentryMembers(t, out.Get("baggage")); len(got) != len(vectors.Members(t, out.Get("baggage"))) || got["sentry-release"] != "r" {
		t.Errorf("baggage %q, want the Sentry members alone", out.Get("baggage"))
	}
	if out.Get("traceparent") == "" || out.Get("sentry-trace") == "" {
		t.Errorf("headers %v", out)
	}
}
