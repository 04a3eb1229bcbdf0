package propagator_test

import (
	"bytes"
	"errors"
	"log/slog"
	"strings"
	"testing"

	"go.opentelemetry.io/otel"

	"github.com/otelsentry/otelsentry/dsn"
	"github.com/otelsentry/otelsentry/propagator"
)

type errorRecorder struct{ errs []error }

func (r *errorRecorder) Handle(err error) { r.errs = append(r.errs, err) }

func TestInvalidDSNIsReported(t *testing.T) {
	rec := &errorRecorder{}
	otel.SetErrorHandler(rec)
	t.Cleanup(func() { otel.SetErrorHandler(otel.ErrorHandlerFunc(func(error) {})) })

	p := propagator.New(propagator.WithDSN("https://host-without-key/1"), propagator.WithRelease("r"))
	if len(rec.errs) != 1 || !errors.Is(rec.errs[0], dsn.ErrInvalid) {
		t.Fatalf("reported %v, want one dsn.ErrInvalid", rec.errs)
	}
	// The invalid DSN is ignored: no public key, the rest of the options apply.
	got := sentryMembers(t, inject(sampledRoot(t), p).Get("baggage"))
	if _, ok := got["sentry-public_key"]; ok || got["sentry-release"] != "r" {
		t.Errorf("baggage %v", got)
	}
	propagator.New(propagator.WithDSN(""))
	if len(rec.errs) != 1 {
		t.Errorf("an empty DSN was reported: %v", rec.errs)
	}
}

func TestDebugLog(t *testing.T) {
	var buf bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	p := propagator.New(propagator.WithLogger(logger), propagator.WithOrgID("1"))
	extract(p, map[string]string{"sentry-trace": "xxx"})
	extract(p, map[string]string{"sentry-trace": T + "-" + S + "-0", "baggage": "sentry-sampled=true"})
	extract(p, map[string]string{"sentry-trace": T + "-" + S + "-1", "baggage": "sentry-org_id=2"})
	for _, want := range []string{"invalid sentry-trace", "flag decides", "another organization"} {
		if !strings.Contains(buf.String(), want) {
			t.Errorf("log lacks %q:\n%s", want, buf.String())
		}
	}
}
