package sentryotlp

import (
	"context"
	"fmt"

	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/otelsentry/otelsentry/dsn"
)

// tracesPath follows the project's API base URL.
const tracesPath = "/integration/otlp/v1/traces"

// AuthHeader is the header that carries the DSN's public key.
const AuthHeader = "x-sentry-auth"

// New returns an OTLP/HTTP span exporter to the Sentry project of dsnString
// (API-12), or, for an empty DSN, one configured by the standard
// OTEL_EXPORTER_OTLP_* environment variables. opts are applied after the
// DSN's endpoint and header. An invalid DSN is an error wrapping
// dsn.ErrInvalid.
func New(ctx context.Context, dsnString string, opts ...otlptracehttp.Option) (sdktrace.SpanExporter, error) {
	if dsnString == "" {
		return otlptracehttp.New(ctx, opts...)
	}
	d, err := dsn.Parse(dsnString)
	if err != nil {
		return nil, fmt.Errorf("sentryotlp: %w", err)
	}
	return otlptracehttp.New(ctx, append([]otlptracehttp.Option{
		otlptracehttp.WithEndpointURL(Endpoint(d)),
		otlptracehttp.WithHeaders(map[string]string{AuthHeader: "sentry sentry_key=" + d.PublicKey}),
	}, opts...)...)
}

// Endpoint returns the OTLP traces endpoint of d's project.
func Endpoint(d dsn.DSN) string { return d.APIURL() + tracesPath }
