// Package bridge gives OpenTelemetry services the trace API of the Sentry
// SDKs: continue a trace from incoming headers, job metadata or environment
// variables, get the sentry-trace and baggage values for outgoing
// requests, render them as HTML meta tags, and set everything up in one
// call from the usual SENTRY_* settings.
//
// Setup reads SENTRY_DSN, SENTRY_RELEASE, SENTRY_ENVIRONMENT and
// SENTRY_TRACES_SAMPLE_RATE (options take precedence) and installs the
// global propagator and tracer provider:
//
//	exporter, err := sentryotlp.New(ctx, os.Getenv("SENTRY_DSN")) // nested module
//	if err != nil {
//		return err
//	}
//	shutdown, err := bridge.Setup(ctx, bridge.WithSpanExporter(exporter))
//	if err != nil {
//		return err
//	}
//	defer shutdown(context.Background())
//
// Then each of the Sentry SDK's snippets is one call. Continue an incoming
// trace where no instrumentation does it for you:
//
//	ctx = bridge.ContinueTrace(ctx, r.Header.Get("sentry-trace"), r.Header.Get("baggage"))
//	ctx, span := tracer.Start(ctx, "process")
//
// Send the trace on by hand:
//
//	req.Header.Set("sentry-trace", bridge.Traceparent(ctx))
//	req.Header.Set("baggage", bridge.Baggage(ctx))
//
// Continue it in the browser, from a page rendered on the server with
// html/template:
//
//	<head>{{ .SentryMetaTags }}</head>  // SentryMetaTags: bridge.MetaTags(ctx)
//
// Jobs and messages carry the trace in their metadata (Inject with
// propagation.MapCarrier or a MessageCarrier, then ContinueTraceFromMetadata
// or ContinueTraceFromCarrier), subprocesses in SENTRY_TRACE and
// SENTRY_BAGGAGE (InjectEnv, then ContinueTraceFromEnv).
//
// Trace propagation targets (WithTracePropagationTargets) keep every trace
// header, W3C ones included, off requests to other hosts; wrap otelhttp's
// transport in NewTransport so they apply to unsampled requests too.
//
// New returns the same configuration without installing anything, with the
// helpers as methods, for services that wire OpenTelemetry themselves. The
// package-level helpers use the configuration Setup installed, or, before
// Setup, one built from the SENTRY_* environment variables alone (from
// none, where those are invalid).
package bridge
