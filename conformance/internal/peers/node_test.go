package peers

import (
	"context"
	"fmt"
	"maps"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/otelsentry/otelsentry/conformance/hop"
	"github.com/otelsentry/otelsentry/conformance/internal/ingest"
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

// startNodeHop starts one node hop that is stopped, by pid, at cleanup.
func startNodeHop(t *testing.T, name string, env map[string]string) (*Hop, *Process) {
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
	return &Hop{Name: name, URL: p.URL()}, p
}

// checkNodeChain sends the incoming trace with baggage through a and b and
// checks what both hops report; it returns a's report.
func checkNodeChain(t *testing.T, a, b *Hop, traceID, baggage string) *hop.Report {
	t.Helper()
	h := incoming(traceID + "-" + inParentID + "-1")
	h.Set("baggage", baggage)
	reps := runChain(t, h, a, b)
	ra, rb := reps[0], reps[1]

	if ra.Received["sentry-trace"] != h.Get("sentry-trace") || ra.Received["baggage"] != baggage {
		t.Errorf("received %v, want what was sent", ra.Received)
	}
	if ra.TraceID != traceID {
		t.Errorf("trace_id %q, want %q", ra.TraceID, traceID)
	}
	if ra.ParentSpanID != inParentID {
		t.Errorf("parent_span_id %q, want the received span %q", ra.ParentSpanID, inParentID)
	}
	if len(ra.SpanID) != 16 || ra.SpanID == inParentID {
		t.Errorf("span_id %q, want a new 16-hex span", ra.SpanID)
	}
	if !ra.Sampled || !rb.Sampled {
		t.Errorf("sampled %v then %v, want the inherited true", ra.Sampled, rb.Sampled)
	}
	if _, _, flag := sentryTraceParts(t, ra.Sent["sentry-trace"]); flag != "1" {
		t.Errorf("sent sentry-trace %q, want flag 1", ra.Sent["sentry-trace"])
	}
	sent := baggageMembers(ra.Sent["baggage"])
	for k, v := range baggageMembers(baggage) {
		if strings.HasPrefix(k, "sentry-") && sent[k] != v {
			t.Errorf("sent baggage %q: %s=%q, want the incoming %q", ra.Sent["baggage"], k, sent[k], v)
		}
	}
	assertLinked(t, ra, rb)
	return ra
}

func TestNodeHopChain(t *testing.T) {
	requireNode(t)
	in := ingest.New(t)
	env := func() map[string]string {
		return map[string]string{"SENTRY_DSN": in.DSN("publickey", "42"), "SENTRY_TRACES_SAMPLE_RATE": "1"}
	}
	b, _ := startNodeHop(t, "node-b", env())
	a, _ := startNodeHop(t, "node-a", env())

	// The incoming DSC lacks sentry-public_key: the SDK propagates it as it
	// came, but leaves the envelope without a trace header (DEVIATIONS.md).
	partial := checkNodeChain(t, a, b, inTraceID, inBaggage)
	// With a complete DSC the envelope carries it. Another trace id, since
	// the SDK batches the spans of one trace into one envelope under a
	// single DSC.
	const fullTraceID = "0af7651916cd43dd8448eb211c80319c"
	fullBaggage := strings.ReplaceAll(inBaggage, inTraceID, fullTraceID) +
		",sentry-public_key=upstreamkey,sentry-sampled=true"
	full := checkNodeChain(t, a, b, fullTraceID, fullBaggage)

	flushAll(t, a, b)
	e := waitEnvelope(t, in, "span "+full.SpanID+" under a trace header with trace_id and sample_rand 0.25",
		func(e ingest.Envelope) bool {
			return e.Trace["trace_id"] == fullTraceID && e.Trace["sample_rand"] == "0.25" && e.HasSpan(full.SpanID)
		})
	if e.Trace["public_key"] != "upstreamkey" || e.Trace["sample_rate"] != "0.5" {
		t.Errorf("envelope trace header %v, want the incoming DSC", e.Trace)
	}
	e = waitEnvelope(t, in, "span "+partial.SpanID, func(e ingest.Envelope) bool { return e.HasSpan(partial.SpanID) })
	if e.Trace != nil {
		t.Logf("envelope trace header with the partial incoming DSC: %v", e.Trace)
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
	_, p := startNodeHop(t, "node-stop", map[string]string{})
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
	in := ingest.New(t)
	// The sink reports what arrived, to check the hop's "sent" against it.
	sink := serve(t, "sink", hop.NewHandler(hop.Peer{Name: "sink"}), nil)

	const dsc = "sentry-trace_id=" + inTraceID + ",sentry-sample_rate=0.5,sentry-sample_rand=0.25,sentry-public_key=upstreamkey"
	for _, rate := range []string{"1", "0", ""} {
		name := "rate=" + rate
		if rate == "" {
			name = "rate=none"
		}
		t.Run(name, func(t *testing.T) {
			env := map[string]string{"SENTRY_DSN": in.DSN("publickey", "42")}
			if rate != "" {
				env["SENTRY_TRACES_SAMPLE_RATE"] = rate
			}
			a, _ := startNodeHop(t, "node-observed", env)
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
					h := incoming(inTraceID + "-" + inParentID + flag)
					h.Set("baggage", inBaggage)
					reps := runChain(t, h, a, sink)
					for _, k := range hop.Headers {
						if got, sent := reps[1].Received[k], reps[0].Sent[k]; got != sent {
							t.Errorf("%s arrived as %q, hop reports sent %q", k, got, sent)
						}
					}
					checkNodeObserved(t, rate, flag, inBaggage, withDSC, reps[0])
				}
			}
		})
	}
}

func checkNodeObserved(t *testing.T, rate, flag, inBaggage string, withDSC bool, rep *hop.Report) {
	t.Helper()
	label := fmt.Sprintf("flag %q, dsc %v", flag, withDSC)
	sent := baggageMembers(rep.Sent["baggage"])
	traceID, spanID, sentFlag := sentryTraceParts(t, rep.Sent["sentry-trace"])
	if traceID != inTraceID || rep.TraceID != inTraceID || rep.ParentSpanID != inParentID {
		t.Errorf("%s: trace not continued: %+v", label, rep)
		return
	}
	// Third-party members are never forwarded.
	if _, ok := sent["othervendor"]; ok {
		t.Errorf("%s: othervendor forwarded: %q", label, rep.Sent["baggage"])
	}
	// An inherited decision is kept, and so is the incoming DSC.
	wantFlag := strings.TrimPrefix(flag, "-")
	if flag == "" && rate != "" {
		wantFlag = rate
	}
	if sentFlag != wantFlag {
		t.Errorf("%s: sent flag %q, want %q", label, sentFlag, wantFlag)
	}
	in := baggageMembers(inBaggage)
	delete(in, "othervendor")
	switch {
	case withDSC && flag == "" && rate != "":
		// A deferred decision taken here rewrites sample_rate to the local
		// rate, keeps the rest, and adds no sentry-sampled.
		in["sentry-sample_rate"] = rate
		if !maps.Equal(sent, in) {
			t.Errorf("%s: sent baggage %q, want %v", label, rep.Sent["baggage"], in)
		}
	case withDSC:
		if !maps.Equal(sent, in) {
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
	if spanID == inParentID {
		t.Errorf("%s: sent the received span id", label)
	}
}
