package bridge_test

import (
	"context"
	"maps"
	"net/http"
	"strings"
	"testing"

	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"

	"github.com/otelsentry/otelsentry/bridge"
	"github.com/otelsentry/otelsentry/internal/protocol"
	"github.com/otelsentry/otelsentry/internal/vectors"
	"github.com/otelsentry/otelsentry/propagator"
)

// TestHostileHelpers runs the hostile input corpus through the helpers a
// page or a worker calls: ContinueTrace decides as Extract does, Baggage
// returns the DSC the case expects, and meta tags and Server-Timing carry
// no markup or control byte from the input or the configuration.
func TestHostileHelpers(t *testing.T) {
	for _, tt := range vectors.Hostile() {
		t.Run(tt.ID, func(t *testing.T) {
			tracer, _ := setup(t,
				bridge.WithRelease(tt.Release), bridge.WithEnvironment(tt.Environment), bridge.WithSampleRate(1),
				bridge.WithPropagatorOptions(propagator.WithOrgID(tt.OrgID), propagator.WithStrictTraceContinuation(tt.Strict)))
			h := http.Header{}
			if tt.SentryTrace != nil {
				h["Sentry-Trace"] = tt.SentryTrace
			}
			if tt.Baggage != nil {
				h["Baggage"] = tt.Baggage
			}
			ctx := bridge.ContinueTraceFromCarrier(context.Background(), propagation.HeaderCarrier(h))
			if sc := trace.SpanContextFromContext(ctx); sc.IsValid() != tt.Continued {
				t.Fatalf("continued %v, want %v", sc, tt.Continued)
			}
			if tt.Continued {
				checkHelperDSC(t, bridge.Baggage(ctx), tt.DSC)
			}
			name := tt.SpanName
			if name == "" {
				name = "GET /items"
			}
			ctx, span := tracer.Start(ctx, name, trace.WithSpanKind(trace.SpanKindServer))
			defer span.End()

			checkHelperOutput(t, ctx)
		})
	}
}

// checkHelperOutput asserts that the meta tags of ctx are two, with no
// markup but their own, and that the header values the helpers return hold
// no control byte, so that none can split a line.
func checkHelperOutput(t *testing.T, ctx context.Context) {
	t.Helper()
	tags := string(bridge.MetaTags(ctx))
	lines := strings.Split(tags, "\n")
	if len(lines) != 2 {
		t.Fatalf("meta tags %q", tags)
	}
	for i, prefix := range []string{`<meta name="sentry-trace" content="`, `<meta name="baggage" content="`} {
		content, ok := strings.CutPrefix(lines[i], prefix)
		content, ok2 := strings.CutSuffix(content, `">`)
		if !ok || !ok2 || strings.ContainsAny(content, "<>\"'\r\n\x00") {
			t.Errorf("meta tag %q", lines[i])
		}
	}
	for name, v := range map[string]string{
		"Traceparent": bridge.Traceparent(ctx), "Baggage": bridge.Baggage(ctx), "ServerTiming": bridge.ServerTiming(ctx),
	} {
		for i := 0; i < len(v); i++ {
			if c := v[i]; c < 0x20 || c >= 0x7f {
				t.Errorf("%s holds byte %#x", name, c)
			}
		}
	}
}

// checkHelperDSC compares the members Baggage returns, decoded, with the
// case's DSC, leaving out the valid sample_rand.
func checkHelperDSC(t *testing.T, baggage string, want map[string]string) {
	t.Helper()
	got := protocol.DecodeDSC(baggage)
	if _, ok := protocol.ParseSampleRand(got["sample_rand"]); !ok {
		t.Errorf("sample_rand in %q", baggage)
	}
	delete(got, "sample_rand")
	if want == nil {
		want = map[string]string{}
	}
	if len(got) == 0 && len(want) == 0 {
		return
	}
	if !maps.Equal(got, want) {
		t.Errorf("Baggage decodes to %q, want %q", got, want)
	}
}
