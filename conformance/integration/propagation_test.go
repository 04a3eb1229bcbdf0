package integration_test

import (
	"context"
	"net/http"
	"testing"

	"go.opentelemetry.io/otel"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"

	"github.com/otelsentry/otelsentry/conformance/internal/testkit"
	"github.com/otelsentry/otelsentry/internal/vectors"
	"github.com/otelsentry/otelsentry/propagator"
)

// The trace id and public key of the vectors' incoming baggage.
const (
	A = vectors.A
	K = vectors.K
)

func onlySpan(t *testing.T, s *testkit.Service, kind trace.SpanKind) sdktrace.ReadOnlySpan {
	t.Helper()
	spans := s.Spans(kind)
	if len(spans) != 1 {
		t.Fatalf("%d %v spans, want 1", len(spans), kind)
	}
	return spans[0]
}

// Two otelhttp services with the global composite: a trace started by a
// Sentry frontend continues through both hops with the frozen DSC.
func TestTwoHopsOverHTTP(t *testing.T) {
	for _, tt := range []struct {
		name    string
		targets []propagator.Target
		reach   bool // whether the worker is a propagation target
	}{
		{name: "all targets", reach: true},
		{name: "worker not a target", targets: []propagator.Target{propagator.Substring("https://api.example.com")}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			prev := otel.GetTextMapPropagator()
			otel.SetTextMapPropagator(propagator.Composite(propagator.WithRelease("backend@1"),
				propagator.WithTracePropagationTargets(tt.targets)))
			t.Cleanup(func() { otel.SetTextMapPropagator(prev) })

			sampler := sdktrace.ParentBased(sdktrace.AlwaysSample())
			received := make(chan http.Header, 1)
			worker := testkit.Start(t, "worker", sampler, func(_ *testkit.Service, _ http.ResponseWriter, r *http.Request) {
				received <- r.Header.Clone()
			})
			api := testkit.Start(t, "api", sampler, func(s *testkit.Service, w http.ResponseWriter, r *http.Request) {
				if _, err := testkit.Get(r.Context(), s.Client, worker.URL, nil); err != nil {
					http.Error(w, err.Error(), http.StatusBadGateway)
				}
			})

			const incomingBaggage = "sentry-trace_id=" + vectors.A + ",sentry-public_key=" + K +
				",sentry-sample_rate=0.5,sentry-sample_rand=0.123,sentry-release=web%401.0,sentry-transaction=%2Fcheckout,vendor=v1"
			_, err := testkit.Get(context.Background(), http.DefaultClient, api.URL, http.Header{
				"Sentry-Trace": {vectors.A + "-b72fa28504b07285-1"},
				"Baggage":      {incomingBaggage},
			})
			if err != nil {
				t.Fatal(err)
			}
			workerHeaders := <-received
			apiServer := onlySpan(t, api, trace.SpanKindServer)
			apiClient := onlySpan(t, api, trace.SpanKindClient)
			if got := apiServer.SpanContext().TraceID().String(); got != vectors.A {
				t.Fatalf("api trace id %s, want %s", got, A)
			}
			if got := apiServer.Parent().SpanID().String(); got != "b72fa28504b07285" || !apiServer.Parent().IsRemote() {
				t.Errorf("api server parent %s (remote %v)", got, apiServer.Parent().IsRemote())
			}
			if apiClient.Parent().SpanID() != apiServer.SpanContext().SpanID() {
				t.Error("api client span is not a child of the server span")
			}

			if !tt.reach {
				// Composite writes no trace header at all to a non-target.
				for _, k := range []string{"Sentry-Trace", "Baggage", "Traceparent", "Tracestate"} {
					if v := workerHeaders.Get(k); v != "" {
						t.Errorf("%s %q sent to a non-target", k, v)
					}
				}
				return
			}
			workerServer := onlySpan(t, worker, trace.SpanKindServer)
			if workerServer.SpanContext().TraceID().String() != vectors.A || workerServer.Parent().SpanID() != apiClient.SpanContext().SpanID() {
				t.Errorf("worker span %s parent %s, want trace %s parent %s", workerServer.SpanContext().TraceID(),
					workerServer.Parent().SpanID(), vectors.A, apiClient.SpanContext().SpanID())
			}
			if got, want := workerHeaders.Get("Sentry-Trace"), A+"-"+apiClient.SpanContext().SpanID().String()+"-1"; got != want {
				t.Errorf("worker got sentry-trace %q, want %q", got, want)
			}
			if len(workerHeaders.Values("Baggage")) != 1 {
				t.Errorf("baggage headers %q, want one", workerHeaders.Values("Baggage"))
			}
			members := vectors.Members(t, workerHeaders.Get("Baggage"))
			for k, want := range map[string]string{
				"sentry-trace_id": vectors.A, "sentry-public_key": vectors.K, "sentry-sample_rate": "0.5", "sentry-sample_rand": "0.123",
				"sentry-release": "web%401.0", "sentry-transaction": "%2Fcheckout",
			} {
				if members[k] != want {
					t.Errorf("%s = %q, want %q", k, members[k], want)
				}
			}
			// OTel's Baggage{} in the composite forwards third-party members.
			if got := members["vendor"]; got != "v1" {
				t.Errorf("vendor member %q, want v1 forwarded by Baggage{}", got)
			}
		})
	}
}
