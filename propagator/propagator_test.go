package propagator_test

import (
	"context"
	"maps"
	"slices"
	"strings"
	"testing"

	"go.opentelemetry.io/otel/baggage"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"

	"github.com/otelsentry/otelsentry/internal/protocol"
	"github.com/otelsentry/otelsentry/propagator"
)

// V-PR settings.
func prPropagator() propagation.TextMapPropagator {
	return propagator.New(
		propagator.WithEnvironment("production"),
		propagator.WithRelease("1.0.0"),
		propagator.WithDSN("https://abc@domain/123"),
	)
}

// prD is the V-PR incoming baggage D, and its members as written back.
func prD(withSampled bool) (string, map[string]string) {
	ms := []string{"sentry-transaction=sampled-transaction", "sentry-sample_rate=0.5"}
	if withSampled {
		ms = append(ms, "sentry-sampled=false")
	}
	for _, k := range []string{"trace_id", "public_key", "environment", "release", "replay_id"} {
		ms = append(ms, "sentry-"+k+"=dsc_"+k)
	}
	want := map[string]string{}
	for _, m := range ms {
		k, v, _ := strings.Cut(m, "=")
		want[k] = v
	}
	return strings.Join(ms, ","), want
}

func with(m map[string]string, kv ...string) map[string]string {
	m = maps.Clone(m)
	for i := 0; i < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return m
}

func TestInject(t *testing.T) { // V-PR 1-4, 6, 7, 9-17
	p := prPropagator()
	d, dWant := prD(true)
	d7, d7Want := prD(false)
	remote := func(header, baggage string) context.Context {
		return extract(p, map[string]string{"sentry-trace": header, "baggage": baggage})
	}
	type result struct {
		sentryTrace string // C stands for the child's span id
		members     map[string]string
		thirdParty  []string
	}
	tests := []struct {
		id      string
		ctx     func(t *testing.T) context.Context
		carrier propagation.MapCarrier
		want    *result // nil: nothing written
	}{
		{id: "V-PR-1", ctx: func(*testing.T) context.Context { return context.Background() }},
		{id: "V-PR-2", ctx: func(*testing.T) context.Context { return remote(T+"-"+S+"-1", d) },
			want: &result{sentryTrace: T + "-" + S + "-1", members: with(dWant, "sentry-sample_rand", "[0,0.5)")}},
		{id: "V-PR-3", ctx: func(t *testing.T) context.Context { ctx, _ := child(t, remote(T+"-"+S+"-1", "")); return ctx },
			want: &result{sentryTrace: T + "-C-1", members: map[string]string{"sentry-sample_rand": "[0,1)"}}},
		{id: "V-PR-4", ctx: func(t *testing.T) context.Context { ctx, _ := child(t, remote(T+"-"+S+"-1", d)); return ctx },
			want: &result{sentryTrace: T + "-C-1", members: with(dWant, "sentry-sample_rand", "[0,0.5)")}},
		{id: "V-PR-6", ctx: func(t *testing.T) context.Context { ctx, _ := child(t, remote(T+"-"+S+"-0", "")); return ctx },
			want: &result{sentryTrace: T + "-C-0", members: map[string]string{"sentry-sample_rand": "[0,1)"}}},
		{id: "V-PR-7", ctx: func(t *testing.T) context.Context { ctx, _ := child(t, remote(T+"-"+S+"-0", d7)); return ctx },
			want: &result{sentryTrace: T + "-C-0", members: with(d7Want, "sentry-sample_rand", "[0.5,1)")}},
		{id: "V-PR-9", ctx: func(*testing.T) context.Context { return remote(T+"-"+S, "") },
			want: &result{sentryTrace: T + "-" + S, members: map[string]string{"sentry-sample_rand": "[0,1)"}}},
		{id: "V-PR-10", ctx: func(*testing.T) context.Context { return remote(T+"-"+S+"-0", "") },
			want: &result{sentryTrace: T + "-" + S + "-0", members: map[string]string{"sentry-sample_rand": "[0,1)"}}},
		{id: "V-PR-12", ctx: sampledRoot, carrier: propagation.MapCarrier{"baggage": "foo=bar,other=yes"},
			want: &result{sentryTrace: T + "-" + S + "-1", members: headMembers(), thirdParty: []string{"foo=bar", "other=yes"}}},
		{id: "V-PR-14", ctx: sampledRoot, carrier: propagation.MapCarrier{"baggage": "foo=bar,other=yes,sentry-release=9.9.9,sentry-other=yes"},
			want: &result{sentryTrace: T + "-" + S + "-1", members: headMembers(), thirdParty: []string{"foo=bar", "other=yes"}}},
		{id: "V-PR-17", ctx: func(t *testing.T) context.Context { return propagator.SuppressInject(sampledRoot(t)) }},
	}
	for _, tt := range tests {
		t.Run(tt.id, func(t *testing.T) {
			ctx := tt.ctx(t)
			c := tt.carrier
			if c == nil {
				c = propagation.MapCarrier{}
			}
			before := maps.Clone(c)
			p.Inject(ctx, c)
			if tt.want == nil {
				if !maps.Equal(c, before) {
					t.Errorf("carrier changed to %v", c)
				}
				return
			}
			wantTrace := strings.Replace(tt.want.sentryTrace, "-C-", "-"+trace.SpanContextFromContext(ctx).SpanID().String()+"-", 1)
			if got := c.Get("sentry-trace"); got != wantTrace {
				t.Errorf("sentry-trace %q, want %q", got, wantTrace)
			}
			checkMembers(t, c.Get("baggage"), tt.want.members)
			if got := thirdParty(c.Get("baggage")); !slices.Equal(got, tt.want.thirdParty) {
				t.Errorf("third-party members %q, want %q", got, tt.want.thirdParty)
			}
		})
	}

	t.Run("V-PR-11", func(t *testing.T) {
		m, _ := baggage.NewMemberRaw("foo", "bar")
		b, _ := baggage.New(m)
		ctx := baggage.ContextWithBaggage(sampledRoot(t), b)
		alone := inject(ctx, p)
		checkMembers(t, alone.Get("baggage"), headMembers())
		if tp := thirdParty(alone.Get("baggage")); len(tp) != 0 {
			t.Errorf("alone: third-party %q", tp)
		}
		after := inject(ctx, propagation.NewCompositeTextMapPropagator(propagation.Baggage{}, p))
		checkMembers(t, after.Get("baggage"), headMembers())
		if tp := thirdParty(after.Get("baggage")); !slices.Equal(tp, []string{"foo=bar"}) {
			t.Errorf("after Baggage{}: third-party %q", tp)
		}
	})
	t.Run("V-PR-13", func(t *testing.T) {
		c := propagation.HeaderCarrier{"Baggage": {"foo=bar,other=yes", "other2=no"}}
		p.Inject(sampledRoot(t), c)
		if len(c["Baggage"]) != 1 {
			t.Fatalf("baggage values %q, want one header", c["Baggage"])
		}
		checkMembers(t, c["Baggage"][0], headMembers())
		if got := thirdParty(c["Baggage"][0]); !slices.Equal(got, []string{"foo=bar", "other=yes", "other2=no"}) {
			t.Errorf("third-party %q", got)
		}
	})
	t.Run("V-PR-15", func(t *testing.T) {
		for _, c := range []propagation.MapCarrier{
			{"sentry-trace": "abcdef-xyz-1"},
			{"sentry-trace": "abcdef-xyz-1", "baggage": "sentry-release=x,a=b"},
		} {
			before := maps.Clone(c)
			p.Inject(sampledRoot(t), c)
			if !maps.Equal(c, before) {
				t.Errorf("carrier %v changed to %v", before, c)
			}
		}
	})
	t.Run("V-PR-16", func(t *testing.T) {
		composite := propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, p)
		c := inject(sampledRoot(t), composite)
		if c.Get("sentry-trace") != T+"-"+S+"-1" || c.Get("traceparent") != "00-"+T+"-"+S+"-01" {
			t.Errorf("sampled: %v", c)
		}
		c = inject(remote(T+"-"+S, ""), composite)
		if c.Get("sentry-trace") != T+"-"+S || c.Get("traceparent") != "00-"+T+"-"+S+"-00" {
			t.Errorf("deferred: %v", c)
		}
	})
}

// headMembers is the V-PR head DSC of sampledRoot, a span context without
// an SDK span, so without a transaction.
func headMembers() map[string]string {
	return map[string]string{
		"sentry-environment": "production", "sentry-release": "1.0.0", "sentry-public_key": "abc",
		"sentry-trace_id": T, "sentry-sample_rand": "[0,1)", "sentry-sampled": "true",
	}
}

func thirdParty(b string) []string {
	var out []string
	for _, elem := range strings.Split(b, ",") {
		if elem != "" && !strings.HasPrefix(elem, "sentry-") {
			out = append(out, elem)
		}
	}
	return out
}

func TestExtract(t *testing.T) { // V-PR 18-24
	p := prPropagator()
	tid := mustTraceID(t, T)
	tests := []struct {
		id       string
		carrier  propagation.TextMapCarrier
		decision propagator.Decision
		dsc      map[string]string // nil: frozen empty
	}{
		{"V-PR-18", propagation.MapCarrier{"sentry-trace": T + "-" + S + "-1"}, propagator.Sampled, nil},
		{"V-PR-19", propagation.MapCarrier{"sentry-trace": T + "-" + S + "-0"}, propagator.NotSampled, nil},
		{"V-PR-20", propagation.MapCarrier{"sentry-trace": T + "-" + S}, propagator.Deferred, nil},
		{"V-PR-21", propagation.MapCarrier{"sentry-trace": T + "-" + S + "-1",
			"baggage": "sentry-environment=production,sentry-release=1.0.0,sentry-public_key=abc,sentry-trace_id=" + T + ",sentry-transaction=dsc-transaction,sentry-sample_rand=0.123"},
			propagator.Sampled, map[string]string{"environment": "production", "release": "1.0.0", "public_key": "abc",
				"trace_id": T, "transaction": "dsc-transaction", "sample_rand": "0.123"}},
		{"V-PR-22", propagation.HeaderCarrier{"Sentry-Trace": {T + "-" + S + "-1"}, "Baggage": {""}}, propagator.Sampled, nil},
	}
	for _, tt := range tests {
		t.Run(tt.id, func(t *testing.T) {
			ctx := p.Extract(context.Background(), tt.carrier)
			sc := trace.SpanContextFromContext(ctx)
			if sc.TraceID() != tid || sc.SpanID().String() != S || !sc.IsRemote() {
				t.Fatalf("span context %v", sc)
			}
			if sc.IsSampled() != (tt.decision == propagator.Sampled) || decisionOf(sc) != tt.decision {
				t.Errorf("flags %v, decision %v, want %v", sc.TraceFlags(), decisionOf(sc), tt.decision)
			}
			m, ok := protocol.ParseTraceState(sc.TraceState())
			if !ok || propagator.Decision(m.Decision) != tt.decision || m.Head || m.Rate != "" || m.Transaction != "" {
				t.Errorf("sentry member %+v (%q)", m, sc.TraceState().String())
			}
			got := propagator.DSCFromContext(ctx, p)
			rand := got["sample_rand"]
			if m.SampleRand != rand {
				t.Errorf("member r %q, DSC %q", m.SampleRand, rand)
			}
			if tt.dsc == nil {
				if len(got) != 1 || got["sample_rand"] != rand {
					t.Errorf("DSC %v, want frozen empty with sample_rand", got)
				}
				return
			}
			if !maps.Equal(got, tt.dsc) {
				t.Errorf("DSC %v, want %v", got, tt.dsc)
			}
			if baggage.FromContext(ctx).Len() != 0 {
				t.Error("DSC leaked into OTel baggage")
			}
		})
	}
	t.Run("V-PR-23", func(t *testing.T) {
		in := context.Background()
		for _, c := range []propagation.TextMapCarrier{
			propagation.MapCarrier{"baggage": "sentry-release=1"},
			propagation.HeaderCarrier{"Sentry-Trace": nil},
			propagation.HeaderCarrier{},
		} {
			if got := p.Extract(in, c); got != in {
				t.Errorf("%v: context changed", c)
			}
		}
	})
	t.Run("V-PR-24", func(t *testing.T) {
		got := slices.Sorted(slices.Values(p.Fields()))
		if !slices.Equal(got, []string{"baggage", "sentry-trace"}) {
			t.Errorf("Fields() = %v", got)
		}
	})
}

func TestStateBoundToTraceID(t *testing.T) { // OT-2
	p := prPropagator()
	ctx := extract(p, map[string]string{"sentry-trace": T + "-" + S + "-1", "baggage": "sentry-release=upstream,sentry-sample_rand=0.1"})
	ctx, span := tracer(t, alwaysOn).Start(ctx, "fresh", trace.WithNewRoot())
	defer span.End()
	if protocol.ContinuedFromContext(ctx, span.SpanContext().TraceID()) != nil {
		t.Error("new root sees the old trace's state")
	}
	got := sentryMembers(t, inject(ctx, p).Get("baggage"))
	if got["sentry-release"] != "1.0.0" || got["sentry-trace_id"] != span.SpanContext().TraceID().String() || got["sentry-sample_rand"] == "0.1" {
		t.Errorf("new root's baggage %v inherits the old DSC", got)
	}
}

func TestHeadDSCIsStable(t *testing.T) { // IN-6, SM-9: every Inject for a trace agrees
	p := prPropagator()
	ctx, root := tracer(t, alwaysOn).Start(context.Background(), "checkout")
	defer root.End()
	first := inject(ctx, p).Get("baggage")
	childCtx, _ := child(t, ctx)
	detached := trace.ContextWithSpanContext(context.Background(), trace.SpanContextFromContext(childCtx))
	for _, c := range []context.Context{ctx, childCtx, detached} {
		got := sentryMembers(t, inject(c, p).Get("baggage"))
		delete(got, "sentry-transaction") // only the local root knows its name without the sampler
		want := sentryMembers(t, first)
		delete(want, "sentry-transaction")
		if !maps.Equal(got, want) {
			t.Errorf("baggage %v, want %v", got, want)
		}
	}
	if got := sentryMembers(t, first)["sentry-transaction"]; got != "checkout" {
		t.Errorf("root's transaction %q", got)
	}
}

// TestCarrierTypes checks that HeaderCarrier, MapCarrier and a plain
// carrier without ValuesGetter give the same result.
func TestCarrierTypes(t *testing.T) {
	p := propagator.New()
	headers := map[string]string{"sentry-trace": T + "-" + S + "-0", "baggage": "sentry-release=r%2C1,x=y"}
	want := inject(extract(p, headers), p)
	hc := propagation.HeaderCarrier{}
	plain := plainCarrier{}
	for k, v := range headers {
		hc.Set(k, v)
		plain[k] = v
	}
	for name, c := range map[string]propagation.TextMapCarrier{"header": hc, "plain": plain} {
		ctx := p.Extract(context.Background(), c)
		out := plainCarrier{}
		p.Inject(ctx, out)
		for _, k := range []string{"sentry-trace", "baggage"} {
			if out[k] != want[k] {
				t.Errorf("%s: %s = %q, want %q", name, k, out[k], want[k])
			}
		}
	}
}

// plainCarrier implements only TextMapCarrier and records the keys it is
// given, which must be lowercase (OT-11).
type plainCarrier map[string]string

func (c plainCarrier) Get(k string) string { return c[k] }
func (c plainCarrier) Set(k, v string) {
	if k != strings.ToLower(k) {
		panic("key not lowercase: " + k)
	}
	c[k] = v
}
func (c plainCarrier) Keys() []string { return nil }

// A composite's OTel baggage, however large, never costs DSCFromContext a
// Sentry member.
func TestDSCFromContextIgnoresOTelBaggage(t *testing.T) {
	p := propagator.Composite()
	ctx := p.Extract(context.Background(), propagation.MapCarrier{
		"sentry-trace": T + "-" + S + "-1",
		"baggage":      "sentry-release=r,sentry-sample_rand=0.5",
	})
	// The application's own members, filling the header's 8192 bytes.
	var members []baggage.Member
	for _, k := range []string{"a", "b"} {
		m, err := baggage.NewMember(k, strings.Repeat("v", 4090))
		if err != nil {
			t.Fatal(err)
		}
		members = append(members, m)
	}
	bag, err := baggage.New(members...)
	if err != nil {
		t.Fatal(err)
	}
	ctx = baggage.ContextWithBaggage(ctx, bag)
	if got := propagator.DSCFromContext(ctx, p); got["release"] != "r" || got["sample_rand"] != "0.5" {
		t.Errorf("DSC %v", got)
	}
}
