package browser

import (
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"html/template"
	"io"
	"regexp"
)

// Lifecycle is the SDK's traceLifecycle option: how it sends spans.
type Lifecycle string

// The two span lifecycles of the SDK.
const (
	// Stream, the SDK's default, sends spans as span items, in envelopes
	// of one trace each.
	Stream Lifecycle = "stream"
	// Static sends a pageload as one transaction item with its child spans.
	Static Lifecycle = "static"
)

// Page is an HTML page that starts the Sentry browser SDK, fetches URLs
// during the pageload and reports what the SDK did (see Report). Its fields
// are the SDK's options; the SDK reads the trace to continue from Head.
type Page struct {
	// Head goes into the page's <head> as it is: typically the sentry-trace
	// and baggage meta tags of bridge.MetaTags.
	Head template.HTML
	// ScriptURL is where the page loads the SDK from, a handler of
	// Browser.Script.
	ScriptURL string
	// DSN is the SDK's dsn; it sends its envelopes there.
	DSN string
	// Rate is tracesSampleRate; nil leaves it out, which turns tracing off
	// in the SDK while it still propagates.
	Rate *float64
	// Lifecycle is traceLifecycle; "" keeps the SDK's default, Stream.
	Lifecycle Lifecycle
	// Targets is tracePropagationTargets: the SDK adds sentry-trace and
	// baggage to a fetch whose URL contains one of them. End an origin with
	// "/" so that it does not match a longer port.
	Targets []string
	// Fetch lists the URLs fetched, all at once, during the pageload.
	Fetch []string
	// Release and Environment are the SDK's options of those names; ""
	// leaves one out.
	Release, Environment string
}

// pageConfig is what the page's script reads: Page's SDK options.
type pageConfig struct {
	DSN         string   `json:"dsn"`
	Rate        *float64 `json:"rate"`
	Lifecycle   string   `json:"lifecycle,omitempty"`
	Targets     []string `json:"targets"`
	Fetch       []string `json:"fetch"`
	Release     string   `json:"release,omitempty"`
	Environment string   `json:"environment,omitempty"`
}

// Render writes the page.
func (p Page) Render(w io.Writer) error {
	return pageTemplate.Execute(w, struct {
		Head      template.HTML
		ScriptURL string
		Config    pageConfig
	}{p.Head, p.ScriptURL, pageConfig{DSN: p.DSN, Rate: p.Rate, Lifecycle: string(p.Lifecycle),
		Targets: append([]string{}, p.Targets...), Fetch: append([]string{}, p.Fetch...),
		Release: p.Release, Environment: p.Environment}})
}

// reportAttribute is the attribute of <body> that holds the report.
const reportAttribute = "data-otelsentry-report"

// The page's script waits for the fetches, then for the pageload span to
// end (polling every 100 ms for at most ten seconds, which virtual time
// makes short), flushes the SDK for at most five seconds and writes the
// report. html/template writes Config as a JavaScript object.
var pageTemplate = template.Must(template.New("page").Parse(`<!doctype html>
<html><head><meta charset="utf-8"><title>otelsentry</title>
{{.Head}}
<script src="{{.ScriptURL}}"></script>
</head><body>
<script>
(function () {
  var config = {{.Config}};
  var report = {fetches: [], scripts: document.scripts.length};
  function finish(error) {
    if (error) { report.error = String(error); }
    document.body.setAttribute("` + reportAttribute + `", JSON.stringify(report));
  }
  if (typeof Sentry === "undefined") { finish("the SDK did not load"); return; }
  report.sdk_version = Sentry.SDK_VERSION;
  var options = {
    dsn: config.dsn,
    tracePropagationTargets: config.targets,
    integrations: [Sentry.browserTracingIntegration()]
  };
  if (config.rate !== null) { options.tracesSampleRate = config.rate; }
  if (config.lifecycle) { options.traceLifecycle = config.lifecycle; }
  if (config.release) { options.release = config.release; }
  if (config.environment) { options.environment = config.environment; }
  Sentry.init(options);
  var pageload = Sentry.getActiveSpan();
  function ended() { return !pageload || Sentry.spanToJSON(pageload).end_timestamp !== undefined; }
  function waitEnded(polls) {
    return new Promise(function (resolve) {
      (function poll(left) {
        if (ended() || left === 0) { resolve(); } else { setTimeout(function () { poll(left - 1); }, 100); }
      })(polls);
    });
  }
  Promise.all(config.fetch.map(function (url) {
    return fetch(url).then(function (response) {
      return response.text().then(function (body) {
        return {url: url, status: response.status, body: body.slice(0, 65536)};
      });
    }, function (error) { return {url: url, error: String(error)}; });
  })).then(function (fetches) {
    report.fetches = fetches;
    return waitEnded(100);
  }).then(function () {
    if (pageload) {
      var span = Sentry.spanToJSON(pageload);
      report.op = (span.attributes || {})["sentry.op"] || "";
      report.trace_id = span.trace_id;
      report.span_id = span.span_id;
      report.parent_span_id = span.parent_span_id || "";
      report.sampled = (pageload.spanContext().traceFlags & 1) === 1;
      report.ended = span.end_timestamp !== undefined;
    }
    return Sentry.flush(5000);
  }).then(function (flushed) { report.flushed = flushed; finish(); }, finish);
})();
</script>
</body></html>
`))

// Report is what a Page's script saw the SDK do.
type Report struct {
	// SDKVersion is the version of the SDK that ran, as it tells it.
	SDKVersion string `json:"sdk_version"`
	// Op is the op (the sentry.op attribute) of the span that was active
	// after Sentry.init: "pageload" when browserTracingIntegration started
	// one.
	Op string `json:"op"`
	// TraceID, SpanID and ParentSpanID identify that span, as the SDK's
	// spanToJSON gives them; ParentSpanID is the span it continued.
	TraceID      string `json:"trace_id"`
	SpanID       string `json:"span_id"`
	ParentSpanID string `json:"parent_span_id"`
	// Sampled is the span's sampled flag.
	Sampled bool `json:"sampled"`
	// Ended is whether the span had ended when the page flushed the SDK.
	Ended bool `json:"ended"`
	// Flushed is what Sentry.flush answered: true when everything was sent.
	Flushed bool `json:"flushed"`
	// Scripts is the number of script elements in the page: the SDK's and
	// the page's own, and more only if something in Head added one.
	Scripts int `json:"scripts"`
	// Fetches are the outcomes of Page.Fetch, in its order.
	Fetches []Fetch `json:"fetches"`
	// Error is set when the page's script failed.
	Error string `json:"error"`
}

// Fetch is the outcome of one fetch.
type Fetch struct {
	URL string `json:"url"`
	// Status is the response status; 0 when the fetch failed.
	Status int `json:"status"`
	// Body is the response body, its first 64 KiB.
	Body string `json:"body"`
	// Error is the fetch's error, e.g. a blocked cross-origin request.
	Error string `json:"error"`
}

// ErrNoReport is returned by ParseReport when the DOM holds no report:
// the page was not a Page, or its script did not finish within the
// virtual time budget.
var ErrNoReport = errors.New("browser: no report in the page")

var reportPattern = regexp.MustCompile(reportAttribute + `="([^"]*)"`)

// maxQuoted is how much of a DOM an error quotes.
const maxQuoted = 2 << 10

// ParseReport reads the report a Page wrote into dom, the page's DOM as
// Chromium dumps it.
func ParseReport(dom string) (Report, error) {
	m := reportPattern.FindStringSubmatch(dom)
	if m == nil {
		return Report{}, fmt.Errorf("%w: %s", ErrNoReport, dom[:min(len(dom), maxQuoted)])
	}
	var r Report
	if err := json.Unmarshal([]byte(html.UnescapeString(m[1])), &r); err != nil {
		return Report{}, fmt.Errorf("browser: report: %w", err)
	}
	if r.Error != "" {
		return r, fmt.Errorf("browser: the page failed: %s", r.Error)
	}
	return r, nil
}
