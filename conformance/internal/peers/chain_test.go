package peers

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/otelsentry/otelsentry/conformance/hop"
	"github.com/otelsentry/otelsentry/conformance/internal/ingest"
)

// The trace that enters every chain: sampled upstream at 0.5 with
// sample_rand 0.25, and a member of another vendor in baggage.
const (
	inTraceID     = "d4cda95b652f4a1592b449d5929fda1b"
	inParentID    = "6e0c63257de34c92"
	inSentryTrace = inTraceID + "-" + inParentID + "-1"
	inBaggage     = "sentry-trace_id=" + inTraceID + ",sentry-sample_rate=0.5,sentry-sample_rand=0.25,othervendor=x"
)

// incoming returns request headers with the given sentry-trace and the
// standard baggage.
func incoming(sentryTrace string) http.Header {
	h := http.Header{}
	h.Set("sentry-trace", sentryTrace)
	h.Set("baggage", inBaggage)
	return h
}

// runChain sends one request with header through hops and returns the
// first hop's report, with the chain's reports in order.
func runChain(t *testing.T, header http.Header, hops ...*Hop) []*hop.Report {
	t.Helper()
	bases := make([]string, len(hops))
	for i, h := range hops {
		bases[i] = h.URL
	}
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	rep, err := hop.Fetch(ctx, &http.Client{Transport: jsonOnly{}}, hop.Chain(bases...), header)
	if err != nil {
		t.Fatalf("chain: %v", err)
	}
	if b, err := json.MarshalIndent(rep, "", "  "); err == nil {
		t.Logf("reports:\n%s", b)
	}
	var reps []*hop.Report
	for r := rep; r != nil; r = r.Next {
		reps = append(reps, r)
	}
	if len(reps) != len(hops) {
		t.Fatalf("%d reports for %d hops", len(reps), len(hops))
	}
	for i, r := range reps {
		if r.Service != hops[i].Name {
			t.Errorf("report %d from %q, want %q", i, r.Service, hops[i].Name)
		}
		if r.Error != "" {
			t.Errorf("report %d from %q: error %s", i, r.Service, r.Error)
		}
	}
	return reps
}

// jsonOnly refuses a report that is not sent as JSON, as the hop contract
// requires of GET /hop.
type jsonOnly struct{}

func (jsonOnly) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	if ct := resp.Header.Get("Content-Type"); resp.StatusCode == http.StatusOK && !strings.HasPrefix(ct, "application/json") {
		resp.Body.Close()
		return nil, fmt.Errorf("%s answered with Content-Type %q, want application/json", req.URL, ct)
	}
	return resp, nil
}

// sentryTraceParts splits a sentry-trace value into trace id, span id and
// flag ("" when deferred).
func sentryTraceParts(t *testing.T, v string) (traceID, spanID, flag string) {
	t.Helper()
	parts := strings.Split(v, "-")
	if len(parts) < 2 || len(parts) > 3 || len(parts[0]) != 32 || len(parts[1]) != 16 {
		t.Fatalf("malformed sentry-trace %q", v)
	}
	if len(parts) == 3 {
		flag = parts[2]
	}
	return parts[0], parts[1], flag
}

// assertLinked checks the link between two consecutive hops: what from
// sent is what next received, and next's span is a child of the span
// id in that sentry-trace, in the same trace.
func assertLinked(t *testing.T, from, next *hop.Report) {
	t.Helper()
	st := from.Sent["sentry-trace"]
	if st == "" {
		t.Fatalf("%s sent no sentry-trace: %v", from.Service, from.Sent)
	}
	if got := next.Received["sentry-trace"]; got != st {
		t.Errorf("%s received sentry-trace %q, %s sent %q", next.Service, got, from.Service, st)
	}
	if got, want := next.Received["baggage"], from.Sent["baggage"]; got != want {
		t.Errorf("%s received baggage %q, %s sent %q", next.Service, got, from.Service, want)
	}
	traceID, spanID, _ := sentryTraceParts(t, st)
	if traceID != from.TraceID || next.TraceID != from.TraceID {
		t.Errorf("trace ids: %s %s, sent %s, %s %s", from.Service, from.TraceID, traceID, next.Service, next.TraceID)
	}
	if next.ParentSpanID != spanID {
		t.Errorf("%s parent_span_id %q, want the span id sent, %q", next.Service, next.ParentSpanID, spanID)
	}
	if spanID == from.SpanID {
		t.Logf("%s sent its server span %s as the parent (no client span)", from.Service, spanID)
	}
}

// baggageMembers parses a baggage value into its members.
func baggageMembers(v string) map[string]string {
	m := map[string]string{}
	for _, part := range strings.Split(v, ",") {
		k, val, ok := strings.Cut(strings.TrimSpace(part), "=")
		if ok {
			m[strings.TrimSpace(k)] = strings.TrimSpace(val)
		}
	}
	return m
}

// flushAll flushes every hop.
func flushAll(t *testing.T, hops ...*Hop) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for _, h := range hops {
		if err := h.Flush(ctx); err != nil {
			t.Errorf("flush: %v", err)
		}
	}
}

// waitTransaction waits for the transaction of span spanID at in.
func waitTransaction(t *testing.T, in *ingest.Ingest, spanID string) ingest.Envelope {
	t.Helper()
	return waitEnvelope(t, in, "transaction "+spanID, func(e ingest.Envelope) bool {
		tx := e.Transaction()
		return tx != nil && tx.Trace.SpanID == spanID
	})
}

// waitEnvelope waits for an envelope at in that match accepts; what names
// it when none comes, and the headers of those that came are logged.
func waitEnvelope(t *testing.T, in *ingest.Ingest, what string, match func(ingest.Envelope) bool) ingest.Envelope {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	env, err := in.WaitForEnvelope(ctx, match)
	if err != nil {
		for _, e := range in.Envelopes() {
			t.Logf("envelope header: %v", e.Header)
		}
		t.Fatalf("%s: %v (rejected: %q)", what, err, in.Rejected())
	}
	return env
}
