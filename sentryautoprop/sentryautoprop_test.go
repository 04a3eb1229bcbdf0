package sentryautoprop_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"

	"go.opentelemetry.io/contrib/propagators/autoprop"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"

	"github.com/otelsentry/otelsentry/bridge"
	"github.com/otelsentry/otelsentry/sentryautoprop"
)

// TestMain checks, before any test registers it, that importing the
// package registers nothing.
func TestMain(m *testing.M) {
	if _, err := autoprop.TextMapPropagator(sentryautoprop.Name); err == nil {
		fmt.Fprintln(os.Stderr, sentryautoprop.Name, "registered on import")
		os.Exit(1)
	}
	os.Exit(m.Run())
}

// registered reports whether Name is known to autoprop.
func registered() bool {
	_, err := autoprop.TextMapPropagator(sentryautoprop.Name)
	return err == nil
}

// mustRegister registers the propagator unless an earlier test did.
func mustRegister(t *testing.T) {
	t.Helper()
	if err := sentryautoprop.Register(); err != nil && !errors.Is(err, sentryautoprop.ErrRegistered) {
		t.Fatal(err)
	}
}

// TestRegisterConcurrent calls Register from 16 goroutines at once: one
// registers, the others get ErrRegistered, and none panics (contrib panics
// on a second registration of a name).
func TestRegisterConcurrent(t *testing.T) {
	t.Setenv("SENTRY_RELEASE", "autoprop@1")
	before := registered()
	const n = 16
	var (
		start sync.WaitGroup
		done  sync.WaitGroup
		errs  = make([]error, n)
	)
	start.Add(1)
	for i := range n {
		done.Go(func() {
			start.Wait()
			errs[i] = sentryautoprop.Register()
		})
	}
	start.Done()
	done.Wait()

	succeeded := 0
	for _, err := range errs {
		switch {
		case err == nil:
			succeeded++
		case !errors.Is(err, sentryautoprop.ErrRegistered):
			t.Errorf("Register: %v", err)
		}
	}
	want := 1
	if before {
		want = 0 // an earlier test registered it
	}
	if succeeded != want {
		t.Errorf("%d calls registered, want %d", succeeded, want)
	}
	if !registered() {
		t.Error("not registered")
	}
	if err := sentryautoprop.Register(); !errors.Is(err, sentryautoprop.ErrRegistered) {
		t.Errorf("later Register: %v", err)
	}
}

func TestRegisterInvalidSettings(t *testing.T) {
	for range 2 { // before and after a registration alike
		t.Setenv("SENTRY_DSN", "https://o1.ingest.sentry.io/1") // no public key
		if err := sentryautoprop.Register(); !errors.Is(err, bridge.ErrInvalidDSN) {
			t.Fatalf("invalid settings: %v", err)
		}
		t.Setenv("SENTRY_DSN", "")
		if err := sentryautoprop.Register(); err != nil && !errors.Is(err, sentryautoprop.ErrRegistered) {
			t.Fatal(err)
		}
	}
}

// TestAutoprop continues a Sentry trace through OTEL_PROPAGATORS and sends
// it on.
func TestAutoprop(t *testing.T) {
	t.Setenv("SENTRY_RELEASE", "autoprop@1")
	mustRegister(t)
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

// errorRecorder collects what otel.Handle reports.
type errorRecorder struct {
	mu   sync.Mutex
	errs []error
}

func (r *errorRecorder) Handle(err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.errs = append(r.errs, err)
}

// TestPropagatorOrder checks that Register reports an OTEL_PROPAGATORS that
// lists sentry before baggage, and shows why: the baggage propagator's
// Inject erases the Sentry members.
func TestPropagatorOrder(t *testing.T) {
	rec := &errorRecorder{}
	prev := otel.GetErrorHandler()
	otel.SetErrorHandler(rec)
	t.Cleanup(func() { otel.SetErrorHandler(prev) })

	for _, tt := range []struct {
		env  string
		warn bool
	}{
		{"", false},
		{"tracecontext,baggage,sentry", false},
		{"sentry", false},
		{"tracecontext,sentry", false},
		{"baggage,tracecontext", false},
		{"sentry,baggage,sentry", false}, // the last Sentry Inject merges again
		{"sentry,baggage,none", false},   // autoprop installs no propagator
		{"tracecontext,sentry,baggage", true},
		{"sentry,baggage", true},
		{"baggage,sentry,baggage", true},
		{"tracecontext, sentry, baggage", true},
	} {
		t.Run(tt.env, func(t *testing.T) {
			rec.errs = nil
			t.Setenv("OTEL_PROPAGATORS", tt.env)
			mustRegister(t)
			var found []error
			for _, err := range rec.errs {
				if errors.Is(err, sentryautoprop.ErrPropagatorOrder) {
					found = append(found, err)
				}
			}
			if tt.warn && (len(found) != 1 || !strings.Contains(found[0].Error(), tt.env)) {
				t.Errorf("reported %v, want one ErrPropagatorOrder naming %q", rec.errs, tt.env)
			}
			if !tt.warn && len(found) != 0 {
				t.Errorf("reported %v", found)
			}
		})
	}

	// What the warning is about: a service continuing a W3C trace
	// sends the Sentry members only when sentry follows baggage.
	in := propagation.MapCarrier{
		"traceparent": "00-771a43a4192642f0b136d5159a501700-b72fa28504b07285-01",
		"baggage":     "vendor=v",
	}
	for _, tt := range []struct {
		env  string
		want bool
	}{
		{"tracecontext,baggage," + sentryautoprop.Name, true},
		{"tracecontext," + sentryautoprop.Name + ",baggage", false},
	} {
		t.Setenv("OTEL_PROPAGATORS", tt.env)
		p := autoprop.NewTextMapPropagator()
		out := propagation.MapCarrier{}
		p.Inject(p.Extract(context.Background(), in), out)
		b := out.Get("baggage")
		if got := strings.Contains(b, "sentry-trace_id=771a43a4192642f0b136d5159a501700"); got != tt.want || !strings.Contains(b, "vendor=v") {
			t.Errorf("%s: baggage %q", tt.env, b)
		}
	}
}
