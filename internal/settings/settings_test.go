package settings_test

import (
	"context"
	"errors"
	"testing"

	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"

	"github.com/otelsentry/otelsentry/internal/settings"
	"github.com/otelsentry/otelsentry/propagator"
)

func TestReadPropagation(t *testing.T) {
	t.Setenv(settings.EnvDSN, "https://envkey@o7.ingest.sentry.io/1")
	t.Setenv(settings.EnvRelease, "env@1")
	t.Setenv(settings.EnvEnvironment, "staging")

	// Values given win over the environment, which fills the rest; the
	// caller's options come last.
	got, err := settings.ReadPropagation("", "given@2", "", []propagator.Option{propagator.WithOrgID("9")})
	if err != nil {
		t.Fatal(err)
	}
	if got.DSN.PublicKey != "envkey" || got.DSN.Host != "o7.ingest.sentry.io" {
		t.Errorf("DSN %+v", got.DSN)
	}
	sc := trace.NewSpanContext(trace.SpanContextConfig{TraceID: trace.TraceID{1}, SpanID: trace.SpanID{1}, TraceFlags: trace.FlagsSampled})
	ctx := trace.ContextWithSpanContext(context.Background(), sc)
	dsc := propagator.DSCFromContext(ctx, propagator.New(got.Options...))
	for k, want := range map[string]string{"public_key": "envkey", "release": "given@2", "environment": "staging", "org_id": "9"} {
		if dsc[k] != want {
			t.Errorf("%s = %q, want %q (DSC %v)", k, dsc[k], want, dsc)
		}
	}

	for _, bad := range []string{"not a dsn", "https://o1.ingest.sentry.io/1"} {
		t.Setenv(settings.EnvDSN, bad)
		if _, err := settings.ReadPropagation("", "", "", nil); !errors.Is(err, settings.ErrInvalidDSN) {
			t.Errorf("%q: %v, want ErrInvalidDSN", bad, err)
		}
	}

	// No DSN at all is no error: propagation works without one.
	t.Setenv(settings.EnvDSN, "")
	got, err = settings.ReadPropagation("", "", "", nil)
	if err != nil || got.DSN.Host != "" {
		t.Errorf("no DSN: %+v, %v", got.DSN, err)
	}
	c := propagation.MapCarrier{}
	propagator.New(got.Options...).Inject(ctx, c)
	if c.Get("sentry-trace") == "" {
		t.Errorf("no DSN: Inject wrote %v", c)
	}
}
