package sentrylink_test

import (
	"context"
	"log/slog"
	"testing"

	"github.com/getsentry/sentry-go"
	sentryslog "github.com/getsentry/sentry-go/slog"

	"github.com/otelsentry/otelsentry/sentrylink"
)

// TestLogs writes structured logs through sentry-go's logger and its slog
// handler in each way they take a bound context: they carry the OTel trace
// id, and with the integration the span id. An unbound context reaches the
// slog handler, which reads a record's context only when a hub is on it, in
// vain.
func TestLogs(t *testing.T) {
	type emit func(bound, unbound context.Context, body string)
	cases := []struct {
		name   string
		emit   emit
		linked bool // the log is on the OTel trace
	}{
		{"NewLogger(bound)", func(bound, _ context.Context, body string) {
			sentry.NewLogger(bound).Info().Emit(body)
		}, true},
		{"NewLogger/WithCtx(bound)", func(bound, _ context.Context, body string) {
			sentry.NewLogger(context.Background()).Info().WithCtx(bound).Emit(body)
		}, true},
		{"slog/InfoContext(bound)", func(bound, _ context.Context, body string) {
			slog.New(sentryslog.Option{}.NewSentryHandler(context.Background())).InfoContext(bound, body)
		}, true},
		{"slog/NewSentryHandler(bound)", func(bound, _ context.Context, body string) {
			slog.New(sentryslog.Option{}.NewSentryHandler(bound)).Info(body)
		}, true},
		{"slog/InfoContext(unbound)", func(_, unbound context.Context, body string) {
			slog.New(sentryslog.Option{}.NewSentryHandler(context.Background())).InfoContext(unbound, body)
		}, false},
	}
	for _, c := range configs {
		t.Run(c.name(), func(t *testing.T) {
			w := newWorld(t, c)
			for _, tc := range cases {
				t.Run(tc.name, func(t *testing.T) {
					ctx, span := w.tracer.Start(continued(context.Background()), "GET /api")
					defer span.End()
					bound := sentrylink.Bind(ctx)
					tr, sp := ids(ctx)
					tc.emit(bound, ctx, t.Name())
					w.flush(t)
					l := w.in.log(t, t.Name())
					switch {
					case !tc.linked:
						if l.TraceID == tr {
							t.Errorf("trace_id %s: linked without Bind, the doc says otherwise", l.TraceID)
						}
					case l.TraceID != tr:
						t.Errorf("trace_id %s, want %s", l.TraceID, tr)
					case c.linked && l.SpanID != sp:
						t.Errorf("span_id %q, want %s", l.SpanID, sp)
					case !c.linked && l.SpanID != "":
						t.Errorf("span_id %q without the integration, want none", l.SpanID)
					}
				})
			}
		})
	}
}
