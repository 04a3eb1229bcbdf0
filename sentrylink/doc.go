// Package sentrylink puts the errors and logs that sentry-go reports on the
// OpenTelemetry trace of a service that traces with OpenTelemetry and the
// otelsentry propagator: an event then has the trace id and span id of the
// current OTel span, and its envelope the Dynamic Sampling Context (DSC)
// that the propagator sends downstream for that trace, so that Sentry shows
// it in the trace and samples it as the rest of the trace.
//
// Install the integration, the global propagator and a tracer provider, and
// bind each unit of work inside its OTel span, here each request under
// otelhttp, which wraps each route inside the mux so that the span starts
// knowing its route, the transaction name:
//
//	sentry.Init(sentry.ClientOptions{
//		Dsn: os.Getenv("SENTRY_DSN"),
//		Integrations: func(is []sentry.Integration) []sentry.Integration {
//			return append(is, sentrylink.Integration())
//		},
//	})
//	otel.SetTextMapPropagator(propagator.Composite(propagator.WithDSN(os.Getenv("SENTRY_DSN"))))
//	otel.SetTracerProvider(tp) // sampling.New(...) as its sampler
//
//	mux.Handle("POST /orders", otelhttp.NewHandler(sentrylink.Middleware(orders), "POST /orders"))
//
// In a handler, sentry-go's own API then reports on the request's trace,
// and so do its logger and its slog handler (sentryslog, the module
// github.com/getsentry/sentry-go/slog):
//
//	sentry.GetHubFromContext(r.Context()).CaptureException(err)
//	sentry.NewLogger(r.Context()).Info().Emit("charged")
//	slog.New(sentryslog.Option{}.NewSentryHandler(context.Background())).InfoContext(r.Context(), "charged")
//
// CaptureException and CaptureMessage report on the span of any context,
// such as a child span's, without changing a shared scope:
//
//	sentrylink.CaptureException(ctx, err)
//
// # Integration and Bind
//
// Integration installs sentry-go's external trace resolver, which gives an
// event, a log or a metric the trace id and span id of the OTel span of the
// context sentry-go has for it. It does not touch the DSC: the envelope of
// an error still carries the DSC of the scope's own trace, or of a sentry-go
// transaction on the scope, and Sentry would sample the error apart from its
// trace. Bind sets the scope of the context's hub on the OTel trace, span
// and DSC, frozen as propagator.DSCFromContext returns it: the incoming DSC
// of a continued trace, or at the head of a trace the one Inject writes.
// The DSC is built from that map, never by sentry.ContinueTrace, whose
// baggage parser drops the whole DSC for one malformed member. Use both:
// Bind alone gives logs the trace id but not the span id, and the integration
// alone gives events the ids but the wrong DSC.
//
// # What cannot be linked
//
// The package-level functions, such as sentry.CaptureException(err) and
// sentry.CaptureMessage, report through the current hub and have no
// context: they stay on the global scope's trace, and so do the logs of
// sentry.NewLogger(context.Background()) written without WithCtx. So does a log written through sentry-go's slog
// handler with a context that holds no hub: the handler then uses the
// context it was created with. A hub bound for a request reports its
// server span; for a span below it, pass the span's context to
// CaptureException or CaptureMessage, or give logs the context. Log
// envelopes have no DSC in sentry-go, only the ids on each log.
// Transactions that sentry-go records itself (EnableTracing) are its own
// trace, not the OTel one; with OpenTelemetry tracing, spans go to Sentry
// through OTLP instead.
//
// The package lives in a module of its own so that the otelsentry module
// does not depend on sentry-go.
package sentrylink
