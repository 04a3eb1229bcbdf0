package main

import (
	"testing"

	"github.com/otelsentry/otelsentry/examples/internal/exampleutil"
)

func TestRun(t *testing.T) {
	lines := exampleutil.RunTest(t, run)
	lines.Get(t, "response status=SERVING")
	chain := lines.Chain(t, "span service=client name=checkout sampled=true", "span service=client kind=client",
		"span service=server kind=server")
	lines.Carried(t, "headers service=server", chain[1], "sentry-release=checkout%401.0.0")
	if chain[2].Get("sampled") != "true" {
		t.Errorf("the server did not follow the client's decision: %v", chain[2])
	}
}
