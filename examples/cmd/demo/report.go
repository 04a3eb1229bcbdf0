package main

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	sdklog "go.opentelemetry.io/otel/sdk/log"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
)

// hop is how one participant continued the trace.
type hop struct {
	Service string `json:"service"`
	From    string `json:"from"`
	// Process says which process the participant ran in.
	Process  string            `json:"process"`
	TraceID  string            `json:"trace_id"`
	Decision string            `json:"decision"`
	DSC      map[string]string `json:"dsc"`
}

// spanRecord is one recorded span, as printed.
type spanRecord struct {
	Service  string        `json:"service"`
	Name     string        `json:"name"`
	TraceID  string        `json:"trace_id"`
	SpanID   string        `json:"span_id"`
	ParentID string        `json:"parent_id"`
	Sampled  bool          `json:"sampled"`
	Start    time.Time     `json:"start"`
	Duration time.Duration `json:"duration"`
}

func newSpanRecord(service string, s sdktrace.ReadOnlySpan) spanRecord {
	r := spanRecord{Service: service, Name: s.Name(), TraceID: s.SpanContext().TraceID().String(),
		SpanID: s.SpanContext().SpanID().String(), Sampled: s.SpanContext().IsSampled(),
		Start: s.StartTime(), Duration: s.EndTime().Sub(s.StartTime())}
	if s.Parent().IsValid() {
		r.ParentID = s.Parent().SpanID().String()
	}
	return r
}

// logRecord is one recorded log line, as printed. The log SDK takes its
// trace and span ids from the context the line was logged with.
type logRecord struct {
	Service string    `json:"service"`
	Body    string    `json:"body"`
	TraceID string    `json:"trace_id"`
	SpanID  string    `json:"span_id"`
	Time    time.Time `json:"time"`
}

func newLogRecord(service string, r *sdklog.Record) logRecord {
	l := logRecord{Service: service, Body: r.Body().AsString(), Time: r.Timestamp()}
	if r.TraceID().IsValid() {
		l.TraceID = r.TraceID().String()
	}
	if r.SpanID().IsValid() {
		l.SpanID = r.SpanID().String()
	}
	return l
}

// wantLogs is the line each service logs and the span it logs it in, by
// the start of the span's name: the consumer's names the queue, whose name
// differs from run to run. The browser logs nothing.
var wantLogs = []struct{ service, span, body string }{
	{"web", "GET /page", "rendered the page"},
	{"api", "GET /api/checkout", "checkout accepted"},
	{"worker", "POST /work", "job queued"},
	{"consumer", "process ", "job done"},
	{"subprocess", "send receipt", "receipt sent"},
}

// result is what one run saw.
type result struct {
	hops  []hop
	spans []spanRecord
	logs  []logRecord
	// hiddenSpans counts the spans of the trace that the browser SDK sent
	// and the trace does not show.
	hiddenSpans int
}

// about is what the report says about the run before the hops.
type about struct {
	rate      float64
	exporting []string
	// browser and queue say which browser and which NATS server ran.
	browser, queue string
}

// ok reports whether the trace joined (see joined) and every service's log
// line is on the span that wrote it.
func (r *result) ok() bool {
	return r.joined() && len(r.misplacedLogs()) == 0
}

// joined reports whether every hop continued the head's trace with the
// head's DSC, and the recorded spans form one tree.
func (r *result) joined() bool {
	return r.sameTrace() && r.sameDSC() && r.roots() <= 1
}

func (r *result) sameTrace() bool {
	for _, h := range r.hops {
		if h.TraceID != r.hops[0].TraceID {
			return false
		}
	}
	return len(r.hops) > 0
}

func (r *result) sameDSC() bool {
	for _, h := range r.hops {
		if !sameDSC(r.hops[0].DSC, h.DSC) {
			return false
		}
	}
	return true
}

// sameDSC reports whether dsc is head's: the same members with the same
// values, but for a sample_rand written with other digits of the same
// number, as the Sentry browser SDK writes it (0.123450 as 0.12345).
func sameDSC(head, dsc map[string]string) bool {
	if len(head) != len(dsc) {
		return false
	}
	for k, v := range head {
		got, ok := dsc[k]
		if !ok || got != v && !(k == "sample_rand" && sameNumber(got, v)) {
			return false
		}
	}
	return true
}

// sameNumber reports whether a and b are decimals of the same number.
func sameNumber(a, b string) bool {
	x, errX := strconv.ParseFloat(a, 64)
	y, errY := strconv.ParseFloat(b, 64)
	return errX == nil && errY == nil && x == y
}

// misplacedLogs describes each line of wantLogs that was not logged once,
// or whose trace and span ids are not those of the span that wrote it. An
// unrecorded trace has no spans to compare with: its lines need only carry
// the head's trace id and a span id.
func (r *result) misplacedLogs() []string {
	var problems []string
	for _, want := range wantLogs {
		var found []logRecord
		for _, l := range r.logs {
			if l.Service == want.service && l.Body == want.body {
				found = append(found, l)
			}
		}
		if len(found) != 1 {
			problems = append(problems, fmt.Sprintf("%s logged %q %d times, want once", want.service, want.body, len(found)))
			continue
		}
		l := found[0]
		if len(r.spans) == 0 {
			if len(r.hops) == 0 || l.TraceID != r.hops[0].TraceID || l.SpanID == "" {
				problems = append(problems, fmt.Sprintf("%s's %q is not in the trace (trace %q, span %q)", want.service, want.body, l.TraceID, l.SpanID))
			}
			continue
		}
		i := slices.IndexFunc(r.spans, func(s spanRecord) bool {
			return s.Service == want.service && strings.HasPrefix(s.Name, want.span)
		})
		if i < 0 || l.TraceID != r.spans[i].TraceID || l.SpanID != r.spans[i].SpanID {
			problems = append(problems, fmt.Sprintf("%s's %q is not on its span %q (trace %q, span %q)", want.service, want.body, want.span, l.TraceID, l.SpanID))
		}
	}
	return problems
}

// roots counts the recorded spans whose parent was not recorded.
func (r *result) roots() int {
	ids := map[string]bool{}
	for _, s := range r.spans {
		ids[s.SpanID] = true
	}
	n := 0
	for _, s := range r.spans {
		if !ids[s.ParentID] {
			n++
		}
	}
	return n
}

// printShort writes which browser ran and the result line.
func (r *result) printShort(w io.Writer, a about) {
	fmt.Fprintf(w, "browser: %s\n", a.browser)
	r.printResult(w)
}

func (r *result) printResult(w io.Writer) {
	fmt.Fprintf(w, "RESULT: every hop joined trace %s with the same DSC, every log line on its span: %s\n", r.hops[0].TraceID, yesNo(r.ok()))
}

func (r *result) print(w io.Writer, a about) {
	head := r.hops[0]
	fmt.Fprintf(w, "otelsentry demo: one trace through a page, a browser, an API, a worker, a job queue, its consumer and a subprocess\n")
	fmt.Fprintf(w, "traces sample rate %v (-rate); spans and log lines kept in memory", a.rate)
	if len(a.exporting) > 0 {
		fmt.Fprintf(w, ", and sent: %s", strings.Join(a.exporting, "; "))
	}
	fmt.Fprintf(w, "\nbrowser: %s\nqueue: %s\n", a.browser, a.queue)
	fmt.Fprintf(w, "\nHOPS: how each participant continued the trace, and the DSC it continued with\n")
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "  #\tSERVICE\tPROCESS\tCONTINUED FROM\tTRACE ID\tDECISION\tDSC\n")
	rewritten := ""
	for i, h := range r.hops {
		dsc := "the head's (below)"
		switch {
		case i == 0:
			dsc = "sent (below)"
		case !sameDSC(head.DSC, h.DSC):
			dsc = "DIFFERENT: " + formatDSC(h.DSC)
		case !maps.Equal(head.DSC, h.DSC):
			dsc = "the head's, sample_rand as " + h.DSC["sample_rand"]
			rewritten = h.DSC["sample_rand"]
		}
		fmt.Fprintf(tw, "  %d\t%s\t%s\t%s\t%s\t%s\t%s\n", i+1, h.Service, h.Process, h.From, h.TraceID, h.Decision, dsc)
	}
	_ = tw.Flush()
	if rewritten != "" {
		fmt.Fprintf(w, "  sample_rand %s as %s: the same number, which the Sentry browser SDK writes with no trailing zeros\n",
			head.DSC["sample_rand"], rewritten)
	}

	fmt.Fprintf(w, "\nDSC (Dynamic Sampling Context) the head sent, frozen for the whole trace:\n")
	for _, k := range slices.Sorted(maps.Keys(head.DSC)) {
		fmt.Fprintf(w, "  %-12s %s\n", k, head.DSC[k])
	}

	fmt.Fprintf(w, "\nTRACE %s: %d spans and %d log lines recorded", head.TraceID, len(r.spans), len(r.logs))
	if r.hiddenSpans > 0 {
		fmt.Fprintf(w, ", and %d more spans from the browser SDK, of the page's timings and resources, not shown", r.hiddenSpans)
	}
	fmt.Fprintln(w)
	if len(r.spans) == 0 {
		fmt.Fprintf(w, "  none: the head did not sample this trace (sample_rand %s >= rate %v), so no service records it,\n"+
			"  yet every hop still propagated it, and the log lines still carry it\n", head.DSC["sample_rand"], a.rate)
	} else {
		r.printTree(w)
	}
	for _, p := range r.misplacedLogs() {
		fmt.Fprintf(w, "  LOG LINE OFF ITS SPAN: %s\n", p)
	}
	fmt.Fprintln(w)
	r.printResult(w)
}

// printTree prints the spans as a tree, children in start order, with the
// log lines of each span, in the order they were logged, right under it.
// Log lines on no recorded span are listed last, unindented.
func (r *result) printTree(w io.Writer) {
	spans := slices.Clone(r.spans)
	slices.SortFunc(spans, func(a, b spanRecord) int { return a.Start.Compare(b.Start) })
	logs := slices.Clone(r.logs)
	slices.SortStableFunc(logs, func(a, b logRecord) int { return a.Time.Compare(b.Time) })
	recorded := map[string]bool{}
	children := map[string][]spanRecord{}
	for _, s := range spans {
		recorded[s.SpanID] = true
	}
	// A log line belongs to the span whose trace and span ids it carries.
	type spanKey struct{ trace, span string }
	logged := map[spanKey][]logRecord{}
	var stray []logRecord
	for _, l := range logs {
		if recorded[l.SpanID] {
			logged[spanKey{l.TraceID, l.SpanID}] = append(logged[spanKey{l.TraceID, l.SpanID}], l)
		} else {
			stray = append(stray, l)
		}
	}
	var roots []spanRecord
	for _, s := range spans {
		if recorded[s.ParentID] {
			children[s.ParentID] = append(children[s.ParentID], s)
		} else {
			roots = append(roots, s)
		}
	}
	// Log rows leave the last columns empty, which tabwriter pads; the rows
	// are trimmed when written.
	var table strings.Builder
	tw := tabwriter.NewWriter(&table, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "  SPAN\tSERVICE\tSPAN ID\tPARENT\tSAMPLED\tDURATION\n")
	// A log line's PARENT is the span it was logged in; it has no id of its own.
	printLog := func(l logRecord, depth int) {
		fmt.Fprintf(tw, "  %slog: %s\t%s\t-\t%s\t\t\n", indent(depth), l.Body, l.Service, l.SpanID)
	}
	var walk func(s spanRecord, depth int)
	walk = func(s spanRecord, depth int) {
		parent := s.ParentID
		if parent == "" {
			parent = "-"
		}
		fmt.Fprintf(tw, "  %s%s\t%s\t%s\t%s\t%v\t%v\n", indent(depth), s.Name, s.Service, s.SpanID, parent, s.Sampled,
			s.Duration.Round(10*time.Microsecond))
		for _, l := range logged[spanKey{s.TraceID, s.SpanID}] {
			printLog(l, depth+1)
		}
		for _, c := range children[s.SpanID] {
			walk(c, depth+1)
		}
	}
	for _, s := range roots {
		walk(s, 0)
	}
	for _, l := range stray {
		printLog(l, 0)
	}
	_ = tw.Flush()
	for line := range strings.Lines(table.String()) {
		fmt.Fprintln(w, strings.TrimRight(line, " \n"))
	}
}

// indent is the prefix of a tree row at depth.
func indent(depth int) string {
	if depth == 0 {
		return ""
	}
	return strings.Repeat("   ", depth-1) + "└─ "
}

// formatDSC writes a DSC on one line, keys sorted.
func formatDSC(dsc map[string]string) string {
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(dsc)) {
		parts = append(parts, k+"="+dsc[k])
	}
	return strings.Join(parts, " ")
}

func yesNo(ok bool) string {
	if ok {
		return "yes"
	}
	return "NO"
}
