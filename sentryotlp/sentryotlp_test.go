package sentryotlp_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"go.opentelemetry.io/otel"
	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	"google.golang.org/protobuf/proto"

	"github.com/otelsentry/otelsentry/bridge"
	"github.com/otelsentry/otelsentry/dsn"
	"github.com/otelsentry/otelsentry/sentryotlp"
)

// fakeSentry records the OTLP requests it receives.
type fakeSentry struct {
	mu       sync.Mutex
	paths    []string
	auth     []string
	spans    []string
	incoming []string // sentry-trace headers, which must never arrive here
}

func (f *fakeSentry) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	var req coltracepb.ExportTraceServiceRequest
	err := proto.Unmarshal(body, &req)
	f.mu.Lock()
	defer f.mu.Unlock()
	f.paths = append(f.paths, r.URL.Path)
	f.auth = append(f.auth, r.Header.Get("X-Sentry-Auth"))
	f.incoming = append(f.incoming, r.Header.Get("Sentry-Trace")+r.Header.Get("Traceparent"))
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	for _, rs := range req.GetResourceSpans() {
		for _, ss := range rs.GetScopeSpans() {
			for _, s := range ss.GetSpans() {
				f.spans = append(f.spans, s.GetName())
			}
		}
	}
	w.Header().Set("Content-Type", "application/x-protobuf")
}

// TestSetupExportsToSentry configures everything from environment
// variables, as a deployed service would, and checks what reached the
// fake Sentry endpoint.
func TestSetupExportsToSentry(t *testing.T) {
	fake := &fakeSentry{}
	srv := httptest.NewServer(fake)
	defer srv.Close()
	host := strings.TrimPrefix(srv.URL, "http://")
	t.Setenv("SENTRY_DSN", "http://publickey@"+host+"/42")
	t.Setenv("SENTRY_TRACES_SAMPLE_RATE", "1")
	t.Setenv("SENTRY_RELEASE", "otlp-test@1")

	ctx := context.Background()
	exporter, err := sentryotlp.New(ctx, "http://publickey@"+host+"/42")
	if err != nil {
		t.Fatal(err)
	}
	shutdown, err := bridge.Setup(ctx, bridge.WithSpanExporter(exporter), bridge.WithServiceName("otlp-test"))
	if err != nil {
		t.Fatal(err)
	}
	_, span := otel.Tracer("test").Start(ctx, "checkout")
	span.End()
	if err := shutdown(ctx); err != nil {
		t.Fatal(err)
	}

	fake.mu.Lock()
	defer fake.mu.Unlock()
	if len(fake.paths) == 0 {
		t.Fatal("no OTLP request arrived")
	}
	for i, p := range fake.paths {
		if p != "/api/42/integration/otlp/v1/traces" {
			t.Errorf("path %q", p)
		}
		if fake.auth[i] != "sentry sentry_key=publickey" {
			t.Errorf("x-sentry-auth %q", fake.auth[i])
		}
		if fake.incoming[i] != "" {
			t.Errorf("trace headers sent to Sentry: %q", fake.incoming[i])
		}
	}
	if len(fake.spans) != 1 || fake.spans[0] != "checkout" {
		t.Errorf("spans %q", fake.spans)
	}
}

func TestNew(t *testing.T) {
	ctx := context.Background()
	for _, bad := range []string{"not a dsn", "https://host/1"} {
		if _, err := sentryotlp.New(ctx, bad); !errors.Is(err, dsn.ErrInvalid) {
			t.Errorf("%q: %v", bad, err)
		}
	}
	// An empty DSN follows the OTLP environment variables.
	fake := &fakeSentry{}
	srv := httptest.NewServer(fake)
	defer srv.Close()
	t.Setenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", srv.URL+"/v1/traces")
	exp, err := sentryotlp.New(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	if err := exp.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	d, _ := dsn.Parse("https://k@o1.ingest.us.sentry.io/42")
	if got := sentryotlp.Endpoint(d); got != "https://o1.ingest.us.sentry.io/api/42/integration/otlp/v1/traces" {
		t.Errorf("endpoint %q", got)
	}
}
