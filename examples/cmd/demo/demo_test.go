package main

import (
	"bytes"
	"context"
	"errors"
	"maps"
	"regexp"
	"slices"
	"strings"
	"testing"

	"go.opentelemetry.io/otel/trace"

	"github.com/otelsentry/otelsentry/propagator"
)

// wantDSCKeys are the DSC keys the browser sends, so the keys every hop
// must hold.
var wantDSCKeys = []string{
	"environment", "public_key", "release", "sample_rand", "sample_rate",
	"sampled", "trace_id", "transaction",
}

// printedHop is one "Hop" block of the output.
type printedHop struct {
	addr        string
	route       string
	sentryTrace string
	baggage     string
	serverSpan  string // the "server span" line's value
	sampled     string
	clientSpan  string // the api's "client span to worker" line's value
	dsc         map[string]string
	dscKeys     []string // in printed order
}

// printed is the demo's output, split into its parts.
type printed struct {
	traceID, spanID, sentryTrace string
	hops                         map[string]*printedHop
	result                       string
}

var (
	hopLine   = regexp.MustCompile(`^Hop \d: (\w+) \((\S+), route "([^"]*)"\)$`)
	fieldLine = regexp.MustCompile(`^  (.{22}) (.+)$`)
	spanLine  = regexp.MustCompile(`^trace ([0-9a-f]{32})  span ([0-9a-f]{16})(?:  parent (none|[0-9a-f]{16}) \(.*\))?(?:  sampled (true|false))?$`)
)

// parseOutput splits the demo's output into its fields, failing the test on
// any line of a hop block it does not understand.
func parseOutput(t *testing.T, out string) printed {
	t.Helper()
	p := printed{hops: map[string]*printedHop{}}
	var hop *printedHop
	section, label := "", ""
	for line := range strings.Lines(out) {
		line = strings.TrimSuffix(line, "\n")
		switch {
		case line == "":
			continue
		case strings.HasPrefix(line, "Browser "):
			section, hop = "browser", nil
			continue
		case strings.HasPrefix(line, "Hop "):
			m := hopLine.FindStringSubmatch(line)
			if m == nil {
				t.Fatalf("malformed hop line %q", line)
			}
			hop = &printedHop{addr: m[2], route: m[3], dsc: map[string]string{}}
			p.hops[m[1]] = hop
			section = "hop"
			continue
		case strings.HasPrefix(line, "Result: "):
			p.result = line
			section = ""
			continue
		case !strings.HasPrefix(line, " "):
			section, hop = "", nil // span tree, Sentry-alone block
			continue
		}
		m := fieldLine.FindStringSubmatch(line)
		if m == nil || section == "" {
			continue
		}
		if l := strings.TrimSpace(m[1]); l != "" {
			label = l
		}
		value := m[2]
		switch section {
		case "browser":
			switch label {
			case "trace id":
				p.traceID = value
			case "span id":
				p.spanID = value
			case "sends sentry-trace":
				p.sentryTrace = value
			}
		case "hop":
			switch label {
			case "incoming sentry-trace":
				hop.sentryTrace = value
			case "incoming baggage":
				hop.baggage = value
			case "incoming traceparent", "incoming tracestate":
			case "server span":
				hop.serverSpan = value
			case "client span to worker":
				hop.clientSpan = value
			case "sampled":
				hop.sampled = value
			case "DSC":
				if strings.HasPrefix(value, "(none") {
					continue
				}
				key, val, ok := strings.Cut(value, "=")
				if !ok {
					t.Fatalf("malformed DSC line %q", line)
				}
				hop.dsc[key] = val
				hop.dscKeys = append(hop.dscKeys, key)
			default:
				t.Fatalf("unexpected hop line %q", line)
			}
		}
	}
	return p
}

// spanFields returns the trace id, span id, parent span id and sampled
// flag of a printed span line.
func spanFields(t *testing.T, what, s string) (traceID, spanID, parent, sampled string) {
	t.Helper()
	m := spanLine.FindStringSubmatch(s)
	if m == nil {
		t.Fatalf("%s: malformed span line %q", what, s)
	}
	return m[1], m[2], m[3], m[4]
}

func TestRunJoinsBrowserTrace(t *testing.T) {
	var buf bytes.Buffer
	if err := run(&buf); err != nil {
		t.Fatalf("run: %v\n%s", err, buf.String())
	}
	out := buf.String()
	t.Log("\n" + out)
	p := parseOutput(t, out)

	if !regexp.MustCompile(`^[0-9a-f]{32}$`).MatchString(p.traceID) || !regexp.MustCompile(`^[0-9a-f]{16}$`).MatchString(p.spanID) {
		t.Fatalf("browser ids = %q, %q", p.traceID, p.spanID)
	}
	if want := p.traceID + "-" + p.spanID + "-1"; p.sentryTrace != want {
		t.Errorf("browser sentry-trace = %q, want %q", p.sentryTrace, want)
	}
	api, worker := p.hops["api"], p.hops["worker"]
	if api == nil || worker == nil || len(p.hops) != 2 {
		t.Fatalf("hops printed: %v", slices.Sorted(maps.Keys(p.hops)))
	}

	for name, h := range p.hops {
		if !strings.HasPrefix(h.addr, "http://127.0.0.1:") {
			t.Errorf("%s listens on %q, want 127.0.0.1", name, h.addr)
		}
	}
	if api.route != "GET /checkout" || worker.route != "GET /work" {
		t.Errorf("routes = %q, %q", api.route, worker.route)
	}

	// The api continues the browser's span.
	if api.sentryTrace != p.sentryTrace {
		t.Errorf("api incoming sentry-trace = %q, want the browser's %q", api.sentryTrace, p.sentryTrace)
	}
	apiTrace, apiSpan, apiParent, _ := spanFields(t, "api server span", api.serverSpan)
	if apiTrace != p.traceID {
		t.Errorf("api server span trace = %s, want the browser's %s", apiTrace, p.traceID)
	}
	if apiParent != p.spanID {
		t.Errorf("api server span parent = %s, want the browser's span %s", apiParent, p.spanID)
	}

	// The api's client span is the worker's parent.
	clientTrace, clientSpan, _, clientSampled := spanFields(t, "api client span", api.clientSpan)
	if clientTrace != p.traceID || clientSampled != "true" {
		t.Errorf("api client span = %q, want trace %s, sampled", api.clientSpan, p.traceID)
	}
	if clientSpan == apiSpan {
		t.Errorf("client span %s is the server span", clientSpan)
	}
	if want := p.traceID + "-" + clientSpan + "-1"; worker.sentryTrace != want {
		t.Errorf("worker incoming sentry-trace = %q, want %q", worker.sentryTrace, want)
	}
	workerTrace, workerSpan, workerParent, _ := spanFields(t, "worker server span", worker.serverSpan)
	if workerTrace != p.traceID {
		t.Errorf("worker server span trace = %s, want the browser's %s", workerTrace, p.traceID)
	}
	if workerParent != clientSpan {
		t.Errorf("worker server span parent = %s, want the api's client span %s", workerParent, clientSpan)
	}
	if ids := []string{p.spanID, apiSpan, clientSpan, workerSpan}; len(slices.Compact(slices.Sorted(slices.Values(ids)))) != len(ids) {
		t.Errorf("span ids repeat: %v", ids)
	}

	wantDSC := map[string]string{
		"trace_id":    p.traceID,
		"public_key":  "demo",
		"release":     "frontend@2.3.1",
		"environment": "demo",
		"sample_rate": "1",
		"sample_rand": "0.421337",
		"sampled":     "true",
		"transaction": "/checkout",
	}
	for _, name := range []string{"api", "worker"} {
		h := p.hops[name]
		if h.sampled != "true" {
			t.Errorf("%s sampled = %q, want true", name, h.sampled)
		}
		if !slices.Equal(h.dscKeys, wantDSCKeys) {
			t.Errorf("%s DSC keys = %v, want %v (sorted)", name, h.dscKeys, wantDSCKeys)
		}
		if !maps.Equal(h.dsc, wantDSC) {
			t.Errorf("%s DSC = %v, want the browser's %v", name, h.dsc, wantDSC)
		}
	}

	// propagation.Baggage forwards the third-party member; the Sentry
	// propagator does not.
	if !strings.Contains(worker.baggage, "vendor=third-party") {
		t.Errorf("worker incoming baggage %q lacks vendor=third-party", worker.baggage)
	}
	want := "Result: trace joined: yes | DSC frozen at worker: yes | vendor=third-party forwarded by the Sentry propagator: no (reached the worker via propagation.Baggage: yes)"
	if p.result != want {
		t.Errorf("result line\n got %q\nwant %q", p.result, want)
	}
}

// TestExerciseRecordsSpansPerService checks the spans each service's own
// recorder holds.
func TestExerciseRecordsSpansPerService(t *testing.T) {
	b, err := newBrowser()
	if err != nil {
		t.Fatal(err)
	}
	rep, err := exercise(t.Context(), b)
	if err != nil {
		t.Fatal(err)
	}
	type want struct {
		service, name string
		kind          trace.SpanKind
	}
	var got []want
	byID := map[trace.SpanID]recordedSpan{}
	for _, rs := range rep.spans {
		got = append(got, want{rs.service, rs.span.Name(), rs.span.SpanKind()})
		byID[rs.span.SpanContext().SpanID()] = rs
		if name, ok := rs.span.Resource().Set().Value("service.name"); !ok || name.AsString() != rs.service {
			t.Errorf("span %q recorded by %s has service.name %v", rs.span.Name(), rs.service, name)
		}
		if sc := rs.span.SpanContext(); sc.TraceID().String() != b.traceID || !sc.IsSampled() {
			t.Errorf("span %q: trace %s sampled %t, want trace %s sampled", rs.span.Name(), sc.TraceID(), sc.IsSampled(), b.traceID)
		}
	}
	wantSpans := []want{
		{"api", "GET /checkout", trace.SpanKindServer},
		{"api", "HTTP GET", trace.SpanKindClient},
		{"worker", "GET /work", trace.SpanKindServer},
	}
	slices.SortFunc(got, func(a, b want) int { return strings.Compare(a.service+a.name, b.service+b.name) })
	if !slices.Equal(got, wantSpans) {
		t.Fatalf("recorded spans = %v, want %v", got, wantSpans)
	}

	// Walk up from the worker: worker server → api client → api server →
	// the browser's remote span.
	span, ok := byID[rep.worker.server.SpanID()]
	if !ok {
		t.Fatalf("worker server span %s not recorded", rep.worker.server.SpanID())
	}
	var chain []string
	for {
		chain = append(chain, span.service+" "+span.span.Name())
		parent := span.span.Parent()
		next, ok := byID[parent.SpanID()]
		if !ok {
			if parent.SpanID().String() != b.spanID || !parent.IsRemote() {
				t.Errorf("chain ends at parent %s (remote %t), want the browser's span %s", parent.SpanID(), parent.IsRemote(), b.spanID)
			}
			break
		}
		span = next
	}
	if want := []string{"worker GET /work", "api HTTP GET", "api GET /checkout"}; !slices.Equal(chain, want) {
		t.Errorf("parent chain = %v, want %v", chain, want)
	}
	if !rep.joined || !rep.frozen || rep.vendorBySentry || !rep.vendorAtWorker {
		t.Errorf("verdicts joined=%t frozen=%t vendorBySentry=%t vendorAtWorker=%t", rep.joined, rep.frozen, rep.vendorBySentry, rep.vendorAtWorker)
	}
	if strings.Contains(rep.sentryAlone, "vendor") || !strings.Contains(rep.sentryAlone, "sentry-release=frontend%402.3.1") {
		t.Errorf("Sentry propagator alone wrote baggage %q", rep.sentryAlone)
	}
}

// TestRunInvalidSentryTraceDoesNotJoin sends a sentry-trace with uppercase
// hex, which must be ignored: the api starts its own trace, the demo says
// so and fails.
func TestRunInvalidSentryTraceDoesNotJoin(t *testing.T) {
	b, err := newBrowser()
	if err != nil {
		t.Fatal(err)
	}
	b.sentryTrace = strings.ToUpper(b.traceID) + "-" + b.spanID + "-1"

	var buf bytes.Buffer
	err = runBrowser(&buf, b)
	if !errors.Is(err, errNotJoined) {
		t.Fatalf("runBrowser = %v, want errNotJoined\n%s", err, buf.String())
	}
	t.Log("\n" + buf.String())
	p := parseOutput(t, buf.String())
	if !strings.HasPrefix(p.result, "Result: trace joined: no | DSC frozen at worker: no |") {
		t.Errorf("result line %q", p.result)
	}
	if api := p.hops["api"]; api == nil {
		t.Errorf("no api hop printed")
	} else if _, _, parent, _ := spanFields(t, "api server span", api.serverSpan); parent != "none" {
		t.Errorf("printed api parent = %q, want none", parent)
	}

	rep, err := exercise(context.Background(), b)
	if err != nil {
		t.Fatal(err)
	}
	if rep.joined || rep.frozen || rep.api.continued {
		t.Errorf("joined=%t frozen=%t api continued=%t, want all false", rep.joined, rep.frozen, rep.api.continued)
	}
	apiTrace := rep.api.server.TraceID()
	if apiTrace.String() == b.traceID || rep.api.parent.IsValid() {
		t.Errorf("api server span trace %s parent %s: want a new root", apiTrace, rep.api.parent)
	}
	// The worker still joins the api's trace, with the api's head DSC:
	// this service's release, not the browser's.
	if rep.worker.server.TraceID() != apiTrace || rep.worker.parent != rep.client.SpanID() {
		t.Errorf("worker span trace %s parent %s, want trace %s parent %s", rep.worker.server.TraceID(), rep.worker.parent, apiTrace, rep.client.SpanID())
	}
	dsc := rep.worker.dsc
	for key, want := range map[string]string{"trace_id": apiTrace.String(), "release": "demo@1.0.0", "environment": "demo", "sampled": "true"} {
		if dsc[key] != want {
			t.Errorf("worker DSC %s = %q, want %q (DSC %v)", key, dsc[key], want, dsc)
		}
	}
	if r, ok := propagator.ParseSampleRand(dsc["sample_rand"]); !ok || r < 0 || r >= 1 || dsc["sample_rand"] == "0.421337" {
		t.Errorf("worker DSC sample_rand = %q, want a fresh value in [0,1)", dsc["sample_rand"])
	}
	if _, ok := dsc["public_key"]; ok {
		t.Errorf("worker DSC has public_key %q; no DSN is configured", dsc["public_key"])
	}
}
