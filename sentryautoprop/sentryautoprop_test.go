package sentryautoprop_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"go.opentelemetry.io/contrib/propagators/autoprop"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"

	"github.com/otelsentry/otelsentry/bridge"
	"github.com/otelsentry/otelsentry/sentryautoprop"
)

func TestRegister(t *testing.T) {
	if _, err := autoprop.TextMapPropagator(sentryautoprop.Name); err == nil {
		t.Fatal("registered on import")
	}
	t.Setenv("SENTRY_TRACES_SAMPLE_RATE", "nonsense")
	if err := sentryautoprop.Register(); !errors.Is(err, bridge.ErrInvalidSampleRate) {
		t.Fatalf("invalid settings: %v", err)
	}
	t.Setenv("SENTRY_TRACES_SAMPLE_RATE", "")
	t.Setenv("SENTRY_RELEASE", "autoprop@1")
	if err := sentryautoprop.Register(); err != nil {
		t.Fatal(err)
	}
	if err := sentryautoprop.Register(); !errors.Is(err, sentryautoprop.ErrRegistered) {
		t.Errorf("second Register: %v", err)
	}

	t.Setenv("OTEL_PROPAGATORS", "tracecontext,baggage,"+sentryautoprop.Name)
	p := autoprop.NewTextMapPropagator()
	ctx := p.Extract(context.Background(), propagation.MapCarrier{
		"sentry-trace": "771a43a4192642f0b136d5159a501700-b72fa28504b07285-1",
		"baggage":      "sentry-release=web,vendor=v",
	})
	if sc := trace.SpanContextFromContext(ctx); sc.TraceID().String() != "771a43a4192642f0b136d5159a501700" {
		t.Fatalf("not continued: %v", sc)
	}
	out := propagation.MapCarrier{}
	p.Inject(ctx, out)
	if out.Get("sentry-trace") != "771a43a4192642f0b136d5159a501700-b72fa28504b07285-1" || out.Get("traceparent") == "" {
		t.Errorf("injected %v", out)
	}
	if b := out.Get("baggage"); !strings.Contains(b, "sentry-release=web") || !strings.Contains(b, "vendor=v") {
		t.Errorf("baggage %q", b)
	}
}
