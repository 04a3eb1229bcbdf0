package sentryotlp

import (
	"context"

	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
)

// New returns an OTLP/HTTP span exporter to the Sentry project of dsnString,
// sending to TracesEndpoint with the AuthHeader header.
//
// The exporter keeps a queue of its own: while the ingest is slow, down or
// answers with an error, spans wait there (as many as
// OTEL_BSP_MAX_QUEUE_SIZE, 2048 by default) while the OTLP exporter
// retries 429, 502, 503 and 504 with backoff, honouring Retry-After;
// connection errors are retried too. Other statuses (a 401, for a revoked
// key) are not retried. Spans dropped for lack of room or refused are
// counted and reported once per fault through otel.Handle, with their
// number; one refusal is reported when it happens, naming the project and
// the status.
// Shutdown sends what is queued until shortly before its context's
// deadline, and its error then wraps ErrNotSent and names the ingest's
// last answer.
//
// An empty DSN is an error, ErrNoDSN, and an invalid one an error wrapping
// dsn.ErrInvalid; in neither case is an exporter returned.
//
// opts are applied after the DSN's endpoint and header, so they can adjust
// the exporter (compression, retry); an option that sets the endpoint or
// the headers replaces the DSN's, which is how the spans go to an
// OpenTelemetry Collector instead. The exporter sends with an HTTP client
// of its own, which observes every request: 10 s a request, the proxy
// from the environment, the system's certificates. The OTLP exporter
// applies WithTimeout, WithTLSClientConfig and WithProxy only to a client
// it makes itself, so they do not apply here; otlptracehttp.WithHTTPClient
// replaces the client, and with it the retry of connection errors and the
// statuses in reports. The OTEL_EXPORTER_OTLP_* environment variables
// other than the endpoint, the headers, the timeout and the certificates
// apply as they do to otlptracehttp.New.
func New(ctx context.Context, dsnString string, opts ...otlptracehttp.Option) (sdktrace.SpanExporter, error) {
	d, err := parse(dsnString)
	if err != nil {
		return nil, err
	}
	state := newIngestState()
	exp, err := otlptracehttp.New(ctx, append([]otlptracehttp.Option{
		otlptracehttp.WithEndpointURL(TracesEndpoint(d)),
		otlptracehttp.WithHeaders(headers(d)),
		otlptracehttp.WithHTTPClient(newHTTPClient(state)),
	}, opts...)...)
	if err != nil {
		return nil, err
	}
	return newQueuedExporter(exp, state, d.ProjectID), nil
}
