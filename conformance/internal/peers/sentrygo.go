package peers

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/getsentry/sentry-go"
	sentryhttp "github.com/getsentry/sentry-go/http"
	sentryhttpclient "github.com/getsentry/sentry-go/httpclient"

	"github.com/otelsentry/otelsentry/conformance/hop"
	"github.com/otelsentry/otelsentry/conformance/internal/testkit"
)

// SentryGo is a hop of sentry-go, unmodified: its server middleware
// (sentryhttp) continues the trace, its RoundTripper (sentryhttpclient)
// sends it on.
//
// Each SentryGo has its own client bound to its own hub, and never touches
// sentry-go's global hub, so that hops with different settings can share a
// process. sentryhttp uses the hub it finds on the request context and only
// falls back to a clone of the global one, so each request gets a clone of
// this hop's hub (a scope of its own, as sentryhttp would give it) before the
// middleware runs; sentryhttpclient then finds the hub through the span in
// the request context.
type SentryGo struct {
	client  *sentry.Client
	hub     *sentry.Hub
	handler http.Handler
}

// NewSentryGo builds the hop. A nil cfg.Rate leaves sentry-go's tracing
// off (EnableTracing false), which is how sentry-go runs without
// performance. An empty cfg.Release lets sentry-go derive one (from the
// environment, the build or git), as it always does.
func NewSentryGo(cfg Config) (*SentryGo, error) {
	opts := sentry.ClientOptions{
		Dsn:         cfg.DSN,
		Release:     cfg.Release,
		Environment: cfg.Environment,
	}
	if cfg.Rate != nil {
		opts.EnableTracing = true
		opts.TracesSampleRate = *cfg.Rate
	}
	client, err := sentry.NewClient(opts)
	if err != nil {
		return nil, fmt.Errorf("sentry-go hop %s: %w", cfg.Name, err)
	}
	s := &SentryGo{client: client, hub: sentry.NewHub(client, sentry.NewScope())}

	httpClient := &http.Client{Transport: sentryhttpclient.NewSentryRoundTripper(&hop.CaptureTransport{})}
	middleware := sentryhttp.New(sentryhttp.Options{Repanic: true})
	s.handler = hop.NewHandler(hop.Peer{
		Name:   cfg.Name,
		Client: httpClient,
		Instrument: func(next http.Handler) http.Handler {
			inner := middleware.Handle(next)
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				ctx := sentry.SetHubOnContext(r.Context(), s.hub.Clone())
				inner.ServeHTTP(w, r.WithContext(ctx))
			})
		},
		Current: currentSentrySpan,
		Flush:   client.Flush,
	})
	return s, nil
}

// Handler returns the hop's HTTP handler.
func (s *SentryGo) Handler() http.Handler { return s.handler }

// Flush sends what the client buffered, within timeout.
func (s *SentryGo) Flush(timeout time.Duration) bool { return s.client.Flush(timeout) }

// Close flushes and stops the client.
func (s *SentryGo) Close() {
	s.client.Flush(shutdownTimeout)
	s.client.Close()
}

func currentSentrySpan(ctx context.Context) hop.Span {
	span := sentry.SpanFromContext(ctx)
	if span == nil {
		return hop.Span{}
	}
	out := hop.Span{
		TraceID: span.TraceID.String(),
		SpanID:  span.SpanID.String(),
		Sampled: span.Sampled.Bool(),
	}
	if span.ParentSpanID != (sentry.SpanID{}) {
		out.ParentSpanID = span.ParentSpanID.String()
	}
	return out
}

// StartSentryGo runs a sentry-go hop on 127.0.0.1 until t's cleanup.
func StartSentryGo(t testkit.TB, cfg Config) *Hop {
	t.Helper()
	s, err := NewSentryGo(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return serve(t, cfg.Name, s.Handler(), s.Close)
}
