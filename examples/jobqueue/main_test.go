package main

import (
	"testing"

	"github.com/otelsentry/otelsentry/examples/internal/exampleutil"
)

func TestRun(t *testing.T) {
	lines := exampleutil.RunTest(t, run)
	for _, queue := range []string{"emails", "orders"} {
		chain := lines.Chain(t, "span service=producer name=checkout parent=none",
			`span service=producer kind=producer name="publish `+queue+`"`,
			`span service=consumer kind=consumer name="process `+queue+`"`)
		lines.Carried(t, "headers service="+queue, chain[1], "sentry-release=shop%401.0.0", "sentry-transaction=checkout")
		if chain[2].Get("sampled") != "true" {
			t.Errorf("consumer did not follow the producer's decision: %v", chain[2])
		}
	}
}
