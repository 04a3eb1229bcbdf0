// Package sentryotlp exports OpenTelemetry spans to Sentry over OTLP/HTTP,
// configured from a DSN alone.
//
// A DSN such as https://public@o1.ingest.us.sentry.io/42 becomes the
// endpoint https://o1.ingest.us.sentry.io/api/42/integration/otlp/v1/traces
// with the header "x-sentry-auth: sentry sentry_key=public":
//
//	exporter, err := sentryotlp.New(ctx, os.Getenv("SENTRY_DSN"))
//	if err != nil {
//		return err
//	}
//	shutdown, err := bridge.Setup(ctx, bridge.WithSpanExporter(exporter))
//
// With an empty DSN the exporter follows the standard
// OTEL_EXPORTER_OTLP_* settings, so the same code can send to any OTLP
// collector. It lives in a module of its own so that the otelsentry module
// does not depend on the OTLP exporter.
package sentryotlp
