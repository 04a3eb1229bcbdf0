package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/otelsentry/otelsentry/conformance/browser"
	"github.com/otelsentry/otelsentry/examples/internal/natsqueue"
)

// TestMain lets the test binary play the demo's consumer and subprocess.
func TestMain(m *testing.M) {
	if config, ok := os.LookupEnv(childEnv); ok {
		ctx, cancel := context.WithTimeout(context.Background(), runTimeout)
		err := runChild(ctx, os.Stdout, config)
		cancel()
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// The browsers of the tests: the Sentry browser SDK in Chromium, and the
// stand-in, which runs when the demo finds no Chromium.
var (
	withSDK     = options{chromium: "chromium"}
	withStandIn = options{chromium: "otelsentry-no-such-chromium"}
)

// at returns opts with the traces sample rate rate.
func (opts options) at(rate float64) options {
	opts.rate = rate
	return opts
}

// browsers runs test for each browser; where the SDK cannot run, its
// subtest is skipped, saying why in one line, but in CI (CI set), which
// installs Chromium and the SDK: there it fails.
func browsers(t *testing.T, test func(t *testing.T, opts options)) {
	t.Run("sdk", func(t *testing.T) {
		browser.ForTest(t)
		test(t, withSDK)
	})
	t.Run("stand-in", func(t *testing.T) { test(t, withStandIn) })
}

// follow runs the demo with opts and returns what it saw, and the system,
// stopped.
func follow(t *testing.T, opts options) (*result, *system) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), runTimeout)
	defer cancel()
	sys, err := startSystem(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	res, err := sys.follow(ctx)
	if stopErr := sys.stop(); stopErr != nil {
		t.Error(stopErr)
	}
	if err != nil {
		t.Fatal(err)
	}
	return res, sys
}

func TestEveryHopJoins(t *testing.T) { browsers(t, testEveryHopJoins) }

func testEveryHopJoins(t *testing.T, opts options) {
	res, sys := follow(t, opts.at(1))
	checkBrowser(t, opts, sys, res)
	var services []string
	pids := map[string]string{}
	for _, h := range res.hops {
		services = append(services, h.Service)
		pids[h.Service] = h.Process
		if h.TraceID != res.hops[0].TraceID || h.Decision != "sampled" {
			t.Errorf("hop %s: trace %s, %s", h.Service, h.TraceID, h.Decision)
		}
	}
	if got := strings.Join(services, " "); got != "web browser api worker consumer subprocess" {
		t.Errorf("hops %s", got)
	}
	// The trace crossed into the consumer's process through the broker, and
	// from there into the subprocess.
	if self := fmt.Sprintf("pid %d", os.Getpid()); pids["worker"] != self || pids["consumer"] == self ||
		pids["subprocess"] == self || pids["subprocess"] == pids["consumer"] || (pids["browser"] == "chromium") != (sys.browser != nil) {
		t.Errorf("processes %v, this one pid %d", pids, os.Getpid())
	}
	if _, err := os.Stat(sys.nats.Dir()); !os.IsNotExist(err) {
		t.Errorf("the NATS server's storage outlived the run: %v", err)
	}
	head := res.hops[0].DSC
	if head["transaction"] != "GET /page" || head["release"] != "demo@1.0.0" || head["sampled"] != "true" || head["trace_id"] != res.hops[0].TraceID {
		t.Errorf("head DSC %v", head)
	}
	if !res.sameDSC() {
		t.Error("the DSC changed on the way")
	}
	// One chain of spans, each service's first span the child of the
	// previous service's last.
	byID := map[string]spanRecord{}
	for _, s := range res.spans {
		byID[s.SpanID] = s
		if s.TraceID != res.hops[0].TraceID || !s.Sampled {
			t.Errorf("span %s/%s: trace %s, sampled %v", s.Service, s.Name, s.TraceID, s.Sampled)
		}
	}
	var chain []string
	for _, s := range res.spans {
		if s.Service == "subprocess" {
			for cur, ok := s, true; ok; cur, ok = byID[cur.ParentID] {
				name := cur.Name
				if sys.browser != nil && cur.Service == "browser" {
					name, _, _ = strings.Cut(name, ":") // the op: the SDK names the spans
				}
				chain = append([]string{cur.Service + ":" + name}, chain...)
			}
		}
	}
	subject := sys.queueName + ".jobs" // the queue's subject, which its spans name
	browserSpans := "browser:pageload /page browser:fetch GET /api/checkout"
	if sys.browser != nil {
		browserSpans = "browser:pageload browser:http.client"
	}
	want := "web:GET /page " + browserSpans + " api:GET /api/checkout api:HTTP POST " +
		"worker:POST /work worker:publish " + subject + " consumer:process " + subject + " subprocess:send receipt"
	if got := strings.Join(chain, " "); got != want {
		t.Errorf("chain\n%s\nwant\n%s", got, want)
	}
	if !res.joined() {
		t.Error("joined() = false")
	}

	// Each service's log line carries the trace and span ids of the span
	// it was logged in; the browser logs nothing.
	for _, want := range []struct{ service, span, body string }{
		{"web", "GET /page", "rendered the page"},
		{"api", "GET /api/checkout", "checkout accepted"},
		{"worker", "POST /work", "job queued"},
		{"consumer", "process " + subject, "job done"},
		{"subprocess", "send receipt", "receipt sent"},
	} {
		var span spanRecord
		for _, s := range res.spans {
			if s.Service == want.service && s.Name == want.span {
				span = s
			}
		}
		var lines []logRecord
		for _, l := range res.logs {
			if l.Service == want.service {
				lines = append(lines, l)
			}
		}
		if len(lines) != 1 || lines[0].Body != want.body || lines[0].TraceID != span.TraceID || lines[0].SpanID != span.SpanID {
			t.Errorf("%s logged %+v, want %q on span %s/%s", want.service, lines, want.body, span.TraceID, span.SpanID)
		}
	}
	if len(res.logs) != 5 {
		t.Errorf("%d log lines, want 5: %+v", len(res.logs), res.logs)
	}
	if p := res.misplacedLogs(); len(p) > 0 || !res.ok() {
		t.Errorf("misplaced log lines %q", p)
	}
}

func TestUnsampledTraceStillPropagates(t *testing.T) { browsers(t, testUnsampledTraceStillPropagates) }

func testUnsampledTraceStillPropagates(t *testing.T, opts options) {
	res, sys := follow(t, opts.at(0))
	checkBrowser(t, opts, sys, res)
	if len(res.spans) != 0 {
		t.Errorf("%d spans recorded at rate 0", len(res.spans))
	}
	for _, h := range res.hops {
		if h.TraceID != res.hops[0].TraceID || h.Decision != "not sampled" {
			t.Errorf("hop %s: trace %s, %s", h.Service, h.TraceID, h.Decision)
		}
	}
	if len(res.hops) != 6 || !res.joined() || res.hops[0].DSC["sampled"] != "false" {
		t.Errorf("hops %v", res.hops)
	}
	// Log lines do not depend on the sampling decision: they are all there,
	// in the trace, each with the id of the unrecorded span it was logged in.
	for _, l := range res.logs {
		if l.TraceID != res.hops[0].TraceID || l.SpanID == "" {
			t.Errorf("log line %+v", l)
		}
	}
	if len(res.logs) != 5 || !res.ok() {
		t.Errorf("log lines %+v, misplaced %q", res.logs, res.misplacedLogs())
	}
}

func TestRunPrints(t *testing.T) {
	var out bytes.Buffer
	if err := run(context.Background(), &out, withSDK.at(1), false); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"\nbrowser: ", "\nqueue: NATS JetStream started in this process at nats://127.0.0.1:", "HOPS", "subprocess",
		"└─ send receipt", "RESULT: every hop joined trace", "same DSC, every log line on its span: yes"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
	// In TRACE, each log line is the row right under the span that wrote
	// it, one level deeper, with that span's id as its parent.
	rows := strings.Split(out.String(), "\n")
	for span, log := range map[string]string{
		"GET /page":         "log: rendered the page",
		"GET /api/checkout": "log: checkout accepted",
		"POST /work":        "log: job queued",
		"process ":          "log: job done",
		"send receipt":      "log: receipt sent",
	} {
		i := slices.IndexFunc(rows, func(r string) bool {
			name, _, _ := strings.Cut(strings.TrimLeft(r, " └─"), "  ")
			return strings.HasPrefix(name, span)
		})
		if i < 0 || i+1 == len(rows) {
			t.Errorf("no row for span %q", span)
			continue
		}
		spanRow, logRow := rows[i], rows[i+1]
		spanAt, logAt := strings.Index(spanRow, span), strings.Index(logRow, log)
		_, cells, _ := strings.Cut(spanRow[spanAt:], "  ") // after the name: service, span id, ...
		spanID := strings.Fields(cells)[1]
		if logAt < 0 || logAt <= spanAt || !strings.HasSuffix(logRow, " "+spanID) {
			t.Errorf("row under %q is %q, want %q on span %s", spanRow, logRow, log, spanID)
		}
	}
}

func TestJoinedDetectsBreaks(t *testing.T) {
	ok := result{hops: []hop{{TraceID: "a", DSC: map[string]string{"k": "v"}}, {TraceID: "a", DSC: map[string]string{"k": "v"}}},
		spans: []spanRecord{{SpanID: "1"}, {SpanID: "2", ParentID: "1"}}}
	if !ok.joined() {
		t.Fatal("a joined result is not joined")
	}
	for name, r := range map[string]result{
		"other trace": {hops: []hop{ok.hops[0], {TraceID: "b", DSC: ok.hops[1].DSC}}},
		"other DSC":   {hops: []hop{ok.hops[0], {TraceID: "a", DSC: map[string]string{"k": "w"}}}},
		"two roots":   {hops: ok.hops, spans: []spanRecord{{SpanID: "1"}, {SpanID: "2", ParentID: "9"}}},
	} {
		if r.joined() {
			t.Errorf("%s: joined", name)
		}
	}
}

func TestOKDetectsLogLinesOffTheirSpans(t *testing.T) {
	hops := []hop{{TraceID: "t"}}
	var spans []spanRecord
	var logs []logRecord
	for i, w := range wantLogs {
		id := fmt.Sprint(i + 1)
		spans = append(spans, spanRecord{Service: w.service, Name: w.span, TraceID: "t", SpanID: id, ParentID: fmt.Sprint(i)})
		logs = append(logs, logRecord{Service: w.service, Body: w.body, TraceID: "t", SpanID: id})
	}
	ok := result{hops: hops, spans: spans, logs: logs}
	if !ok.ok() {
		t.Fatalf("log lines on their spans are misplaced: %q", ok.misplacedLogs())
	}
	with := func(change func(ls []logRecord) []logRecord) []logRecord { return change(slices.Clone(logs)) }
	for name, r := range map[string]result{
		"missing":      {hops: hops, spans: spans, logs: with(func(ls []logRecord) []logRecord { return ls[1:] })},
		"twice":        {hops: hops, spans: spans, logs: with(func(ls []logRecord) []logRecord { return append(ls, ls[0]) })},
		"other span":   {hops: hops, spans: spans, logs: with(func(ls []logRecord) []logRecord { ls[0].SpanID = "2"; return ls })},
		"other trace":  {hops: hops, spans: spans, logs: with(func(ls []logRecord) []logRecord { ls[0].TraceID = "u"; return ls })},
		"no span":      {hops: hops, spans: spans, logs: with(func(ls []logRecord) []logRecord { ls[0].SpanID = ""; return ls })},
		"unrecorded":   {hops: hops, logs: with(func(ls []logRecord) []logRecord { ls[0].TraceID = "u"; return ls })},
		"unrecorded 2": {hops: hops, logs: with(func(ls []logRecord) []logRecord { ls[0].SpanID = ""; return ls })},
	} {
		if r.ok() {
			t.Errorf("%s: ok", name)
		}
	}
}

// TestExternalNATS runs the demo on a NATS server it did not start, as
// -nats URL does, and leaves no queue behind on it.
func TestExternalNATS(t *testing.T) {
	srv, err := natsqueue.StartServer()
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	opts := withStandIn.at(1)
	opts.natsURL = srv.URL()
	res, sys := follow(t, opts)
	if sys.nats != nil || !strings.Contains(sys.queueLine(), srv.URL()+" (-nats)") {
		t.Errorf("started a server of its own: %s", sys.queueLine())
	}
	if !res.ok() || res.hops[4].Service != "consumer" || res.hops[4].TraceID != res.hops[0].TraceID {
		t.Errorf("hops %+v", res.hops)
	}
	nc, err := nats.Connect(srv.URL())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := js.Stream(ctx, sys.queueName); !errors.Is(err, jetstream.ErrStreamNotFound) {
		t.Errorf("the queue %s outlived the run: %v", sys.queueName, err)
	}
}

// TestStopKillsTheConsumer: a run that ends before the job stops the
// consumer's process, by its pid.
func TestStopKillsTheConsumer(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), runTimeout)
	defer cancel()
	sys, err := startSystem(ctx, withStandIn.at(1))
	if err != nil {
		t.Fatal(err)
	}
	if err := sys.stop(); err != nil {
		t.Error(err)
	}
	state := sys.consumer.cmd.ProcessState
	if state == nil {
		t.Fatal("the consumer's process was not waited for")
	}
	if ws, ok := state.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
		t.Errorf("the consumer's process ended with %v, want killed", state)
	}
}

func TestRunChildRejectsBadConfigs(t *testing.T) {
	ctx := context.Background()
	var out bytes.Buffer
	if err := runChild(ctx, &out, `{"role":"janitor"}`); !errors.Is(err, errUnknownRole) {
		t.Errorf("an unknown role: %v", err)
	}
	if err := runChild(ctx, &out, `{`); err == nil {
		t.Error("a config that is no JSON was accepted")
	}
	if out.Len() != 0 {
		t.Errorf("printed %q", out.String())
	}
}

// checkBrowser checks that the browser of opts played its part, and that
// the demo says which one did, and why the stand-in.
func checkBrowser(t *testing.T, opts options, sys *system, res *result) {
	t.Helper()
	h := res.hops[slices.IndexFunc(res.hops, func(h hop) bool { return h.Service == "browser" })]
	line := sys.browserLine()
	switch opts.chromium {
	case withSDK.chromium:
		if sys.browser == nil || !strings.HasPrefix(line, "the Sentry browser SDK in headless Chromium") ||
			!strings.HasPrefix(h.From, "the page's meta tags, by the Sentry browser SDK 1") || h.Process != "chromium" {
			t.Errorf("the SDK did not play the browser: %q, hop %+v", line, h)
		}
	case withStandIn.chromium:
		if sys.browser != nil || line != "a stand-in in Go that reads the meta tags, as the Sentry browser SDK cannot run here: "+
			"no Chromium (otelsentry-no-such-chromium): install Debian's chromium package" || h.From != "the page's meta tags, by the stand-in" {
			t.Errorf("the stand-in did not play the browser: %q, hop %+v", line, h)
		}
	}
}

// TestShort: -short prints which browser ran, and the result line.
func TestShort(t *testing.T) {
	var out bytes.Buffer
	if err := run(context.Background(), &out, withStandIn.at(1), true); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	if len(lines) != 2 || !strings.HasPrefix(lines[0], "browser: a stand-in in Go") ||
		!strings.HasPrefix(lines[1], "RESULT: every hop joined trace ") || !strings.HasSuffix(lines[1], ": yes") {
		t.Errorf("-short printed\n%s", out.String())
	}
}

// TestSampleRandRewritten: a sample_rand written with other digits of the
// same number, as the browser SDK writes it, is the same DSC, and the
// report says how it was written; another number is a different DSC.
func TestSampleRandRewritten(t *testing.T) {
	head := map[string]string{"trace_id": "t", "sample_rand": "0.123450"}
	hops := []hop{{Service: "web", TraceID: "t", DSC: head}, {Service: "browser", TraceID: "t", DSC: map[string]string{"trace_id": "t", "sample_rand": "0.12345"}}}
	res := result{hops: hops, spans: []spanRecord{{SpanID: "1"}}}
	if !res.joined() {
		t.Error("a rewritten sample_rand broke the trace")
	}
	var out bytes.Buffer
	res.print(&out, about{rate: 1})
	for _, want := range []string{"the head's, sample_rand as 0.12345\n", "\n  sample_rand 0.123450 as 0.12345: the same number"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("the report lacks %q:\n%s", want, out.String())
		}
	}
	for _, other := range []string{"0.12346", "0.1234500001", "", "x"} {
		hops[1].DSC = map[string]string{"trace_id": "t", "sample_rand": other}
		if sameDSC(head, hops[1].DSC) {
			t.Errorf("sample_rand %q is the head's %s", other, head["sample_rand"])
		}
	}
	if sameDSC(head, map[string]string{"trace_id": "t", "sample_rand": "0.12345", "release": "r"}) {
		t.Error("a DSC with a member more is the head's")
	}
}

func TestSentryMembers(t *testing.T) {
	got := sentryMembers([]string{"sentry-trace_id=abc,other=1,sentry-release=shop%401.0", "sentry-sampled=true, bad member ,sentry-sample_rand=0.25"})
	want := map[string]string{"trace_id": "abc", "release": "shop@1.0", "sampled": "true", "sample_rand": "0.25"}
	if !maps.Equal(got, want) {
		t.Errorf("DSC %v, want %v", got, want)
	}
	if got := sentryMembers(nil); len(got) != 0 {
		t.Errorf("no baggage: %v", got)
	}
}

// TestFindSDKDir: a binary without source paths finds the SDK's directory
// from where it runs, in the source tree.
func TestFindSDKDir(t *testing.T) {
	root := t.TempDir()
	sdk := filepath.Join(root, "conformance", "browser")
	examples := filepath.Join(root, "examples", "cmd")
	for _, dir := range []string{sdk, examples} {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if got := findSDKDir(examples); got != "" {
		t.Errorf("found %q, which has no package-lock.json", got)
	}
	if err := os.WriteFile(filepath.Join(sdk, "package-lock.json"), []byte("{}"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, from := range []string{examples, root} {
		if got := findSDKDir(from); got != sdk {
			t.Errorf("from %s: %q, want %q", from, got, sdk)
		}
	}
	// browser.Dir knows the source tree unless the test was built with
	// -trimpath, where it says "".
	if dir := browser.Dir(); dir != "" {
		if got := findSDKDir(dir); got != dir {
			t.Errorf("from the source tree: %q, want %q", got, dir)
		}
	}
}
