package bridge_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"strings"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/propagation"
	sdklog "go.opentelemetry.io/otel/sdk/log"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/otelsentry/otelsentry/bridge"
	"github.com/otelsentry/otelsentry/propagator"
	"github.com/otelsentry/otelsentry/sampling"
)

func ExampleSetup() {
	recorder := tracetest.NewSpanRecorder() // any exporter or processor
	shutdown, err := bridge.Setup(context.Background(),
		bridge.WithSampleRate(1), bridge.WithRelease("shop@1.4.2"), bridge.WithSpanProcessor(recorder))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer func() { _ = shutdown(context.Background()) }()

	_, span := otel.Tracer("shop").Start(context.Background(), "checkout")
	span.End()
	fmt.Println(len(recorder.Ended()), span.SpanContext().IsSampled())
	// Output: 1 true
}

// The seed's first snippet: continue a trace from incoming headers.
func ExampleContinueTrace() {
	otel.SetTextMapPropagator(propagator.Composite()) // as Setup does
	ctx := bridge.ContinueTrace(context.Background(),
		"771a43a4192642f0b136d5159a501700-b72fa28504b07285-1",
		"sentry-trace_id=771a43a4192642f0b136d5159a501700,sentry-sample_rand=0.5")
	sc := trace.SpanContextFromContext(ctx)
	fmt.Println(sc.TraceID(), sc.SpanID(), sc.IsSampled())
	// Output: 771a43a4192642f0b136d5159a501700 b72fa28504b07285 true
}

// The seed's second snippet: the values for an outgoing request.
func ExampleTraceparent() {
	otel.SetTextMapPropagator(propagator.Composite()) // as Setup does
	ctx := bridge.ContinueTrace(context.Background(), "771a43a4192642f0b136d5159a501700-b72fa28504b07285-1", "sentry-release=web%401.0")
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://127.0.0.1:1/", nil)
	req.Header.Set("sentry-trace", bridge.Traceparent(ctx))
	req.Header.Set("baggage", bridge.Baggage(ctx))
	fmt.Println(req.Header.Get("sentry-trace"))
	// Output: 771a43a4192642f0b136d5159a501700-b72fa28504b07285-1
}

func ExampleBaggage() {
	otel.SetTextMapPropagator(propagator.Composite()) // as Setup does
	ctx := bridge.ContinueTrace(context.Background(), "771a43a4192642f0b136d5159a501700-b72fa28504b07285-1",
		"sentry-release=web%401.0,sentry-sample_rand=0.5,vendor=kept-out")
	fmt.Println(bridge.Baggage(ctx))
	// Output: sentry-sample_rand=0.5,sentry-release=web%401.0
}

// The seed's third snippet: meta tags in a server-rendered page.
func ExampleMetaTags() {
	otel.SetTextMapPropagator(propagator.Composite()) // as Setup does
	ctx := bridge.ContinueTrace(context.Background(), "771a43a4192642f0b136d5159a501700-b72fa28504b07285-1", "sentry-sample_rand=0.5")
	fmt.Println(bridge.MetaTags(ctx))
	// Output:
	// <meta name="sentry-trace" content="771a43a4192642f0b136d5159a501700-b72fa28504b07285-1">
	// <meta name="baggage" content="sentry-sample_rand=0.5">
}

func ExampleServerTiming() {
	otel.SetTextMapPropagator(propagator.Composite()) // as Setup does
	ctx := bridge.ContinueTrace(context.Background(), "771a43a4192642f0b136d5159a501700-b72fa28504b07285-1", "sentry-sample_rand=0.5")
	fmt.Println(bridge.ServerTiming(ctx))
	// Output: sentry-trace;desc="771a43a4192642f0b136d5159a501700-b72fa28504b07285-1", baggage;desc="sentry-sample_rand=0.5"
}

func ExampleInjectEnv() {
	otel.SetTextMapPropagator(propagator.Composite()) // as Setup does
	ctx := bridge.ContinueTrace(context.Background(), "771a43a4192642f0b136d5159a501700-b72fa28504b07285-1", "sentry-sample_rand=0.5")
	cmd := exec.Command("worker")
	cmd.Env = bridge.InjectEnv(ctx, []string{"PATH=/usr/bin"})
	fmt.Println(cmd.Env)
	// Output: [PATH=/usr/bin TRACESTATE=sentry=s:1;r:0.5 TRACEPARENT=00-771a43a4192642f0b136d5159a501700-b72fa28504b07285-01 SENTRY_TRACE=771a43a4192642f0b136d5159a501700-b72fa28504b07285-1 SENTRY_BAGGAGE=sentry-sample_rand=0.5]
}

func ExampleContinueTraceFromEnv() {
	// In a subprocess started with InjectEnv's environment:
	ctx := bridge.ContinueTraceFromEnv(context.Background())
	_, span := otel.Tracer("worker").Start(ctx, "run")
	defer span.End()
	_ = os.Getenv("SENTRY_TRACE")
}

func ExampleNewEnvCarrier() {
	otel.SetTextMapPropagator(propagator.Composite()) // as Setup does
	var env []string
	ctx := bridge.ContinueTrace(context.Background(), "771a43a4192642f0b136d5159a501700-b72fa28504b07285-1", "")
	carrier := bridge.NewEnvCarrier(&env)
	propagation.TraceContext{}.Inject(ctx, carrier)
	fmt.Println(carrier.Get("traceparent"))
	// Output: 00-771a43a4192642f0b136d5159a501700-b72fa28504b07285-01
}

func ExampleNewTransport() {
	shutdown, err := bridge.Setup(context.Background(), bridge.WithPropagatorOptions(
		propagator.WithTracePropagationTargets([]propagator.Target{propagator.Substring("https://api.example.com/")})))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer func() { _ = shutdown(context.Background()) }()
	// In a service, base is otelhttp.NewTransport(http.DefaultTransport),
	// which injects the trace headers; requests to other hosts carry none.
	client := &http.Client{Transport: bridge.NewTransport(http.DefaultTransport)}
	_ = client
}

// A context from propagator.SuppressInject carries no trace: the
// installed propagator writes nothing, and the helpers return nothing.
func ExampleSetup_suppressInject() {
	shutdown, err := bridge.Setup(context.Background())
	if err != nil {
		fmt.Println(err)
		return
	}
	defer func() { _ = shutdown(context.Background()) }()
	ctx := bridge.ContinueTrace(context.Background(), "771a43a4192642f0b136d5159a501700-b72fa28504b07285-1", "")
	ctx = propagator.SuppressInject(ctx)
	c := propagation.MapCarrier{}
	otel.GetTextMapPropagator().Inject(ctx, c)
	fmt.Printf("%d %q\n", len(c), bridge.MetaTags(ctx))
	// Output: 0 ""
}

func ExampleContinueTraceFromCarrier() {
	otel.SetTextMapPropagator(propagator.Composite()) // as Setup does
	headers := []bridge.MessageHeader{{Key: "sentry-trace", Value: []byte("771a43a4192642f0b136d5159a501700-b72fa28504b07285-1")}}
	ctx := bridge.ContinueTraceFromCarrier(context.Background(), bridge.NewMessageCarrier(&headers))
	fmt.Println(trace.SpanContextFromContext(ctx).TraceID())
	// Output: 771a43a4192642f0b136d5159a501700
}

func ExampleNewMessageCarrier() {
	otel.SetTextMapPropagator(propagator.Composite()) // as Setup does
	ctx := bridge.ContinueTrace(context.Background(), "771a43a4192642f0b136d5159a501700-b72fa28504b07285-0", "")
	var headers []bridge.MessageHeader // a Kafka message's, say
	otel.GetTextMapPropagator().Inject(ctx, bridge.NewMessageCarrier(&headers))
	consumer := bridge.ContinueTraceFromCarrier(context.Background(), bridge.NewMessageCarrier(&headers))
	fmt.Println(propagator.DecisionFromContext(consumer))
	// Output: not sampled
}

// Logs go to Sentry beside the spans, each on the span it was written in.
func ExampleLogger() {
	// In a service: logs, err := sentryotlp.NewLogExporter(ctx, dsn).
	var logs sdklog.Exporter = discardLogs{}
	shutdown, err := bridge.Setup(context.Background(), bridge.WithSampleRate(1), bridge.WithLogExporter(logs))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer func() { _ = shutdown(context.Background()) }()
	ctx, span := otel.Tracer("shop").Start(context.Background(), "checkout")
	defer span.End()
	bridge.Logger("shop").InfoContext(ctx, "order placed", "items", 3)
}

// discardLogs is a log exporter that drops what it gets.
type discardLogs struct{}

func (discardLogs) Export(context.Context, []sdklog.Record) error { return nil }
func (discardLogs) Shutdown(context.Context) error                { return nil }
func (discardLogs) ForceFlush(context.Context) error              { return nil }

func ExampleWithPropagatorOptions() {
	shutdown, err := bridge.Setup(context.Background(), bridge.WithPropagatorOptions(
		propagator.WithTracePropagationTargets([]propagator.Target{propagator.Substring("https://api.example.com/")}),
		propagator.WithOrgID("42"),
		propagator.WithStrictTraceContinuation(true),
	))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer func() { _ = shutdown(context.Background()) }()
	ctx := bridge.ContinueTrace(context.Background(), "771a43a4192642f0b136d5159a501700-b72fa28504b07285-1", "")
	ctx = propagator.ContextWithURL(ctx, "https://cdn.example.net/app.js")
	c := propagation.MapCarrier{}
	otel.GetTextMapPropagator().Inject(ctx, c)
	fmt.Println(len(c)) // not a target: no header at all, traceparent included
	// Output: 0
}

func ExampleWithSamplerOptions() {
	shutdown, err := bridge.Setup(context.Background(), bridge.WithSamplerOptions(
		sampling.WithTracesSampler(func(sc sampling.SamplingContext) float64 {
			if sc.Name == "GET /health" {
				return 0
			}
			return sc.Inherit(0.5)
		}),
	))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer func() { _ = shutdown(context.Background()) }()
	_, span := otel.Tracer("t").Start(context.Background(), "GET /health")
	defer span.End()
	fmt.Println(span.SpanContext().IsSampled())
	// Output: false
}

// Without W3C baggage, other vendors' members are not forwarded, as the
// Sentry SDKs do.
func ExampleWithPropagatorOptions_withoutW3CBaggage() {
	shutdown, err := bridge.Setup(context.Background(), bridge.WithPropagatorOptions(propagator.WithW3CBaggage(false)))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer func() { _ = shutdown(context.Background()) }()
	ctx := otel.GetTextMapPropagator().Extract(context.Background(), propagation.MapCarrier{
		"sentry-trace": "771a43a4192642f0b136d5159a501700-b72fa28504b07285-1",
		"baggage":      "vendor=v1,sentry-release=web%401,sentry-sample_rand=0.5",
	})
	c := propagation.MapCarrier{}
	otel.GetTextMapPropagator().Inject(ctx, c)
	fmt.Println(c.Get("baggage"))
	// Output: sentry-sample_rand=0.5,sentry-release=web%401
}

func ExampleWithLogger() {
	var out strings.Builder
	logger := slog.New(slog.NewTextHandler(&out, &slog.HandlerOptions{
		ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
			if a.Key == slog.TimeKey {
				return slog.Attr{} // for a stable output
			}
			return a
		},
	}))
	shutdown, err := bridge.Setup(context.Background(), bridge.WithLogger(logger), bridge.WithSampleRate(0.5))
	if err != nil {
		fmt.Println(err)
		return
	}
	_ = shutdown(context.Background())
	fmt.Print(out.String())
	// Output: level=INFO msg="otelsentry set up" propagators=tracecontext,baggage,sentry dsn=none traces_sample_rate=0.5 span_exporters=0 span_processors=0 log_exporters=0
}

func ExampleWithDSN() {
	_, err := bridge.Setup(context.Background(), bridge.WithDSN("https://o1.ingest.us.sentry.io/1"))
	fmt.Println(errors.Is(err, bridge.ErrInvalidDSN)) // no public key
	// Output: true
}

func ExampleWithSpanExporter() {
	_, err := bridge.Setup(context.Background(), bridge.WithSpanExporter(nil))
	fmt.Println(errors.Is(err, bridge.ErrInvalidOption))
	// Output: true
}

// The settings of a service, instead of SENTRY_RELEASE, SENTRY_ENVIRONMENT
// and SENTRY_TRACES_SAMPLE_RATE; they go into the DSC of the traces it
// starts.
func ExampleWithRelease() {
	shutdown, err := bridge.Setup(context.Background(),
		bridge.WithRelease("shop@1.4.2"), bridge.WithEnvironment("staging"), bridge.WithSampleRate(1))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer func() { _ = shutdown(context.Background()) }()
	ctx, span := otel.Tracer("t").Start(context.Background(), "job")
	defer span.End()
	dsc := propagator.DSCFromContext(ctx, nil)
	fmt.Println(dsc["release"], dsc["environment"], dsc["sample_rate"], dsc["sampled"])
	// Output: shop@1.4.2 staging 1 true
}

func ExampleWithEnvironment() {
	shutdown, err := bridge.Setup(context.Background(), bridge.WithEnvironment("staging"))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer func() { _ = shutdown(context.Background()) }()
	ctx := bridge.ContinueTrace(context.Background(), "771a43a4192642f0b136d5159a501700-b72fa28504b07285-1", "")
	// A continued trace keeps the upstream DSC; the environment goes
	// into the DSC of the traces this service starts.
	fmt.Println(propagator.DSCFromContext(ctx, nil)["environment"] == "")
	// Output: true
}

func ExampleWithSampleRate() {
	shutdown, err := bridge.Setup(context.Background(), bridge.WithSampleRate(0.1))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer func() { _ = shutdown(context.Background()) }()
	ctx, span := otel.Tracer("t").Start(context.Background(), "job")
	defer span.End()
	fmt.Println(propagator.DSCFromContext(ctx, nil)["sample_rate"])
	// Output: 0.1
}

// The service's name comes from OTEL_SERVICE_NAME, as everywhere in
// OpenTelemetry.
func ExampleSetup_serviceName() {
	os.Setenv("OTEL_SERVICE_NAME", "checkout")
	defer os.Unsetenv("OTEL_SERVICE_NAME")
	recorder := tracetest.NewSpanRecorder()
	shutdown, err := bridge.Setup(context.Background(), bridge.WithSampleRate(1), bridge.WithSpanProcessor(recorder))
	if err != nil {
		fmt.Println(err)
		return
	}
	_, span := otel.Tracer("t").Start(context.Background(), "job")
	span.End()
	_ = shutdown(context.Background())
	name, _ := recorder.Ended()[0].Resource().Set().Value("service.name")
	fmt.Println(name.AsString())
	// Output: checkout
}

func ExampleWithSpanProcessor() {
	_, err := bridge.Setup(context.Background(), bridge.WithSpanProcessor(nil))
	fmt.Println(errors.Is(err, bridge.ErrInvalidOption))
	// Output: true
}

func ExampleWithLogExporter() {
	_, err := bridge.Setup(context.Background(), bridge.WithLogExporter(nil))
	fmt.Println(errors.Is(err, bridge.ErrInvalidOption))
	// Output: true
}
