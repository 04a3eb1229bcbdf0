package browser_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/otelsentry/otelsentry/conformance/browser"
)

func TestAllowTraceHeaders(t *testing.T) {
	const page = "http://127.0.0.1:8000"
	served := 0
	h := browser.AllowTraceHeaders(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		served++
		_, _ = w.Write([]byte("ok"))
	}), page)
	do := func(method, origin string, header http.Header) *http.Response {
		req := httptest.NewRequest(method, "http://127.0.0.1:9000/api", nil)
		for k, v := range header {
			req.Header[k] = v
		}
		if origin != "" {
			req.Header.Set("Origin", origin)
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		return w.Result()
	}
	preflight := http.Header{"Access-Control-Request-Method": {"GET"}, "Access-Control-Request-Headers": {"baggage,sentry-trace"}}

	resp := do(http.MethodOptions, page, preflight)
	want := map[string]string{
		"Access-Control-Allow-Origin":  page,
		"Access-Control-Allow-Methods": "GET",
		"Access-Control-Allow-Headers": "sentry-trace, baggage, traceparent",
		"Access-Control-Max-Age":       "600",
		"Vary":                         "Origin, Access-Control-Request-Method, Access-Control-Request-Headers",
	}
	for k, v := range want {
		if got := resp.Header.Get(k); got != v {
			t.Errorf("preflight: %s %q, want %q", k, got, v)
		}
	}
	if resp.StatusCode != http.StatusNoContent || served != 0 {
		t.Errorf("preflight: status %d, API called %d times", resp.StatusCode, served)
	}

	resp = do(http.MethodOptions, "http://127.0.0.1:8001", preflight)
	if got := resp.Header.Get("Access-Control-Allow-Origin") + resp.Header.Get("Access-Control-Allow-Headers"); got != "" || served != 0 {
		t.Errorf("preflight from another origin allowed: %v (API called %d times)", resp.Header, served)
	}

	resp = do(http.MethodGet, page, http.Header{"Sentry-Trace": {"4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-1"}})
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Access-Control-Allow-Origin") != page || resp.Header.Get("Vary") != "Origin" || served != 1 {
		t.Errorf("request from the page: %d %v (API called %d times)", resp.StatusCode, resp.Header, served)
	}
	resp = do(http.MethodGet, "http://127.0.0.1:8001", nil)
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Access-Control-Allow-Origin") != "" || served != 2 {
		t.Errorf("request from another origin: %d %v (API called %d times)", resp.StatusCode, resp.Header, served)
	}
	// An OPTIONS request that is no preflight is the API's.
	if resp = do(http.MethodOptions, page, nil); served != 3 {
		t.Errorf("OPTIONS without Access-Control-Request-Method: %d, API called %d times", resp.StatusCode, served)
	}
}

func TestRender(t *testing.T) {
	rate := 0.5
	var out strings.Builder
	err := browser.Page{Head: `<meta name="sentry-trace" content="x">`, ScriptURL: "/sdk.js", DSN: "http://pk@127.0.0.1:1/1",
		Rate: &rate, Lifecycle: browser.Static, Targets: []string{"http://127.0.0.1:2/"}, Fetch: []string{"http://127.0.0.1:2/</script>"},
		Release: "r@1"}.Render(&out)
	if err != nil {
		t.Fatal(err)
	}
	page := out.String()
	for _, want := range []string{`<meta name="sentry-trace" content="x">`, `<script src="/sdk.js"></script>`,
		`"rate":0.5`, `"lifecycle":"static"`, `"release":"r@1"`, `"targets":["http://127.0.0.1:2/"]`} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %s:\n%s", want, page)
		}
	}
	if strings.Count(page, "</script>") != 2 {
		t.Errorf("a fetch URL closed the page's script:\n%s", page)
	}
	out.Reset()
	if err := (browser.Page{}).Render(&out); err != nil || !strings.Contains(out.String(), `"rate":null`) ||
		strings.Contains(out.String(), `"lifecycle":`) {
		t.Errorf("empty page: %v\n%s", err, out.String())
	}
}

func TestParseReport(t *testing.T) {
	r, err := browser.ParseReport(`<html><body data-otelsentry-report="{&quot;op&quot;:&quot;pageload&quot;,&quot;sampled&quot;:true,` +
		`&quot;scripts&quot;:2,&quot;fetches&quot;:[{&quot;url&quot;:&quot;http://a/?x=1&amp;y=2&quot;,&quot;status&quot;:200}]}"></body></html>`)
	if err != nil || r.Op != "pageload" || !r.Sampled || r.Scripts != 2 || len(r.Fetches) != 1 || r.Fetches[0].URL != "http://a/?x=1&y=2" {
		t.Errorf("ParseReport: %+v, %v", r, err)
	}
	if _, err := browser.ParseReport("<html><body></body></html>"); !errors.Is(err, browser.ErrNoReport) {
		t.Errorf("no report: %v", err)
	}
	if _, err := browser.ParseReport(`<body data-otelsentry-report="{">`); err == nil {
		t.Error("a report that is no JSON was accepted")
	}
	if r, err := browser.ParseReport(`<body data-otelsentry-report="{&quot;error&quot;:&quot;the SDK did not load&quot;}">`); err == nil || r.Error == "" {
		t.Errorf("a failed page: %+v, %v", r, err)
	}
}

func TestNewUnavailable(t *testing.T) {
	ctx := context.Background()
	if _, err := browser.New(ctx, browser.WithChromium("otelsentry-no-such-browser")); !errors.Is(err, browser.ErrUnavailable) {
		t.Errorf("without Chromium: %v", err)
	}
	if _, err := browser.New(ctx, browser.WithChromium(os.Args[0]), browser.WithDir(t.TempDir())); !errors.Is(err, browser.ErrUnavailable) {
		t.Errorf("without npm packages: %v", err)
	}
	if _, err := browser.New(ctx, browser.WithVirtualTimeBudget(0)); err == nil || errors.Is(err, browser.ErrUnavailable) {
		t.Errorf("budget 0: %v", err)
	}
}

// TestLoad runs a page whose DSN is its own origin: the SDK starts a
// pageload and sends it there. Chromium is stopped when the context ends.
func TestLoad(t *testing.T) {
	b := browser.ForTest(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	rate := 1.0
	var envelopes browser.Envelopes
	mux := http.NewServeMux()
	mux.Handle("GET /sentry.js", b.Script())
	var dsn string
	mux.HandleFunc("GET /page", func(w http.ResponseWriter, _ *http.Request) {
		_ = browser.Page{ScriptURL: "/sentry.js", DSN: dsn, Rate: &rate, Fetch: []string{"/missing"}}.Render(w)
	})
	mux.Handle("POST /api/1/envelope/", &envelopes)
	srv := httptest.NewUnstartedServer(mux)
	dsn = "http://pk@" + srv.Listener.Addr().String() + "/1"
	srv.Start()
	defer srv.Close()

	r, err := b.Load(ctx, srv.URL+"/page")
	if err != nil {
		t.Fatal(err)
	}
	if r.Op != "pageload" || !r.Sampled || r.ParentSpanID != "" || len(r.TraceID) != 32 || !r.Ended ||
		len(r.Fetches) != 1 || r.Fetches[0].Status != http.StatusNotFound {
		t.Errorf("report %+v", r)
	}
	if want := installedVersion(t); r.SDKVersion != want {
		t.Errorf("the SDK says it is %q, the installed package %q", r.SDKVersion, want)
	}
	// The page flushed the SDK before it reported: what it sent is here.
	var pageload []browser.Span
	for _, env := range envelopes.Received() {
		for _, s := range env.Spans {
			if s.SpanID == r.SpanID {
				pageload = append(pageload, s)
			}
		}
	}
	if len(pageload) != 1 || pageload[0].Op != "pageload" || pageload[0].TraceID != r.TraceID ||
		pageload[0].Start.IsZero() || pageload[0].End.Before(pageload[0].Start) {
		t.Errorf("the SDK sent its pageload span %s as %+v", r.SpanID, pageload)
	}

	short, cancelShort := context.WithTimeout(ctx, 10*time.Millisecond)
	defer cancelShort()
	if _, err := b.Load(short, srv.URL+"/page"); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Load past its deadline: %v", err)
	}
}

// installedVersion returns the version of the @sentry/browser package
// that npm installed.
func installedVersion(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(browser.Dir(), "node_modules", "@sentry", "browser", "package.json"))
	if err != nil {
		t.Fatal(err)
	}
	var pkg struct {
		Version string `json:"version"`
	}
	if err := json.Unmarshal(b, &pkg); err != nil || pkg.Version == "" {
		t.Fatalf("package.json: %v", err)
	}
	return pkg.Version
}

func TestEnvelopes(t *testing.T) {
	var envelopes browser.Envelopes
	post := func(body string) int {
		w := httptest.NewRecorder()
		envelopes.ServeHTTP(w, httptest.NewRequest(http.MethodPost, "http://127.0.0.1:8000/api/1/envelope/", strings.NewReader(body)))
		return w.Code
	}
	const streamed = `{"trace":{"trace_id":"4bf92f3577b34da6a3ce929d0e0e4736","sample_rate":1}}
{"type":"span","item_count":2}
{"items":[{"trace_id":"4bf92f3577b34da6a3ce929d0e0e4736","span_id":"1111111111111111","parent_span_id":"00f067aa0ba902b7","name":"Pageload",` +
		`"start_timestamp":1700000000,"end_timestamp":1700000001,"attributes":{"sentry.op":{"value":"pageload","type":"string"}}},` +
		`{"trace_id":"4bf92f3577b34da6a3ce929d0e0e4736","span_id":"2222222222222222","parent_span_id":"1111111111111111","name":"GET 127.0.0.1",` +
		`"attributes":{"sentry.op":{"value":"http.client","type":"string"}}}]}
`
	const transaction = `{}
{"type":"transaction"}
{"transaction":"/page","start_timestamp":1700000000,"timestamp":1700000001,"contexts":{"trace":{"span_id":"3333333333333333","op":"pageload"}},` +
		`"spans":[{"span_id":"4444444444444444","parent_span_id":"3333333333333333","op":"http.client","description":"GET http://127.0.0.1/api"}]}
`
	for _, body := range []string{streamed, transaction} {
		if code := post(body); code != http.StatusOK {
			t.Fatalf("status %d for %s", code, body)
		}
	}
	if code := post("not an envelope"); code != http.StatusBadRequest {
		t.Errorf("a malformed envelope: status %d", code)
	}
	if code := post("{}\n" + strings.Repeat(" ", 4<<20)); code != http.StatusBadRequest {
		t.Errorf("an envelope of more than 4 MiB: status %d", code)
	}
	got := envelopes.Received()
	if len(got) != 2 {
		t.Fatalf("%d envelopes kept, want 2", len(got))
	}
	if got[0].Trace["sample_rate"] != "1" || got[1].Trace != nil {
		t.Errorf("trace headers %v and %v", got[0].Trace, got[1].Trace)
	}
	want := [][]browser.Span{
		{{TraceID: "4bf92f3577b34da6a3ce929d0e0e4736", SpanID: "1111111111111111", ParentSpanID: "00f067aa0ba902b7", Op: "pageload", Name: "Pageload",
			Start: time.Unix(1700000000, 0).UTC(), End: time.Unix(1700000001, 0).UTC()},
			{TraceID: "4bf92f3577b34da6a3ce929d0e0e4736", SpanID: "2222222222222222", ParentSpanID: "1111111111111111", Op: "http.client", Name: "GET 127.0.0.1"}},
		{{SpanID: "3333333333333333", Op: "pageload", Name: "/page", Start: time.Unix(1700000000, 0).UTC(), End: time.Unix(1700000001, 0).UTC()},
			{SpanID: "4444444444444444", ParentSpanID: "3333333333333333", Op: "http.client", Name: "GET http://127.0.0.1/api"}},
	}
	for i := range want {
		if !slices.Equal(got[i].Spans, want[i]) {
			t.Errorf("envelope %d: spans %+v, want %+v", i, got[i].Spans, want[i])
		}
	}

	// Past 1024 envelopes, no more are kept.
	for range 1024 - len(got) {
		_ = post(transaction)
	}
	if code := post(transaction); code != http.StatusTooManyRequests || len(envelopes.Received()) != 1024 {
		t.Errorf("envelope 1025: status %d, %d kept", code, len(envelopes.Received()))
	}
}
