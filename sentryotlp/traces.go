package sentryotlp

import (
	"context"

	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
)

// New returns an OTLP/HTTP span exporter to the Sentry project of dsnString,
// sending to TracesEndpoint with the AuthHeader header.
//
// An empty DSN is an error, ErrNoDSN, and an invalid one an error wrapping
// dsn.ErrInvalid; in neither case is an exporter returned.
//
// opts are applied after the DSN's endpoint and header, so they can adjust
// the exporter (timeout, compression, retry, TLS); an option that sets the
// endpoint or the headers replaces the DSN's. The OTEL_EXPORTER_OTLP_*
// environment variables other than the endpoint and the headers apply as
// they do to otlptracehttp.New.
func New(ctx context.Context, dsnString string, opts ...otlptracehttp.Option) (sdktrace.SpanExporter, error) {
	d, err := parse(dsnString)
	if err != nil {
		return nil, err
	}
	// The explicit nil keeps a failed exporter from becoming a non-nil
	// interface holding a nil pointer.
	exp, err := otlptracehttp.New(ctx, append([]otlptracehttp.Option{
		otlptracehttp.WithEndpointURL(TracesEndpoint(d)),
		otlptracehttp.WithHeaders(headers(d)),
	}, opts...)...)
	if err != nil {
		return nil, err
	}
	return exp, nil
}
