package main

import (
	"strconv"
	"testing"

	"github.com/otelsentry/otelsentry/examples/internal/exampleutil"
)

func TestRun(t *testing.T) {
	lines := exampleutil.RunTest(t, run)
	summary := lines.Get(t, "summary")
	count := func(l exampleutil.Line, key string) int {
		n, err := strconv.Atoi(l.Get(key))
		if err != nil {
			t.Fatalf("%s: %v", key, err)
		}
		return n
	}
	all := count(summary, "at_all")
	if count(summary, "traces") != traces || count(summary, "at_some") != 0 || all+count(summary, "at_none") != traces {
		t.Errorf("traces recorded at some services only: %v", summary)
	}
	if count(summary, "decided_by_sample_rand") != traces {
		t.Errorf("decisions that sample_rand < %v does not explain: %v", rates[0].rate, summary)
	}
	// 200 draws at 0.5: all is 0 or 200 with probability 2^-199.
	if all == 0 || all == traces {
		t.Errorf("%d of %d traces recorded at a rate of %v", all, traces, rates[0].rate)
	}
	for _, r := range rates {
		if l := lines.Get(t, "recorded service="+r.service); count(l, "traces") != all {
			t.Errorf("%v, want %d traces as at every service", l, all)
		}
	}
}
