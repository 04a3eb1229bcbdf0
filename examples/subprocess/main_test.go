package main

import (
	"os"
	"testing"

	"github.com/otelsentry/otelsentry/examples/internal/exampleutil"
)

// TestMain runs the child when run starts the test binary as one.
func TestMain(m *testing.M) {
	if os.Getenv(roleEnv) == childRole {
		main()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

func TestRun(t *testing.T) {
	// Under -race, the child would wait a second before exiting.
	t.Setenv("GORACE", "atexit_sleep_ms=0")
	lines := exampleutil.RunTest(t, run)
	chain := lines.Chain(t, "span service=parent name=build sampled=true", "span service=child name=compile")
	lines.Carried(t, "headers service=child", chain[0], "sentry-release=build%401.0.0")
	if chain[1].Get("sampled") != "true" {
		t.Errorf("the child did not follow the parent's decision: %v", chain[1])
	}
}
