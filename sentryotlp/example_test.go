package sentryotlp_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"os"

	"go.opentelemetry.io/otel"
	sdklog "go.opentelemetry.io/otel/sdk/log"

	"github.com/otelsentry/otelsentry/bridge"
	"github.com/otelsentry/otelsentry/dsn"
	"github.com/otelsentry/otelsentry/sentryotlp"
)

func ExampleNew() {
	ctx := context.Background()
	exporter, err := sentryotlp.New(ctx, os.Getenv("SENTRY_DSN"))
	if err != nil {
		log.Fatal(err)
	}
	shutdown, err := bridge.Setup(ctx, bridge.WithSpanExporter(exporter))
	if err != nil {
		log.Fatal(err)
	}
	defer func() { _ = shutdown(ctx) }()
}

// A service that reports to Sentry only when SENTRY_DSN is set tells an
// unset DSN, ErrNoDSN, from a mistyped one.
func ExampleNew_optional() {
	ctx := context.Background()
	for _, s := range []string{"", "https://o1.ingest.us.sentry.io/42"} {
		_, err := sentryotlp.New(ctx, s)
		switch {
		case errors.Is(err, sentryotlp.ErrNoDSN):
			fmt.Println("no DSN: spans stay in the process")
		case errors.Is(err, dsn.ErrInvalid):
			fmt.Println("invalid DSN:", err)
		}
	}
	// Output:
	// no DSN: spans stay in the process
	// invalid DSN: sentryotlp: dsn: invalid Sentry DSN: missing public key
}

func ExampleNewLogExporter() {
	ctx := context.Background()
	exporter, err := sentryotlp.NewLogExporter(ctx, os.Getenv("SENTRY_DSN"))
	if err != nil {
		log.Fatal(err)
	}
	provider := sdklog.NewLoggerProvider(sdklog.WithProcessor(sdklog.NewBatchProcessor(exporter)))
	defer func() { _ = provider.Shutdown(ctx) }()
	// Log bridges (otelslog, otelzap, ...) emit through the global provider;
	// records emitted with a span's context are linked to its trace.
	otel.SetLoggerProvider(provider)
}

func ExampleTracesEndpoint() {
	d, err := dsn.Parse("https://public@o1.ingest.us.sentry.io/42")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(sentryotlp.TracesEndpoint(d))
	// Output: https://o1.ingest.us.sentry.io/api/42/integration/otlp/v1/traces
}

func ExampleLogsEndpoint() {
	d, err := dsn.Parse("https://public@sentry.example.com:8443/self-hosted/42")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(sentryotlp.LogsEndpoint(d))
	// Output: https://sentry.example.com:8443/self-hosted/api/42/integration/otlp/v1/logs
}
