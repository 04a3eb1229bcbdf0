package bridge_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/otel"
	otelprop "go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/otelsentry/otelsentry/bridge"
	"github.com/otelsentry/otelsentry/internal/vectors"
	"github.com/otelsentry/otelsentry/propagator"
)

func TestSetupInstalls(t *testing.T) { // API-8, API-10
	clearEnv(t)
	t.Setenv("SENTRY_TRACES_SAMPLE_RATE", "1")
	t.Setenv("SENTRY_RELEASE", "setup@1")
	t.Setenv("OTEL_SERVICE_NAME", "setup-test")
	rec := tracetest.NewSpanRecorder()
	shutdown, err := bridge.Setup(context.Background(), bridge.WithSpanProcessor(rec))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := bridge.Setup(context.Background()); !errors.Is(err, bridge.ErrAlreadySetUp) {
		t.Errorf("second Setup: %v", err)
	}
	ctx, span := otel.Tracer("t").Start(context.Background(), "job")
	if !span.SpanContext().IsSampled() {
		t.Error("the installed sampler's rate 1 did not sample")
	}
	if got := vectors.Members(t, bridge.Baggage(ctx))["sentry-release"]; got != "setup%401" {
		t.Errorf("package-level Baggage did not use the installed configuration: release %q", got)
	}
	span.End()
	if err := shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	ended := rec.Ended()
	if len(ended) != 1 || ended[0].Resource().String() == "" || !strings.Contains(ended[0].Resource().String(), "service.name=setup-test") {
		t.Errorf("recorded %v", ended)
	}
	if got := vectors.Members(t, bridge.Baggage(ctx))["sentry-release"]; got != "" {
		t.Errorf("after shutdown the installed configuration is still used: %q", got)
	}
	shutdown, err = bridge.Setup(context.Background())
	if err != nil {
		t.Fatalf("Setup after shutdown: %v", err)
	}
	_ = shutdown(context.Background())
}

// TestSubprocessContinues starts this test binary again with the trace in
// its environment; the child continues it and prints what it joined.
func TestSubprocessContinues(t *testing.T) { // API-6
	if os.Getenv("OTELSENTRY_CHILD") == "1" {
		shutdown, err := bridge.Setup(context.Background())
		if err != nil {
			fmt.Println("error", err)
			os.Exit(2)
		}
		defer func() { _ = shutdown(context.Background()) }()
		ctx := bridge.ContinueTraceFromEnv(context.Background())
		sc := trace.SpanContextFromContext(ctx)
		fmt.Printf("joined %s %s %v %s\n", sc.TraceID(), sc.SpanID(), sc.IsSampled(), propagator.DSCFromContext(ctx, nil)["release"])
		return
	}
	tracer, _ := setup(t, bridge.WithSampleRate(1), bridge.WithRelease("parent@2"))
	ctx, span := tracer.Start(context.Background(), "spawn")
	defer span.End()
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestSubprocessContinues$")
	cmd.Env = bridge.InjectEnv(ctx, append(os.Environ(), "OTELSENTRY_CHILD=1"))
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("child: %v\n%s", err, out)
	}
	sc := span.SpanContext()
	if want := fmt.Sprintf("joined %s %s true parent@2", sc.TraceID(), sc.SpanID()); !strings.Contains(string(out), want) {
		t.Errorf("child printed %q, want %q", out, want)
	}
	if os.Getenv("SENTRY_TRACE") != "" {
		t.Error("the parent's own environment was changed")
	}
}

func TestJobQueue(t *testing.T) { // API-7: a job's metadata carries the trace to a consumer goroutine
	tracer, rec := setup(t, bridge.WithSampleRate(1))
	type job struct {
		payload  string
		metadata map[string]string
	}
	queue := make(chan job, 1)
	done := make(chan trace.SpanContext, 1)
	go func() {
		j := <-queue
		ctx := bridge.ContinueTraceFromCarrier(context.Background(), otelprop.MapCarrier(j.metadata))
		_, span := tracer.Start(ctx, "process "+j.payload, trace.WithSpanKind(trace.SpanKindConsumer))
		span.End()
		done <- span.SpanContext()
	}()
	ctx, producer := tracer.Start(context.Background(), "enqueue", trace.WithSpanKind(trace.SpanKindProducer))
	md := map[string]string{}
	otel.GetTextMapPropagator().Inject(ctx, otelprop.MapCarrier(md))
	queue <- job{payload: "email", metadata: md}
	producer.End()
	consumed := <-done
	if consumed.TraceID() != producer.SpanContext().TraceID() {
		t.Fatalf("consumer in trace %s, producer in %s", consumed.TraceID(), producer.SpanContext().TraceID())
	}
	for _, s := range rec.Ended() {
		if s.Name() == "process email" && s.Parent().SpanID() != producer.SpanContext().SpanID() {
			t.Errorf("consumer's parent %s, want the producer %s", s.Parent().SpanID(), producer.SpanContext().SpanID())
		}
	}
}
