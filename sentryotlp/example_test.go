package sentryotlp_test

import (
	"context"
	"fmt"

	"github.com/otelsentry/otelsentry/bridge"
	"github.com/otelsentry/otelsentry/sentryotlp"
)

func ExampleNew() {
	ctx := context.Background()
	exporter, err := sentryotlp.New(ctx, "https://public@o1.ingest.us.sentry.io/42")
	if err != nil {
		fmt.Println(err)
		return
	}
	// bridge.Setup(ctx, bridge.WithSpanExporter(exporter)) installs it.
	_ = bridge.WithSpanExporter(exporter)
	_ = exporter.Shutdown(ctx)
}
