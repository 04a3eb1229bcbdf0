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
// Jobs and messages carry the trace in their metadata (the global
// propagator's Inject into a propagation.MapCarrier or a MessageCarrier,
// then ContinueTraceFromCarrier with the same carrier), subprocesses in
// SENTRY_TRACE and SENTRY_BAGGAGE (InjectEnv, then ContinueTraceFromEnv).
// Logs written through Logger, with log exporters given to Setup
// (sentryotlp.NewLogExporter sends them to Sentry), carry the trace and
// span they were written in.
//
// Without a traces sample rate (WithSampleRate, SENTRY_TRACES_SAMPLE_RATE)
// or a traces sampler, no span is sent, as the Sentry SDKs send none;
// traces are continued and propagated with the decision they came with,
// and those this service starts stay undecided for a later service.
//
// The helpers work with the global propagator as it is when they are
// called: the one Setup installs, propagator.Composite, or, for services
// that wire OpenTelemetry themselves, any composite with the Sentry
// propagator. Nothing is read ahead of time.
//
// Trace propagation targets, given with WithPropagatorOptions, keep every
// trace header, W3C ones included, off requests to other hosts. Wrap the
// client's transport so that they apply to every request, sampled or not:
//
//	client := &http.Client{Transport: bridge.NewTransport(otelhttp.NewTransport(http.DefaultTransport))}
package bridge
