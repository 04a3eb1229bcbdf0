package bridge_test

import (
	"context"
	"log/slog"
	"os"
	"testing"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/otelsentry/otelsentry/bridge"
)

// sentryEnv lists the settings Setup reads from the environment.
var sentryEnv = []string{"SENTRY_DSN", "SENTRY_RELEASE", "SENTRY_ENVIRONMENT", "SENTRY_TRACES_SAMPLE_RATE", "SENTRY_DEBUG",
	"OTEL_PROPAGATORS", "OTEL_TRACES_SAMPLER"}

// clearEnv unsets, for the test, the settings Setup reads, so that it does
// not see the machine's.
func clearEnv(t testing.TB) {
	t.Helper()
	for _, k := range sentryEnv {
		t.Setenv(k, "")
	}
}

// setup runs Setup with opts over an environment without settings, and
// shuts it down when the test ends. The package-level helpers then use its
// propagator; the returned tracer uses its sampler, and the recorder holds
// the spans it ended.
func setup(t testing.TB, opts ...bridge.Option) (trace.Tracer, *tracetest.SpanRecorder) {
	t.Helper()
	clearEnv(t)
	rec := tracetest.NewSpanRecorder()
	opts = append([]bridge.Option{bridge.WithLogger(slog.New(slog.DiscardHandler))}, opts...)
	shutdown, err := bridge.Setup(context.Background(), append(opts, bridge.WithSpanProcessor(rec))...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := shutdown(context.Background()); err != nil {
			t.Error(err)
		}
	})
	return otel.Tracer("test"), rec
}

// TestMain runs the package's tests and examples without the machine's
// settings, so that their outcomes do not depend on it.
func TestMain(m *testing.M) {
	for _, k := range sentryEnv {
		os.Unsetenv(k)
	}
	os.Exit(m.Run())
}
