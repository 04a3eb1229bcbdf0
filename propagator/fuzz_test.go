package propagator_test

import (
	"context"
	"maps"
	"net/http"
	"strings"
	"testing"

	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"

	"github.com/otelsentry/otelsentry/internal/protocol"
	"github.com/otelsentry/otelsentry/internal/vectors"
	"github.com/otelsentry/otelsentry/propagator"
)

// FuzzExtract feeds arbitrary sentry-trace and baggage values to Extract,
// through a map and an http.Header, and checks what Inject then writes.
func FuzzExtract(f *testing.F) {
	for _, c := range vectors.SentryTrace() {
		first, second := vectors.SeedSentryTrace(c.Values)
		baggage := "sentry-release=1.0,othervendor=bla"
		if second != "" {
			baggage = ""
		}
		f.Add(first, second, baggage, uint16(0), "")
	}
	for _, c := range vectors.Baggage() {
		b := vectors.SeedBaggage(c.Values)
		f.Add(T+"-"+S+"-1", "", b.Head, b.Pad, b.Tail)
		f.Add(T+"-"+S, "", b.Head, b.Pad, b.Tail)
	}
	f.Fuzz(func(t *testing.T, st1, st2, bg1 string, bgPad uint16, bg2 string) {
		stValues, bgValues := vectors.Values(st1, st2), vectors.Padded(bg1, bgPad, bg2)
		mc, hc := propagation.MapCarrier{}, propagation.HeaderCarrier(http.Header{})
		if stValues != nil {
			mc["sentry-trace"] = strings.Join(stValues, ",")
			hc["Sentry-Trace"] = stValues
		}
		if bgValues != nil {
			mc["baggage"] = strings.Join(bgValues, ",")
			hc["Baggage"] = bgValues
		}
		tid, sid, d, continued := protocol.ParseSentryTrace(vectors.FirstPart(stValues))

		p := propagator.New()
		ctx := context.Background()
		var outs [2]struct{ sentryTrace, baggage string }
		var dscs [2]map[string]string
		for i, in := range []propagation.TextMapCarrier{mc, hc} {
			got := p.Extract(ctx, in)
			if !continued {
				if got != ctx {
					t.Fatalf("Extract(%T) changed the context for sentry-trace %q", in, stValues)
				}
				continue
			}
			sc := trace.SpanContextFromContext(got)
			if sc.TraceID() != tid || sc.SpanID() != sid || !sc.IsRemote() || protocol.DecisionOf(sc) != d {
				t.Fatalf("Extract(%T) of %q = %v, decision %v; want %s-%s, %v",
					in, stValues, sc, protocol.DecisionOf(sc), tid, sid, d)
			}
			if protocol.ContinuedFromContext(got, tid) == nil {
				t.Fatalf("Extract(%T) stored no Sentry state", in)
			}
			dscs[i] = propagator.DSCFromContext(got, p)

			var out propagation.TextMapCarrier = propagation.MapCarrier{}
			if i == 1 {
				out = propagation.HeaderCarrier(http.Header{})
			}
			p.Inject(got, out)
			outs[i].sentryTrace, outs[i].baggage = out.Get("sentry-trace"), out.Get("baggage")
			fuzzCheckInjected(t, outs[i].sentryTrace, outs[i].baggage, tid, sid, d)
		}
		if outs[0] != outs[1] {
			t.Fatalf("MapCarrier and HeaderCarrier disagree: %q, %q", outs[0], outs[1])
		}
		if !maps.Equal(dscs[0], dscs[1]) {
			t.Fatalf("MapCarrier and HeaderCarrier DSCs disagree: %q, %q", dscs[0], dscs[1])
		}
	})
}

func fuzzCheckInjected(t *testing.T, sentryTrace, bag string, tid trace.TraceID, sid trace.SpanID, d protocol.Decision) {
	t.Helper()
	gotTID, gotSID, gotD, ok := protocol.ParseSentryTrace(sentryTrace)
	if !ok || gotTID != tid || gotSID != sid || gotD != d {
		t.Fatalf("injected sentry-trace %q, want %s-%s with %v", sentryTrace, tid, sid, d)
	}
	if strings.ContainsAny(bag, "\r\n\x00") {
		t.Fatalf("injected baggage %q contains CR, LF or NUL", bag)
	}
	if len(bag) > 8192 {
		t.Fatalf("injected baggage has %d bytes", len(bag))
	}
	members := strings.Split(bag, ",")
	if len(members) > 64 {
		t.Fatalf("injected baggage has %d members", len(members))
	}
	seen := map[string]bool{}
	for _, m := range members {
		if !vectors.IsWritten(m) {
			t.Fatalf("injected member %q is not a Sentry member encoded as it must be", m)
		}
		key, _, _ := strings.Cut(m, "=")
		if seen[key] {
			t.Fatalf("injected baggage %q repeats %s", bag, key)
		}
		seen[key] = true
	}
}
