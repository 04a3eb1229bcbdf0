package propagator_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"runtime"
	"strings"
	"testing"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/propagation"

	"github.com/otelsentry/otelsentry/dsn"
	"github.com/otelsentry/otelsentry/internal/protocol"
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

// TestOversizeInputIsCapped: however much baggage comes in, Extract reads
// a bounded part of it, so what it allocates does not grow with the input.
func TestOversizeInputIsCapped(t *testing.T) { // BG-8, ST-11
	p := propagator.New()
	allocated := func(values int) uint64 {
		big := make([]string, values)
		for i := range big {
			big[i] = "sentry-k" + strings.Repeat("x", 10<<10) + "=v"
		}
		c := propagation.HeaderCarrier{"Sentry-Trace": {T + "-" + S + "-1"}, "Baggage": big}
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		for range 10 {
			p.Extract(context.Background(), c)
		}
		runtime.ReadMemStats(&after)
		return (after.TotalAlloc - before.TotalAlloc) / 10
	}
	small, large := allocated(2), allocated(500) // 20 KB and 5 MB of baggage
	t.Logf("allocated %d and %d bytes per Extract", small, large)
	if large > 2*small+4096 || large > 64<<10 {
		t.Errorf("Extract allocated %d bytes for 5 MB of baggage, %d for 20 KB", large, small)
	}
}

// A nil Option is ignored, never a panic.
func TestNilOption(t *testing.T) {
	for _, p := range []propagation.TextMapPropagator{
		propagator.New(nil, propagator.WithRelease("r"), nil),
		propagator.Composite(nil, propagator.WithRelease("r")),
	} {
		if got := propagator.DSCFromContext(sampledRoot(t), p)["release"]; got != "r" {
			t.Errorf("release %q, want the option after nil applied", got)
		}
	}
}

// The decision has the values of the protocol's, which DecisionFromContext
// converts.
func TestDecisionValues(t *testing.T) {
	for d, want := range map[protocol.Decision]propagator.Decision{
		protocol.Deferred: propagator.Deferred, protocol.Sampled: propagator.Sampled, protocol.NotSampled: propagator.NotSampled,
	} {
		if propagator.Decision(d) != want {
			t.Errorf("protocol decision %d is %v, want %v", d, propagator.Decision(d), want)
		}
	}
}
