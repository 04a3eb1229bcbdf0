package sentrylink_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/getsentry/sentry-go"
	sentryhttp "github.com/getsentry/sentry-go/http"
	sentryslog "github.com/getsentry/sentry-go/slog"
	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"

	"github.com/otelsentry/otelsentry/sentrylink"
)

// seen is what a handler saw and reported.
type seen struct {
	traceID, spanID string
	hub             *sentry.Hub
	event           *sentry.EventID
}

// TestMiddleware serves a request continuing incoming through
// otelhttp.NewHandler(sentrylink.Middleware(h)), alone or behind sentryhttp,
// whose hub it then binds. In the handler, sentry-go's own API reports an
// error through the request's hub, and writes a log through sentry.NewLogger
// and through sentry-go's slog handler: the error has the server span's ids
// and the incoming DSC, the logs the trace id, and, with the integration,
// the span id.
func TestMiddleware(t *testing.T) {
	for _, c := range configs {
		for _, behindSentryHTTP := range []bool{false, true} {
			name := c.name() + "/plain"
			if behindSentryHTTP {
				name = c.name() + "/sentryhttp"
			}
			t.Run(name, func(t *testing.T) {
				w := newWorld(t, c)
				seenc := make(chan seen, 1)
				logger := slog.New(sentryslog.Option{}.NewSentryHandler(context.Background()))
				var h http.Handler = http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
					ctx := r.Context()
					var s seen
					s.traceID, s.spanID = ids(ctx)
					s.hub = sentry.GetHubFromContext(ctx)
					if s.hub != nil {
						s.event = s.hub.CaptureException(errors.New(t.Name()))
					}
					sentry.NewLogger(ctx).Info().Emit("logger " + t.Name())
					logger.InfoContext(ctx, "slog "+t.Name())
					seenc <- s
				})
				h = otelhttp.NewHandler(sentrylink.Middleware(h), "GET /api")
				if behindSentryHTTP {
					h = sentryhttp.New(sentryhttp.Options{}).Handle(h)
				}
				url := serve(t, h)

				req, err := http.NewRequestWithContext(withTimeout(t), http.MethodGet, url, nil)
				if err != nil {
					t.Fatal(err)
				}
				req.Header = incoming.Clone()
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				s := <-seenc // sent before the handler returned
				w.flush(t)

				if s.traceID != incomingTraceID {
					t.Fatalf("handler's trace %s, want the incoming %s", s.traceID, incomingTraceID)
				}
				if s.hub == nil || s.hub == sentry.CurrentHub() {
					t.Fatalf("handler's hub %p: not a request's own hub", s.hub)
				}
				if s.event == nil {
					t.Fatal("event not captured")
				}
				ev, dsc := w.in.event(t, string(*s.event))
				// sentryhttp's hub, which Bind kept, has the request.
				if behindSentryHTTP && (ev.Request == nil || ev.Request.URL == "") {
					t.Errorf("event has no request: the handler's hub is not sentryhttp's")
				}
				if got := ev.Contexts.Trace; got.TraceID != s.traceID || got.SpanID != s.spanID {
					t.Errorf("contexts.trace = %s/%s, want the server span %s/%s", got.TraceID, got.SpanID, s.traceID, s.spanID)
				}
				checkDSC(t, "trace header", dsc, incomingDSC)

				for _, body := range []string{"logger " + t.Name(), "slog " + t.Name()} {
					l := w.in.log(t, body)
					if l.TraceID != s.traceID {
						t.Errorf("%s: trace_id %s, want %s", body, l.TraceID, s.traceID)
					}
					if c.linked && l.SpanID != s.spanID {
						t.Errorf("%s: span_id %q, want %s", body, l.SpanID, s.spanID)
					}
					if !c.linked && l.SpanID == s.spanID {
						t.Errorf("%s: span_id %q without the integration: the doc says otherwise", body, l.SpanID)
					}
				}
			})
		}
	}
}

// serve serves h on 127.0.0.1 for t and returns its URL.
func serve(t *testing.T, h http.Handler) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(h)
	srv.Listener = l
	srv.Start()
	t.Cleanup(srv.Close)
	return srv.URL + "/api"
}
