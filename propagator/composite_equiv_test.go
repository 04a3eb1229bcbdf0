package propagator_test

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"testing"

	"go.opentelemetry.io/otel/baggage"
	"go.opentelemetry.io/otel/propagation"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"

	"github.com/otelsentry/otelsentry/internal/vectors"
	"github.com/otelsentry/otelsentry/propagator"
)

// FuzzCompositeEquivalence checks that Composite and the composite of
// TraceContext{}, Baggage{} and New built by hand give the same span
// context and OTel baggage on Extract, and write the same headers on
// Inject, for a continued trace and for a child span of it, into both
// carrier types, wherever TraceContext{} keeps the W3C rules: one line
// each, without spaces around traceparent (an HTTP server trims them), a
// tracestate that OpenTelemetry reads whole, and no longer than 512
// characters when written (TestW3C holds Composite to the rules where
// TraceContext{} does not). Baggage members from the OTel baggage come in
// map order, so the third-party members are compared as a set.
func FuzzCompositeEquivalence(f *testing.F) {
	tp := "00-" + T + "-" + S + "-01"
	for _, c := range vectors.SentryTrace() {
		f.Add(tp, "v=1", strings.Join(c.Values, ","), "sentry-release=1.0,vendor=x", "", "")
	}
	for _, c := range vectors.Baggage() {
		second := ""
		if len(c.Values) > 1 {
			second = strings.Join(c.Values[1:], ",")
		}
		first := ""
		if len(c.Values) > 0 {
			first = c.Values[0]
		}
		f.Add(tp, "", T+"-"+S+"-1", first, second, "")
		f.Add("", "", T+"-"+S, first, second, "old=1,sentry-stale=1")
	}
	f.Add(tp, "sentry=s:1;r:0.5,v=1", "", "k=v;p=1,sentry-release=x", "", "pre=1")
	f.Add(tp, "", T+"-"+S+"-0", "sentry-sample_rand=0.5,k=%F0%9F%98%80", "", "")
	f.Add(tp, "", T+"-"+S+"-1", strings.Repeat("k=v,", 3000), "", "")
	f.Fuzz(func(t *testing.T, traceparent, tracestate, sentryTrace, baggage1, baggage2, preset string) {
		if _, err := trace.ParseTraceState(tracestate); err != nil || traceparent != strings.Trim(traceparent, " \t") {
			return
		}
		opts := []propagator.Option{propagator.WithRelease("1.0"), propagator.WithDSN("https://" + K + "@o1.ingest.sentry.io/1")}
		fused := propagator.Composite(opts...)
		byHand := propagation.NewCompositeTextMapPropagator(
			propagation.TraceContext{}, propagation.Baggage{}, propagator.New(opts...))
		if got, want := slices.Sorted(slices.Values(fused.Fields())), slices.Sorted(slices.Values(byHand.Fields())); !slices.Equal(got, want) {
			t.Fatalf("Fields() = %q, want %q", got, want)
		}
		headers := http.Header{}
		for k, v := range map[string]string{"traceparent": traceparent, "tracestate": tracestate, "sentry-trace": sentryTrace} {
			if v != "" {
				headers.Set(k, v)
			}
		}
		for _, v := range []string{baggage1, baggage2} {
			if v != "" {
				headers.Add("baggage", v)
			}
		}
		carriers := map[string]func(http.Header) propagation.TextMapCarrier{
			"HeaderCarrier": func(h http.Header) propagation.TextMapCarrier { return propagation.HeaderCarrier(h.Clone()) },
			"MapCarrier": func(h http.Header) propagation.TextMapCarrier {
				m := propagation.MapCarrier{}
				for k := range h {
					m[strings.ToLower(k)] = strings.Join(h.Values(k), ",")
				}
				return m
			},
		}
		for name, newCarrier := range carriers {
			got := fused.Extract(context.Background(), newCarrier(headers))
			want := byHand.Extract(context.Background(), newCarrier(headers))
			compositeSameContext(t, name, got, want)

			outGot, outWant := http.Header{}, http.Header{}
			if preset != "" {
				outGot.Set("baggage", preset)
				outWant.Set("baggage", preset)
			}
			fused.Inject(got, newCarrier(outGot))
			byHand.Inject(want, newCarrier(outWant))
			// MapCarrier writes into a copy; read the HeaderCarrier's.
			if name == "HeaderCarrier" {
				compositeSameHeaders(t, "continued", outGot, outWant)
			} else {
				mg, mw := propagation.MapCarrier{}, propagation.MapCarrier{}
				if preset != "" {
					mg["baggage"], mw["baggage"] = preset, preset
				}
				fused.Inject(got, mg)
				byHand.Inject(want, mw)
				compositeSameHeaders(t, "continued", compositeMapHeader(mg), compositeMapHeader(mw))
			}

			// A child span of the continued trace, sampled here.
			provider := sdktrace.NewTracerProvider(sdktrace.WithSampler(sdktrace.AlwaysSample()))
			childGot, spanGot := provider.Tracer("t").Start(got, "child")
			spanGot.End()
			childWant := trace.ContextWithSpanContext(want, spanGot.SpanContext())
			mg, mw := propagation.MapCarrier{}, propagation.MapCarrier{}
			fused.Inject(childGot, mg)
			byHand.Inject(childWant, mw)
			compositeSameHeaders(t, "child", compositeMapHeader(mg), compositeMapHeader(mw))
		}
	})
}

func compositeMapHeader(m propagation.MapCarrier) http.Header {
	h := http.Header{}
	for k, v := range m {
		h.Set(k, v)
	}
	return h
}

func compositeSameContext(t *testing.T, carrier string, got, want context.Context) {
	t.Helper()
	if g, w := trace.SpanContextFromContext(got), trace.SpanContextFromContext(want); !g.Equal(w) {
		t.Fatalf("%s: span context %v, want %v", carrier, g, w)
	}
	if g, w := compositeMemberSet(baggage.FromContext(got)), compositeMemberSet(baggage.FromContext(want)); !slices.Equal(g, w) {
		t.Fatalf("%s: OTel baggage %q, want %q", carrier, g, w)
	}
	if g, w := propagator.DSCFromContext(got, propagator.New()), propagator.DSCFromContext(want, propagator.New()); len(g) != len(w) {
		t.Fatalf("%s: DSC %v, want %v", carrier, g, w)
	}
}

func compositeMemberSet(b baggage.Baggage) []string {
	var out []string
	for _, m := range b.Members() {
		out = append(out, m.Key()+"\x00"+m.Value()+"\x00"+compositePropsString(m.Properties()))
	}
	slices.Sort(out)
	return out
}

func compositePropsString(ps []baggage.Property) string {
	var parts []string
	for _, p := range ps {
		parts = append(parts, p.String())
	}
	return strings.Join(parts, ";")
}

// compositeSameHeaders compares written headers: baggage as its Sentry members
// in order after the other members as a set.
func compositeSameHeaders(t *testing.T, what string, got, want http.Header) {
	t.Helper()
	for k := range want {
		if _, ok := got[k]; !ok {
			t.Fatalf("%s: header %s missing: got %v, want %v", what, k, got, want)
		}
	}
	for k, g := range got {
		w := want[k]
		if k == "Baggage" {
			// Without sentry-trace, the Sentry members are Baggage's too.
			ordered := want.Get("sentry-trace") != ""
			if gs, ws := compositeBaggageParts(g, ordered), compositeBaggageParts(w, ordered); !slices.Equal(gs, ws) {
				t.Fatalf("%s: baggage %q, want %q", what, g, w)
			}
			continue
		}
		if k == "Tracestate" && len(w) == 1 && len(w[0]) > 512 {
			// TraceContext{} writes any length; W3C asks for at most 512.
			if len(g) != 1 || len(g[0]) > 512 {
				t.Fatalf("%s: tracestate %q", what, g)
			}
			continue
		}
		if !slices.Equal(g, w) {
			t.Fatalf("%s: header %s = %q, want %q", what, k, g, w)
		}
	}
}

// compositeBaggageParts returns the other members, sorted, then the Sentry
// ones, in order when ordered.
func compositeBaggageParts(values []string, ordered bool) []string {
	var others, sentry []string
	for _, v := range values {
		for _, m := range strings.Split(v, ",") {
			if strings.HasPrefix(m, "sentry-") {
				sentry = append(sentry, m)
			} else {
				others = append(others, m)
			}
		}
	}
	slices.Sort(others)
	if !ordered {
		slices.Sort(sentry)
	}
	return append(append(others, "|"), sentry...)
}
