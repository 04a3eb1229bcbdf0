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

	"github.com/otelsentry/otelsentry/internal/protocol"
	"github.com/otelsentry/otelsentry/internal/vectors"
	"github.com/otelsentry/otelsentry/propagator"
)

func TestStrictContinuation(t *testing.T) { // V-OR
	for _, tt := range vectors.Strict() {
		t.Run(tt.ID, func(t *testing.T) {
			opts := []propagator.Option{propagator.WithStrictTraceContinuation(tt.Strict)}
			if tt.DSN != "" {
				opts = append(opts, propagator.WithDSN(tt.DSN))
			}
			if tt.OrgID != "" {
				opts = append(opts, propagator.WithOrgID(tt.OrgID))
			}
			ctx := extract(propagator.New(opts...), map[string]string{"sentry-trace": tt.SentryTrace, "baggage": tt.Baggage})
			sc := trace.SpanContextFromContext(ctx)
			if sc.IsValid() != tt.Continued {
				t.Fatalf("continued = %v, want %v", sc.IsValid(), tt.Continued)
			}
			traceID, _, _ := strings.Cut(tt.SentryTrace, "-")
			if ok := protocol.ContinuedFromContext(ctx, mustTraceID(t, traceID)) != nil; ok != tt.Continued {
				t.Errorf("Sentry state kept = %v", ok)
			}
		})
	}
}

func TestTargets(t *testing.T) { // V-TG
	for _, tt := range vectors.Targets() {
		t.Run(tt.ID, func(t *testing.T) {
			var targets []propagator.Target // nil stays nil: no list
			if tt.Targets != nil {
				targets = make([]propagator.Target, 0, len(tt.Targets))
			}
			for _, tg := range tt.Targets {
				if tg.Regexp {
					targets = append(targets, regexp.MustCompile(tg.Value))
				} else {
					targets = append(targets, propagator.Substring(tg.Value))
				}
			}
			p := propagator.New(propagator.WithTracePropagationTargets(targets), propagator.WithDSN(tt.DSN))
			for _, url := range tt.URLs {
				ctx := sampledRoot(t)
				if url != "" {
					ctx = propagator.ContextWithURL(ctx, url)
				}
				// The targets are about requests: the carrier is an
				// HTTP request's headers.
				c := propagation.HeaderCarrier{}
				p.Inject(ctx, c)
				if got := c.Get("sentry-trace") != ""; got != tt.Propagate {
					t.Errorf("%q: propagated = %v, want %v", url, got, tt.Propagate)
				}
				if !tt.Propagate && len(c) != 0 {
					t.Errorf("%q: carrier %v, want untouched", url, c)
				}
				// Message metadata and environment variables are not
				// requests: only a URL recorded for them filters them.
				if m := inject(ctx, p); (m.Get("sentry-trace") != "") != (tt.Propagate || url == "") {
					t.Errorf("%q: a map carrier got %v", url, m)
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
