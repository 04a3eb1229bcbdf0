package main

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/otelsentry/otelsentry/conformance/internal/ingest"
)

// TestRun runs a short version of the fault test, so that make test
// exercises the command and its accounting: 20 requests/s, faults of a
// second, and the Collector's restart. The recovery outlasts the OTLP
// exporter's first backoff (2.5 to 7.5 s). Spans are counted by the fault
// their request fell in, drops by the fault they were reported after; a
// span ended just before the 401 is exported, and dropped, during it, so
// only the totals must match.
func TestRun(t *testing.T) {
	short := []fault{
		{Name: "connections refused", Duration: time.Second, Path: pathDirect, start: func(r *rig) (func() error, error) {
			return r.ingest.Up, r.ingest.Down()
		}},
		{Name: "503", Duration: time.Second, Path: pathDirect, start: ingestFault(ingest.Fault{Status: http.StatusServiceUnavailable})},
		// Longer than the batch span processor's 5 s between exports, so
		// that an export meets it.
		{Name: "401", Duration: 6 * time.Second, Path: pathDirect, start: ingestFault(ingest.Fault{Status: http.StatusUnauthorized})},
		{Name: "Collector restarted", Duration: time.Second, Path: pathCollector, start: restartCollector},
	}
	prs, err := run(context.Background(), config{
		Rate: 20, Queue: 8192, Baseline: 2 * time.Second, Recovery: 9 * time.Second,
		Faults: short, Paths: []string{pathDirect, pathCollector}, ShutdownTimeout: 5 * time.Second,
	})
	t.Log("\n" + table(prs) + details(prs))
	if err != nil {
		t.Fatal(err)
	}
	// A request that failed is logged, not a failure here: on a machine
	// too busy to answer in time requests fail whatever the exporters do,
	// and the benchmark and make faulttest measure them.
	if err := failed(prs); err != nil {
		t.Log(err)
	}
	// Every span arrived or was counted (run checks that); what is left to
	// check is what each path reported.
	direct, collector := prs[0], prs[1]
	if direct.Created == 0 || collector.Created == 0 {
		t.Fatal("no span created")
	}
	if direct.Refusals == 0 {
		t.Error("the 401 was not reported")
	}
	if !strings.Contains(direct.Shutdown, "503 Service Unavailable") {
		t.Errorf("shutdown during a 503: %q, want the status", direct.Shutdown)
	}
	for _, pr := range prs {
		// The latency reference is every request while no fault was on:
		// the baseline's and the recoveries'.
		if pr.Calm.Requests <= pr.Windows[0].Requests || pr.Calm.P50 <= 0 || pr.Calm.P99 < pr.Calm.P50 {
			t.Errorf("%s: %d requests while no fault was on (p50 %v, p99 %v), %d in the baseline",
				pr.Path, pr.Calm.Requests, pr.Calm.P50, pr.Calm.P99, pr.Windows[0].Requests)
		}
	}
	for _, w := range collector.Windows {
		// Nothing fails after the restart: every span arrives.
		if w.Name == "Collector restarted" && (w.Created == 0 || w.Created != w.Received) {
			t.Errorf("Collector restarted: %d spans created, %d received", w.Created, w.Received)
		}
	}
}
