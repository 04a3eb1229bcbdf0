package peers

import (
	"context"
	"slices"
	"testing"
	"time"

	"go.opentelemetry.io/otel/sdk/trace"
	oteltrace "go.opentelemetry.io/otel/trace"

	"github.com/otelsentry/otelsentry/conformance/internal/ingest"
)

func otelConfig(in *ingest.Ingest, rate *float64) Config {
	return Config{Name: "otel", DSN: in.DSN("pko", "3"), Rate: rate, Release: "o@1", Environment: "test"}
}

// endedSpan returns the span the recorder ended with id, or nil.
func endedSpan(h *OtelSentryHop, id string) trace.ReadOnlySpan {
	for _, s := range h.Recorder.Ended() {
		if s.SpanContext().SpanID().String() == id {
			return s
		}
	}
	return nil
}

func TestOtelSentryToSentryGo(t *testing.T) {
	for _, c := range []struct {
		name      string
		opts      []OtelSentryOption
		forwarded bool // whether othervendor=x goes on
	}{
		{name: "TraceContext and Sentry"},
		{name: "Composite", opts: []OtelSentryOption{WithComposite()}, forwarded: true},
	} {
		t.Run(c.name, func(t *testing.T) {
			in := ingest.New(t)
			o := StartOtelSentry(t, otelConfig(in, Rate(0.5)), c.opts...)
			s := StartSentryGo(t, Config{Name: "go", DSN: in.DSN("pkg", "1"), Rate: Rate(0.5), Release: "g@1", Environment: "test"})
			reps := runChain(t, incoming(inSentryTrace), o.Hop, s)
			ro, rs := reps[0], reps[1]

			if ro.TraceID != inTraceID || ro.ParentSpanID != inParentID || !ro.Sampled {
				t.Errorf("otelsentry did not continue the sampled incoming trace: %+v", ro)
			}
			assertLinked(t, ro, rs)
			if !rs.Sampled {
				t.Error("sentry-go dropped a trace sampled upstream")
			}
			_, sentSpan, flag := sentryTraceParts(t, ro.Sent["sentry-trace"])
			if flag != "1" {
				t.Errorf("sent flag %q, want 1", flag)
			}
			if tp := ro.Sent["traceparent"]; tp != "00-"+inTraceID+"-"+sentSpan+"-01" {
				t.Errorf("sent traceparent %q", tp)
			}
			// The frozen incoming DSC goes on unchanged.
			bag := baggageMembers(ro.Sent["baggage"])
			for k, v := range map[string]string{"sentry-trace_id": inTraceID, "sentry-sample_rate": "0.5", "sentry-sample_rand": "0.25"} {
				if bag[k] != v {
					t.Errorf("sent %s=%q, want %q (baggage %q)", k, bag[k], v, ro.Sent["baggage"])
				}
			}
			if _, ok := bag["sentry-public_key"]; ok {
				t.Errorf("the continued trace's DSC gained this hop's public key: %q", ro.Sent["baggage"])
			}
			if got := bag["othervendor"] == "x"; got != c.forwarded {
				t.Errorf("othervendor forwarded: %v, want %v (baggage %q)", got, c.forwarded, ro.Sent["baggage"])
			}

			// The sent span id is otelhttp's client span, child of the server span.
			server, client := endedSpan(o, ro.SpanID), endedSpan(o, sentSpan)
			if server == nil || client == nil {
				t.Fatalf("recorder lacks the server or client span: %d ended", len(o.Recorder.Ended()))
			}
			if server.SpanKind() != oteltrace.SpanKindServer || client.SpanKind() != oteltrace.SpanKindClient ||
				client.Parent().SpanID().String() != ro.SpanID || server.Parent().SpanID().String() != inParentID {
				t.Errorf("span tree: server %v parent %v, client %v parent %v",
					server.SpanKind(), server.Parent().SpanID(), client.SpanKind(), client.Parent().SpanID())
			}

			flushAll(t, o.Hop, s)
			env := waitTransaction(t, in, rs.SpanID)
			if env.Trace["trace_id"] != inTraceID || env.Project != "1" {
				t.Errorf("sentry-go envelope: project %s trace %v", env.Project, env.Trace)
			}
			if n := len(in.OTLP()); n == 0 {
				t.Error("otelsentry exported no spans over OTLP")
			} else if got := in.OTLP()[0]; got.Project != "3" || got.Header.Get("X-Sentry-Auth") != "sentry sentry_key=pko" {
				t.Errorf("OTLP export to project %s with auth %q", got.Project, got.Header.Get("X-Sentry-Auth"))
			}
		})
	}
}

func TestSentryGoToOtelSentry(t *testing.T) {
	in := ingest.New(t)
	s := StartSentryGo(t, Config{Name: "go", DSN: in.DSN("pkg", "1"), Rate: Rate(0.5), Release: "g@1", Environment: "test"})
	o := StartOtelSentry(t, otelConfig(in, Rate(0.5)))
	reps := runChain(t, incoming(inSentryTrace), s, o.Hop)
	rs, ro := reps[0], reps[1]

	if rs.TraceID != inTraceID || !rs.Sampled {
		t.Errorf("sentry-go did not continue the sampled trace: %+v", rs)
	}
	assertLinked(t, rs, ro)
	if !ro.Sampled {
		t.Error("otelsentry dropped a trace sampled upstream")
	}
	server := endedSpan(o, ro.SpanID)
	if server == nil {
		t.Fatal("otelsentry recorded no server span")
	}
	if !server.Parent().IsRemote() || server.Parent().SpanID().String() != ro.ParentSpanID {
		t.Errorf("server span parent %v", server.Parent())
	}

	flushAll(t, s, o.Hop)
	env := waitTransaction(t, in, rs.SpanID)
	if len(env.Trace) == 0 {
		t.Error("sentry-go envelope without a trace header")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := waitOTLP(ctx, in); err != nil {
		t.Error(err)
	}
}

// TestOtelSentryDeferred shows the otelsentry hop without a rate keeps a
// deferred trace deferred, and forwards the DSC as it came.
func TestOtelSentryDeferred(t *testing.T) {
	in := ingest.New(t)
	o := StartOtelSentry(t, otelConfig(in, nil))
	s := StartSentryGo(t, Config{Name: "go", DSN: in.DSN("pkg", "1"), Release: "g@1"})
	reps := runChain(t, incoming(inTraceID+"-"+inParentID), o.Hop, s)
	ro, rs := reps[0], reps[1]
	assertLinked(t, ro, rs)
	if ro.Sampled {
		t.Error("deferred trace sampled without a rate")
	}
	if _, _, flag := sentryTraceParts(t, ro.Sent["sentry-trace"]); flag != "" {
		t.Errorf("deferred trace sent with flag %q", flag)
	}
	bag := baggageMembers(ro.Sent["baggage"])
	if bag["sentry-sample_rand"] != "0.25" || bag["sentry-sample_rate"] != "0.5" || bag["sentry-trace_id"] != inTraceID {
		t.Errorf("sent baggage %q", ro.Sent["baggage"])
	}
	if slices.ContainsFunc(o.Recorder.Ended(), func(s trace.ReadOnlySpan) bool { return s.SpanContext().IsSampled() }) {
		t.Error("a deferred trace recorded sampled spans")
	}
}

// waitOTLP waits for an OTLP export at in.
func waitOTLP(ctx context.Context, in *ingest.Ingest) error {
	for len(in.OTLP()) == 0 {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
	return nil
}
