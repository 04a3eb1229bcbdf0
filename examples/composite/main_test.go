package main

import (
	"strings"
	"testing"

	"github.com/otelsentry/otelsentry/examples/internal/exampleutil"
)

func TestRun(t *testing.T) {
	lines := exampleutil.RunTest(t, run)
	chain := lines.Chain(t, "upstream", "span service=api kind=server", "span service=api kind=client",
		"span service=worker kind=server")
	for _, span := range lines.All("span") {
		if span.Get("sampled") != "true" {
			t.Errorf("not sampled, although upstream sampled: %v", span)
		}
	}
	// The DSC is frozen: the worker gets the upstream's members.
	lines.Carried(t, "headers service=worker", chain[2], strings.Split(baggage, ",")...)
}
