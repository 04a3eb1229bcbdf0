package propagator_test

import (
	"context"
	"maps"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"go.opentelemetry.io/otel/baggage"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"

	"github.com/otelsentry/otelsentry/internal/protocol"
	"github.com/otelsentry/otelsentry/internal/vectors"
	"github.com/otelsentry/otelsentry/propagator"
)

// strictSentryTrace is ST-2 for a writer: no padding, no trailing dash.
var strictSentryTrace = regexp.MustCompile(`^[0-9a-f]{32}-[0-9a-f]{16}(-[01])?$`)

// FuzzRoundTrip extracts arbitrary headers, injects the trace into an
// outgoing request that already holds application baggage, and reads what
// was written back. Whatever came in, Inject writes one valid sentry-trace
// for the same trace, valid W3C baggage, the carrier's other members byte
// for byte, and headers that a second hop extracts to the same trace and
// DSC.
func FuzzRoundTrip(f *testing.F) {
	for _, c := range vectors.Incoming() {
		f.Add(c.SentryTrace, c.Baggage, uint16(0), "", c.CarrierBaggage)
	}
	for _, c := range vectors.Baggage() {
		b := vectors.SeedBaggage(c.Values)
		f.Add(T+"-"+S+"-0", b.Head, b.Pad, b.Tail, "foo=bar,sentry-release=stale")
	}
	f.Add(T+"-"+S, "sentry-transaction=%0D%0A,sentry-release=%25%2,sentry-x=%%", uint16(0), "", "k=v;p=1")
	f.Add(T+"-"+S+"-1", "sentry-org_id=1,sentry-sampled=false", uint16(9000), "", "a=\r\n")

	p := propagator.New(propagator.WithRelease("1.0"), propagator.WithOrgID("1"))
	composite := propagator.Composite(propagator.WithOrgID("1"))
	f.Fuzz(func(t *testing.T, st, bg1 string, pad uint16, bg2, existing string) {
		in := propagation.HeaderCarrier(http.Header{})
		if st != "" {
			in["Sentry-Trace"] = []string{st}
		}
		if values := vectors.Padded(bg1, pad, bg2); values != nil {
			in["Baggage"] = values
		}
		ctx := p.Extract(context.Background(), in)
		sc := trace.SpanContextFromContext(ctx)
		if !sc.IsValid() {
			return // not continued: FuzzExtract checks that the context is unchanged
		}
		out := propagation.HeaderCarrier(http.Header{})
		if existing != "" {
			out["Baggage"] = []string{existing}
		}
		p.Inject(ctx, out)

		// sentry-trace: one strictly formatted value for the same span.
		sts := out["Sentry-Trace"]
		if len(sts) != 1 || !strictSentryTrace.MatchString(sts[0]) {
			t.Fatalf("injected sentry-trace %q", sts)
		}
		tid, sid, d, ok := protocol.ParseSentryTrace(sts[0])
		if !ok || tid != sc.TraceID() || sid != sc.SpanID() || d != protocol.DecisionOf(sc) {
			t.Fatalf("injected %q for %v (decision %v)", sts[0], sc, protocol.DecisionOf(sc))
		}

		// baggage: one header; the carrier's third-party elements first,
		// untouched; Sentry members that are valid W3C baggage on their own.
		bags := out["Baggage"]
		if len(bags) != 1 {
			t.Fatalf("injected baggage %q is not one header", bags)
		}
		bag := bags[0]
		third, _ := splitBaggage(existing)
		gotThird, sentry := splitBaggage(bag)
		if !strings.HasPrefix(bag, strings.Join(third, ",")) || !slices.Equal(gotThird, third) {
			t.Fatalf("injected baggage %q does not keep %q", bag, third)
		}
		own := strings.Join(sentry, ",")
		if strings.ContainsAny(own, "\r\n\x00") {
			t.Fatalf("Sentry members %q hold CR, LF or NUL", own)
		}
		parsed, err := baggage.Parse(own)
		if err != nil {
			t.Fatalf("Sentry members %q are not W3C baggage: %v", own, err)
		}
		if _, err := baggage.Parse(existing); err == nil && strings.Trim(existing, " \t") != "" && validElements(existing) {
			if _, err := baggage.Parse(bag); err != nil {
				t.Fatalf("valid carrier baggage %q became invalid %q: %v", existing, bag, err)
			}
		}

		// The written members are the context's DSC, all of it unless the
		// carrier's own members left no room (BG-16…18), and read back as W3C
		// values too.
		dsc := propagator.DSCFromContext(ctx, p)
		written := protocol.DecodeDSC(own)
		if len(written) != parsed.Len() || len(third) == 0 && len(written) != len(dsc) {
			t.Fatalf("DSC %q, written %q, W3C reading %v", dsc, written, parsed)
		}
		// A carrier that takes room can leave out a large member that the
		// empty carrier of DSCFromContext kept, and so make room for a later
		// one that it did not: that one is the incoming value, frozen.
		incoming := protocol.DecodeDSC(strings.Join(in["Baggage"], ","))
		for k, v := range written {
			want, ok := dsc[k]
			if !ok && len(third) > 0 {
				want = incoming[k]
			}
			if v != want {
				t.Fatalf("sentry-%s written as %q, DSC %q, incoming %q", k, v, dsc[k], incoming[k])
			}
			if got := parsed.Member("sentry-" + k).Value(); got != w3cValue(v) {
				t.Fatalf("sentry-%s: written %q, W3C reading %q", k, v, got)
			}
		}

		// The next hop continues the same trace with the DSC written, and
		// writes it again.
		next := p.Extract(context.Background(), propagation.HeaderCarrier(http.Header{
			"Sentry-Trace": {sts[0]}, "Baggage": {own}}))
		nsc := trace.SpanContextFromContext(next)
		if nsc.TraceID() != tid || nsc.SpanID() != sid || protocol.DecisionOf(nsc) != d {
			t.Fatalf("%q read back as %v, decision %v", sts[0], nsc, protocol.DecisionOf(nsc))
		}
		got := propagator.DSCFromContext(next, p)
		if _, ok := written["sample_rand"]; !ok {
			delete(got, "sample_rand") // backfilled again, maybe without the rate that did not fit
		}
		if !maps.Equal(got, written) {
			t.Fatalf("DSC %q read back as %q", written, got)
		}

		// The recommended composite never writes a value that splits a
		// header line, whatever it forwards.
		cout := propagation.HeaderCarrier(http.Header{})
		composite.Inject(composite.Extract(context.Background(), in), cout)
		for k, vs := range cout {
			for _, v := range vs {
				if strings.ContainsAny(v, "\r\n\x00") {
					t.Fatalf("composite wrote %s: %q", k, v)
				}
			}
		}
	})
}

// splitBaggage returns a baggage value's elements, trimmed, split into
// third-party ones and Sentry ones; empty elements are left out.
func splitBaggage(v string) (third, sentry []string) {
	for _, e := range strings.Split(v, ",") {
		e = strings.Trim(e, " \t")
		if e == "" {
			continue
		}
		key, _, _ := strings.Cut(e, "=")
		if strings.HasPrefix(strings.Trim(key, " \t"), "sentry-") {
			sentry = append(sentry, e)
		} else {
			third = append(third, e)
		}
	}
	return third, sentry
}

// validElements reports that every element of v is a valid W3C member on
// its own: baggage.Parse skips invalid members and reports only the
// first few, and stops at its limits.
func validElements(v string) bool {
	third, sentry := splitBaggage(v)
	if len(third)+len(sentry) != strings.Count(v, ",")+1 {
		return false
	}
	for _, e := range append(third, sentry...) {
		if _, err := baggage.Parse(e); err != nil {
			return false
		}
	}
	return true
}

// w3cValue is v as a W3C baggage reader decodes it: each byte that is not
// part of valid UTF-8 becomes U+FFFD. A frozen DSC forwards such bytes
// verbatim, as upstream encoded them.
func w3cValue(v string) string {
	var b strings.Builder
	for i, r := range v {
		if r == utf8.RuneError && !strings.HasPrefix(v[i:], "\uFFFD") {
			b.WriteRune(utf8.RuneError)
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}
