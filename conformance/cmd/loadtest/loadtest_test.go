package main

import (
	"context"
	"testing"
	"time"

	"go.opentelemetry.io/otel/trace"
)

// TestRun runs a small load through the chain, so that CI exercises the
// command and its checks.
func TestRun(t *testing.T) {
	sum, err := run(context.Background(), config{Requests: 300, Clients: 8, TimeLimit: time.Minute})
	t.Log("\n" + sum.String())
	if err != nil {
		t.Fatal(err)
	}
	if sum.Requests != 300 || sum.Sampled == 0 || sum.Spans != 5*sum.Sampled {
		t.Errorf("summary %+v", sum)
	}
	for _, k := range kinds {
		if sum.Kinds[k] != 60 {
			t.Errorf("%d %s requests, want 60", sum.Kinds[k], k)
		}
	}
}

// TestWellParented checks the chain check itself on a broken chain.
func TestWellParented(t *testing.T) {
	// Spans are built by hand: server 0 under incoming span 1, client 0
	// under it, and so on.
	spans := []spanRecord{
		{hop: 0, kind: trace.SpanKindServer, spanID: [8]byte{2}, parent: [8]byte{1}},
		{hop: 0, kind: trace.SpanKindClient, spanID: [8]byte{3}, parent: [8]byte{2}},
		{hop: 1, kind: trace.SpanKindServer, spanID: [8]byte{4}, parent: [8]byte{3}},
		{hop: 1, kind: trace.SpanKindClient, spanID: [8]byte{5}, parent: [8]byte{4}},
		{hop: 2, kind: trace.SpanKindServer, spanID: [8]byte{6}, parent: [8]byte{5}},
	}
	if !wellParented(spans, "0100000000000000") {
		t.Fatal("a good chain is broken")
	}
	spans[4].parent = [8]byte{4}
	if wellParented(spans, "0100000000000000") {
		t.Error("a server span under the wrong parent passed")
	}
}
