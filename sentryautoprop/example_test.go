package sentryautoprop_test

import (
	"errors"
	"fmt"
	"log"
	"os"
	"slices"

	"go.opentelemetry.io/contrib/propagators/autoprop"
	"go.opentelemetry.io/otel"

	"github.com/otelsentry/otelsentry/propagator"
	"github.com/otelsentry/otelsentry/sentryautoprop"
)

func ExampleRegister() {
	// ErrRegistered only says that an earlier call registered the name.
	err := sentryautoprop.Register(propagator.WithRelease("api@2.0.0"))
	if err != nil && !errors.Is(err, sentryautoprop.ErrRegistered) {
		log.Fatal(err)
	}
	// With OTEL_PROPAGATORS=tracecontext,baggage,sentry in the environment,
	// autoprop.NewTextMapPropagator() composes the same propagator.
	p, err := autoprop.TextMapPropagator("tracecontext", "baggage", sentryautoprop.Name)
	if err != nil {
		log.Fatal(err)
	}
	otel.SetTextMapPropagator(p)
	fields := p.Fields()
	slices.Sort(fields)
	fmt.Println(fields)
	// Output: [baggage sentry-trace traceparent tracestate]
}

// Register reports an OTEL_PROPAGATORS that lists sentry before baggage
// through otel.Handle; a service that would rather not start with it
// checks for ErrPropagatorOrder in its error handler.
func ExampleRegister_propagatorOrder() {
	// As if the service were started with the wrong order.
	prevEnv, hadEnv := os.LookupEnv("OTEL_PROPAGATORS")
	_ = os.Setenv("OTEL_PROPAGATORS", "tracecontext,sentry,baggage")
	prevHandler := otel.GetErrorHandler()
	defer func() {
		otel.SetErrorHandler(prevHandler)
		if hadEnv {
			_ = os.Setenv("OTEL_PROPAGATORS", prevEnv)
		} else {
			_ = os.Unsetenv("OTEL_PROPAGATORS")
		}
	}()

	otel.SetErrorHandler(otel.ErrorHandlerFunc(func(err error) {
		if errors.Is(err, sentryautoprop.ErrPropagatorOrder) {
			fmt.Println("configuration error:", err)
		}
	}))
	if err := sentryautoprop.Register(); err != nil && !errors.Is(err, sentryautoprop.ErrRegistered) {
		log.Fatal(err)
	}
	// Output: configuration error: sentryautoprop: OTEL_PROPAGATORS lists sentry before baggage, whose Inject erases the Sentry baggage members; list sentry after baggage: OTEL_PROPAGATORS="tracecontext,sentry,baggage"
}
