package propagator_test

import (
	"regexp"
	"testing"

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
