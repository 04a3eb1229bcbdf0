package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestMain lets the test binary play the demo's subprocess.
func TestMain(m *testing.M) {
	if os.Getenv(childEnv) == "1" {
		if err := runChild(context.Background(), os.Stdout, 1); err != nil {
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

func follow(t *testing.T, rate float64) *result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	sys, err := startSystem(ctx, rate)
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
	return res
}

func TestEveryHopJoins(t *testing.T) {
	res := follow(t, 1)
	var services []string
	for _, h := range res.hops {
		services = append(services, h.Service)
		if h.TraceID != res.hops[0].TraceID || h.Decision != "sampled" {
			t.Errorf("hop %s: trace %s, %s", h.Service, h.TraceID, h.Decision)
		}
	}
	if got := strings.Join(services, " "); got != "web browser api worker consumer subprocess" {
		t.Errorf("hops %s", got)
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
				chain = append([]string{cur.Service + ":" + cur.Name}, chain...)
			}
		}
	}
	want := "web:GET /page browser:pageload /page browser:fetch GET /api/checkout api:GET /api/checkout api:HTTP POST " +
		"worker:POST /work worker:enqueue job consumer:process job subprocess:send receipt"
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
		{"worker", "enqueue job", "job queued"},
		{"consumer", "process job", "job done"},
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

func TestUnsampledTraceStillPropagates(t *testing.T) {
	res := follow(t, 0)
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
	if err := run(context.Background(), &out, 1); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"HOPS", "subprocess", "└─ send receipt", "RESULT: every hop joined trace",
		"same DSC, every log line on its span: yes"} {
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
		"enqueue job":       "log: job queued",
		"process job":       "log: job done",
		"send receipt":      "log: receipt sent",
	} {
		i := slices.IndexFunc(rows, func(r string) bool {
			name, _, _ := strings.Cut(strings.TrimLeft(r, " └─"), "  ")
			return name == span
		})
		if i < 0 || i+1 == len(rows) {
			t.Errorf("no row for span %q", span)
			continue
		}
		spanRow, logRow := rows[i], rows[i+1]
		spanAt, logAt := strings.Index(spanRow, span), strings.Index(logRow, log)
		spanID := strings.Fields(spanRow[spanAt+len(span):])[1]
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
