package main

import (
	"bytes"
	"context"
	"os"
	"strings"
	"testing"
	"time"
)

// TestMain lets the test binary play the demo's subprocess.
func TestMain(m *testing.M) {
	if os.Getenv(childEnv) == "1" {
		if err := runChild(context.Background(), os.Stdout, 1); err != nil {
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

func follow(t *testing.T, rate float64) *result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	sys, err := startSystem(ctx, rate)
	if err != nil {
		t.Fatal(err)
	}
	res, err := sys.follow(ctx)
	if stopErr := sys.stop(); stopErr != nil {
		t.Error(stopErr)
	}
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func TestEveryHopJoins(t *testing.T) {
	res := follow(t, 1)
	var services []string
	for _, h := range res.hops {
		services = append(services, h.Service)
		if h.TraceID != res.hops[0].TraceID || h.Decision != "sampled" {
			t.Errorf("hop %s: trace %s, %s", h.Service, h.TraceID, h.Decision)
		}
	}
	if got := strings.Join(services, " "); got != "web browser api worker consumer subprocess" {
		t.Errorf("hops %s", got)
	}
	head := res.hops[0].DSC
	if head["transaction"] != "GET /page" || head["release"] != "demo@1.0.0" || head["sampled"] != "true" || head["trace_id"] != res.hops[0].TraceID {
		t.Errorf("head DSC %v", head)
	}
	if !res.sameDSC() {
		t.Error("the DSC changed on the way")
	}
	// One chain of spans, each service's first span the child of the
	// previous service's last.
	byID := map[string]spanRecord{}
	for _, s := range res.spans {
		byID[s.SpanID] = s
		if s.TraceID != res.hops[0].TraceID || !s.Sampled {
			t.Errorf("span %s/%s: trace %s, sampled %v", s.Service, s.Name, s.TraceID, s.Sampled)
		}
	}
	var chain []string
	for _, s := range res.spans {
		if s.Service == "subprocess" {
			for cur, ok := s, true; ok; cur, ok = byID[cur.ParentID] {
				chain = append([]string{cur.Service + ":" + cur.Name}, chain...)
			}
		}
	}
	want := "web:GET /page browser:pageload /page browser:fetch GET /api/checkout api:GET /api/checkout api:HTTP POST " +
		"worker:POST /work worker:enqueue job consumer:process job subprocess:send receipt"
	if got := strings.Join(chain, " "); got != want {
		t.Errorf("chain\n%s\nwant\n%s", got, want)
	}
	if !res.joined() {
		t.Error("joined() = false")
	}
}

func TestUnsampledTraceStillPropagates(t *testing.T) {
	res := follow(t, 0)
	if len(res.spans) != 0 {
		t.Errorf("%d spans recorded at rate 0", len(res.spans))
	}
	for _, h := range res.hops {
		if h.TraceID != res.hops[0].TraceID || h.Decision != "not sampled" {
			t.Errorf("hop %s: trace %s, %s", h.Service, h.TraceID, h.Decision)
		}
	}
	if len(res.hops) != 6 || !res.joined() || res.hops[0].DSC["sampled"] != "false" {
		t.Errorf("hops %v", res.hops)
	}
}

func TestRunPrints(t *testing.T) {
	var out bytes.Buffer
	if err := run(context.Background(), &out, 1); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"HOPS", "subprocess", "└─ send receipt", "RESULT: every hop joined trace", "same DSC: yes"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
}

func TestJoinedDetectsBreaks(t *testing.T) {
	ok := result{hops: []hop{{TraceID: "a", DSC: map[string]string{"k": "v"}}, {TraceID: "a", DSC: map[string]string{"k": "v"}}},
		spans: []spanRecord{{SpanID: "1"}, {SpanID: "2", ParentID: "1"}}}
	if !ok.joined() {
		t.Fatal("a joined result is not joined")
	}
	for name, r := range map[string]result{
		"other trace": {hops: []hop{ok.hops[0], {TraceID: "b", DSC: ok.hops[1].DSC}}},
		"other DSC":   {hops: []hop{ok.hops[0], {TraceID: "a", DSC: map[string]string{"k": "w"}}}},
		"two roots":   {hops: ok.hops, spans: []spanRecord{{SpanID: "1"}, {SpanID: "2", ParentID: "9"}}},
	} {
		if r.joined() {
			t.Errorf("%s: joined", name)
		}
	}
}
