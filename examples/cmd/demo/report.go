package main

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
)

// hop is how one participant continued the trace.
type hop struct {
	Service  string            `json:"service"`
	From     string            `json:"from"`
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

// result is what one run saw.
type result struct {
	hops  []hop
	spans []spanRecord
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
		if !maps.Equal(h.DSC, r.hops[0].DSC) {
			return false
		}
	}
	return true
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

func (r *result) print(w io.Writer, rate float64, exporting []string) {
	head := r.hops[0]
	defer fmt.Fprintf(w, "\nRESULT: every hop joined trace %s with the same DSC: %s\n", head.TraceID, yesNo(r.joined()))
	fmt.Fprintf(w, "otelsentry demo: one trace through a page, a browser, an API, a worker, a job queue and a subprocess\n")
	fmt.Fprintf(w, "traces sample rate %v (-rate); spans kept in memory", rate)
	if len(exporting) > 0 {
		fmt.Fprintf(w, " and sent to %s", strings.Join(exporting, " and "))
	}
	fmt.Fprintf(w, "\n\nHOPS: how each participant continued the trace, and the DSC it continued with\n")
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "  #\tSERVICE\tCONTINUED FROM\tTRACE ID\tDECISION\tDSC\n")
	for i, h := range r.hops {
		dsc := "the head's (below)"
		switch {
		case i == 0:
			dsc = "sent (below)"
		case !maps.Equal(h.DSC, head.DSC):
			dsc = "DIFFERENT: " + formatDSC(h.DSC)
		}
		fmt.Fprintf(tw, "  %d\t%s\t%s\t%s\t%s\t%s\n", i+1, h.Service, h.From, h.TraceID, h.Decision, dsc)
	}
	_ = tw.Flush()

	fmt.Fprintf(w, "\nDSC (Dynamic Sampling Context) the head sent, frozen for the whole trace:\n")
	for _, k := range slices.Sorted(maps.Keys(head.DSC)) {
		fmt.Fprintf(w, "  %-12s %s\n", k, head.DSC[k])
	}

	fmt.Fprintf(w, "\nTRACE %s: %d spans recorded\n", head.TraceID, len(r.spans))
	if len(r.spans) == 0 {
		fmt.Fprintf(w, "  none: the head did not sample this trace (sample_rand %s >= rate %v), so no service records it,\n"+
			"  yet every hop still propagated it\n", head.DSC["sample_rand"], rate)
		return
	}
	r.printTree(w)
}

// printTree prints the spans as a tree, children in start order.
func (r *result) printTree(w io.Writer) {
	spans := slices.Clone(r.spans)
	slices.SortFunc(spans, func(a, b spanRecord) int { return a.Start.Compare(b.Start) })
	recorded := map[string]bool{}
	children := map[string][]spanRecord{}
	for _, s := range spans {
		recorded[s.SpanID] = true
	}
	var roots []spanRecord
	for _, s := range spans {
		if recorded[s.ParentID] {
			children[s.ParentID] = append(children[s.ParentID], s)
		} else {
			roots = append(roots, s)
		}
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "  SPAN\tSERVICE\tSPAN ID\tPARENT\tSAMPLED\tDURATION\n")
	var walk func(s spanRecord, depth int)
	walk = func(s spanRecord, depth int) {
		indent := ""
		if depth > 0 {
			indent = strings.Repeat("   ", depth-1) + "└─ "
		}
		parent := s.ParentID
		if parent == "" {
			parent = "-"
		}
		fmt.Fprintf(tw, "  %s%s\t%s\t%s\t%s\t%v\t%v\n", indent, s.Name, s.Service, s.SpanID, parent, s.Sampled,
			s.Duration.Round(10*time.Microsecond))
		for _, c := range children[s.SpanID] {
			walk(c, depth+1)
		}
	}
	for _, s := range roots {
		walk(s, 0)
	}
	_ = tw.Flush()
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
