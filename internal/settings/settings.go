// Package settings reads the SENTRY_* environment variables that
// bridge.Setup and sentryautoprop.Register both take their configuration
// from, so that the two read them alike.
package settings

import (
	"errors"
	"fmt"
	"os"

	"github.com/otelsentry/otelsentry/dsn"
	"github.com/otelsentry/otelsentry/propagator"
)

// The SENTRY_* environment variables; an empty value counts as unset.
const (
	EnvDSN              = "SENTRY_DSN"
	EnvRelease          = "SENTRY_RELEASE"
	EnvEnvironment      = "SENTRY_ENVIRONMENT"
	EnvTracesSampleRate = "SENTRY_TRACES_SAMPLE_RATE"
	EnvDebug            = "SENTRY_DEBUG"
)

// ErrInvalidDSN reports a DSN that does not parse or has no public key.
var ErrInvalidDSN = errors.New("invalid DSN")

// Propagation is what the Sentry propagator takes from the settings.
type Propagation struct {
	// DSN is the parsed DSN, zero when none is set.
	DSN dsn.DSN
	// Options configure the propagator: the DSN, release and environment,
	// then the options the caller gave.
	Options []propagator.Option
}

// ReadPropagation returns the propagator's settings: dsnString, release
// and environment as given, each read from its SENTRY_* variable when
// empty, followed by opts. The DSN is parsed once, here; an invalid one is
// an error wrapping ErrInvalidDSN.
func ReadPropagation(dsnString, release, environment string, opts []propagator.Option) (Propagation, error) {
	dsnString = orEnv(dsnString, EnvDSN)
	withDSN := propagator.WithDSN(dsnString)
	// WithDSN's option parses the DSN when it is made and tells the
	// result, so that nothing parses it a second time.
	d, err := withDSN.(interface{ ParsedDSN() (dsn.DSN, error) }).ParsedDSN()
	if err != nil {
		return Propagation{}, fmt.Errorf("%w: %w", ErrInvalidDSN, err)
	}
	return Propagation{
		DSN: d,
		Options: append([]propagator.Option{
			withDSN,
			propagator.WithRelease(orEnv(release, EnvRelease)),
			propagator.WithEnvironment(orEnv(environment, EnvEnvironment)),
		}, opts...),
	}, nil
}

// orEnv returns value, or the variable name's value when value is empty.
func orEnv(value, name string) string {
	if value == "" {
		return os.Getenv(name)
	}
	return value
}
