package sentryotlp

import (
	"context"

	"go.opentelemetry.io/otel/exporters/otlp/otlplog/otlploghttp"
	sdklog "go.opentelemetry.io/otel/sdk/log"
)

// NewLogExporter returns an OTLP/HTTP log exporter to the Sentry project of
// dsnString, sending to LogsEndpoint with the AuthHeader header. Sentry
// links each log record to its trace through the record's trace and span
// ids, which the log SDK takes from the context passed to Emit.
//
// An empty DSN is an error, ErrNoDSN, and an invalid one an error wrapping
// dsn.ErrInvalid; in neither case is an exporter returned.
//
// opts are applied after the DSN's endpoint and header, as for New.
func NewLogExporter(ctx context.Context, dsnString string, opts ...otlploghttp.Option) (sdklog.Exporter, error) {
	d, err := parse(dsnString)
	if err != nil {
		return nil, err
	}
	// The explicit nil keeps a failed exporter from becoming a non-nil
	// interface holding a nil pointer.
	exp, err := otlploghttp.New(ctx, append([]otlploghttp.Option{
		otlploghttp.WithEndpointURL(LogsEndpoint(d)),
		otlploghttp.WithHeaders(headers(d)),
	}, opts...)...)
	if err != nil {
		return nil, err
	}
	return exp, nil
}
