// Command browser runs the unmodified Sentry browser SDK in headless
// Chromium against two otelhttp services on different origins: a web
// service renders a page with bridge.MetaTags, the SDK continues the trace
// in its pageload and fetches from the api, whose CORS answer lets the SDK
// add sentry-trace and baggage. In its output, the preflight line shows
// what the api answered; the browser's pageload span has the page's server
// span as parent; the api's server span continues the browser's trace, and
// the api received the page's DSC (release shop@1.0.0) unchanged.
//
// It needs Debian's chromium and the SDK installed with `npm ci` in
// conformance/browser; the conformance module's browser package bundles the
// SDK and drives Chromium.
package main

import (
	"context"
	"fmt"
	"io"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/otel"

	"github.com/otelsentry/otelsentry/bridge"
	"github.com/otelsentry/otelsentry/conformance/browser"
	"github.com/otelsentry/otelsentry/examples/internal/exampleutil"
	"github.com/otelsentry/otelsentry/propagator"
	"github.com/otelsentry/otelsentry/sampling"
)

// timeout bounds the run: bundling the SDK and one page load take a few
// seconds.
const timeout = time.Minute

func main() { exampleutil.Main("browser", run) }

func run(w io.Writer) error {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	b, err := browser.New(ctx)
	if err != nil {
		return err
	}

	// The web service renders the page, serves the SDK and, standing in
	// for Sentry, takes the SDK's envelopes on its own origin.
	var page atomic.Pointer[browser.Page]
	envelopes := &browser.Envelopes{}
	web, err := exampleutil.StartServer("web", exampleutil.NewTracing(sampling.New(sampling.WithSampleRate(1))), "GET /shop",
		func(w http.ResponseWriter, r *http.Request) {
			p := *page.Load()
			p.Head = bridge.MetaTags(r.Context())
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			_ = p.Render(w)
		},
		exampleutil.WithRoute("GET /sentry.js", b.Script()),
		exampleutil.WithRoute("POST /api/1/envelope/", envelopes))
	if err != nil {
		return err
	}
	defer web.Close()

	// The api, on another origin, allows the page's: without that answer
	// to the preflight, the browser would not send the fetch at all.
	preflights := &preflightLog{}
	api, err := exampleutil.StartServer("api", exampleutil.NewTracing(sampling.New()), "GET /api/cart",
		func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, `{"items":2}`) },
		exampleutil.WithWrap(func(h http.Handler) http.Handler {
			return preflights.record(browser.AllowTraceHeaders(h, web.URL))
		}))
	if err != nil {
		return err
	}
	defer api.Close()

	// Both services' DSN is the web's origin, as is the SDK's: their DSC
	// names its public key, without which the SDK leaves the DSC out of
	// the envelopes it streams.
	dsn := "http://publickey@" + strings.TrimPrefix(web.URL, "http://") + "/1"
	otel.SetTextMapPropagator(propagator.Composite(propagator.WithDSN(dsn),
		propagator.WithRelease("shop@1.0.0"), propagator.WithEnvironment("example")))
	rate := 1.0
	page.Store(&browser.Page{ScriptURL: "/sentry.js", DSN: dsn, Rate: &rate,
		Targets: []string{api.URL + "/"}, Fetch: []string{api.Endpoint()}, Release: "shop-frontend@1.0.0"})
	report, err := b.Load(ctx, web.Endpoint())
	if err != nil {
		return err
	}

	if err := preflights.print(w); err != nil {
		return err
	}
	if err := exampleutil.PrintLine(w, "span", "service", "browser", "kind", "pageload", "name", report.Op,
		"trace", report.TraceID, "id", report.SpanID, "parent", report.ParentSpanID,
		"sampled", strconv.FormatBool(report.Sampled)); err != nil {
		return err
	}
	for _, f := range report.Fetches {
		if err := exampleutil.PrintLine(w, "fetch", "url", f.URL, "status", strconv.Itoa(f.Status), "error", f.Error); err != nil {
			return err
		}
	}
	if err := printEnvelopes(w, envelopes); err != nil {
		return err
	}
	if err := web.Report(w); err != nil {
		return err
	}
	return api.Report(w)
}

// preflightLog records the CORS preflights a service answered.
type preflightLog struct {
	mu    sync.Mutex
	lines [][]string
}

func (l *preflightLog) record(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		next.ServeHTTP(w, r)
		if r.Method != http.MethodOptions {
			return
		}
		h := w.Header()
		l.mu.Lock()
		defer l.mu.Unlock()
		l.lines = append(l.lines, []string{"origin", r.Header.Get("Origin"),
			"request-method", r.Header.Get("Access-Control-Request-Method"),
			"request-headers", r.Header.Get("Access-Control-Request-Headers"),
			"allow-origin", h.Get("Access-Control-Allow-Origin"),
			"allow-methods", h.Get("Access-Control-Allow-Methods"),
			"allow-headers", h.Get("Access-Control-Allow-Headers"),
			"max-age", h.Get("Access-Control-Max-Age")})
	})
}

func (l *preflightLog) print(w io.Writer) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, kv := range l.lines {
		if err := exampleutil.PrintLine(w, "preflight", append([]string{"service", "api"}, kv...)...); err != nil {
			return err
		}
	}
	return nil
}

// printEnvelopes writes an "envelope" line with the trace header of each
// envelope that had one.
func printEnvelopes(w io.Writer, envelopes *browser.Envelopes) error {
	for _, env := range envelopes.Received() {
		if env.Trace == nil {
			continue
		}
		var kv []string
		for _, k := range slices.Sorted(maps.Keys(env.Trace)) {
			kv = append(kv, k, env.Trace[k])
		}
		if err := exampleutil.PrintLine(w, "envelope", kv...); err != nil {
			return fmt.Errorf("envelope: %w", err)
		}
	}
	return nil
}
