package main

import (
	"io"
	"strings"
	"testing"

	"github.com/otelsentry/otelsentry/examples/internal/exampleutil"
	"github.com/otelsentry/otelsentry/examples/internal/natsqueue"
)

func TestRun(t *testing.T) {
	check(t, exampleutil.RunTest(t, func(w io.Writer) error { return run(w, "") }), "true")
}

// TestExternalServer runs the example against a server it did not start,
// as -nats URL does.
func TestExternalServer(t *testing.T) {
	srv, err := natsqueue.StartServer()
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	lines := exampleutil.RunTest(t, func(w io.Writer) error { return run(w, srv.URL()) })
	if got := lines.Get(t, "nats").Get("url"); got != srv.URL() {
		t.Errorf("used %s, want %s", got, srv.URL())
	}
	check(t, lines, "false")
}

func check(t *testing.T, lines exampleutil.Lines, embedded string) {
	t.Helper()
	if got := lines.Get(t, "nats").Get("embedded"); got != embedded {
		t.Errorf("embedded=%s, want %s", got, embedded)
	}
	publish := lines.Chain(t, "span service=producer name=checkout parent=none", "span service=producer kind=producer")[1]
	var processes []exampleutil.Line
	for _, l := range lines {
		if l.Label == "span" && l.Get("service") == "consumer" && l.Get("kind") == "consumer" {
			processes = append(processes, l)
		}
	}
	if len(processes) != 2 {
		t.Fatalf("%d consumer spans, want one per delivery: %v", len(processes), processes)
	}
	for _, p := range processes {
		if err := exampleutil.ChildOf(p, publish); err != nil {
			t.Error(err)
		}
		if p.Get("sampled") != "true" {
			t.Errorf("the consumer did not follow the producer's decision: %v", p)
		}
	}
	if processes[0].Get("id") == processes[1].Get("id") {
		t.Error("both deliveries in one span")
	}
	lines.Chain(t, "span service=consumer id="+processes[1].Get("id"), `span service=consumer name="send receipt"`)
	for i, n := range []string{"1", "2"} {
		d := lines.Get(t, "delivery n="+n)
		if d.Get("keys") != "baggage,sentry-trace,traceparent,tracestate" {
			t.Errorf("delivery %s: header keys %q, want them lowercase as written", n, d.Get("keys"))
		}
		if want := []string{"mail server busy", "ack"}[i]; d.Get("outcome") != want {
			t.Errorf("delivery %s: outcome %q, want %q", n, d.Get("outcome"), want)
		}
	}
	var headers []exampleutil.Line
	for _, l := range lines {
		if l.Label == "headers" {
			headers = append(headers, l)
		}
	}
	for _, h := range headers {
		if h.Get("sentry-trace") != publish.SentryTrace() || !strings.Contains(h.Get("baggage"), "sentry-release=shop%401.0.0") {
			t.Errorf("a case-sensitive reader found %v, want the publish span's trace", h)
		}
	}
	if len(headers) != 2 {
		t.Errorf("%d headers lines, want one per delivery", len(headers))
	}
}
