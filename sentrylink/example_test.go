package sentrylink_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"log/slog"
	"maps"
	"net/http"
	"os"
	"slices"
	"time"

	"github.com/getsentry/sentry-go"
	sentryslog "github.com/getsentry/sentry-go/slog"
	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/propagation"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/otelsentry/otelsentry/propagator"
	"github.com/otelsentry/otelsentry/sampling"
	"github.com/otelsentry/otelsentry/sentrylink"
)

func ExampleIntegration() {
	err := sentry.Init(sentry.ClientOptions{
		Dsn: os.Getenv("SENTRY_DSN"),
		Integrations: func(is []sentry.Integration) []sentry.Integration {
			return append(is, sentrylink.Integration())
		},
	})
	if err != nil {
		log.Fatal(err)
	}
	defer sentry.Flush(2 * time.Second)
}

// printer is a sentry.Transport that prints the trace of each event.
type printer struct{}

func (printer) SendEvent(e *sentry.Event) {
	tc := e.Contexts["trace"]
	fmt.Println("trace_id:", tc["trace_id"])
	dsc := e.GetDynamicSamplingContext()
	for _, k := range slices.Sorted(maps.Keys(dsc)) {
		fmt.Printf("dsc %s=%s\n", k, dsc[k])
	}
}
func (printer) Configure(sentry.ClientOptions)            {}
func (printer) Flush(time.Duration) bool                  { return true }
func (printer) FlushWithContext(ctx context.Context) bool { return true }
func (printer) Close()                                    {}

// A service continues a trace from sentry-trace and baggage; a hub bound to
// its server span reports errors on that trace, with the incoming DSC.
func ExampleBind() {
	client, err := sentry.NewClient(sentry.ClientOptions{
		Dsn:          "https://key@o1.ingest.sentry.io/1",
		Transport:    printer{},
		Integrations: func(is []sentry.Integration) []sentry.Integration { return append(is, sentrylink.Integration()) },
	})
	if err != nil {
		log.Fatal(err)
	}
	hub := sentry.NewHub(client, sentry.NewScope())
	tp := sdktrace.NewTracerProvider(sdktrace.WithSampler(sampling.New(sampling.WithSampleRate(1))))
	prev := otel.GetTextMapPropagator()
	otel.SetTextMapPropagator(propagator.Composite())
	defer otel.SetTextMapPropagator(prev)

	ctx := otel.GetTextMapPropagator().Extract(context.Background(), propagation.MapCarrier{
		"sentry-trace": "771a43a4192642f0b136d5159a501700-b0e6f15b45c36b12-1",
		"baggage":      "sentry-trace_id=771a43a4192642f0b136d5159a501700,sentry-sample_rand=0.25,sentry-release=web%401.0,vendor=x",
	})
	ctx, span := tp.Tracer("example").Start(sentry.SetHubOnContext(ctx, hub), "GET /orders")
	defer span.End()

	ctx = sentrylink.Bind(ctx)
	sentry.GetHubFromContext(ctx).CaptureException(errors.New("out of stock"))
	// Output:
	// trace_id: 771a43a4192642f0b136d5159a501700
	// dsc release=web@1.0
	// dsc sample_rand=0.25
	// dsc trace_id=771a43a4192642f0b136d5159a501700
}

func ExampleCaptureException() {
	_ = func(ctx context.Context, orderID string) error {
		ctx, span := otel.Tracer("shop").Start(ctx, "charge")
		defer span.End()
		err := charge(ctx, orderID)
		if err != nil {
			// On the trace and span of "charge", whatever hub is on ctx.
			sentrylink.CaptureException(ctx, err)
		}
		return err
	}
}

func ExampleCaptureMessage() {
	_ = func(ctx context.Context, retries int) {
		if retries > 3 {
			sentrylink.CaptureMessage(ctx, "payment provider slow")
		}
	}
}

// Middleware goes inside otelhttp.NewHandler, so that it binds the hub of
// each request to its server span. A handler then uses sentry-go's own API.
func ExampleMiddleware() {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /orders/{id}", func(w http.ResponseWriter, r *http.Request) {
		if err := charge(r.Context(), r.PathValue("id")); err != nil {
			sentry.GetHubFromContext(r.Context()).CaptureException(err)
			http.Error(w, "payment failed", http.StatusBadGateway)
		}
	})
	handler := otelhttp.NewHandler(sentrylink.Middleware(mux), "shop")
	log.Fatal(http.ListenAndServe(":8080", handler))
}

// sentry-go's logger and its slog handler link logs through a bound
// context: the logger created with it, or the slog record's context, which
// the handler reads only when a hub is on it.
func Example_logs() {
	logger := slog.New(sentryslog.Option{}.NewSentryHandler(context.Background()))
	_ = func(ctx context.Context) {
		ctx = sentrylink.Bind(ctx) // Middleware has done it in a request
		sentry.NewLogger(ctx).Info().Emit("order charged")
		logger.InfoContext(ctx, "order charged")
	}
}

func charge(context.Context, string) error { return nil }
