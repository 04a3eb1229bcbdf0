package main

import (
	"testing"

	"github.com/otelsentry/otelsentry/examples/internal/exampleutil"
)

func TestRun(t *testing.T) {
	lines := exampleutil.RunTest(t, run)
	toTarget := "span service=client url=" + lines.Get(t, "service name=target").Get("url") + "/api"
	toOther := "span service=client url=" + lines.Get(t, "service name=other").Get("url") + "/api"
	// Both client spans are recorded, in the client's trace; only the
	// target continues it.
	root := lines.Chain(t, "span service=client name=sync", toOther)[0]
	lines.Chain(t, "span service=client name=sync", toTarget, "span service=target kind=server")
	if other := lines.Get(t, "span service=other kind=server"); other.Get("parent") != exampleutil.None || other.Get("trace") == root.Get("trace") {
		t.Errorf("the other service continued the client's trace: %v", other)
	}
	targetGot, otherGot := lines.Get(t, "headers service=target"), lines.Get(t, "headers service=other")
	for _, key := range exampleutil.TraceHeaders {
		if targetGot.Get(key) == "" {
			t.Errorf("the target did not get %s: %v", key, targetGot)
		}
		if otherGot.Get(key) != "" {
			t.Errorf("the other service got %s: %v", key, otherGot)
		}
	}
}
