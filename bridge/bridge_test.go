package bridge_test

import (
	"context"
	"errors"
	"html/template"
	"maps"
	"math"
	"net/http"
	"strings"
	"testing"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/otelsentry/otelsentry/bridge"
	"github.com/otelsentry/otelsentry/internal/protocol"
	"github.com/otelsentry/otelsentry/internal/vectors"
	"github.com/otelsentry/otelsentry/propagator"
	"github.com/otelsentry/otelsentry/sampling"
)

func TestMetaTags(t *testing.T) { // V-MT
	for _, tt := range vectors.MetaTags() {
		if tt.SentryTrace == "" {
			continue // the tag writer's cases are tested inside the package
		}
		t.Run(tt.ID, func(t *testing.T) {
			tracer, _ := setup(t)
			ctx := bridge.ContinueTrace(context.Background(), tt.SentryTrace, tt.Baggage)
			ctx, span := tracer.Start(ctx, "GET /page", trace.WithSpanKind(trace.SpanKindServer))
			defer span.End()
			tags := string(bridge.MetaTags(ctx))
			// Two tags, and no <, > or " but theirs.
			if strings.Count(tags, "<") != 2 || strings.Count(tags, ">") != 2 || strings.Count(tags, `"`) != 8 {
				t.Errorf("tags %q", tags)
			}
			first, second, ok := strings.Cut(tags, "\n")
			if tt.WantSentryTrace != "" {
				content := strings.ReplaceAll(tt.WantSentryTrace, "{C}", span.SpanContext().SpanID().String())
				if want := `<meta name="sentry-trace" content="` + content + `">`; !ok || first != want {
					t.Errorf("first tag %q, want %q", first, want)
				}
			}
			if tt.WantBaggage != nil {
				content := strings.TrimSuffix(strings.TrimPrefix(second, `<meta name="baggage" content="`), `">`)
				if got := vectors.Members(t, content); !maps.Equal(got, tt.WantBaggage) {
					t.Errorf("baggage tag %q, want %v", second, tt.WantBaggage)
				}
			}
			for _, w := range tt.WantContains {
				if !strings.Contains(tags, w) {
					t.Errorf("tags %q lack %q", tags, w)
				}
			}
		})
	}
	head := func(t *testing.T, opts ...bridge.Option) (context.Context, trace.Span) {
		tracer, _ := setup(t, opts...)
		ctx, span := tracer.Start(context.Background(), "render")
		t.Cleanup(func() { span.End() })
		return ctx, span
	}
	t.Run("V-MT-2", func(t *testing.T) {
		ctx, span := head(t, bridge.WithSampleRate(1))
		sc := span.SpanContext()
		if got := bridge.Traceparent(ctx); got != sc.TraceID().String()+"-"+sc.SpanID().String()+"-1" {
			t.Errorf("sentry-trace %q", got)
		}
		if got := vectors.Members(t, bridge.Baggage(ctx))["sentry-trace_id"]; got != sc.TraceID().String() {
			t.Errorf("trace_id %q", got)
		}
	})
	t.Run("V-MT-3", func(t *testing.T) {
		ctx, _ := head(t, bridge.WithSampleRate(0))
		if !strings.HasSuffix(bridge.Traceparent(ctx), "-0") || vectors.Members(t, bridge.Baggage(ctx))["sentry-sampled"] != "false" {
			t.Errorf("%q %q", bridge.Traceparent(ctx), bridge.Baggage(ctx))
		}
	})
	t.Run("V-MT-4", func(t *testing.T) {
		ctx, span := head(t, bridge.WithDSN("https://public@o1.ingest.sentry.io/1"), bridge.WithPropagatorOptions(propagator.WithOrgID("1")))
		sc := span.SpanContext()
		if got := bridge.Traceparent(ctx); got != sc.TraceID().String()+"-"+sc.SpanID().String() {
			t.Errorf("sentry-trace %q", got)
		}
		got := vectors.Members(t, bridge.Baggage(ctx))
		rand := got["sentry-sample_rand"]
		want := map[string]string{"sentry-environment": "production", "sentry-public_key": "public", "sentry-org_id": "1",
			"sentry-trace_id": sc.TraceID().String(), "sentry-sample_rand": rand}
		if rand == "" || !maps.Equal(got, want) {
			t.Errorf("baggage %v", got)
		}
	})
	t.Run("V-MT-5", func(t *testing.T) {
		setup(t)
		for _, ctx := range []context.Context{context.Background(), bridge.ContinueTrace(context.Background(), "xxx", "sentry-release=r")} {
			if bridge.MetaTags(ctx) != "" || bridge.Traceparent(ctx) != "" || bridge.Baggage(ctx) != "" || bridge.ServerTiming(ctx) != "" {
				t.Error("helpers wrote something without a span")
			}
		}
	})
	t.Run("V-MT-6", func(t *testing.T) {
		ctx, _ := head(t, bridge.WithSampleRate(1), bridge.WithRelease("r 1"))
		want := `<meta name="sentry-trace" content="` + bridge.Traceparent(ctx) + "\">\n" +
			`<meta name="baggage" content="` + template.HTMLEscapeString(bridge.Baggage(ctx)) + `">`
		if got := string(bridge.MetaTags(ctx)); got != want {
			t.Errorf("tags %q, want %q", got, want)
		}
	})
}

// rootMember starts and ends a root span with the installed tracer
// provider and returns its sentry trace state member.
func rootMember(t *testing.T) protocol.TraceStateMember {
	t.Helper()
	_, span := otel.Tracer("test").Start(context.Background(), "root")
	span.End()
	m, ok := protocol.ParseTraceState(span.SpanContext().TraceState())
	if !ok {
		t.Fatalf("root span without a sentry member: %v", span.SpanContext().TraceState())
	}
	return m
}

func TestSampleRateSetting(t *testing.T) { // V-SM-15, API-8
	for _, tt := range []struct {
		value string
		want  string // "" TwP, "error", or the rate applied
	}{
		{"0.555", "0.555"}, {"", ""}, {"2", "error"}, {"1.5", "error"}, {"aha", "error"}, {"true", "error"}, {"NaN", "error"}, {"-0.1", "error"},
	} {
		t.Run(tt.value, func(t *testing.T) {
			clearEnv(t)
			t.Setenv("SENTRY_TRACES_SAMPLE_RATE", tt.value)
			shutdown, err := bridge.Setup(context.Background())
			if tt.want == "error" {
				if !errors.Is(err, bridge.ErrInvalidSampleRate) || !errors.Is(err, sampling.ErrInvalidRate) {
					t.Errorf("err %v, want ErrInvalidSampleRate wrapping sampling.ErrInvalidRate", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer shutdown(context.Background())
			m := rootMember(t)
			if m.Rate != tt.want || (tt.want == "") != (m.Decision == protocol.Deferred) {
				t.Errorf("root span decided %v at rate %q, want rate %q", m.Decision, m.Rate, tt.want)
			}
		})
	}
	// Options win over the environment, and are validated too.
	clearEnv(t)
	t.Setenv("SENTRY_TRACES_SAMPLE_RATE", "aha")
	shutdown, err := bridge.Setup(context.Background(), bridge.WithSampleRate(0.25))
	if err != nil {
		t.Fatalf("option over env: %v", err)
	}
	if m := rootMember(t); m.Rate != "0.25" {
		t.Errorf("option over env: rate %q", m.Rate)
	}
	if err := shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	for _, r := range []float64{1.5, -1, math.NaN(), math.Inf(1)} {
		if _, err := bridge.Setup(context.Background(), bridge.WithSampleRate(r)); !errors.Is(err, bridge.ErrInvalidSampleRate) {
			t.Errorf("WithSampleRate(%v): %v", r, err)
		}
	}
}

func TestDSNSetting(t *testing.T) { // API-8
	clearEnv(t)
	for _, bad := range []string{"not a dsn", "https://host/1", "https://k@host/x", "ftp://k@host/1"} {
		t.Setenv("SENTRY_DSN", bad)
		if _, err := bridge.Setup(context.Background()); !errors.Is(err, bridge.ErrInvalidDSN) {
			t.Errorf("%q: %v", bad, err)
		}
	}
	clearEnv(t)
	t.Setenv("SENTRY_DSN", "https://envkey@o7.ingest.sentry.io/1")
	t.Setenv("SENTRY_RELEASE", "env-release")
	t.Setenv("SENTRY_ENVIRONMENT", "staging")
	rec := tracetest.NewSpanRecorder()
	shutdown, err := bridge.Setup(context.Background(), bridge.WithRelease("option-release"), bridge.WithSampleRate(1), bridge.WithSpanProcessor(rec))
	if err != nil {
		t.Fatal(err)
	}
	defer shutdown(context.Background())
	ctx, span := otel.Tracer("test").Start(context.Background(), "root")
	defer span.End()
	got := vectors.Members(t, bridge.Baggage(ctx))
	if got["sentry-public_key"] != "envkey" || got["sentry-org_id"] != "7" || got["sentry-release"] != "option-release" || got["sentry-environment"] != "staging" {
		t.Errorf("baggage %v", got)
	}
}

func TestContinueTrace(t *testing.T) { // API-1
	const traceHex = vectors.A
	tracer, _ := setup(t, bridge.WithPropagatorOptions(propagator.WithOrgID("1")))
	local, span := tracer.Start(context.Background(), "current")
	defer span.End()
	tests := []struct {
		name string
		ctx  context.Context
		want bool
	}{
		{"strings", bridge.ContinueTrace(local, traceHex+"-b72fa28504b07285-1", "sentry-release=r"), true},
		{"headers", bridge.ContinueTraceFromCarrier(local, propagation.HeaderCarrier(http.Header{"Sentry-Trace": {"", traceHex + "-b72fa28504b07285-1"}})), true},
		{"metadata", bridge.ContinueTraceFromCarrier(local, propagation.MapCarrier{"sentry-trace": traceHex + "-b72fa28504b07285-1"}), true},
		{"metadata keys are exact", bridge.ContinueTraceFromCarrier(local, propagation.MapCarrier{"Sentry-Trace": traceHex + "-b72fa28504b07285-1"}), false},
		{"invalid", bridge.ContinueTrace(local, "xxx", "sentry-release=r"), false},
		{"other org", bridge.ContinueTrace(local, traceHex+"-b72fa28504b07285-1", "sentry-org_id=2"), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sc := trace.SpanContextFromContext(tt.ctx)
			if tt.want {
				if sc.TraceID().String() != traceHex || !sc.IsRemote() {
					t.Errorf("span context %v", sc)
				}
				return
			}
			if sc.IsValid() {
				t.Errorf("span context %v, want none (a new trace)", sc)
			}
			_, next := tracer.Start(tt.ctx, "next")
			defer next.End()
			if next.SpanContext().TraceID() == span.SpanContext().TraceID() {
				t.Error("next span joined the current trace")
			}
		})
	}
}

func TestMessageCarriers(t *testing.T) { // API-7
	tracer, _ := setup(t, bridge.WithSampleRate(1))
	ctx, span := tracer.Start(context.Background(), "produce")
	defer span.End()

	headers := []bridge.MessageHeader{{Key: "baggage", Value: []byte("vendor=1,sentry-release=stale")}, {Key: "Sentry-Trace", Value: []byte("x")}}
	otel.GetTextMapPropagator().Inject(ctx, bridge.NewMessageCarrier(&headers))
	c := bridge.NewMessageCarrier(&headers)
	if c.Get("sentry-trace") != bridge.Traceparent(ctx) || c.Get("Sentry-Trace") != "x" {
		t.Errorf("headers %q", headers)
	}
	if got := c.Values("baggage"); len(got) != 1 || !strings.HasPrefix(got[0], "vendor=1,") || strings.Contains(got[0], "stale") {
		t.Errorf("baggage %q", got)
	}
	consumer := bridge.ContinueTraceFromCarrier(context.Background(), c)
	if trace.SpanContextFromContext(consumer).SpanID() != span.SpanContext().SpanID() {
		t.Error("consumer did not continue the producer's span")
	}
}

func TestEnvCarrier(t *testing.T) { // API-6
	tracer, _ := setup(t, bridge.WithSampleRate(1))
	ctx, span := tracer.Start(context.Background(), "parent")
	defer span.End()
	parentEnv := []string{"PATH=/bin", "SENTRY_TRACE=stale", "SENTRY_BAGGAGE=stale", "SENTRY_TRACE=stale2"}
	before := strings.Join(parentEnv, "|")
	childEnv := bridge.InjectEnv(ctx, parentEnv)
	if strings.Join(parentEnv, "|") != before {
		t.Errorf("caller's env changed to %q", parentEnv)
	}
	var traces []string
	for _, e := range childEnv {
		if strings.HasPrefix(e, "SENTRY_TRACE=") {
			traces = append(traces, e)
		}
	}
	if len(traces) != 1 || traces[0] != "SENTRY_TRACE="+bridge.Traceparent(ctx) {
		t.Errorf("child env %q", childEnv)
	}
	child := bridge.ContinueTraceFromCarrier(context.Background(), bridge.NewEnvCarrier(&childEnv))
	if got := trace.SpanContextFromContext(child); got.SpanID() != span.SpanContext().SpanID() {
		t.Errorf("child continued %v", got)
	}

	// Other propagators through the carrier.
	var list []string
	carrier := bridge.NewEnvCarrier(&list)
	propagation.TraceContext{}.Inject(ctx, carrier)
	if !strings.HasPrefix(carrier.Get("traceparent"), "00-") || !strings.Contains(carrier.Get("tracestate"), "sentry=") {
		t.Errorf("env %q", list)
	}
	carrier.Set("x-custom.key", "v")
	if carrier.Get("x-custom.key") != "v" || list[len(list)-1] != "X_CUSTOM_KEY=v" {
		t.Errorf("env %q", list)
	}
}

func TestHostileValues(t *testing.T) { // bad input never reaches a header or page unescaped
	huge := strings.Repeat("x", 100<<10)
	hostile := "a\r\nb\"'<script>alert(1)</script>\xff\xfe;,=% " + huge
	tracer, _ := setup(t, bridge.WithRelease(hostile), bridge.WithEnvironment(hostile), bridge.WithSampleRate(1))
	ctx, span := tracer.Start(context.Background(), hostile)
	defer span.End()
	check := func(name, v string, newlines int) {
		t.Helper()
		for i := 0; i < len(v); i++ {
			if c := v[i]; c < 0x20 && c != '\n' || c >= 0x7f {
				t.Fatalf("%s holds the raw byte %#x", name, c)
			}
		}
		if strings.Count(v, "\n") != newlines {
			t.Errorf("%s holds %d newlines", name, strings.Count(v, "\n"))
		}
		if len(v) > 2*8192+200 {
			t.Errorf("%s is %d bytes", name, len(v))
		}
	}
	check("baggage", bridge.Baggage(ctx), 0)
	check("server-timing", bridge.ServerTiming(ctx), 0)
	tags := string(bridge.MetaTags(ctx))
	check("meta tags", tags, 1)
	if strings.Count(tags, "<") != 2 || strings.Contains(tags, "script>") {
		t.Errorf("tags %q", tags)
	}
	for _, incoming := range []string{hostile, "\r\n" + huge, vectors.A + "-b72fa28504b07285-1\r\nX: y"} {
		cont := bridge.ContinueTrace(context.Background(), incoming, "sentry-release=\"<script>\",sentry-x="+huge)
		if sc := trace.SpanContextFromContext(cont); sc.IsValid() {
			t.Errorf("continued from %.40q", incoming)
		}
	}
	cont := bridge.ContinueTrace(context.Background(), vectors.A+"-b72fa28504b07285-1", "sentry-release=%22%3Cscript%3E%0D%0A,sentry-x="+huge)
	check("continued baggage", bridge.Baggage(cont), 0)
	if got := vectors.Members(t, bridge.Baggage(cont))["sentry-release"]; got != "%22%3Cscript%3E%0D%0A" {
		t.Errorf("release %q", got)
	}
}

func TestSuppress(t *testing.T) { // API-9
	tracer, _ := setup(t, bridge.WithSampleRate(1))
	ctx, span := tracer.Start(context.Background(), "root")
	defer span.End()
	c := propagation.MapCarrier{}
	otel.GetTextMapPropagator().Inject(propagator.SuppressInject(ctx), c)
	if len(c) != 0 {
		t.Errorf("suppressed context injected %v", c)
	}
}

func TestContinueTraceNeverKeepsTheCallersTrace(t *testing.T) { // API-1
	tracer, _ := setup(t, bridge.WithPropagatorOptions(propagator.WithOrgID("1")))
	request := bridge.ContinueTrace(context.Background(), vectors.A+"-b72fa28504b07285-1", "sentry-release=r")
	request, span := tracer.Start(request, "handler")
	defer span.End()
	for _, in := range [][2]string{{"", ""}, {"xxx", ""}, {"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa-bbbbbbbbbbbbbbbb-1", "sentry-org_id=2"}} {
		job := bridge.ContinueTrace(request, in[0], in[1])
		if sc := trace.SpanContextFromContext(job); sc.IsValid() {
			t.Errorf("%q: continued %s", in, sc.TraceID())
		}
		if protocol.ContinuedFromContext(job, span.SpanContext().TraceID()) != nil {
			t.Errorf("%q: the request's Sentry state survived", in)
		}
	}
}

// The helpers read the environment and the global propagator when they
// are called: nothing is frozen before Setup.
func TestHelpersReadNothingAhead(t *testing.T) { // API-6
	t.Setenv("SENTRY_TRACE", "")
	if sc := trace.SpanContextFromContext(bridge.ContinueTraceFromEnv(context.Background())); sc.IsValid() {
		t.Errorf("continued %v from an empty environment", sc)
	}
	setup(t)
	t.Setenv("SENTRY_TRACE", vectors.A+"-b72fa28504b07285-1")
	if sc := trace.SpanContextFromContext(bridge.ContinueTraceFromEnv(context.Background())); sc.TraceID().String() != vectors.A {
		t.Errorf("continued %v", sc)
	}
}

func TestZeroCarriers(t *testing.T) {
	for _, c := range []propagation.TextMapCarrier{bridge.EnvCarrier{}, bridge.MessageCarrier{}} {
		c.Set("sentry-trace", "x")
		if c.Get("sentry-trace") != "" || len(c.Keys()) != 0 {
			t.Errorf("%T kept a value", c)
		}
	}
	if v := (bridge.MessageCarrier{}).Values("baggage"); v != nil {
		t.Errorf("values %q", v)
	}
}
