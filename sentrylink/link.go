package sentrylink

import (
	"context"

	"github.com/getsentry/sentry-go"
	"go.opentelemetry.io/otel/trace"

	"github.com/otelsentry/otelsentry/propagator"
)

// integrationName differs from that of sentry-go's OTel integration, so
// that sentry-go installs both when both are given; they resolve the same
// ids.
const integrationName = "OTelSentryLink"

type integration struct{}

// Integration returns a sentry-go integration that resolves the trace and
// span of an event, a log or a metric from the OpenTelemetry span of its
// context. Install it in sentry.ClientOptions.Integrations.
//
// sentry-go asks the resolver only where it has a context: the context of
// an EventHint (CaptureException and CaptureMessage here,
// Hub.RecoverWithContext, sentryhttp's recovery), the request set on the
// scope, and the context of a Logger or of a log entry. Transactions that
// sentry-go itself records keep their own ids.
func Integration() sentry.Integration { return integration{} }

// Name returns the integration's name.
func (integration) Name() string { return integrationName }

// SetupOnce installs the trace resolver on client.
func (integration) SetupOnce(client *sentry.Client) {
	client.SetExternalContextTraceResolver(resolve)
}

func resolve(ctx context.Context) (sentry.TraceID, sentry.SpanID, bool) {
	if ctx == nil {
		return sentry.TraceID{}, sentry.SpanID{}, false
	}
	sc := trace.SpanContextFromContext(ctx)
	if !sc.IsValid() {
		return sentry.TraceID{}, sentry.SpanID{}, false
	}
	return sentry.TraceID(sc.TraceID()), sentry.SpanID(sc.SpanID()), true
}

// Bind returns ctx with a sentry-go hub whose scope is on ctx's
// OpenTelemetry trace: its propagation context has the span's trace id and
// span id and, frozen, the Dynamic Sampling Context that the global
// propagator sends downstream for this trace (propagator.DSCFromContext).
// Events captured through that hub, and logs written with ctx, belong to the
// span and carry that DSC in their envelope header.
//
// The hub is the one already on ctx, whose scope Bind changes, or, when ctx
// has none or holds the global hub, a clone of the current hub, so that the
// global scope never changes. A sentry-go span left on the scope is removed:
// otherwise its transaction would supply the DSC. Bind the hub of one unit of
// work (a request, a job) once, in its outermost span; for a span below it,
// pass that span's context to CaptureException or CaptureMessage.
//
// Without a valid span context in ctx, Bind returns ctx unchanged. When the
// propagator writes no DSC for ctx (no Sentry propagator installed, or
// Inject suppressed), sentry-go builds the DSC from its own options.
func Bind(ctx context.Context) context.Context {
	sc := trace.SpanContextFromContext(ctx)
	if !sc.IsValid() {
		return ctx
	}
	hub := sentry.GetHubFromContext(ctx)
	if hub == nil || hub == sentry.CurrentHub() || hub.Scope() == nil {
		if hub == nil {
			hub = sentry.CurrentHub()
		}
		hub = clone(hub)
		ctx = sentry.SetHubOnContext(ctx, hub)
	}
	link(ctx, hub.Scope(), sc)
	return ctx
}

// clone returns a copy of hub that always has a scope.
func clone(hub *sentry.Hub) *sentry.Hub {
	c := hub.Clone()
	if c.Scope() == nil {
		c = sentry.NewHub(c.Client(), sentry.NewScope())
	}
	return c
}

// link puts scope on the trace and span of sc. The DSC is built from the
// propagator's map rather than by sentry.ContinueTrace, whose baggage parser
// drops every member when one of them is malformed.
func link(ctx context.Context, scope *sentry.Scope, sc trace.SpanContext) {
	pc := sentry.PropagationContext{
		TraceID: sentry.TraceID(sc.TraceID()),
		SpanID:  sentry.SpanID(sc.SpanID()),
	}
	if dsc := propagator.DSCFromContext(ctx, nil); len(dsc) > 0 {
		pc.DynamicSamplingContext = sentry.DynamicSamplingContext{Entries: dsc, Frozen: true}
	}
	scope.SetSpan(nil)
	scope.SetPropagationContext(pc)
}
