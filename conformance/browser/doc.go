// Package browser runs the unmodified Sentry browser SDK, @sentry/browser
// 11.12.0 from the lockfile in this directory, in headless Chromium.
//
// New checks that Chromium and the npm packages are there (`npm ci` in this
// directory installs them) and bundles the SDK with esbuild, from the same
// lockfile, into a script for a <script> tag that defines the global
// Sentry, as the SDK's own browser bundles do: the npm package ships only
// ES and CommonJS modules. Nothing is fetched at run time.
//
// A Page is the HTML that a service renders: its head (typically the
// sentry-trace and baggage meta tags of bridge.MetaTags), the SDK's script,
// and a small script that calls Sentry.init with browserTracingIntegration,
// fetches some URLs during the pageload, waits for the pageload span to end,
// flushes the SDK and writes a Report into the page. Browser.Load opens a
// URL in headless Chromium with a virtual time budget, so that the SDK's
// timers (idle span, flush) run at once, and returns the Report read from
// the DOM Chromium dumps.
//
// Envelopes, served at the envelope endpoint of the page's DSN, keeps the
// spans and the DSC of the envelopes the SDK sends there.
//
//	b, err := browser.New(ctx)
//	mux.Handle("GET /sentry.js", b.Script())
//	mux.Handle("POST /api/1/envelope/", &envelopes)
//	mux.Handle("GET /page", otelhttp.NewHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
//		_ = browser.Page{Head: bridge.MetaTags(r.Context()), ScriptURL: "/sentry.js", DSN: dsn,
//			Rate: &rate, Targets: []string{apiURL + "/"}, Fetch: []string{apiURL + "/api"}}.Render(w)
//	}), "GET /page"))
//	report, err := b.Load(ctx, webURL+"/page")
//
// AllowTraceHeaders is what an API on another origin than the page must
// answer for the SDK's fetch with sentry-trace and baggage to be sent.
package browser
