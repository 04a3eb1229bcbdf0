// Package sentryautoprop makes the Sentry propagator available to
// OTEL_PROPAGATORS under the name "sentry", through contrib's autoprop:
//
//	if err := sentryautoprop.Register(); err != nil {
//		return err
//	}
//	// OTEL_PROPAGATORS=tracecontext,baggage,sentry
//	otel.SetTextMapPropagator(autoprop.NewTextMapPropagator())
//
// Importing the package registers nothing; Register does, once, however
// many goroutines call it. It lives in a module of its own so that the
// otelsentry module does not depend on autoprop.
//
// List "sentry" after "baggage": autoprop composes in the listed order, and
// propagation.Baggage's Inject replaces the whole baggage header, erasing
// the Sentry members written before it. Register reports the wrong order
// through otel.Handle, as an error wrapping ErrPropagatorOrder.
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
	"fmt"
	"os"
	"strings"
	"sync"

	"go.opentelemetry.io/contrib/propagators/autoprop"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/propagation"

	"github.com/otelsentry/otelsentry/internal/settings"
	"github.com/otelsentry/otelsentry/propagator"
)

// Name is the OTEL_PROPAGATORS name of the Sentry propagator.
const Name = "sentry"

// ErrRegistered reports that the name is registered already, by an earlier
// Register or by other code.
var ErrRegistered = errors.New("sentryautoprop: " + Name + " is already registered")

// ErrPropagatorOrder is reported through otel.Handle when OTEL_PROPAGATORS
// lists Name before "baggage".
var ErrPropagatorOrder = errors.New("sentryautoprop: OTEL_PROPAGATORS lists " + Name +
	" before baggage, whose Inject erases the Sentry baggage members; list " + Name + " after baggage")

// envPropagators is the variable autoprop.NewTextMapPropagator reads.
const envPropagators = "OTEL_PROPAGATORS"

// mu makes the check for an earlier registration and the registration one
// step: contrib panics on a second registration of a name.
var mu sync.Mutex

// Register registers, under Name, the Sentry propagator (propagator.New)
// configured from SENTRY_DSN, SENTRY_RELEASE and SENTRY_ENVIRONMENT, read
// as bridge.Setup reads them, followed by opts.
//
// An invalid DSN is an error wrapping bridge.ErrInvalidDSN, on every call.
// Only the first successful call registers; later ones, from any
// goroutine, change nothing and return ErrRegistered, which code that may
// run more than once can ignore. ErrRegistered is also returned when other
// code registered the name first.
//
// Each call also checks OTEL_PROPAGATORS and reports, through otel.Handle,
// an error wrapping ErrPropagatorOrder when it lists Name before "baggage";
// the propagator is registered all the same, since the setting is the
// operator's to fix.
func Register(opts ...propagator.Option) error {
	if err := checkOrder(os.Getenv(envPropagators)); err != nil {
		otel.Handle(err)
	}
	// Settings first, so that a bad one is reported even after the name
	// is registered.
	prop, err := settings.ReadPropagation("", "", "", opts)
	if err != nil {
		return fmt.Errorf("sentryautoprop: %w", err)
	}
	mu.Lock()
	defer mu.Unlock()
	if _, err := autoprop.TextMapPropagator(Name); err == nil {
		return ErrRegistered
	}
	return register(propagator.New(prop.Options...))
}

// register registers p. Code outside this package may register the name
// between the check and this call; contrib's panic for that is turned into
// ErrRegistered.
func register(p propagation.TextMapPropagator) (err error) {
	defer func() {
		if recover() != nil {
			err = ErrRegistered
		}
	}()
	autoprop.RegisterTextMapPropagator(Name, p)
	return nil
}

// checkOrder returns an error wrapping ErrPropagatorOrder when the
// OTEL_PROPAGATORS value env would run the Sentry propagator's Inject
// before the last propagation.Baggage one.
func checkOrder(env string) error {
	sentry, baggage := -1, -1
	for i, name := range strings.Split(env, ",") {
		switch strings.TrimSpace(name) {
		case "none":
			return nil // autoprop then installs no propagator at all
		case Name:
			sentry = i
		case "baggage":
			baggage = i
		}
	}
	if sentry >= 0 && baggage > sentry {
		return fmt.Errorf("%w: %s=%q", ErrPropagatorOrder, envPropagators, env)
	}
	return nil
}
