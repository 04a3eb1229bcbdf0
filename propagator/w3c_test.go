package propagator_test

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"strings"
	"testing"

	"go.opentelemetry.io/otel/propagation"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"

	"github.com/otelsentry/otelsentry/internal/vectors"
	"github.com/otelsentry/otelsentry/propagator"
	"github.com/otelsentry/otelsentry/sampling"
)

// TestW3C holds Composite to the W3C Trace Context rules over every header
// line, on Extract and on Inject.
func TestW3C(t *testing.T) { // V-W3C
	for _, tt := range vectors.W3C() {
		t.Run(tt.ID, func(t *testing.T) {
			var logs bytes.Buffer
			p := propagator.Composite(propagator.WithLogger(slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))))
			if tt.InjectTracestate != "" {
				checkW3CInject(t, p, tt)
				return
			}
			in := http.Header{}
			if tt.Traceparent != nil {
				in["Traceparent"] = tt.Traceparent
			}
			if tt.Tracestate != nil {
				in["Tracestate"] = tt.Tracestate
			}
			ctx := p.Extract(context.Background(), propagation.HeaderCarrier(in))
			sc := trace.SpanContextFromContext(ctx)
			if tt.Want == nil {
				if sc.IsValid() {
					t.Fatalf("parent %v, want none", sc)
				}
				return
			}
			if sc.TraceID().String() != tt.Want.TraceID || sc.SpanID().String() != tt.Want.SpanID ||
				byte(sc.TraceFlags()) != tt.Want.Flags || !sc.IsRemote() {
				t.Errorf("parent %v, want %s-%s flags %d", sc, tt.Want.TraceID, tt.Want.SpanID, tt.Want.Flags)
			}
			if got := sc.TraceState().String(); got != tt.Want.Tracestate {
				t.Errorf("trace state %q, want %q", got, tt.Want.Tracestate)
			}
			if logged := strings.Contains(logs.String(), "members="); logged != (tt.Want.Dropped > 0) ||
				logged && !strings.Contains(logs.String(), "members="+string(rune('0'+tt.Want.Dropped))) {
				t.Errorf("debug log %q, want %d dropped members named", logs.String(), tt.Want.Dropped)
			}
			if tt.WantTraceparent != "" {
				out := propagation.HeaderCarrier{}
				p.Inject(ctx, out)
				if got := out["Traceparent"]; len(got) != 1 || got[0] != tt.WantTraceparent {
					t.Errorf("Inject wrote traceparent %q, want %q", got, tt.WantTraceparent)
				}
			}
		})
	}
}

func checkW3CInject(t *testing.T, p propagation.TextMapPropagator, tt vectors.W3CCase) {
	t.Helper()
	ts, err := trace.ParseTraceState(tt.InjectTracestate)
	if err != nil {
		t.Fatal(err)
	}
	if tt.InsertSentry != "" {
		if ts, err = ts.Insert("sentry", tt.InsertSentry); err != nil {
			t.Fatal(err)
		}
	}
	sc := trace.NewSpanContext(trace.SpanContextConfig{TraceID: trace.TraceID{1}, SpanID: trace.SpanID{2},
		TraceFlags: trace.FlagsSampled, TraceState: ts})
	out := propagation.HeaderCarrier{}
	p.Inject(trace.ContextWithSpanContext(context.Background(), sc), out)
	got := out["Tracestate"]
	if len(got) != 1 || got[0] != tt.WantTracestate {
		t.Fatalf("tracestate %q, want %q", got, tt.WantTracestate)
	}
	if len(got[0]) > 512 || strings.Count(got[0], ",")+1 > 32 {
		t.Errorf("tracestate of %d characters, %d members", len(got[0]), strings.Count(got[0], ",")+1)
	}
}

// V-W3C-28: without a rate, an incoming sampled trace leaves sampled in
// both headers: traceparent flag 01 and sentry-trace -1.
func TestW3CSampledWithoutRate(t *testing.T) {
	p := propagator.Composite()
	ctx := p.Extract(context.Background(), propagation.MapCarrier{"sentry-trace": T + "-" + S + "-1"})
	tp := sdktrace.NewTracerProvider(sdktrace.WithSampler(sampling.New()))
	defer func() { _ = tp.Shutdown(context.Background()) }()
	ctx, span := tp.Tracer("t").Start(ctx, "GET /items")
	defer span.End()
	out := propagation.MapCarrier{}
	p.Inject(ctx, out)
	c := span.SpanContext().SpanID().String()
	if out.Get("traceparent") != "00-"+T+"-"+c+"-01" || out.Get("sentry-trace") != T+"-"+c+"-1" {
		t.Errorf("traceparent %q, sentry-trace %q", out.Get("traceparent"), out.Get("sentry-trace"))
	}
}
