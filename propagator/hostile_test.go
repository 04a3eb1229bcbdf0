package propagator_test

import (
	"context"
	"maps"
	"net/http"
	"slices"
	"strings"
	"testing"

	"go.opentelemetry.io/otel/baggage"
	"go.opentelemetry.io/otel/propagation"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"

	"github.com/otelsentry/otelsentry/internal/protocol"
	"github.com/otelsentry/otelsentry/internal/vectors"
	"github.com/otelsentry/otelsentry/propagator"
	"github.com/otelsentry/otelsentry/sampling"
)

// TestHostile runs the hostile input corpus (docs/protocol.md#bad-input)
// through Extract, a local root span and Inject: nothing panics, the trace
// is continued or not as the rules say, and what is written can neither
// split a header line nor alter the carrier's other members.
func TestHostile(t *testing.T) {
	tp := sdktrace.NewTracerProvider(sdktrace.WithSampler(sampling.New(sampling.WithSampleRate(1))))
	t.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
	tr := tp.Tracer("hostile")

	for _, tt := range vectors.Hostile() {
		t.Run(tt.ID, func(t *testing.T) {
			p := propagator.New(
				propagator.WithOrgID(tt.OrgID),
				propagator.WithStrictTraceContinuation(tt.Strict),
				propagator.WithRelease(tt.Release),
				propagator.WithEnvironment(tt.Environment),
			)
			in := hostileCarrier(tt)
			ctx := p.Extract(context.Background(), in)
			checkContinued(t, ctx, tt)

			// A MapCarrier holding the lines as a proxy joins them agrees.
			mc := propagation.MapCarrier{}
			if tt.SentryTrace != nil {
				mc["sentry-trace"] = strings.Join(tt.SentryTrace, ",")
			}
			if tt.Baggage != nil {
				mc["baggage"] = strings.Join(tt.Baggage, ",")
			}
			if viaMap := trace.SpanContextFromContext(p.Extract(context.Background(), mc)); viaMap.TraceID() != trace.SpanContextFromContext(ctx).TraceID() {
				t.Errorf("MapCarrier continued %v", viaMap)
			}

			if tt.Continued {
				// The DSC of a continued trace is the frozen incoming one.
				checkDSC(t, propagator.DSCFromContext(ctx, p), tt.DSC, "")
			}
			name := tt.SpanName
			if name == "" {
				name = "GET /items"
			}
			sctx, span := tr.Start(ctx, name, trace.WithSpanKind(trace.SpanKindServer))
			defer span.End()
			sc := span.SpanContext()
			if !tt.Continued {
				checkDSC(t, propagator.DSCFromContext(sctx, p), tt.DSC, sc.TraceID().String())
			}

			out := propagation.HeaderCarrier(http.Header{})
			if tt.Carrier != "" {
				out["Baggage"] = []string{tt.Carrier}
			}
			p.Inject(sctx, out)
			checkWritten(t, out, tt.Carrier, sc)
		})
	}
}

// hostileCarrier returns a request's headers holding the case's lines.
func hostileCarrier(tt vectors.HostileCase) propagation.HeaderCarrier {
	h := http.Header{}
	if tt.SentryTrace != nil {
		h["Sentry-Trace"] = tt.SentryTrace
	}
	if tt.Baggage != nil {
		h["Baggage"] = tt.Baggage
	}
	return propagation.HeaderCarrier(h)
}

// checkContinued asserts the case's outcome on an extracted context: the
// remote parent and its decision, or, for input that is not continued, no
// span context at all.
func checkContinued(t *testing.T, ctx context.Context, tt vectors.HostileCase) {
	t.Helper()
	sc := trace.SpanContextFromContext(ctx)
	if !tt.Continued {
		if sc.IsValid() {
			t.Fatalf("continued %v", sc)
		}
		return
	}
	wantTrace, wantSpan := tt.TraceID, tt.SpanID
	if wantTrace == "" {
		wantTrace, wantSpan = T, S
	}
	if sc.TraceID().String() != wantTrace || sc.SpanID().String() != wantSpan || !sc.IsRemote() {
		t.Fatalf("continued %v, want %s-%s", sc, wantTrace, wantSpan)
	}
	if got, want := propagator.DecisionFromContext(ctx), decisions[tt.Decision]; got != want {
		t.Errorf("decision %v, want %v", got, want)
	}
}

// checkDSC compares a DSC with the case's, leaving out sample_rand, which
// must be valid, and trace_id, which must be traceID when it is set.
func checkDSC(t *testing.T, got, want map[string]string, traceID string) {
	t.Helper()
	got = maps.Clone(got)
	if rand, ok := got["sample_rand"]; !ok {
		t.Errorf("DSC %q has no sample_rand", got)
	} else if _, valid := protocol.ParseSampleRand(rand); !valid {
		t.Errorf("sample_rand %q", rand)
	}
	delete(got, "sample_rand")
	if traceID != "" {
		if got["trace_id"] != traceID {
			t.Errorf("head DSC trace_id %q, want %s", got["trace_id"], traceID)
		}
		delete(got, "trace_id")
	}
	if want == nil {
		want = map[string]string{}
	}
	if !maps.Equal(got, want) {
		t.Errorf("DSC %q, want %q", got, want)
	}
}

// checkWritten asserts what Inject wrote for span context sc into a
// carrier that held the baggage carrier.
func checkWritten(t *testing.T, out propagation.HeaderCarrier, carrier string, sc trace.SpanContext) {
	t.Helper()
	for k, vs := range out {
		for _, v := range vs {
			if strings.ContainsAny(v, "\r\n\x00") && (k != "Baggage" || v != carrier) {
				t.Errorf("%s: %q can split a header line", k, v)
			}
		}
	}
	st := out["Sentry-Trace"]
	if len(st) != 1 || !strictSentryTrace.MatchString(st[0]) || !strings.HasPrefix(st[0], sc.TraceID().String()+"-"+sc.SpanID().String()) {
		t.Errorf("sentry-trace %q for %v", st, sc)
	}
	bags := out["Baggage"]
	if len(bags) != 1 {
		t.Fatalf("baggage %q is not one header", bags)
	}
	third, _ := splitBaggage(carrier)
	kept := strings.Join(third, ",")
	if !strings.HasPrefix(bags[0], kept) {
		t.Errorf("baggage %q does not keep the carrier's %q", bags[0], kept)
	}
	gotThird, sentry := splitBaggage(bags[0])
	if !slices.Equal(gotThird, third) {
		t.Errorf("third-party members %q, want the carrier's %q", gotThird, third)
	}
	own := strings.Join(sentry, ",")
	for _, m := range sentry {
		if !vectors.IsWritten(m) {
			t.Errorf("member %q is not encoded", m)
		}
	}
	if _, err := baggage.Parse(own); err != nil {
		t.Errorf("Sentry members %q are not W3C baggage: %v", own, err)
	}
	if len(bags[0]) > 8192 && len(bags[0]) > len(kept) {
		t.Errorf("baggage grew to %d bytes", len(bags[0]))
	}
}
