// Package sentryautoprop makes the Sentry propagator available to
// OTEL_PROPAGATORS under the name "sentry", through contrib's autoprop:
//
//	if err := sentryautoprop.Register(); err != nil {
//		return err
//	}
//	// OTEL_PROPAGATORS=tracecontext,baggage,sentry
//	otel.SetTextMapPropagator(autoprop.NewTextMapPropagator())
//
// List "sentry" after "baggage": autoprop composes in the listed order, and
// the Sentry propagator must inject after propagation.Baggage. Importing
// the package registers nothing; Register does, once. It lives in a module
// of its own so that the otelsentry module does not depend on autoprop.
//
// Two differences from bridge.Setup's propagator follow from autoprop
// composing the propagators: trace propagation targets restrict only the
// Sentry headers, not traceparent or tracestate; and "baggage" forwards
// every incoming baggage member, other vendors' included. Incoming Sentry
// members it forwards are replaced by the Sentry propagator's own, which
// is why "sentry" must follow it.
package sentryautoprop

import (
	"errors"
	"sync"

	"go.opentelemetry.io/contrib/propagators/autoprop"

	"github.com/otelsentry/otelsentry/bridge"
)

// Name is the OTEL_PROPAGATORS name of the Sentry propagator.
const Name = "sentry"

// ErrRegistered reports that the name is registered already, by an earlier
// Register or by other code.
var ErrRegistered = errors.New("sentryautoprop: " + Name + " is already registered")

var mu sync.Mutex

// Register registers, under Name, the Sentry propagator configured from
// the SENTRY_* environment variables and opts (see bridge.New). Invalid
// settings are errors wrapping the bridge's sentinel errors.
func Register(opts ...bridge.Option) error {
	mu.Lock()
	defer mu.Unlock()
	if _, err := autoprop.TextMapPropagator(Name); err == nil {
		return ErrRegistered
	}
	b, err := bridge.New(opts...)
	if err != nil {
		return err
	}
	autoprop.RegisterTextMapPropagator(Name, b.SentryPropagator())
	return nil
}
