package peers

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"
)

// The trace entering the node chain: sampled upstream at 0.5 with
// sample_rand 0.25, plus a member of another vendor.
const (
	nodeInTraceID = "d4cda95b652f4a1592b449d5929fda1b"
	nodeInSpanID  = "6e0c63257de34c92"
	nodeInBaggage = "sentry-trace_id=" + nodeInTraceID + ",sentry-sample_rate=0.5,sentry-sample_rand=0.25,othervendor=x"
)

// requireNode skips when the node peer cannot run on a developer's machine,
// and fails under CI, which installs it.
func requireNode(t *testing.T) {
	t.Helper()
	if err := NodeAvailable(); err != nil {
		if os.Getenv("CI") == "" {
			t.Skipf("%v (set CI=true to make this a failure)", err)
		}
		t.Fatal(err)
	}
}

// nodeEnvelope is one envelope received by nodeIngest.
type nodeEnvelope struct {
	Header map[string]json.RawMessage
	Items  []nodeItem
}

type nodeItem struct {
	Header  map[string]any
	Payload []byte
}

// nodeIngest is a minimal Sentry ingest on 127.0.0.1 recording envelopes.
type nodeIngest struct {
	srv *httptest.Server
	mu  sync.Mutex
	got []nodeEnvelope
	bad []string
}

func startNodeIngest(t *testing.T) *nodeIngest {
	t.Helper()
	in := &nodeIngest{}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("ingest: listen: %v", err)
	}
	in.srv = &httptest.Server{Listener: l, Config: &http.Server{Handler: http.HandlerFunc(in.serve)}}
	in.srv.Start()
	t.Cleanup(in.srv.Close)
	return in
}

func (in *nodeIngest) dsn() string {
	return "http://publickey@" + in.srv.Listener.Addr().String() + "/42"
}

func (in *nodeIngest) serve(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost || r.URL.Path != "/api/42/envelope/" {
		http.NotFound(w, r)
		return
	}
	var body io.Reader = http.MaxBytesReader(w, r.Body, 16<<20)
	if r.Header.Get("Content-Encoding") == "gzip" {
		zr, err := gzip.NewReader(body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		body = zr
	}
	raw, err := io.ReadAll(body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	env, err := parseNodeEnvelope(raw)
	in.mu.Lock()
	if err != nil {
		in.bad = append(in.bad, fmt.Sprintf("%v: %q", err, raw))
	} else {
		in.got = append(in.got, env)
	}
	in.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	_, _ = io.WriteString(w, "{}")
}

// parseNodeEnvelope splits an envelope into its header and items. Items
// carry a length or end at the next newline.
func parseNodeEnvelope(raw []byte) (nodeEnvelope, error) {
	var env nodeEnvelope
	line, rest, _ := bytes.Cut(raw, []byte("\n"))
	if err := json.Unmarshal(line, &env.Header); err != nil {
		return env, fmt.Errorf("envelope header: %w", err)
	}
	for len(bytes.TrimSpace(rest)) > 0 {
		var it nodeItem
		line, rest, _ = bytes.Cut(rest, []byte("\n"))
		if err := json.Unmarshal(line, &it.Header); err != nil {
			return env, fmt.Errorf("item header: %w", err)
		}
		if n, ok := it.Header["length"].(float64); ok {
			if int(n) > len(rest) {
				return env, fmt.Errorf("item length %v beyond body", n)
			}
			it.Payload, rest = rest[:int(n)], rest[int(n):]
			rest = bytes.TrimPrefix(rest, []byte("\n"))
		} else {
			it.Payload, rest, _ = bytes.Cut(rest, []byte("\n"))
		}
		env.Items = append(env.Items, it)
	}
	return env, nil
}

// waitFor polls the recorded envelopes until match accepts one, for at
// most 10 s.
func (in *nodeIngest) waitFor(t *testing.T, what string, match func(nodeEnvelope) bool) nodeEnvelope {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		in.mu.Lock()
		got := append([]nodeEnvelope(nil), in.got...)
		bad := append([]string(nil), in.bad...)
		in.mu.Unlock()
		for _, env := range got {
			if match(env) {
				return env
			}
		}
		if time.Now().After(deadline) {
			for _, env := range got {
				h, _ := json.Marshal(env.Header)
				t.Logf("envelope header: %s", h)
			}
			t.Fatalf("no envelope with %s among %d received (%d unparsable: %v)", what, len(got), len(bad), bad)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// nodeReport is the part of a hop report (see the hop contract) that these tests read.
type nodeReport struct {
	Service      string            `json:"service"`
	Received     map[string]string `json:"received"`
	TraceID      string            `json:"trace_id"`
	SpanID       string            `json:"span_id"`
	ParentSpanID string            `json:"parent_span_id"`
	Sampled      bool              `json:"sampled"`
	Sent         map[string]string `json:"sent"`
	Next         *nodeReport       `json:"next"`
	Error        string            `json:"error"`
}

// startNodeHop starts one node hop that is stopped, by pid, at cleanup.
func startNodeHop(t *testing.T, name string, env map[string]string) *Process {
	t.Helper()
	env["HOP_NAME"] = name
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	p, err := StartNode(ctx, "", env, nil, nil)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	t.Cleanup(func() {
		if err := p.Stop(); err != nil {
			t.Errorf("%s: stop: %v", name, err)
		}
		if t.Failed() {
			t.Logf("%s output:\n%s", name, p.Output())
		}
	})
	return p
}

func getNodeHop(t *testing.T, rawURL string, header http.Header) *nodeReport {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, rawURL, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, vs := range header {
		req.Header[k] = vs
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", rawURL, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	if err != nil {
		t.Fatalf("GET %s: %v", rawURL, err)
	}
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		t.Fatalf("GET %s: %s %q: %s", rawURL, resp.Status, resp.Header.Get("Content-Type"), body)
	}
	t.Logf("report: %s", body)
	var rep nodeReport
	if err := json.Unmarshal(body, &rep); err != nil {
		t.Fatalf("report: %v: %s", err, body)
	}
	return &rep
}

func flushNodeHop(t *testing.T, p *Process) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, p.URL()+"/flush", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("flush: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("flush: %s", resp.Status)
	}
}

// nodeBaggageMembers parses a baggage value into its members.
func nodeBaggageMembers(v string) map[string]string {
	m := map[string]string{}
	for _, member := range strings.Split(v, ",") {
		k, val, ok := strings.Cut(strings.TrimSpace(member), "=")
		if ok {
			m[strings.TrimSpace(k)] = strings.TrimSpace(val)
		}
	}
	return m
}

// jsonString reads a JSON string, or the text of any other JSON value.
func jsonString(raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	return string(raw)
}

// envelopeHasSpan reports whether env carries spanID as a transaction's
// trace context or as a streamed span.
func envelopeHasSpan(env nodeEnvelope, spanID string) bool {
	for _, it := range env.Items {
		switch it.Header["type"] {
		case "transaction":
			var ev struct {
				Contexts struct {
					Trace struct {
						SpanID string `json:"span_id"`
					} `json:"trace"`
				} `json:"contexts"`
			}
			if json.Unmarshal(it.Payload, &ev) == nil && ev.Contexts.Trace.SpanID == spanID {
				return true
			}
		case "span":
			var spans struct {
				Items []struct {
					SpanID string `json:"span_id"`
				} `json:"items"`
			}
			if json.Unmarshal(it.Payload, &spans) == nil {
				for _, s := range spans.Items {
					if s.SpanID == spanID {
						return true
					}
				}
			}
		}
	}
	return false
}

// checkNodeChain sends the incoming trace with baggage through a and b and
// checks what both hops report; it returns a's report.
func checkNodeChain(t *testing.T, a, b *Process, traceID, baggage string) *nodeReport {
	t.Helper()
	inSentryTrace := traceID + "-" + nodeInSpanID + "-1"
	h := http.Header{}
	h.Set("sentry-trace", inSentryTrace)
	h.Set("baggage", baggage)
	rep := getNodeHop(t, a.URL()+"/hop?next="+b.URL()+"/hop", h)

	if rep.Error != "" {
		t.Errorf("hop error: %s", rep.Error)
	}
	if rep.Service != "node-a" {
		t.Errorf("service %q, want node-a", rep.Service)
	}
	if rep.Received["sentry-trace"] != inSentryTrace || rep.Received["baggage"] != baggage {
		t.Errorf("received %v, want what was sent", rep.Received)
	}
	if rep.TraceID != traceID {
		t.Errorf("trace_id %q, want %q", rep.TraceID, traceID)
	}
	if rep.ParentSpanID != nodeInSpanID {
		t.Errorf("parent_span_id %q, want the received span %q", rep.ParentSpanID, nodeInSpanID)
	}
	if len(rep.SpanID) != 16 || rep.SpanID == nodeInSpanID {
		t.Errorf("span_id %q, want a new 16-hex span", rep.SpanID)
	}
	if !rep.Sampled {
		t.Error("sampled false, want the inherited true")
	}

	sent := rep.Sent["sentry-trace"]
	parts := strings.Split(sent, "-")
	if len(parts) != 3 || parts[0] != traceID || len(parts[1]) != 16 || parts[2] != "1" {
		t.Fatalf("sent sentry-trace %q, want %s-<16 hex>-1", sent, traceID)
	}
	sentBaggage := nodeBaggageMembers(rep.Sent["baggage"])
	for k, v := range nodeBaggageMembers(baggage) {
		if strings.HasPrefix(k, "sentry-") && sentBaggage[k] != v {
			t.Errorf("sent baggage %q: %s=%q, want the incoming %q", rep.Sent["baggage"], k, sentBaggage[k], v)
		}
	}

	next := rep.Next
	if next == nil {
		t.Fatal("no report from the next hop")
	}
	if next.Service != "node-b" || next.Error != "" {
		t.Errorf("next: service %q error %q", next.Service, next.Error)
	}
	for _, k := range []string{"sentry-trace", "baggage"} {
		if next.Received[k] != rep.Sent[k] {
			t.Errorf("next received %s %q, first hop sent %q", k, next.Received[k], rep.Sent[k])
		}
	}
	if next.TraceID != traceID || next.ParentSpanID != parts[1] || !next.Sampled {
		t.Errorf("next: trace %q parent %q sampled %v, want %s %s true",
			next.TraceID, next.ParentSpanID, next.Sampled, traceID, parts[1])
	}
	return rep
}

// envelopeTrace returns the envelope header's trace object, nil if absent.
func envelopeTrace(e nodeEnvelope) map[string]string {
	var tr map[string]json.RawMessage
	if json.Unmarshal(e.Header["trace"], &tr) != nil || tr == nil {
		return nil
	}
	out := map[string]string{}
	for k, v := range tr {
		out[k] = jsonString(v)
	}
	return out
}

func TestNodeHopChain(t *testing.T) {
	requireNode(t)
	in := startNodeIngest(t)
	env := func() map[string]string {
		return map[string]string{"SENTRY_DSN": in.dsn(), "SENTRY_TRACES_SAMPLE_RATE": "1", "PORT": "0"}
	}
	b := startNodeHop(t, "node-b", env())
	a := startNodeHop(t, "node-a", env())

	// The incoming DSC lacks sentry-public_key: the SDK propagates it as it
	// came, but leaves the envelope without a trace header (DEVIATIONS.md).
	partial := checkNodeChain(t, a, b, nodeInTraceID, nodeInBaggage)
	// With a complete DSC the envelope carries it. Another trace id, since
	// the SDK batches the spans of one trace into one envelope under a
	// single DSC.
	const fullTraceID = "0af7651916cd43dd8448eb211c80319c"
	fullBaggage := strings.ReplaceAll(nodeInBaggage, nodeInTraceID, fullTraceID) +
		",sentry-public_key=upstreamkey,sentry-sampled=true"
	full := checkNodeChain(t, a, b, fullTraceID, fullBaggage)

	flushNodeHop(t, a)
	flushNodeHop(t, b)
	envl := in.waitFor(t, "span "+full.SpanID+" under a trace header with trace_id and sample_rand 0.25",
		func(e nodeEnvelope) bool {
			tr := envelopeTrace(e)
			return tr != nil && tr["trace_id"] == fullTraceID && tr["sample_rand"] == "0.25" &&
				envelopeHasSpan(e, full.SpanID)
		})
	if tr := envelopeTrace(envl); tr["public_key"] != "upstreamkey" || tr["sample_rate"] != "0.5" {
		t.Errorf("envelope trace header %v, want the incoming DSC", tr)
	}
	envl = in.waitFor(t, "span "+partial.SpanID, func(e nodeEnvelope) bool {
		return envelopeHasSpan(e, partial.SpanID)
	})
	if tr := envelopeTrace(envl); tr != nil {
		t.Logf("envelope trace header with the partial incoming DSC: %v", tr)
	} else {
		t.Logf("envelope without trace header for the partial incoming DSC")
	}
}

func TestNodeStartFailsWithDiagnostics(t *testing.T) {
	requireNode(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	// instrument.mjs refuses a rate outside [0, 1], so the child exits
	// before it listens.
	p, err := StartNode(ctx, "", map[string]string{"SENTRY_TRACES_SAMPLE_RATE": "2", "HOP_NAME": "broken"}, nil, nil)
	if err == nil {
		_ = p.Stop()
		t.Fatal("StartNode succeeded with an invalid rate")
	}
	if !strings.Contains(err.Error(), "SENTRY_TRACES_SAMPLE_RATE") {
		t.Errorf("error does not carry the child's output: %v", err)
	}
}

func TestNodeStop(t *testing.T) {
	requireNode(t)
	p := startNodeHop(t, "node-stop", map[string]string{})
	start := time.Now()
	if err := p.Stop(); err != nil {
		t.Fatalf("stop: %v", err)
	}
	select {
	case <-p.Exited():
	default:
		t.Fatal("child still running after Stop")
	}
	if d := time.Since(start); d > nodeStopTimeout {
		t.Errorf("SIGTERM took %s, the hop should exit by itself", d)
	}
	if err := p.Stop(); err != nil {
		t.Errorf("second stop: %v", err)
	}
	if !strings.Contains(p.Output(), "listening http://127.0.0.1:") {
		t.Errorf("output lacks the listening line: %q", p.Output())
	}
}

func TestNodeVersionSupported(t *testing.T) {
	for _, c := range []struct {
		v    string
		want bool
	}{
		{"v20.19.0", true}, {"v20.20.2", true}, {"v21.7.3", true}, {"v22.11.0", false},
		{"v22.12.0", true}, {"v23.1.0", false}, {"v23.2.0", true}, {"v24.3.0", true},
		{"v20.18.3", false}, {"v18.20.0", false}, {"garbage", false},
	} {
		if got := nodeVersionSupported(c.v); got != c.want {
			t.Errorf("nodeVersionSupported(%q) = %v, want %v", c.v, got, c.want)
		}
	}
}

// TestNodeObserved pins what conformance/node/DEVIATIONS.md reports about
// @sentry/node 11.12.0: for each incoming sentry-trace flag, with and
// without sentry- baggage, at rates 1, 0 and none, what one hop sends on.
func TestNodeObserved(t *testing.T) {
	requireNode(t)
	in := startNodeIngest(t)
	// The sink records what arrived, to check the hop's "sent" against it.
	var (
		sinkMu  sync.Mutex
		sinkGot http.Header
	)
	sink := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sinkMu.Lock()
		sinkGot = r.Header.Clone()
		sinkMu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"service":"sink"}`)
	}))
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	sink.Listener = l
	sink.Start()
	t.Cleanup(sink.Close)

	const dsc = "sentry-trace_id=" + nodeInTraceID + ",sentry-sample_rate=0.5,sentry-sample_rand=0.25,sentry-public_key=upstreamkey"
	for _, rate := range []string{"1", "0", ""} {
		name := "rate=" + rate
		if rate == "" {
			name = "rate=none"
		}
		t.Run(name, func(t *testing.T) {
			env := map[string]string{"SENTRY_DSN": in.dsn()}
			if rate != "" {
				env["SENTRY_TRACES_SAMPLE_RATE"] = rate
			}
			a := startNodeHop(t, "node-observed", env)
			for _, flag := range []string{"-1", "-0", ""} {
				for _, withDSC := range []bool{true, false} {
					inBaggage := "othervendor=x"
					if withDSC {
						inBaggage = "othervendor=x," + dsc
						switch flag {
						case "-1":
							inBaggage += ",sentry-sampled=true"
						case "-0":
							inBaggage += ",sentry-sampled=false"
						}
					}
					h := http.Header{}
					h.Set("sentry-trace", nodeInTraceID+"-"+nodeInSpanID+flag)
					h.Set("baggage", inBaggage)
					rep := getNodeHop(t, a.URL()+"/hop?next="+sink.URL+"/", h)
					sinkMu.Lock()
					for _, k := range []string{"sentry-trace", "baggage", "traceparent", "tracestate"} {
						if got := strings.Join(sinkGot.Values(k), ","); got != rep.Sent[k] {
							t.Errorf("%s arrived as %q, hop reports sent %q", k, got, rep.Sent[k])
						}
					}
					sinkMu.Unlock()
					checkNodeObserved(t, rate, flag, inBaggage, withDSC, rep)
				}
			}
		})
	}
}

func checkNodeObserved(t *testing.T, rate, flag, inBaggage string, withDSC bool, rep *nodeReport) {
	t.Helper()
	label := fmt.Sprintf("flag %q, dsc %v", flag, withDSC)
	sent := nodeBaggageMembers(rep.Sent["baggage"])
	parts := strings.Split(rep.Sent["sentry-trace"], "-")
	if len(parts) < 2 || parts[0] != nodeInTraceID || rep.TraceID != nodeInTraceID || rep.ParentSpanID != nodeInSpanID {
		t.Errorf("%s: trace not continued: %+v", label, rep)
		return
	}
	sentFlag := ""
	if len(parts) == 3 {
		sentFlag = "-" + parts[2]
	}
	// Third-party members are never forwarded.
	if _, ok := sent["othervendor"]; ok {
		t.Errorf("%s: othervendor forwarded: %q", label, rep.Sent["baggage"])
	}
	// An inherited decision is kept, and so is the incoming DSC.
	wantFlag := flag
	if flag == "" && rate != "" {
		wantFlag = map[string]string{"1": "-1", "0": "-0"}[rate]
	}
	if sentFlag != wantFlag {
		t.Errorf("%s: sent flag %q, want %q", label, sentFlag, wantFlag)
	}
	in := nodeBaggageMembers(inBaggage)
	delete(in, "othervendor")
	switch {
	case withDSC && flag == "" && rate != "":
		// A deferred decision taken here rewrites sample_rate to the local
		// rate, keeps the rest, and adds no sentry-sampled.
		in["sentry-sample_rate"] = rate
		if !nodeSameMembers(sent, in) {
			t.Errorf("%s: sent baggage %q, want %v", label, rep.Sent["baggage"], in)
		}
	case withDSC:
		if !nodeSameMembers(sent, in) {
			t.Errorf("%s: sent baggage %q, want the incoming DSC %v", label, rep.Sent["baggage"], in)
		}
	case rate == "":
		// Tracing without performance adds no DSC to a continued trace.
		if rep.Sent["baggage"] != "" {
			t.Errorf("%s: sent baggage %q, want none", label, rep.Sent["baggage"])
		}
	default:
		// Without incoming DSC only a fresh sample_rand goes on (plus the
		// local rate when the decision was taken here).
		want := []string{"sentry-sample_rand"}
		if flag == "" {
			want = append(want, "sentry-sample_rate")
		}
		if len(sent) != len(want) {
			t.Errorf("%s: sent baggage %q, want only %v", label, rep.Sent["baggage"], want)
		}
		for _, k := range want {
			if sent[k] == "" {
				t.Errorf("%s: sent baggage %q lacks %s", label, rep.Sent["baggage"], k)
			}
		}
	}
	// The span id sent on is never the received one.
	if parts[1] == nodeInSpanID {
		t.Errorf("%s: sent the received span id", label)
	}
}

func nodeSameMembers(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}
