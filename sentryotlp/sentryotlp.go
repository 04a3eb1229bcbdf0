package sentryotlp

import (
	"errors"
	"fmt"

	"github.com/otelsentry/otelsentry/dsn"
)

// AuthHeader is the header that carries the DSN's public key.
const AuthHeader = "x-sentry-auth"

// ErrNoDSN is returned for an empty DSN. It is distinct from dsn.ErrInvalid
// because an unset SENTRY_DSN usually means "do not send to Sentry", which
// callers may want to tell apart from a mistyped one.
var ErrNoDSN = errors.New("sentryotlp: no Sentry DSN")

// The OTLP/HTTP paths Sentry accepts, below the project's API base URL.
const (
	tracesPath = "/integration/otlp/v1/traces"
	logsPath   = "/integration/otlp/v1/logs"
)

// TracesEndpoint returns the OTLP/HTTP traces endpoint of d's project,
// {scheme}://{host}[:{port}]/[{path}/]api/{project_id}/integration/otlp/v1/traces.
func TracesEndpoint(d dsn.DSN) string { return d.APIURL() + tracesPath }

// LogsEndpoint returns the OTLP/HTTP logs endpoint of d's project,
// {scheme}://{host}[:{port}]/[{path}/]api/{project_id}/integration/otlp/v1/logs.
func LogsEndpoint(d dsn.DSN) string { return d.APIURL() + logsPath }

// parse parses the DSN every exporter starts from. An empty DSN is refused
// rather than left to the OTLP exporters' defaults, which would send
// Sentry's data to a local collector, or nowhere, without a word.
func parse(s string) (dsn.DSN, error) {
	if s == "" {
		return dsn.DSN{}, ErrNoDSN
	}
	d, err := dsn.Parse(s)
	if err != nil {
		return dsn.DSN{}, fmt.Errorf("sentryotlp: %w", err)
	}
	return d, nil
}

// headers returns the headers that authenticate every OTLP request to d's
// project. A new map each time, since the exporters keep the map they are
// given.
func headers(d dsn.DSN) map[string]string {
	return map[string]string{AuthHeader: "sentry sentry_key=" + d.PublicKey}
}
