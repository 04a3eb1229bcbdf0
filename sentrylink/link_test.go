package sentrylink_test

import (
	"context"
	"errors"
	"testing"

	"github.com/getsentry/sentry-go"
	"go.opentelemetry.io/otel/trace"

	"github.com/otelsentry/otelsentry/propagator"
	"github.com/otelsentry/otelsentry/sentrylink"
)

// capture is one way to report an error on ctx.
type capture struct {
	name string
	do   func(ctx context.Context, msg string) *sentry.EventID
}

var captures = []capture{
	{"CaptureException", func(ctx context.Context, msg string) *sentry.EventID {
		return sentrylink.CaptureException(ctx, errors.New(msg))
	}},
	{"CaptureMessage", func(ctx context.Context, msg string) *sentry.EventID {
		return sentrylink.CaptureMessage(ctx, msg)
	}},
	// sentry-go's own API on the hub that Bind leaves on the context.
	{"Bind/Hub.CaptureException", func(ctx context.Context, msg string) *sentry.EventID {
		return sentry.GetHubFromContext(sentrylink.Bind(ctx)).CaptureException(errors.New(msg))
	}},
}

// scenario is a context to report from, given one carrying a hub.
type scenario struct {
	name string
	// start returns the context to report from; span is false when it has no
	// span context.
	start func(w *world, ctx context.Context) (_ context.Context, span bool)
	// dsc is the DSC the envelope must carry, beside DSCFromContext.
	dsc map[string]string
}

var scenarios = []scenario{
	{"continued", func(w *world, ctx context.Context) (context.Context, bool) {
		ctx, _ = w.tracer.Start(continued(ctx), "GET /api", trace.WithSpanKind(trace.SpanKindServer))
		return ctx, true
	}, incomingDSC},
	{"continued/child", func(w *world, ctx context.Context) (context.Context, bool) {
		ctx, _ = w.tracer.Start(continued(ctx), "GET /api", trace.WithSpanKind(trace.SpanKindServer))
		ctx, _ = w.tracer.Start(ctx, "query")
		return ctx, true
	}, incomingDSC},
	{"head", func(w *world, ctx context.Context) (context.Context, bool) {
		ctx, _ = w.tracer.Start(ctx, "GET /api", trace.WithSpanKind(trace.SpanKindServer))
		return ctx, true
	}, nil},
	{"head/child", func(w *world, ctx context.Context) (context.Context, bool) {
		ctx, _ = w.tracer.Start(ctx, "GET /api", trace.WithSpanKind(trace.SpanKindServer))
		ctx, _ = w.tracer.Start(ctx, "query")
		return ctx, true
	}, nil},
	{"no span", func(_ *world, ctx context.Context) (context.Context, bool) {
		return ctx, false
	}, nil},
}

// TestCapture reports errors and messages from each scenario, in every way,
// with sentry-go tracing on and off, with and without the integration: an
// event on a span has the span's trace and span ids, and its envelope the
// DSC that the propagator sends downstream (the incoming one, frozen, on a
// continued trace); an event without a span is what sentry-go alone sends.
func TestCapture(t *testing.T) {
	for _, c := range configs {
		t.Run(c.name(), func(t *testing.T) {
			w := newWorld(t, c)
			for _, sc := range scenarios {
				for _, cp := range captures {
					t.Run(sc.name+"/"+cp.name, func(t *testing.T) {
						hubCtx, hub := w.newHub(c)
						ctx, span := sc.start(w, hubCtx)
						wantTrace, wantSpan := ids(ctx)
						wantDSC := propagator.DSCFromContext(ctx, nil)

						// sentry-go on its own, from a copy of the same scope.
						base := hub.Clone().CaptureException(errors.New("baseline"))
						id := cp.do(ctx, t.Name())
						if id == nil || base == nil {
							t.Fatal("event not captured")
						}
						w.flush(t)
						ev, dsc := w.in.event(t, string(*id))
						baseEv, baseDSC := w.in.event(t, string(*base))

						if !span {
							if got, want := ev.Contexts.Trace, baseEv.Contexts.Trace; got != want {
								t.Errorf("contexts.trace = %+v, sentry-go alone %+v", got, want)
							}
							checkDSC(t, "trace header (sentry-go alone)", dsc, baseDSC)
							return
						}
						if got := ev.Contexts.Trace; got.TraceID != wantTrace || got.SpanID != wantSpan {
							t.Errorf("contexts.trace = %s/%s, want the OTel span %s/%s", got.TraceID, got.SpanID, wantTrace, wantSpan)
						}
						checkDSC(t, "trace header (DSCFromContext)", dsc, wantDSC)
						if sc.dsc != nil {
							checkDSC(t, "trace header (incoming)", dsc, sc.dsc)
						}
						if dsc["trace_id"] != wantTrace {
							t.Errorf("trace header trace_id = %q, want %s", dsc["trace_id"], wantTrace)
						}
						if baseEv.Contexts.Trace.TraceID == wantTrace {
							t.Error("sentry-go alone was already on the OTel trace: the test proves nothing")
						}
					})
				}
			}
		})
	}
}

// TestIncomingBaggage checks the premise of building the DSC from the
// propagator's map: sentry-go's parser rejects the incoming baggage whole.
func TestIncomingBaggage(t *testing.T) {
	if _, err := sentry.DynamicSamplingContextFromHeader([]byte(incoming.Get("Baggage"))); err == nil {
		t.Fatal("sentry-go parsed the baggage: the malformed member tests nothing")
	}
}

// TestCaptureKeepsScope checks that CaptureException and CaptureMessage
// leave the scope of the hub on ctx as it was.
func TestCaptureKeepsScope(t *testing.T) {
	for _, c := range configs {
		t.Run(c.name(), func(t *testing.T) {
			w := newWorld(t, c)
			hubCtx, hub := w.newHub(c)
			ctx, _ := w.tracer.Start(continued(hubCtx), "GET /api")
			before := hub.CaptureMessage("before")
			sentrylink.CaptureException(ctx, errors.New("linked"))
			sentrylink.CaptureMessage(ctx, "linked")
			after := hub.CaptureMessage("after")
			w.flush(t)
			evBefore, dscBefore := w.in.event(t, string(*before))
			evAfter, dscAfter := w.in.event(t, string(*after))
			if evBefore.Contexts.Trace != evAfter.Contexts.Trace {
				t.Errorf("scope's trace changed: %+v, then %+v", evBefore.Contexts.Trace, evAfter.Contexts.Trace)
			}
			checkDSC(t, "scope's DSC", dscAfter, dscBefore)
		})
	}
}

// TestBindCurrentHub binds a context without a hub: Bind puts a clone of
// the current hub on it, and the global scope, which the package-level
// sentry.CaptureMessage reports with, stays off the OTel trace.
func TestBindCurrentHub(t *testing.T) {
	c := config{linked: true}
	w := newWorld(t, c)
	before := sentry.CaptureMessage("before")
	ctx, _ := w.tracer.Start(continued(context.Background()), "GET /api")
	bound := sentrylink.Bind(ctx)
	hub := sentry.GetHubFromContext(bound)
	if hub == nil || hub == sentry.CurrentHub() {
		t.Fatalf("Bind put hub %p on the context; the current hub is %p", hub, sentry.CurrentHub())
	}
	linked := hub.CaptureMessage("linked")
	after := sentry.CaptureMessage("after")
	w.flush(t)

	ev, dsc := w.in.event(t, string(*linked))
	if tr, sp := ids(ctx); ev.Contexts.Trace.TraceID != tr || ev.Contexts.Trace.SpanID != sp {
		t.Errorf("bound hub: contexts.trace = %+v, want %s/%s", ev.Contexts.Trace, tr, sp)
	}
	checkDSC(t, "bound hub's trace header", dsc, incomingDSC)

	evBefore, dscBefore := w.in.event(t, string(*before))
	evAfter, dscAfter := w.in.event(t, string(*after))
	if evBefore.Contexts.Trace != evAfter.Contexts.Trace || evAfter.Contexts.Trace.TraceID == incomingTraceID {
		t.Errorf("global scope: contexts.trace %+v, then %+v", evBefore.Contexts.Trace, evAfter.Contexts.Trace)
	}
	checkDSC(t, "global scope's DSC", dscAfter, dscBefore)
}

// TestBindContext checks that a context without a span context is returned
// as it is, and one whose hub is on the trace stays on it when bound again.
func TestBindContext(t *testing.T) {
	w := newWorld(t, config{})
	for _, ctx := range []context.Context{context.Background(), sentry.SetHubOnContext(context.Background(), sentry.NewHub(w.client, sentry.NewScope()))} {
		if got := sentrylink.Bind(ctx); got != ctx {
			t.Errorf("Bind(%v) returned another context", ctx)
		}
	}
	hubCtx, _ := w.newHub(config{})
	ctx, _ := w.tracer.Start(continued(hubCtx), "GET /api")
	if got := sentrylink.Bind(ctx); got != ctx {
		t.Error("Bind of a context with its own hub returned another context")
	}
}

// TestIntegrationAlone shows why Bind exists beside the integration: with
// only the resolver, an error reported with a context (here through
// Hub.RecoverWithContext) has the OTel trace and span ids, but its envelope
// still carries the DSC of sentry-go's own trace. Bound, it carries the
// incoming one.
func TestIntegrationAlone(t *testing.T) {
	for _, c := range []config{{false, true}, {true, true}} {
		t.Run(c.name(), func(t *testing.T) {
			w := newWorld(t, c)
			hubCtx, hub := w.newHub(c)
			ctx, _ := w.tracer.Start(continued(hubCtx), "GET /api")
			tr, sp := ids(ctx)

			alone := hub.RecoverWithContext(ctx, errors.New("resolver only"))
			bound := sentry.GetHubFromContext(sentrylink.Bind(ctx)).RecoverWithContext(ctx, errors.New("bound"))
			w.flush(t)

			ev, dsc := w.in.event(t, string(*alone))
			if ev.Contexts.Trace.TraceID != tr || ev.Contexts.Trace.SpanID != sp {
				t.Errorf("resolver only: contexts.trace = %+v, want %s/%s", ev.Contexts.Trace, tr, sp)
			}
			if dsc["trace_id"] == tr {
				t.Errorf("resolver only: trace header %v is already the OTel trace's", dsc)
			}
			ev, dsc = w.in.event(t, string(*bound))
			if ev.Contexts.Trace.TraceID != tr || ev.Contexts.Trace.SpanID != sp {
				t.Errorf("bound: contexts.trace = %+v, want %s/%s", ev.Contexts.Trace, tr, sp)
			}
			checkDSC(t, "bound: trace header", dsc, incomingDSC)
		})
	}
}
