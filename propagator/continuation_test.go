package propagator_test

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/propagation"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"

	"github.com/otelsentry/otelsentry/propagator"
)

func TestStrictContinuation(t *testing.T) { // V-OR
	const fixtureTrace = "bc6d53f15eb88f4320054569b8c553d4-b72fa28504b07285-1"
	headers := func(org string) map[string]string {
		b := "sentry-trace_id=bc6d53f15eb88f4320054569b8c553d4"
		if org != "" {
			b = "sentry-org_id=" + org + "," + b
		}
		return map[string]string{"sentry-trace": fixtureTrace, "baggage": b}
	}
	dsnFor := func(label string) string { return "https://mysecret@" + label + ".ingest.sentry.io/12312012" }
	tests := []struct {
		id       string
		strict   bool
		incoming string // baggage org id
		opts     []propagator.Option
		want     bool
	}{
		{"V-OR-1", false, "1", []propagator.Option{propagator.WithOrgID("1")}, true},
		{"V-OR-2", false, "", []propagator.Option{propagator.WithOrgID("1")}, true},
		{"V-OR-3", false, "1", nil, true},
		{"V-OR-4", false, "", nil, true},
		{"V-OR-5", false, "1", []propagator.Option{propagator.WithOrgID("2")}, false},
		{"V-OR-6", true, "1", []propagator.Option{propagator.WithOrgID("1")}, true},
		{"V-OR-7", true, "", []propagator.Option{propagator.WithOrgID("1")}, false},
		{"V-OR-8", true, "1", nil, false},
		{"V-OR-9", true, "", nil, true},
		{"V-OR-10", true, "1", []propagator.Option{propagator.WithOrgID("2")}, false},
		{"V-OR-11", true, "1234", []propagator.Option{propagator.WithDSN(dsnFor("o1234"))}, true},
		{"V-OR-12", true, "1234", []propagator.Option{propagator.WithDSN(dsnFor("o9999"))}, false},
		{"V-OR-13", true, "9999", []propagator.Option{propagator.WithDSN(dsnFor("o1234"))}, false},
		{"V-OR-14", false, "1234", []propagator.Option{propagator.WithDSN(dsnFor("o1234"))}, true},
		{"V-OR-15", false, "9999", []propagator.Option{propagator.WithDSN(dsnFor("o1234"))}, false},
		{"V-OR-16", false, "1234", []propagator.Option{propagator.WithDSN(dsnFor("o9999"))}, false},
		{"V-OR-17", false, "1234", []propagator.Option{propagator.WithDSN(dsnFor("not_org_id"))}, true},
		{"V-OR-18", false, "", []propagator.Option{propagator.WithDSN(dsnFor("o1234"))}, true},
		{"V-OR-19", false, "0123", []propagator.Option{propagator.WithOrgID("123")}, false},
		{"V-OR-20", false, "abc", []propagator.Option{propagator.WithOrgID("1")}, false},
		{"V-OR-21", false, "%201%20", []propagator.Option{propagator.WithOrgID("1")}, true},
		{"V-OR-23", false, "42", []propagator.Option{propagator.WithDSN("https://1234@o1.ingest.us.sentry.io/1"), propagator.WithOrgID("42")}, true},
	}
	for _, tt := range tests {
		t.Run(tt.id, func(t *testing.T) {
			opts := append([]propagator.Option{propagator.WithStrictTraceContinuation(tt.strict)}, tt.opts...)
			ctx := extract(propagator.New(opts...), headers(tt.incoming))
			sc := trace.SpanContextFromContext(ctx)
			if sc.IsValid() != tt.want {
				t.Fatalf("continued = %v, want %v", sc.IsValid(), tt.want)
			}
			if _, ok := propagator.IncomingFromContext(ctx, mustTraceID(t, "bc6d53f15eb88f4320054569b8c553d4")); ok != tt.want {
				t.Errorf("Sentry state kept = %v", ok)
			}
		})
	}
}

func TestTargets(t *testing.T) { // V-TG
	re := regexp.MustCompile
	sub := func(s ...string) []propagator.Target {
		ts := make([]propagator.Target, len(s))
		for i, v := range s {
			ts[i] = propagator.Substring(v)
		}
		return ts
	}
	mixed := []propagator.Target{propagator.Substring("https://example.com"), re(`https?://[\w\-]+(\.[\w\-]+)+\.net`)}
	local := []propagator.Target{propagator.Substring("localhost"), re("^/"), re("myApi.com/v[2-4]")}
	const users = "https://example.com/api/users"
	tests := []struct {
		id      string
		targets []propagator.Target
		dsn     string
		urls    []string // "" = unknown
		want    bool
	}{
		{id: "V-TG-1", targets: []propagator.Target{}, urls: []string{users, ""}, want: false},
		{id: "V-TG-2", targets: nil, urls: []string{users}, want: true},
		{id: "V-TG-3", targets: []propagator.Target{re(".*")}, urls: []string{users}, want: true},
		{id: "V-TG-4", targets: sub(".*"), urls: []string{users}, want: false},
		{id: "V-TG-5", targets: sub("https://example.com"), urls: []string{users}, want: true},
		{id: "V-TG-6", targets: sub("https://example.com/"), urls: []string{users}, want: true},
		{id: "V-TG-7", targets: sub("https://example.com"), urls: []string{"https://other-domain.com/api/users"}, want: false},
		{id: "V-TG-8", targets: mixed, urls: []string{"https://good.example.net/api"}, want: true},
		{id: "V-TG-9", targets: mixed, urls: []string{"https://example.net/api"}, want: false},
		{id: "V-TG-10", targets: sub("https://example.com"), urls: []string{"http://example.com/api/users"}, want: false},
		{id: "V-TG-11", targets: sub("http://example.com"), urls: []string{users}, want: false},
		{id: "V-TG-12", targets: sub("https://example.com/api"), urls: []string{users}, want: true},
		{id: "V-TG-13", targets: sub("https://example.com/api"), urls: []string{"https://example.com/other/path"}, want: false},
		{id: "V-TG-14", targets: local, urls: []string{"localhost:8443/api/users", "mylocalhost:8080/api/users", "/api/envelopes", "myApi.com/v2/projects"}, want: true},
		{id: "V-TG-15", targets: local, urls: []string{"someHost.com/data", "myApi.com/v1/projects"}, want: false},
		{id: "V-TG-16", targets: sub("https://example.com"), urls: []string{""}, want: true},
		{id: "V-TG-17a", targets: nil, dsn: "https://k@o1.ingest.us.sentry.io/1", urls: []string{"https://o1.ingest.us.sentry.io/api/1/envelope/", "https://O1.INGEST.us.sentry.io/api/1/envelope/"}, want: false},
		{id: "V-TG-17b", targets: []propagator.Target{re(".*")}, dsn: "https://k@o1.ingest.us.sentry.io/1", urls: []string{"https://o1.ingest.us.sentry.io/api/1/envelope/"}, want: false},
		{id: "V-TG-18", dsn: "https://k@o1.ingest.us.sentry.io/1", urls: []string{"https://O1.Ingest.US.sentry.io:443/api/1/envelope/"}, want: false},
		{id: "V-TG-19", dsn: "http://k@127.0.0.1:9000/42", urls: []string{"http://127.0.0.1:9000/api/42/envelope/", "http://127.0.0.1:9000/anything"}, want: false},
		{id: "V-TG-20", dsn: "http://k@127.0.0.1:9000/42", urls: []string{"http://127.0.0.1:8080/api/users", "http://localhost:9000/x", "http://127.0.0.1/x"}, want: true},
		{id: "V-TG-21", dsn: "http://k@[::1]:9000/42", urls: []string{"http://[::1]:9000/x"}, want: false},
		{id: "V-TG-22", dsn: "http://k@[::1]:9000/42", urls: []string{"http://[::1]:9001/x"}, want: true},
		{id: "V-TG-23", targets: sub(""), urls: []string{users, "http://127.0.0.1:8080/"}, want: false},
	}
	for _, tt := range tests {
		t.Run(tt.id, func(t *testing.T) {
			p := propagator.New(propagator.WithTracePropagationTargets(tt.targets), propagator.WithDSN(tt.dsn))
			for _, url := range tt.urls {
				ctx := sampledRoot(t)
				if url != "" {
					ctx = propagator.ContextWithURL(ctx, url)
				}
				c := inject(ctx, p)
				if got := c.Get("sentry-trace") != ""; got != tt.want {
					t.Errorf("%q: propagated = %v, want %v", url, got, tt.want)
				}
				if !tt.want && len(c) != 0 {
					t.Errorf("%q: carrier %v, want untouched", url, c)
				}
			}
		})
	}
}

// V-TG-24: with a DSN or targets and no URL in the context, an HTTP
// carrier gets the headers whether or not its span records (a recording
// span's url.full is never read), and the logger gets one warning.
func TestUnknownURLWarnsOnce(t *testing.T) {
	for _, opt := range []propagator.Option{
		propagator.WithDSN("http://k@127.0.0.1:9000/42"),
		propagator.WithTracePropagationTargets([]propagator.Target{propagator.Substring("https://api.example.com")}),
	} {
		var logs bytes.Buffer
		p := propagator.New(opt, propagator.WithLogger(slog.New(slog.NewTextHandler(&logs, nil))))
		for _, sampled := range []bool{true, false, true} {
			tp := sdktrace.NewTracerProvider(sdktrace.WithSampler(fixedSampler(sampled)))
			_, span := tp.Tracer("t").Start(context.Background(), "GET",
				trace.WithSpanKind(trace.SpanKindClient),
				trace.WithAttributes(attribute.String("url.full", "http://127.0.0.1:9000/api/42/envelope/")))
			h := http.Header{}
			p.Inject(trace.ContextWithSpan(context.Background(), span), propagation.HeaderCarrier(h))
			span.End()
			if h.Get("Sentry-Trace") == "" {
				t.Errorf("sampled=%v: no sentry-trace", sampled)
			}
		}
		// A carrier that is not an HTTP request has no URL to know.
		p.Inject(sampledRoot(t), propagation.MapCarrier{})
		if n := strings.Count(logs.String(), "level=WARN"); n != 1 || !strings.Contains(logs.String(), "bridge.NewTransport") {
			t.Errorf("%d warnings, want 1 naming bridge.NewTransport: %s", n, logs.String())
		}
	}
}

// fixedSampler samples every span, or none.
func fixedSampler(on bool) sdktrace.Sampler {
	if on {
		return sdktrace.AlwaysSample()
	}
	return sdktrace.NeverSample()
}

// Each withheld request is logged at debug level with its URL.
func TestWithheldRequestLogged(t *testing.T) {
	var logs bytes.Buffer
	p := propagator.New(propagator.WithDSN("http://k@127.0.0.1:9000/42"),
		propagator.WithLogger(slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))))
	for range 2 {
		inject(propagator.ContextWithURL(sampledRoot(t), "http://127.0.0.1:9000/api/42/envelope/"), p)
	}
	if n := strings.Count(logs.String(), "url=http://127.0.0.1:9000/api/42/envelope/"); n != 2 {
		t.Errorf("%d debug lines with the URL, want 2: %s", n, logs.String())
	}
}

func TestNilTargetsMatchNothing(t *testing.T) {
	var broken *regexp.Regexp // from an ignored regexp.Compile error
	p := propagator.New(propagator.WithTracePropagationTargets([]propagator.Target{broken, nil, propagator.Substring("/api/")}))
	for url, want := range map[string]bool{"https://example.com/api/x": true, "https://example.com/static": false} {
		c := inject(propagator.ContextWithURL(sampledRoot(t), url), p)
		if got := c.Get("sentry-trace") != ""; got != want {
			t.Errorf("%s: propagated %v", url, got)
		}
	}
}
