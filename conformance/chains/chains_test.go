package chains_test

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/otelsentry/otelsentry/conformance/internal/ingest"
	"github.com/otelsentry/otelsentry/conformance/internal/peers"
	"github.com/otelsentry/otelsentry/conformance/runner"
)

// Implementations in the chains, as runner.Hop.Impl names them.
const (
	otelsentry = "otelsentry"
	sentryGo   = "sentry-go"
	node       = "node"
)

// rates are the traces sample rates each implementation runs at; "none"
// is no rate at all, where decisions stay deferred. sentry-go has no such
// mode: without a rate it decides every trace negative, so it always runs
// with one.
var rates = map[string][]string{
	otelsentry: {"1", "0", "none"},
	node:       {"1", "0", "none"},
	sentryGo:   {"1", "0"},
}

// The chains of the issue, each with the hop that decides a deferred trace
// in every position: first (and later hops must not decide again), in the
// middle and last (after hops without a rate).
var (
	shapes = [][]string{
		{node, otelsentry, node},
		{otelsentry, node, otelsentry},
		{sentryGo, otelsentry, sentryGo},
		{otelsentry, sentryGo, otelsentry},
	}
	layouts = [][]string{
		{"1", "0", "0"},
		{"0", "1", "1"},
		{"none", "1", "0"},
		{"none", "none", "1"},
	}
)

type system struct {
	ingest *ingest.Ingest
	hops   map[string]runner.Hop // by name, e.g. "node-r1"
	// recorders of the otelsentry hops, by name.
	recorders map[string]*peers.OtelSentryHop
}

func hopName(impl, rate string) string { return impl + "-r" + rate }

func parseRate(s string) *float64 {
	if s == "none" {
		return nil
	}
	r, _ := strconv.ParseFloat(s, 64)
	return &r
}

// start runs every hop, all on 127.0.0.1 with the ingest's DSN.
func start(t *testing.T) *system {
	t.Helper()
	if err := peers.NodeAvailable(); err != nil {
		if os.Getenv("CI") == "" {
			t.Skipf("the Node peer cannot run: %v (make conformance installs it)", err)
		}
		t.Fatalf("the Node peer cannot run: %v", err)
	}
	in := ingest.New(t)
	sys := &system{ingest: in, hops: map[string]runner.Hop{}, recorders: map[string]*peers.OtelSentryHop{}}
	var mu sync.Mutex
	var wg sync.WaitGroup
	add := func(h runner.Hop) {
		mu.Lock()
		defer mu.Unlock()
		sys.hops[h.Name] = h
	}
	for impl, rs := range rates {
		for _, rate := range rs {
			name := hopName(impl, rate)
			cfg := peers.Config{Name: name, DSN: in.DSN("pk"+strings.ReplaceAll(name, "-", ""), "42"),
				Rate: parseRate(rate), Release: name + "@1", Environment: "conformance"}
			switch impl {
			case otelsentry:
				h := peers.StartOtelSentry(t, cfg)
				sys.recorders[name] = h
				add(runner.Hop{Name: name, Impl: impl, URL: h.URL, Rate: cfg.Rate})
			case sentryGo:
				h := peers.StartSentryGo(t, cfg)
				add(runner.Hop{Name: name, Impl: impl, URL: h.URL, Rate: cfg.Rate})
			case node:
				wg.Add(1)
				go func() { // a Node process takes a moment to start
					defer wg.Done()
					add(runner.Hop{Name: name, Impl: impl, URL: startNode(t, cfg), Rate: cfg.Rate})
				}()
			}
		}
	}
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}
	return sys
}

// TestChains sends every case through every chain and layout, then checks
// the envelopes each Sentry SDK sent and the spans each otelsentry hop
// recorded.
func TestChains(t *testing.T) {
	sys := start(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()

	var results []*runner.Result
	deviations := map[string]bool{}
	for _, shape := range shapes {
		for _, layout := range layouts {
			chain, ok := sys.chain(shape, layout)
			if !ok {
				continue
			}
			for _, c := range runner.Cases() {
				res := runner.Run(ctx, http.DefaultClient, chain, c)
				results = append(results, res)
				name := chainName(chain) + " " + c.ID
				report(t, name, res.Checks, deviations)
			}
		}
	}
	if len(results) < 50 {
		t.Fatalf("only %d runs", len(results))
	}

	for _, h := range sys.hops {
		if err := (&peers.Hop{Name: h.Name, URL: h.URL}).Flush(ctx); err != nil {
			t.Errorf("flush: %v", err)
		}
	}
	telemetry := sys.telemetryChecks(ctx, results)
	report(t, "telemetry", telemetry, deviations)
	checks := len(telemetry)
	for _, res := range results {
		checks += len(res.Checks)
	}
	t.Logf("%d runs through %d hops, %d checks, %d recorded deviations of the peers", len(results), len(sys.hops), checks, len(deviations))
	for d := range deviations {
		t.Logf("recorded deviation: %s", d)
	}
	if rejected := sys.ingest.Rejected(); len(rejected) > 0 {
		t.Errorf("the ingest rejected %d requests: %v", len(rejected), rejected)
	}
}

// TestSentryTraceVectors sends the sentry-trace test vectors to every
// implementation: each continues exactly the valid ones.
func TestSentryTraceVectors(t *testing.T) {
	sys := start(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	deviations := map[string]bool{}
	next := sys.hops[hopName(otelsentry, "none")]
	for impl, rs := range rates {
		h := sys.hops[hopName(impl, rs[len(rs)-1])]
		checks := runner.SentryTraceChecks(ctx, http.DefaultClient, h, next)
		if len(checks) < 40 {
			t.Errorf("%s: only %d vectors sent", h.Name, len(checks))
		}
		report(t, h.Name, checks, deviations)
	}
	for d := range deviations {
		t.Logf("recorded deviation: %s", d)
	}
}

// report fails t for every failed check that is not a known deviation, and
// collects the deviations seen.
func report(t *testing.T, name string, checks []runner.Check, deviations map[string]bool) {
	t.Helper()
	for _, c := range checks {
		if d := c.Deviation(); d != "" {
			deviations[c.Impl+": "+d] = true
		}
	}
	for _, f := range runner.Failures(checks) {
		t.Errorf("%s: %s", name, f)
	}
}

// chain builds the chain of shape with the rates of layout, or reports
// that an implementation cannot run at such a rate.
func (sys *system) chain(shape, layout []string) ([]runner.Hop, bool) {
	chain := make([]runner.Hop, len(shape))
	for i, impl := range shape {
		h, ok := sys.hops[hopName(impl, layout[i])]
		if !ok {
			return nil, false
		}
		chain[i] = h
	}
	return chain, true
}

func chainName(hops []runner.Hop) string {
	names := make([]string, len(hops))
	for i, h := range hops {
		names[i] = h.Name
	}
	return strings.Join(names, " → ")
}

// telemetryWait bounds the wait for the envelopes of every sampled span.
const telemetryWait = 20 * time.Second

// telemetryChecks checks what each hop of the runs sent to Sentry: a
// sampled SDK hop sent its span, in an envelope whose trace header is the
// DSC the hop propagates; an unsampled one sent nothing for it; an
// otelsentry hop recorded its span exactly when it was sampled.
func (sys *system) telemetryChecks(ctx context.Context, results []*runner.Result) []runner.Check {
	// Wait once for every span that must arrive.
	var expected []string
	for _, res := range results {
		for i, r := range res.Reports {
			if r != nil && r.Sampled && sys.recorders[res.Hops[i].Name] == nil {
				expected = append(expected, r.SpanID)
			}
		}
	}
	wctx, cancel := context.WithTimeout(ctx, telemetryWait)
	defer cancel()
	_ = sys.ingest.WaitFor(wctx, func(envs []ingest.Envelope) bool {
		for _, id := range expected {
			if _, ok := envelopeOf(envs, id); !ok {
				return false
			}
		}
		return true
	})

	envs := sys.ingest.Envelopes()
	var checks []runner.Check
	for _, res := range results {
		for i, h := range res.Hops {
			r := res.Reports[i]
			if r == nil {
				break
			}
			check := func(err error) runner.Check {
				return runner.Check{Hop: h.Name, Impl: h.Impl, Name: runner.CheckRecorded, Err: err}
			}
			if rec, ok := sys.recorders[h.Name]; ok {
				recorded := false
				for _, s := range rec.Recorder.Ended() {
					recorded = recorded || s.SpanContext().SpanID().String() == r.SpanID
				}
				checks = append(checks, check(expect("recorded its span", recorded, r.Sampled)))
				continue
			}
			env, sent := envelopeOf(envs, r.SpanID)
			checks = append(checks, check(expect("sent its span "+r.SpanID, sent, r.Sampled)))
			if sent {
				checks = append(checks, res.CheckDSC(i, runner.CheckEnvelopeDSC, env.Trace))
			}
		}
	}
	return checks
}

// envelopeOf returns the envelope that carries the span spanID.
func envelopeOf(envs []ingest.Envelope, spanID string) (ingest.Envelope, bool) {
	for _, e := range envs {
		if e.HasSpan(spanID) {
			return e, true
		}
	}
	return ingest.Envelope{}, false
}

func expect[T comparable](what string, got, want T) error {
	if got != want {
		return fmt.Errorf("%s: %v, want %v", what, got, want)
	}
	return nil
}

// startNode runs the @sentry/node hop and returns its URL. It may run on
// another goroutine than the test's, so it fails with Errorf only.
func startNode(t *testing.T, cfg peers.Config) string {
	env := map[string]string{"HOP_NAME": cfg.Name, "SENTRY_DSN": cfg.DSN,
		"SENTRY_RELEASE": cfg.Release, "SENTRY_ENVIRONMENT": cfg.Environment}
	if cfg.Rate != nil {
		env["SENTRY_TRACES_SAMPLE_RATE"] = strconv.FormatFloat(*cfg.Rate, 'f', -1, 64)
	}
	p, err := peers.StartNode(context.Background(), peers.NodeDir(), env, nil, nil)
	if err != nil {
		t.Errorf("%s: %v", cfg.Name, err)
		return ""
	}
	t.Cleanup(func() {
		if err := p.Stop(); err != nil {
			t.Logf("%s: stop: %v\n%s", cfg.Name, err, p.Output())
		}
	})
	return p.URL()
}
