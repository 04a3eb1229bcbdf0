package integration_test

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/trace"

	"github.com/otelsentry/otelsentry/conformance/internal/testkit"
	"github.com/otelsentry/otelsentry/propagator"
	"github.com/otelsentry/otelsentry/sampling"
)

// Three otelhttp services, each with its own rate, on 127.0.0.1: every
// trace is recorded at a service exactly when sample_rand is below the rate
// of the service that decided first, and never in part.
func TestConsistentAcrossServices(t *testing.T) {
	prev := otel.GetTextMapPropagator()
	otel.SetTextMapPropagator(propagator.Composite())
	t.Cleanup(func() { otel.SetTextMapPropagator(prev) })

	const traces = 1000 // per chain; 2000 in all
	chains := []struct {
		name  string
		rates [3]*float64 // nil: tracing without performance
		// deciding is the index of the service whose rate decides.
		deciding int
	}{
		{"head decides", [3]*float64{ptr(0.3), ptr(0.7), ptr(0.1)}, 0},
		{"head defers", [3]*float64{nil, ptr(0.5), ptr(0.9)}, 1},
	}
	for _, chain := range chains {
		t.Run(chain.name, func(t *testing.T) {
			var services [3]*testkit.Service
			for i := 2; i >= 0; i-- {
				var opts []sampling.Option
				if r := chain.rates[i]; r != nil {
					opts = append(opts, sampling.WithSampleRate(*r))
				}
				next := ""
				if i < 2 {
					next = services[i+1].URL
				}
				services[i] = testkit.Start(t, fmt.Sprintf("svc%d", i), sampling.New(opts...),
					func(s *testkit.Service, w http.ResponseWriter, r *http.Request) {
						if next != "" {
							if _, err := testkit.Get(r.Context(), s.Client, next, nil); err != nil {
								http.Error(w, err.Error(), http.StatusBadGateway)
								return
							}
						}
						// The head reports the trace and its sample_rand.
						rand := propagator.DSCFromContext(r.Context(), nil)["sample_rand"]
						fmt.Fprintf(w, "%s %s", trace.SpanContextFromContext(r.Context()).TraceID(), rand)
					})
			}
			rate := *chain.rates[chain.deciding]
			want := map[trace.TraceID]bool{}
			for range traces {
				body, err := testkit.Get(context.Background(), http.DefaultClient, services[0].URL, nil)
				if err != nil {
					t.Fatal(err)
				}
				idHex, rand, _ := strings.Cut(body, " ")
				id, err := trace.TraceIDFromHex(idHex)
				if err != nil {
					t.Fatalf("body %q", body)
				}
				x, err := strconv.ParseFloat(rand, 64)
				if err != nil {
					t.Fatalf("body %q", body)
				}
				want[id] = x < rate
			}
			sampled := 0
			for _, ok := range want {
				if ok {
					sampled++
				}
			}
			if lo, hi := int(float64(traces)*rate*0.8), int(float64(traces)*rate*1.2); sampled < lo || sampled > hi {
				t.Errorf("%d of %d traces sampled at rate %v", sampled, traces, rate)
			}
			for i, s := range services {
				recorded := map[trace.TraceID]bool{}
				for _, span := range s.Spans(trace.SpanKindServer) {
					recorded[span.SpanContext().TraceID()] = true
				}
				for id, sampled := range want {
					// Services before the deciding one defer and record nothing.
					if wantRecorded := sampled && i >= chain.deciding; recorded[id] != wantRecorded {
						t.Fatalf("service %d, trace %s: recorded %v, want %v", i, id, recorded[id], wantRecorded)
					}
				}
			}
		})
	}
}

func ptr[V any](v V) *V { return &v }
