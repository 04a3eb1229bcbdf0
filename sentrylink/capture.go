package sentrylink

import (
	"context"

	"github.com/getsentry/sentry-go"
	"go.opentelemetry.io/otel/trace"
)

// CaptureException reports err on the trace and span of ctx's OpenTelemetry
// span, with the DSC that Bind would give, through a clone of ctx's hub (or
// of the current hub), so that no shared scope changes. Without a valid span
// context it reports err as that hub's CaptureException would. It returns
// the event's id, or nil when the event was not sent.
func CaptureException(ctx context.Context, err error) *sentry.EventID {
	hub := hubFor(ctx)
	return hub.Client().CaptureException(err, &sentry.EventHint{Context: ctx, OriginalException: err}, hub.Scope())
}

// CaptureMessage reports msg as CaptureException reports an error.
func CaptureMessage(ctx context.Context, msg string) *sentry.EventID {
	hub := hubFor(ctx)
	return hub.Client().CaptureMessage(msg, &sentry.EventHint{Context: ctx}, hub.Scope())
}

// hubFor returns a clone of ctx's hub, or of the current hub, on the trace
// of ctx's span when it has one.
func hubFor(ctx context.Context) *sentry.Hub {
	hub := sentry.GetHubFromContext(ctx)
	if hub == nil {
		hub = sentry.CurrentHub()
	}
	hub = clone(hub)
	if sc := trace.SpanContextFromContext(ctx); sc.IsValid() {
		link(ctx, hub.Scope(), sc)
	}
	return hub
}
