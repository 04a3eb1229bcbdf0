package main

import (
	"strings"
	"testing"

	"github.com/otelsentry/otelsentry/examples/internal/exampleutil"
)

func TestRun(t *testing.T) {
	lines := exampleutil.RunTest(t, run)
	chain := lines.Chain(t, "span service=web kind=server parent=none sampled=true", "span service=api kind=server sampled=true")
	if tag := lines.Get(t, "meta name=sentry-trace").Get("content"); tag != chain[0].SentryTrace() {
		t.Errorf("sentry-trace meta tag %q, want %q", tag, chain[0].SentryTrace())
	}
	tag := lines.Get(t, "meta name=baggage").Get("content")
	for _, member := range []string{"sentry-trace_id=" + chain[0].Get("trace"), "sentry-release=shop%401.0.0", "sentry-sampled=true"} {
		if !strings.Contains(tag, member) {
			t.Errorf("baggage meta tag %q lacks %q", tag, member)
		}
	}
	// Like the browser SDK, the program sends the meta tags' values only.
	if got := lines.Get(t, "headers service=api"); got.Get("baggage") != tag || got.Get("traceparent") != "" {
		t.Errorf("the api received %v, want only the meta tags' values", got)
	}
}
