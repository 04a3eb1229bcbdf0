package propagator_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/propagation"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"

	"github.com/otelsentry/otelsentry/internal/testkit"
	"github.com/otelsentry/otelsentry/propagator"
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

			const incomingBaggage = "sentry-trace_id=" + A + ",sentry-public_key=" + K +
				",sentry-sample_rate=0.5,sentry-sample_rand=0.123,sentry-release=web%401.0,sentry-transaction=%2Fcheckout,vendor=v1"
			_, err := testkit.Get(context.Background(), http.DefaultClient, api.URL, http.Header{
				"Sentry-Trace": {A + "-b72fa28504b07285-1"},
				"Baggage":      {incomingBaggage},
			})
			if err != nil {
				t.Fatal(err)
			}
			workerHeaders := <-received
			apiServer := onlySpan(t, api, trace.SpanKindServer)
			apiClient := onlySpan(t, api, trace.SpanKindClient)
			if got := apiServer.SpanContext().TraceID().String(); got != A {
				t.Fatalf("api trace id %s, want %s", got, A)
			}
			if got := apiServer.Parent().SpanID().String(); got != "b72fa28504b07285" || !apiServer.Parent().IsRemote() {
				t.Errorf("api server parent %s (remote %v)", got, apiServer.Parent().IsRemote())
			}
			if apiClient.Parent().SpanID() != apiServer.SpanContext().SpanID() {
				t.Error("api client span is not a child of the server span")
			}

			if !tt.reach {
				// The Sentry propagator writes nothing; TraceContext{} and
				// Baggage{} are not its to stop (the bridge's composite is).
				if v := workerHeaders.Get("Sentry-Trace"); v != "" {
					t.Errorf("sentry-trace %q sent to a non-target", v)
				}
				if workerHeaders.Get("Traceparent") == "" {
					t.Error("traceparent missing: the W3C propagator should still run")
				}
				return
			}
			workerServer := onlySpan(t, worker, trace.SpanKindServer)
			if workerServer.SpanContext().TraceID().String() != A || workerServer.Parent().SpanID() != apiClient.SpanContext().SpanID() {
				t.Errorf("worker span %s parent %s, want trace %s parent %s", workerServer.SpanContext().TraceID(),
					workerServer.Parent().SpanID(), A, apiClient.SpanContext().SpanID())
			}
			if got, want := workerHeaders.Get("Sentry-Trace"), A+"-"+apiClient.SpanContext().SpanID().String()+"-1"; got != want {
				t.Errorf("worker got sentry-trace %q, want %q", got, want)
			}
			if len(workerHeaders.Values("Baggage")) != 1 {
				t.Errorf("baggage headers %q, want one", workerHeaders.Values("Baggage"))
			}
			checkMembers(t, workerHeaders.Get("Baggage"), map[string]string{
				"sentry-trace_id": A, "sentry-public_key": K, "sentry-sample_rate": "0.5", "sentry-sample_rand": "0.123",
				"sentry-release": "web%401.0", "sentry-transaction": "%2Fcheckout",
			})
			// OTel's Baggage{} in the composite forwards third-party members.
			if got := testkit.Members(t, workerHeaders.Get("Baggage"))["vendor"]; got != "v1" {
				t.Errorf("vendor member %q, want v1 forwarded by Baggage{}", got)
			}
		})
	}
}

// TestCarrierTypes checks that HeaderCarrier, MapCarrier and a plain
// carrier without ValuesGetter give the same result.
func TestCarrierTypes(t *testing.T) {
	p := propagator.New()
	headers := map[string]string{"sentry-trace": T + "-" + S + "-0", "baggage": "sentry-release=r%2C1,x=y"}
	want := inject(extract(p, headers), p)
	hc := propagation.HeaderCarrier{}
	plain := plainCarrier{}
	for k, v := range headers {
		hc.Set(k, v)
		plain[k] = v
	}
	for name, c := range map[string]propagation.TextMapCarrier{"header": hc, "plain": plain} {
		ctx := p.Extract(context.Background(), c)
		out := plainCarrier{}
		p.Inject(ctx, out)
		for _, k := range []string{"sentry-trace", "baggage"} {
			if out[k] != want[k] {
				t.Errorf("%s: %s = %q, want %q", name, k, out[k], want[k])
			}
		}
	}
}

// plainCarrier implements only TextMapCarrier and records the keys it is
// given, which must be lowercase (OT-11).
type plainCarrier map[string]string

func (c plainCarrier) Get(k string) string { return c[k] }
func (c plainCarrier) Set(k, v string) {
	if k != strings.ToLower(k) {
		panic("key not lowercase: " + k)
	}
	c[k] = v
}
func (c plainCarrier) Keys() []string { return nil }
