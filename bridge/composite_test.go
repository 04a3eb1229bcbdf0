package bridge_test

import (
	"context"
	"fmt"
	"maps"
	"net/http"
	"reflect"
	"testing"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/baggage"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"

	"github.com/otelsentry/otelsentry/bridge"
	"github.com/otelsentry/otelsentry/internal/vectors"
	"github.com/otelsentry/otelsentry/propagator"
)

// Setup installs propagator.Composite itself: for the same configuration,
// the global propagator and Composite extract the same contexts and write
// the same headers, and a request that gets no trace headers gets none
// from either.
func TestSetupInstallsComposite(t *testing.T) {
	const (
		dsn     = "http://" + vectors.K + "@127.0.0.1:9000/1"
		release = "shop@1.4.2"
	)
	targets := []propagator.Target{propagator.Substring("http://127.0.0.1:8080/api/")}
	tracer, _ := setup(t, bridge.WithDSN(dsn), bridge.WithRelease(release), bridge.WithSampleRate(1),
		bridge.WithPropagatorOptions(propagator.WithTracePropagationTargets(targets)))
	global := otel.GetTextMapPropagator()
	composite := propagator.Composite(propagator.WithDSN(dsn), propagator.WithRelease(release),
		propagator.WithTracePropagationTargets(targets))
	if got, want := fmt.Sprintf("%T %s", global, global), fmt.Sprintf("%T %s", composite, composite); got != want {
		t.Fatalf("Setup installed %s, want %s", got, want)
	}

	incoming := http.Header{
		"Traceparent":  {"00-" + vectors.A + "-b72fa28504b07285-01"},
		"Tracestate":   {"vendor=1"},
		"Sentry-Trace": {vectors.A + "-b72fa28504b07285-1"},
		"Baggage":      {"sentry-trace_id=" + vectors.A + ",sentry-sample_rate=0.5,sentry-sample_rand=0.25,sentry-release=web%401,other=x"},
	}
	fromGlobal := global.Extract(context.Background(), propagation.HeaderCarrier(incoming.Clone()))
	fromComposite := composite.Extract(context.Background(), propagation.HeaderCarrier(incoming.Clone()))
	if a, b := trace.SpanContextFromContext(fromGlobal), trace.SpanContextFromContext(fromComposite); !a.Equal(b) || !a.IsValid() {
		t.Errorf("span contexts %v and %v", a, b)
	}
	if a, b := baggageMembers(fromGlobal), baggageMembers(fromComposite); !maps.Equal(a, b) || len(a) == 0 {
		t.Errorf("OTel baggage %v and %v", a, b)
	}
	if a, b := propagator.DSCFromContext(fromGlobal, global), propagator.DSCFromContext(fromComposite, composite); !maps.Equal(a, b) || len(a) == 0 {
		t.Errorf("DSCs %v and %v", a, b)
	}

	continued, child := tracer.Start(fromGlobal, "GET /checkout")
	defer child.End()
	head, root := tracer.Start(context.Background(), "job")
	defer root.End()
	for _, trace := range []struct {
		name string
		ctx  context.Context
	}{{"continued", continued}, {"head of trace", head}} {
		for _, tt := range []struct {
			name    string
			ctx     func(context.Context) context.Context
			nothing bool
		}{
			{"allowed URL", withURL("http://127.0.0.1:8080/api/users"), false},
			{"excluded URL", withURL("http://127.0.0.1:8080/static/app.js"), true},
			{"the DSN's ingest", withURL("http://127.0.0.1:9000/api/1/envelope/"), true},
			{"no URL", func(ctx context.Context) context.Context { return ctx }, false},
			{"SuppressInject", propagator.SuppressInject, true},
		} {
			t.Run(trace.name+"/"+tt.name, func(t *testing.T) {
				ctx := tt.ctx(trace.ctx)
				a, b := http.Header{}, http.Header{}
				global.Inject(ctx, propagation.HeaderCarrier(a))
				composite.Inject(ctx, propagation.HeaderCarrier(b))
				if !reflect.DeepEqual(a, b) {
					t.Errorf("Setup's propagator wrote %v, Composite %v", a, b)
				}
				if tt.nothing && len(a) != 0 {
					t.Errorf("wrote %v, want no trace header at all", a)
				}
				if !tt.nothing && (a.Get("Sentry-Trace") == "" || a.Get("Traceparent") == "" || a.Get("Baggage") == "") {
					t.Errorf("wrote %v, want every trace header", a)
				}
			})
		}
	}
}

func withURL(url string) func(context.Context) context.Context {
	return func(ctx context.Context) context.Context { return propagator.ContextWithURL(ctx, url) }
}

// baggageMembers returns the OTel baggage of ctx as a map.
func baggageMembers(ctx context.Context) map[string]string {
	members := map[string]string{}
	for _, m := range baggage.FromContext(ctx).Members() {
		members[m.Key()] = m.Value()
	}
	return members
}
