package main

import (
	"context"
	"errors"
	"fmt"
	"html"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"go.opentelemetry.io/otel/baggage"
	"go.opentelemetry.io/otel/trace"

	"github.com/otelsentry/otelsentry/bridge"
	"github.com/otelsentry/otelsentry/conformance/browser"
	"github.com/otelsentry/otelsentry/examples/internal/exampleutil"
	"github.com/otelsentry/otelsentry/propagator"
)

// The browser plays its part with the Sentry browser SDK in headless
// Chromium where both are installed; elsewhere a stand-in in Go reads the
// meta tags and calls the API as the SDK would.

// Where the page loads the SDK from, and where the SDK sends its
// envelopes: a DSN on the web service's own origin, which stands in for
// Sentry's ingest.
const (
	sdkScriptPath   = "/sentry.js"
	sdkProject      = "1"
	sdkPublicKey    = "demo"
	sdkEnvelopePath = "/api/" + sdkProject + "/envelope/"
)

// shownSDKOps are the ops of the browser SDK's spans that the trace shows:
// its pageload and its fetch of the API. The others, the page's timings
// and resources, are counted.
var shownSDKOps = []string{"pageload", "http.client"}

// startBrowser prepares the Sentry browser SDK with the Chromium binary
// chromium, or, where it cannot run, keeps why in sys.standIn.
func (sys *system) startBrowser(ctx context.Context, chromium string) error {
	dir := browser.Dir()
	if dir == "" {
		dir = findSDKDir(".")
	}
	b, err := browser.New(ctx, browser.WithChromium(chromium), browser.WithDir(dir))
	switch {
	case errors.Is(err, browser.ErrUnavailable):
		sys.standIn = err
	case err != nil:
		return err
	default:
		sys.browser = b
	}
	return nil
}

// findSDKDir returns conformance/browser, where `npm ci` installs the
// SDK, in dir or the nearest of its parents that has it, or "". A binary
// built with -trimpath has no source paths to find it by; the demo runs
// in the source tree, in examples/.
func findSDKDir(dir string) string {
	dir, err := filepath.Abs(dir)
	if err != nil {
		return ""
	}
	for {
		sdk := filepath.Join(dir, "conformance", "browser")
		if _, err := os.Stat(filepath.Join(sdk, "package-lock.json")); err == nil {
			return sdk
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return ""
		}
		dir = parent
	}
}

// browserLine says which browser played its part, and why the stand-in.
func (sys *system) browserLine() string {
	if sys.browser != nil {
		return "the Sentry browser SDK in headless Chromium, sending its envelopes to the web service, which stands in for Sentry"
	}
	why := strings.TrimPrefix(sys.standIn.Error(), browser.ErrUnavailable.Error()+": ")
	return "a stand-in in Go that reads the meta tags, as the Sentry browser SDK cannot run here: " + why
}

// handleSDK adds the routes the SDK needs to the web service: its script
// and its envelopes, without spans of their own.
func (sys *system) handleSDK(mux *http.ServeMux) {
	mux.Handle("GET "+sdkScriptPath, sys.browser.Script())
	mux.Handle("POST "+sdkEnvelopePath, &sys.envelopes)
}

// page is the page web renders: the meta tags of its span, and the SDK's
// script, set to call the API during the pageload.
func (sys *system) page(ctx context.Context) browser.Page {
	return browser.Page{
		Head:      bridge.MetaTags(ctx),
		ScriptURL: sdkScriptPath,
		DSN:       "http://" + sdkPublicKey + "@" + strings.TrimPrefix(sys.webURL, "http://") + "/" + sdkProject,
		Rate:      &sys.rate,
		Targets:   []string{sys.apiURL + "/"},
		Fetch:     []string{sys.apiURL + "/api/checkout"},
	}
}

// browse plays the browser: it loads the page and lets it call the API.
// It returns the browser's hop, and the spans the SDK sent with the count
// of those the trace does not show; the stand-in's spans are recorded by
// its service.
func (sys *system) browse(ctx context.Context) (hop, []spanRecord, int, error) {
	if sys.browser == nil {
		h, err := sys.browseStandIn(ctx)
		return h, nil, 0, err
	}
	report, err := sys.browser.Load(ctx, sys.webURL+"/page")
	if err != nil {
		return hop{}, nil, 0, err
	}
	if len(report.Fetches) != 1 || report.Fetches[0].Status != http.StatusOK {
		return hop{}, nil, 0, fmt.Errorf("the browser's call of the api: %+v", report.Fetches)
	}
	decision := propagator.NotSampled
	if report.Sampled {
		decision = propagator.Sampled
	}
	h := hop{
		Service:  "browser",
		From:     "the page's meta tags, by the Sentry browser SDK " + report.SDKVersion,
		Process:  "chromium",
		TraceID:  report.TraceID,
		Decision: decision.String(),
		DSC:      sentryMembers(sys.browserBaggage()),
	}
	var spans []spanRecord
	hidden := 0
	for _, env := range sys.envelopes.Received() {
		for _, s := range env.Spans {
			switch {
			case s.TraceID != report.TraceID:
			case !slices.Contains(shownSDKOps, s.Op):
				hidden++
			default:
				spans = append(spans, spanRecord{Service: "browser", Name: s.Op + ": " + s.Name, TraceID: s.TraceID,
					SpanID: s.SpanID, ParentID: s.ParentSpanID, Sampled: true, Start: s.Start, Duration: s.End.Sub(s.Start)})
			}
		}
	}
	return h, spans, hidden, nil
}

// browseStandIn reads the meta tags and calls the API with sentry-trace
// and baggage, in spans of its own as the SDK's pageload and fetch.
func (sys *system) browseStandIn(ctx context.Context) (hop, error) {
	page, err := exampleutil.Get(ctx, http.DefaultClient, sys.webURL+"/page", nil)
	if err != nil {
		return hop{}, fmt.Errorf("loading the page: %w", err)
	}
	standIn := sys.services["browser"]
	ctx = bridge.ContinueTrace(ctx, metaContent(page, "sentry-trace"), metaContent(page, "baggage"))
	h := newHop(sys.sentry, "browser", "the page's meta tags, by the stand-in", ctx)
	ctx, pageload := standIn.tracer.Start(ctx, "pageload /page")
	fetchCtx, fetch := standIn.tracer.Start(ctx, "fetch GET /api/checkout", trace.WithSpanKind(trace.SpanKindClient))
	header := http.Header{}
	header.Set("sentry-trace", bridge.Traceparent(fetchCtx))
	if b := bridge.Baggage(fetchCtx); b != "" {
		header.Set("baggage", b)
	}
	_, err = exampleutil.Get(fetchCtx, http.DefaultClient, sys.apiURL+"/api/checkout", header)
	fetch.End()
	pageload.End()
	if err != nil {
		return hop{}, fmt.Errorf("calling the api: %w", err)
	}
	return h, nil
}

// sentryMembers returns the DSC in baggage header values: their sentry-
// members, decoded, without the prefix.
func sentryMembers(values []string) map[string]string {
	dsc := map[string]string{}
	for _, v := range values {
		b, _ := baggage.Parse(v) // keeps the members it can read
		for _, m := range b.Members() {
			if k, ok := strings.CutPrefix(m.Key(), "sentry-"); ok {
				dsc[k] = m.Value()
			}
		}
	}
	return dsc
}

// metaTag matches a meta tag as the browser SDK looks it up, by name.
var metaTag = regexp.MustCompile(`<meta name="([^"]+)" content="([^"]*)">`)

// metaContent returns the content of the meta tag name in page.
func metaContent(page, name string) string {
	for _, m := range metaTag.FindAllStringSubmatch(page, -1) {
		if m[1] == name {
			return html.UnescapeString(m[2])
		}
	}
	return ""
}
