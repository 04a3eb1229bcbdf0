package sentrylink_test

import (
	"context"
	"maps"
	"net/http"
	"testing"

	"github.com/getsentry/sentry-go"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/propagation"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"

	"github.com/otelsentry/otelsentry/propagator"
	"github.com/otelsentry/otelsentry/sampling"
	"github.com/otelsentry/otelsentry/sentrylink"
)

const (
	incomingTraceID = "771a43a4192642f0b136d5159a501700"
	incomingSpanID  = "b0e6f15b45c36b12"
)

// incoming are the headers of a trace that a Sentry SDK started upstream:
// a third-party baggage member, which must never reach the DSC, and a
// malformed one, on which sentry-go's own baggage parser gives up the whole
// header.
var incoming = http.Header{
	"Sentry-Trace": {incomingTraceID + "-" + incomingSpanID + "-1"},
	"Baggage": {"vendor=opaque,sentry-trace_id=" + incomingTraceID +
		",sentry-public_key=webkey,sentry-release=web%401.0,sentry-environment=prod" +
		",sentry-sample_rate=0.5,sentry-sample_rand=0.25,sentry-sampled=true" +
		",sentry-transaction=GET%20%2Fpage,bad member"},
}

// incomingDSC is the DSC of incoming, decoded: the frozen DSC that every
// envelope of the continued trace must carry.
var incomingDSC = map[string]string{
	"trace_id":    incomingTraceID,
	"public_key":  "webkey",
	"release":     "web@1.0",
	"environment": "prod",
	"sample_rate": "0.5",
	"sample_rand": "0.25",
	"sampled":     "true",
	"transaction": "GET /page",
}

// world is one test's Sentry client, fake ingest and OTel setup.
type world struct {
	in     *ingest
	client *sentry.Client
	tracer trace.Tracer
}

// config is the sentry-go side of a world.
type config struct {
	tracing bool // sentry-go's EnableTracing, with every transaction sampled
	linked  bool // sentrylink.Integration installed
}

func (c config) name() string {
	n := "tracing=off"
	if c.tracing {
		n = "tracing=on"
	}
	if c.linked {
		return n + "/integration"
	}
	return n + "/no-integration"
}

var configs = []config{{false, false}, {false, true}, {true, false}, {true, true}}

// newWorld installs, for t, the global propagator (propagator.Composite),
// a tracer provider that samples every trace it decides, and a sentry-go
// client reporting to a fake ingest, bound to the current hub.
func newWorld(t *testing.T, c config) *world {
	t.Helper()
	in := newIngest(t)
	client, err := sentry.NewClient(sentry.ClientOptions{
		Dsn:              in.dsn(),
		Release:          "api@2.0",
		Environment:      "test",
		EnableTracing:    c.tracing,
		TracesSampleRate: 1,
		Integrations: func(is []sentry.Integration) []sentry.Integration {
			if c.linked {
				is = append(is, sentrylink.Integration())
			}
			return is
		},
	})
	if err != nil {
		t.Fatal(err)
	}

	prevProp, prevTP := otel.GetTextMapPropagator(), otel.GetTracerProvider()
	otel.SetTextMapPropagator(propagator.Composite(
		propagator.WithDSN(in.dsn()),
		propagator.WithRelease("api@2.0"),
		propagator.WithEnvironment("test"),
	))
	tp := sdktrace.NewTracerProvider(sdktrace.WithSampler(sampling.New(sampling.WithSampleRate(1))))
	otel.SetTracerProvider(tp)

	hub := sentry.CurrentHub()
	prevClient := hub.Client()
	hub.BindClient(client)

	t.Cleanup(func() {
		hub.BindClient(prevClient)
		otel.SetTextMapPropagator(prevProp)
		otel.SetTracerProvider(prevTP)
		ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
		defer cancel()
		_ = tp.Shutdown(ctx)
		client.Close()
	})
	return &world{in: in, client: client, tracer: tp.Tracer("sentrylink_test")}
}

// flush sends what the client holds, waiting at most waitTimeout.
func (w *world) flush(t *testing.T) {
	t.Helper()
	if !w.client.Flush(waitTimeout) {
		t.Fatalf("flush: not done after %v", waitTimeout)
	}
}

// newHub returns a hub of w's client on a fresh scope, on a context; with
// sentry-go tracing on, a sentry-go transaction is left on its scope, as
// sentryhttp leaves one, which must not decide the trace of an error.
func (w *world) newHub(c config) (context.Context, *sentry.Hub) {
	hub := sentry.NewHub(w.client, sentry.NewScope())
	ctx := sentry.SetHubOnContext(context.Background(), hub)
	if c.tracing {
		sentry.StartTransaction(ctx, "leftover")
	}
	return ctx, hub
}

// continued returns ctx continuing incoming, as a server does.
func continued(ctx context.Context) context.Context {
	return otel.GetTextMapPropagator().Extract(ctx, propagation.HeaderCarrier(incoming))
}

// ids returns the trace and span ids of ctx's span context.
func ids(ctx context.Context) (string, string) {
	sc := trace.SpanContextFromContext(ctx)
	return sc.TraceID().String(), sc.SpanID().String()
}

func checkDSC(t *testing.T, what string, got, want map[string]string) {
	t.Helper()
	if !maps.Equal(got, want) {
		t.Errorf("%s:\n got  %v\n want %v", what, got, want)
	}
}

// withTimeout returns a context that ends after waitTimeout.
func withTimeout(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	t.Cleanup(cancel)
	return ctx
}
