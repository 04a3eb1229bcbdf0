package propagator_test

import (
	"context"
	"fmt"
	"maps"
	"strings"
	"testing"

	"go.opentelemetry.io/otel/baggage"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"

	"github.com/otelsentry/otelsentry/internal/vectors"
	"github.com/otelsentry/otelsentry/propagator"
)

// frozenDSC extracts sentry-trace T-S-1 with the given baggage values and
// returns the DSC that Inject sends on.
func frozenDSC(t *testing.T, baggageValues ...string) map[string]string {
	t.Helper()
	carrier := propagation.HeaderCarrier{"Sentry-Trace": {T + "-" + S + "-1"}}
	if baggageValues != nil {
		carrier["Baggage"] = baggageValues
	}
	p := propagator.New()
	ctx := p.Extract(context.Background(), carrier)
	if !trace.SpanContextFromContext(ctx).IsValid() {
		t.Fatal("trace not continued")
	}
	return propagator.DSCFromContext(ctx, p)
}

func TestBaggageToDSC(t *testing.T) { // V-BP
	for _, tt := range vectors.Baggage() {
		t.Run(tt.ID, func(t *testing.T) {
			got := frozenDSC(t, tt.Values...)
			if _, ok := tt.DSC["sample_rand"]; !ok {
				if _, ok := got["sample_rand"]; !ok {
					t.Error("sample_rand was not backfilled")
				}
				delete(got, "sample_rand")
			}
			if !maps.Equal(got, tt.DSC) {
				t.Errorf("DSC %v, want %v", got, tt.DSC)
			}
		})
	}
}

func TestExtractLeavesOTelBaggage(t *testing.T) { // IN-12
	ctx := extract(propagator.New(), map[string]string{
		"sentry-trace": T + "-" + S + "-1",
		"baggage":      "sentry-release=1,vendor=x",
	})
	if n := baggage.FromContext(ctx).Len(); n != 0 {
		t.Errorf("OTel baggage has %d members", n)
	}
	ts := trace.SpanContextFromContext(ctx).TraceState()
	if ts.Len() != 1 || strings.Contains(ts.String(), "release") {
		t.Errorf("trace state %q holds more than the sentry member", ts.String())
	}
}

func TestIncomingCombinations(t *testing.T) { // V-IN
	for _, tt := range vectors.Incoming() {
		t.Run(tt.ID, func(t *testing.T) {
			var opts []propagator.Option
			if tt.OrgID != "" {
				opts = append(opts, propagator.WithOrgID(tt.OrgID))
			}
			p := propagator.New(opts...)
			in := context.Background()
			ctx := p.Extract(in, propagation.MapCarrier{"sentry-trace": tt.SentryTrace, "baggage": tt.Baggage})
			if got := trace.SpanContextFromContext(ctx).IsValid(); got != tt.Continued {
				t.Fatalf("continued = %v", got)
			}
			if !tt.Continued {
				// The baggage is ignored and the context returned as it
				// came; a new root gets a head DSC.
				if ctx != in {
					t.Fatal("context changed")
				}
				ctx, span := tracer(t, alwaysOn).Start(in, "root")
				defer span.End()
				tid := span.SpanContext().TraceID().String()
				if tid == T {
					t.Fatal("new root reused the incoming trace id")
				}
				want := map[string]string{
					"sentry-trace_id": tid, "sentry-environment": "production", "sentry-sampled": "true",
					"sentry-sample_rand": "[0,1)", "sentry-transaction": "root",
				}
				if tt.OrgID != "" {
					want["sentry-org_id"] = tt.OrgID
				}
				checkMembers(t, inject(ctx, p).Get("baggage"), want)
				return
			}
			out := propagation.MapCarrier{}
			if tt.CarrierBaggage != "" {
				out.Set("baggage", tt.CarrierBaggage)
			}
			p.Inject(ctx, out)
			want := maps.Clone(tt.Outgoing)
			if want == nil {
				want = map[string]string{}
			}
			want["sentry-sample_rand"] = fmt.Sprintf("[%v,%v)", tt.SampleRand[0], tt.SampleRand[1])
			checkMembers(t, out.Get("baggage"), want)
			var third []string
			for _, elem := range strings.Split(out.Get("baggage"), ",") {
				if !strings.HasPrefix(elem, "sentry-") {
					third = append(third, elem)
				}
			}
			if strings.Join(third, ",") != strings.Join(tt.ThirdParty, ",") {
				t.Errorf("third-party members %q, want %q", third, tt.ThirdParty)
			}
		})
	}
}
