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

	"github.com/otelsentry/otelsentry/propagator"
)

// incoming extracts sentry-trace T-S-1 with the given baggage values and
// returns the Sentry state.
func incoming(t *testing.T, baggageValues ...string) propagator.Incoming {
	t.Helper()
	carrier := propagation.HeaderCarrier{"Sentry-Trace": {T + "-" + S + "-1"}}
	if baggageValues != nil {
		carrier["Baggage"] = baggageValues
	}
	ctx := propagator.New().Extract(context.Background(), carrier)
	in, ok := propagator.IncomingFromContext(ctx, mustTraceID(t, T))
	if !ok {
		t.Fatal("trace not continued")
	}
	return in
}

func TestBaggageToDSC(t *testing.T) { // V-BP
	var k70 []string
	for i := 1; i <= 70; i++ {
		k70 = append(k70, fmt.Sprintf("k%d=v", i))
	}
	tests := []struct {
		id      string
		baggage []string
		want    propagator.DSC // without sample_rand unless it came in
	}{
		{"V-BP-1", []string{"sentry-trace_id=" + A + ",sentry-public_key=" + K + ",sentry-sample_rate=0.01337"},
			propagator.DSC{"trace_id": A, "public_key": K, "sample_rate": "0.01337"}},
		{"V-BP-2", []string{"other-vendor-value-1=foo;bar;baz, sentry-trace_id=" + A + ", sentry-public_key=" + K +
			", sentry-sample_rate=0.01337, sentry-user_id=Am%C3%A9lie, other-vendor-value-2=foo;bar;"},
			propagator.DSC{"trace_id": A, "public_key": K, "sample_rate": "0.01337", "user_id": "Amélie"}},
		{"V-BP-3", []string{"othervendor=bla"}, propagator.DSC{}},
		{"V-BP-4", []string{""}, propagator.DSC{}},
		{"V-BP-5", []string{"   "}, propagator.DSC{}},
		{"V-BP-6", []string{"sentry-environment=production,sentry-release=1.0.0,othervendor=bla,sentry-transaction=dsc-transaction,sentry-public_key=abc,sentry-trace_id=" + T},
			propagator.DSC{"environment": "production", "release": "1.0.0", "transaction": "dsc-transaction", "public_key": "abc", "trace_id": T}},
		{"V-BP-7", []string{"sentry-transaction=GET%20POST,userId=Am%C3%A9lie, key1 = +++ , key2=%253B"}, propagator.DSC{"transaction": "GET POST"}},
		{"V-BP-8", []string{"sentry-release=a,sentry-release=b"}, propagator.DSC{"release": "b"}},
		{"V-BP-9", []string{"sentry-environment=production,,sentry-release=1.0"}, propagator.DSC{"environment": "production", "release": "1.0"}},
		{"V-BP-10", []string{"sentry-environment=production,sentry-release"}, propagator.DSC{"environment": "production"}},
		{"V-BP-11", []string{"foo=bar,foo2=%3G,sentry-release=1.0"}, propagator.DSC{"release": "1.0"}},
		{"V-BP-12", []string{"sentry-transaction=a%20b,sentry-user_id=one+two"}, propagator.DSC{"transaction": "a b", "user_id": "one+two"}},
		{"V-BP-13", []string{"sentry-transaction=a=b"}, propagator.DSC{"transaction": "a=b"}},
		{"V-BP-14", []string{"sentry-transaction="}, propagator.DSC{}},
		{"V-BP-15", []string{"Sentry-Environment=prod,SENTRY-release=1"}, propagator.DSC{}},
		{"V-BP-16", []string{"sentry-foo-bar=baz"}, propagator.DSC{"foo-bar": "baz"}},
		{"V-BP-17", []string{"sentry-sample_rand=0.5,sentry-sample_rate=0.25"}, propagator.DSC{"sample_rand": "0.5", "sample_rate": "0.25"}},
		{"V-BP-18", []string{"key1=value1;property1;property2, key2 = value2, key3=value3; propertyKey=propertyValue"}, propagator.DSC{}},
		{"V-BP-19", []string{"sentry-environment=prod,bad key=1"}, propagator.DSC{"environment": "prod"}},
		{"V-BP-20", []string{"userId=alice,   userName=bob", "sentry-environment=production,sentry-release=1.0.1", "foo=bar"},
			propagator.DSC{"environment": "production", "release": "1.0.1"}},
		{"V-BP-21", []string{","}, propagator.DSC{}},
		{"V-BP-22", []string{"sentry-release=1.0;p=v"}, propagator.DSC{"release": "1.0"}},
		{"V-BP-23", []string{"sentry-release=1,x=" + strings.Repeat("a", 8200) + ",sentry-environment=e"}, propagator.DSC{"release": "1"}},
		{"V-BP-24", []string{strings.Join(k70, ",") + ",sentry-release=1"}, propagator.DSC{}},
	}
	for _, tt := range tests {
		t.Run(tt.id, func(t *testing.T) {
			in := incoming(t, tt.baggage...)
			got := in.DSC()
			if _, ok := tt.want["sample_rand"]; !ok {
				if _, ok := got["sample_rand"]; !ok {
					t.Error("sample_rand was not backfilled")
				}
				delete(got, "sample_rand")
			}
			if !maps.Equal(got, tt.want) {
				t.Errorf("DSC %v, want %v", got, tt.want)
			}
			if in.FrozenEmpty() != (len(tt.want) == 0) {
				t.Errorf("FrozenEmpty() = %v", in.FrozenEmpty())
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
	p := propagator.New()
	tests := []struct {
		id, sentryTrace, baggage string
		existing                 string // carrier baggage before Inject
		continued                bool
		want                     map[string]string
		wantThirdParty           []string
	}{
		{id: "V-IN-1", sentryTrace: T + "-" + S + "-1", continued: true, want: map[string]string{"sentry-sample_rand": "[0,1)"}},
		{id: "V-IN-2", sentryTrace: T + "-" + S + "-1", baggage: "othervendor=bla", continued: true, want: map[string]string{"sentry-sample_rand": "[0,1)"}},
		{id: "V-IN-3", sentryTrace: T + "-" + S + "-1", baggage: "sentry-release=r,sentry-sample_rate=0.25", continued: true,
			want: map[string]string{"sentry-release": "r", "sentry-sample_rate": "0.25", "sentry-sample_rand": "[0,0.25)"}},
		{id: "V-IN-7", sentryTrace: T + "-" + S + "-1", baggage: "sentry-environment=production,bad key=1", continued: true,
			want: map[string]string{"sentry-environment": "production", "sentry-sample_rand": "[0,1)"}},
		{id: "V-IN-9", sentryTrace: T + "-" + S + "-1", baggage: "sentry-release=2.1.0,sentry-environment=myEnv",
			existing: "foo=bar,other=vendor,third=party,last=item", continued: true,
			want:           map[string]string{"sentry-environment": "myEnv", "sentry-release": "2.1.0", "sentry-sample_rand": "[0,1)"},
			wantThirdParty: []string{"foo=bar", "other=vendor", "third=party", "last=item"}},
		{id: "V-IN-10", sentryTrace: T + "-" + S + "-1", baggage: "sentry-transaction=", continued: true, want: map[string]string{"sentry-sample_rand": "[0,1)"}},
	}
	for _, tt := range tests {
		t.Run(tt.id, func(t *testing.T) {
			ctx := extract(p, map[string]string{"sentry-trace": tt.sentryTrace, "baggage": tt.baggage})
			if got := trace.SpanContextFromContext(ctx).IsValid(); got != tt.continued {
				t.Fatalf("continued = %v", got)
			}
			out := propagation.MapCarrier{}
			if tt.existing != "" {
				out.Set("baggage", tt.existing)
			}
			p.Inject(ctx, out)
			checkMembers(t, out.Get("baggage"), tt.want)
			var third []string
			for _, elem := range strings.Split(out.Get("baggage"), ",") {
				if !strings.HasPrefix(elem, "sentry-") {
					third = append(third, elem)
				}
			}
			if strings.Join(third, ",") != strings.Join(tt.wantThirdParty, ",") {
				t.Errorf("third-party members %q, want %q", third, tt.wantThirdParty)
			}
		})
	}
	// V-IN-4..6: without a valid sentry-trace the baggage is ignored and the
	// context returned as it came; a new root gets a head DSC.
	for _, tt := range []struct{ id, sentryTrace, baggage string }{
		{"V-IN-4", "", "sentry-trace_id=" + T + ",sentry-sampled=false,sentry-sample_rate=0.5"},
		{"V-IN-5", "xxx", "sentry-trace_id=" + T + ",sentry-sampled=false,sentry-sample_rate=0.5"},
		{"V-IN-6", "", ""},
	} {
		t.Run(tt.id, func(t *testing.T) {
			in := context.Background()
			if ctx := p.Extract(in, propagation.MapCarrier{"sentry-trace": tt.sentryTrace, "baggage": tt.baggage}); ctx != in {
				t.Fatal("context changed")
			}
			ctx, span := tracer(t, alwaysOn).Start(in, "root")
			defer span.End()
			tid := span.SpanContext().TraceID().String()
			if tid == T {
				t.Fatal("new root reused the baggage's trace id")
			}
			out := inject(ctx, p)
			checkMembers(t, out.Get("baggage"), map[string]string{
				"sentry-trace_id": tid, "sentry-environment": "production", "sentry-sampled": "true",
				"sentry-sample_rand": "[0,1)", "sentry-transaction": "root",
			})
		})
	}
}
