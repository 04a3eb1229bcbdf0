package bridge_test

import (
	"context"
	"errors"
	"fmt"
	"html"
	"html/template"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"regexp"
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

// TestMetaTagsInBrowser renders a page with MetaTags and reads the tags in
// headless Chromium the way the Sentry browser SDK does.
func TestMetaTagsInBrowser(t *testing.T) { // API-5
	chromium := ""
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			chromium = p
			break
		}
	}
	if chromium == "" {
		t.Skip("no Chromium on this machine: install Debian's chromium package to run this test")
	}
	tracer, _ := setup(t, bridge.WithSampleRate(1), bridge.WithRelease(`web"<b>&'@1`))
	ctx := bridge.ContinueTrace(context.Background(), "771a43a4192642f0b136d5159a501700-b72fa28504b07285-1",
		"sentry-release=%22%3E%3Cscript%3Ealert(1)%3C%2Fscript%3E,sentry-transaction=GET%20%2Fa%26b,vendor=x")
	ctx, span := tracer.Start(ctx, "GET /page")
	defer span.End()
	page := template.Must(template.New("page").Parse(`<!doctype html>
<html><head>{{.}}</head><body><script>
function meta(name) { var m = document.querySelector('meta[name=' + name + ']'); return m ? m.getAttribute('content') : ''; }
document.body.setAttribute('data-sentry-trace', meta('sentry-trace'));
document.body.setAttribute('data-baggage', meta('baggage'));
document.body.setAttribute('data-scripts', String(document.scripts.length));
</script></body></html>`))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_ = page.Execute(w, bridge.MetaTags(ctx))
	}))
	defer srv.Close()

	runCtx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(runCtx, chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
		"--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--user-data-dir="+t.TempDir(), "--dump-dom", srv.URL)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("chromium: %v\n%s", err, out)
	}
	attr := func(name string) string {
		m := regexp.MustCompile(name + `="([^"]*)"`).FindStringSubmatch(string(out))
		if m == nil {
			t.Fatalf("no %s in the DOM:\n%s", name, out)
		}
		return html.UnescapeString(m[1])
	}
	if got, want := attr("data-sentry-trace"), bridge.Traceparent(ctx); got != want {
		t.Errorf("browser read sentry-trace %q, want %q", got, want)
	}
	if got, want := attr("data-baggage"), bridge.Baggage(ctx); got != want || !strings.Contains(got, "sentry-release=%22%3E%3Cscript%3E") {
		t.Errorf("browser read baggage %q, want %q", got, want)
	}
	if got := attr("data-scripts"); got != "1" {
		t.Errorf("%s scripts in the page: a tag was injected", got)
	}
}
