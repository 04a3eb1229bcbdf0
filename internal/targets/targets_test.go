package targets

import (
	"context"
	"testing"

	"go.opentelemetry.io/otel/propagation"
)

func TestIngestMatches(t *testing.T) {
	tests := []struct {
		scheme, host, port string
		url                string
		want               bool
	}{
		{"https", "o1.ingest.sentry.io", "", "https://o1.ingest.sentry.io/api/1/envelope/", true},
		{"https", "o1.ingest.sentry.io", "", "https://O1.INGEST.sentry.io:443/x", true},
		{"https", "o1.ingest.sentry.io", "", "http://o1.ingest.sentry.io/x", false}, // port 80
		{"https", "o1.ingest.sentry.io", "", "https://o1.ingest.sentry.io:8443/x", false},
		// Escaped hosts: ſ folds to s, %25 decodes to the '%' of a zone.
		{"https", "o1.ingest.sentry.io", "", "https://o1.ingest.%C5%BFentry.io/", true},
		{"http", "fe80::1%en0", "9000", "http://[fe80::1%25en0]:9000/", true},
		{"http", "fe80::1%en0", "9000", "http://[fe80::1%25%65n0]:9000/", true},
		{"http", "127.0.0.1", "9000", "http://127.0.0.1:9000", true},
		{"http", "127.0.0.1", "9000", "http://127.0.0.1:9001/", false},
		{"http", "127.0.0.1", "80", "http://127.0.0.1/x", true},
		{"http", "::1", "9000", "http://[::1]:9000/x", true},
		{"http", "::1", "9000", "http://[::1]:9001/x", false},
		{"http", "FE80::1", "9000", "http://[fe80::1]:9000/x", true},
		{"http", "127.0.0.1", "9000", "127.0.0.1:9000/x", false}, // not an absolute URL
		{"http", "127.0.0.1", "9000", "%zz", false},
		{"http", "127.0.0.1", "9000", "", false},
		{"", "", "", "http://127.0.0.1:9000/", false}, // no DSN
	}
	for _, tt := range tests {
		if got := NewIngest(tt.scheme, tt.host, tt.port).matches(tt.url, authorityOf(tt.url)); got != tt.want {
			t.Errorf("ingest %s://%s:%s, %q: %v, want %v", tt.scheme, tt.host, tt.port, tt.url, got, tt.want)
		}
	}
}

func TestNilPolicyAllows(t *testing.T) {
	var p *Policy
	if !p.Allows(context.Background(), propagation.MapCarrier{}) {
		t.Error("a nil policy withheld a request")
	}
}

// The check before parsing never turns away a URL that parsing matches.
func FuzzIngestMatches(f *testing.F) {
	for _, u := range []string{
		"https://o1.ingest.sentry.io/api/1/envelope/", "https://O1.INGEST.Sentry.IO:443/x",
		"https://user@o1.ingest.sentry.io/x", "https://o1.ingest.ſentry.io/", "//o1.ingest.sentry.io:443/",
		"https://example.com/?to=o1.ingest.sentry.io", "http://[::1]:9000/x",
		"https://example.com/a//o1.ingest.sentry.io/", "http:#//o1.ingest.sentry.io", "https://o1.ingest.sentry.io?x",
		"https://o1.ingest.sentry.io#f", "x:/a//o1.ingest.sentry.io", "https:o1.ingest.sentry.io",
	} {
		f.Add("https", "o1.ingest.sentry.io", "", u)
		f.Add("http", "::1", "9000", u)
	}
	f.Add("https", "o1.ingest.ſentry.io", "", "https://o1.ingest.sentry.io/")
	// Escapes in the host decode to bytes that fold (ſ, the Kelvin sign),
	// to '%', or in an IPv6 zone to any byte.
	f.Add("https", "o1.ingest.sentry.io", "", "https://o1.ingest.%C5%BFentry.io/")
	f.Add("https", "kelvin.io", "", "https://%E2%84%AAelvin.io/")
	f.Add("http", "fe80::1%en0", "9000", "http://[fe80::1%25en0]:9000/")
	f.Add("http", "fe80::1%en0", "9000", "http://[fe80::1%25%65n0]:9000/")
	f.Add("http", "a%b", "", "http://a%25b/")
	f.Fuzz(func(t *testing.T, scheme, host, port, rawURL string) {
		in := NewIngest(scheme, host, port)
		if got, want := in.matches(rawURL, authorityOf(rawURL)), in.host != "" && in.parsedMatches(rawURL); got != want {
			t.Fatalf("ingest %+v, %q: %v, parsing says %v", in, rawURL, got, want)
		}
	})
}

// A URL that cannot go to the ingest is turned away without parsing.
func TestIngestMatchesWithoutParsing(t *testing.T) {
	in := NewIngest("https", "o1.ingest.sentry.io", "")
	const other = "https://API.example.com:8443/v1/users?id=42"
	if got := testing.AllocsPerRun(100, func() { in.matches(other, authorityOf(other)) }); got != 0 {
		t.Errorf("matches(%q) allocated %v times", other, got)
	}
}
