package sentryautoprop_test

import (
	"fmt"
	"os"

	"go.opentelemetry.io/contrib/propagators/autoprop"
	"go.opentelemetry.io/otel"

	"github.com/otelsentry/otelsentry/sentryautoprop"
)

func ExampleRegister() {
	if err := sentryautoprop.Register(); err != nil {
		fmt.Println(err)
		return
	}
	os.Setenv("OTEL_PROPAGATORS", "tracecontext,baggage,sentry")
	otel.SetTextMapPropagator(autoprop.NewTextMapPropagator())
}
