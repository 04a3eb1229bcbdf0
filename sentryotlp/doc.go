// Package sentryotlp exports OpenTelemetry spans and logs to Sentry over
// OTLP/HTTP, configured from a DSN alone.
//
// A DSN
//
//	{scheme}://{public_key}@{host}[:{port}]/[{path}/]{project_id}
//
// such as https://public@o1.ingest.us.sentry.io/42 gives the endpoints
//
//	https://o1.ingest.us.sentry.io/api/42/integration/otlp/v1/traces
//	https://o1.ingest.us.sentry.io/api/42/integration/otlp/v1/logs
//
// and every request carries the header
//
//	x-sentry-auth: sentry sentry_key=public
//
// Spans go through New, logs through NewLogExporter:
//
//	spans, err := sentryotlp.New(ctx, os.Getenv("SENTRY_DSN"))
//	if err != nil {
//		return err
//	}
//	logs, err := sentryotlp.NewLogExporter(ctx, os.Getenv("SENTRY_DSN"))
//	if err != nil {
//		return err
//	}
//	shutdown, err := bridge.Setup(ctx, bridge.WithSpanExporter(spans))
//	...
//	provider := sdklog.NewLoggerProvider(sdklog.WithProcessor(sdklog.NewBatchProcessor(logs)))
//
// An empty DSN is the error ErrNoDSN, an invalid one an error wrapping
// dsn.ErrInvalid: the exporters never fall back to the OTLP defaults, which
// would send the data to a collector on localhost, or nowhere, while the
// service believes it reports to Sentry. A service that exports to Sentry
// only when SENTRY_DSN is set checks for ErrNoDSN.
//
// The span exporter holds spans in a bounded queue of its own while the
// ingest is slow, down or refusing, retries with backoff (connection
// errors too, which the OTLP exporter alone gives up on at once), and
// reports what it drops once per fault through otel.Handle; see New. Its
// options can point it at an OpenTelemetry Collector instead, keeping all
// of that:
//
//	spans, err := sentryotlp.New(ctx, dsn, otlptracehttp.WithEndpointURL("http://collector:4318/v1/traces"))
//
// There is no constructor for an exporter configured by the
// OTEL_EXPORTER_OTLP_* environment variables alone: otlptracehttp.New and
// otlploghttp.New are exactly that, and nothing in them is specific to
// Sentry. Call them directly to send to another OTLP collector.
//
// The package lives in a module of its own so that the otelsentry module
// does not depend on the OTLP exporters.
package sentryotlp
