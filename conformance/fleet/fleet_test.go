package fleet

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlplog/otlploghttp"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/log"
	sdklog "go.opentelemetry.io/otel/sdk/log"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/otelsentry/otelsentry/conformance/internal/fleet"
	"github.com/otelsentry/otelsentry/conformance/internal/ingest"
	"github.com/otelsentry/otelsentry/conformance/internal/otelcol"
	"github.com/otelsentry/otelsentry/sentryotlp"
)

const (
	traces     = 2000 // started at the head of the chain
	headRate   = 0.5
	percentage = 10 // the Collectors' sampling percentage
	clients    = 16
)

// tier is one Collector and the Sentry project it forwards to.
type tier struct {
	name      string
	mode      string
	precision int
	set       []string
	project   string
	col       *otelcol.Collector
}

// The Collector is built once, by the first test that needs one.
var (
	buildOnce sync.Once
	bin       *otelcol.Binary
	buildErr  error
)

func TestMain(m *testing.M) {
	code := m.Run()
	if bin != nil {
		bin.Close()
	}
	os.Exit(code)
}

// startTiers starts one Collector per tier, each forwarding to its own
// project of in.
func startTiers(t *testing.T, in *ingest.Ingest, tiers []*tier) {
	t.Helper()
	buildOnce.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
		defer cancel()
		bin, buildErr = otelcol.Build(ctx)
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for i, tr := range tiers {
		tr.project = strconv.Itoa(i + 1)
		set := append([]string{
			"processors::probabilistic_sampler::mode=" + tr.mode,
			"processors::probabilistic_sampler::sampling_precision=" + strconv.Itoa(tr.precision),
			"processors::batch::timeout=100ms",
		}, tr.set...)
		var err error
		tr.col, err = bin.Start(ctx, otelcol.Options{DSN: in.DSN("public", tr.project), SamplingPercentage: percentage, Set: set})
		if err != nil {
			t.Fatal(err)
		}
		col := tr.col
		t.Cleanup(func() {
			if err := col.Stop(); err != nil {
				t.Error(err)
			}
		})
	}
}

// exportersTo returns, for every service, one sentryotlp exporter to each
// tier's Collector.
func exportersTo(tiers []*tier, dsn string) func(int) ([]sdktrace.SpanExporter, error) {
	return func(int) ([]sdktrace.SpanExporter, error) {
		var exps []sdktrace.SpanExporter
		for _, tr := range tiers {
			exp, err := sentryotlp.New(context.Background(), dsn, otlptracehttp.WithEndpointURL("http://"+tr.col.Addr+"/v1/traces"))
			if err != nil {
				return nil, err
			}
			exps = append(exps, exp)
		}
		return exps, nil
	}
}

// run sends n requests with the headers h gives (nil: none) through a chain
// configured by cfg, shuts the chain down and stops the tiers, so that
// everything is at the ingest, and returns the traces.
func run(t *testing.T, cfg fleet.Config, tiers []*tier, n int, h func(i int) http.Header) []fleet.Trace {
	t.Helper()
	chain, err := fleet.Start(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	client := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: clients}}
	out := make([]fleet.Trace, n)
	var next atomic.Int64
	var wg sync.WaitGroup
	var failed atomic.Int64
	for range clients {
		wg.Go(func() {
			for i := int(next.Add(1) - 1); i < n && ctx.Err() == nil; i = int(next.Add(1) - 1) {
				var hdr http.Header
				if h != nil {
					hdr = h(i)
				}
				tr, err := fleet.Get(ctx, client, chain.URL, hdr)
				if err != nil {
					if failed.Add(1) == 1 {
						t.Errorf("request %d: %v", i, err)
					}
					continue
				}
				out[i] = tr
			}
		})
	}
	wg.Wait()
	client.CloseIdleConnections()
	if err := chain.Shutdown(ctx); err != nil {
		t.Errorf("chain shutdown: %v", err)
	}
	for _, tr := range tiers {
		if err := tr.col.Stop(); err != nil {
			t.Error(err)
		}
	}
	if failed.Load() > 0 {
		t.Fatalf("%d of %d requests failed", failed.Load(), n)
	}
	return out
}

// received returns the spans each project's ingest received, by trace id,
// checking every export the Collectors made on the way.
func received(t *testing.T, in *ingest.Ingest) map[string]map[string][]ingest.OTLPSpan {
	t.Helper()
	byProject := map[string][]ingest.OTLPRequest{}
	for _, r := range in.OTLP() {
		if r.Header.Get(sentryotlp.AuthHeader) != "sentry sentry_key=public" ||
			r.Header.Get("Content-Type") != "application/x-protobuf" || r.Header.Get("Content-Encoding") != "gzip" {
			t.Errorf("project %s: auth %q, type %q, encoding %q", r.Project, r.Header.Get(sentryotlp.AuthHeader),
				r.Header.Get("Content-Type"), r.Header.Get("Content-Encoding"))
		}
		byProject[r.Project] = append(byProject[r.Project], r)
	}
	out := map[string]map[string][]ingest.OTLPSpan{}
	for p, reqs := range byProject {
		spans, err := ingest.Spans(reqs)
		if err != nil {
			t.Fatal(err)
		}
		out[p] = map[string][]ingest.OTLPSpan{}
		for _, s := range spans {
			out[p][s.TraceID] = append(out[p][s.TraceID], s)
		}
	}
	if r := in.Rejected(); len(r) > 0 {
		t.Errorf("the ingest rejected %q", r)
	}
	return out
}

// complete reports whether spans are one whole trace of the chain: each
// service's spans once, the client span of each service but the last.
func complete(spans []ingest.OTLPSpan) bool {
	if len(spans) != fleet.SpansPerTrace {
		return false
	}
	ids := map[string]bool{}
	per := map[string]int{}
	for _, s := range spans {
		ids[s.SpanID] = true
		per[s.Service]++
	}
	return len(ids) == fleet.SpansPerTrace && per["svc0"] == 2 && per["svc1"] == 2 && per["svc2"] == 1
}

// rand parses a six-decimal sample_rand.
func rand(t *testing.T, s string) float64 {
	t.Helper()
	v, err := strconv.ParseFloat(s, 64)
	if err != nil {
		t.Fatalf("sample_rand %q: %v", s, err)
	}
	return v
}

// TestConsistentDownsampling sends 2,000 traces through the chain, sampled
// at the head at 0.5 with consistent sampling on, to four Collectors at
// 10 %: proportional and equalizing mode, each at precision 14 and 4.
// Every trace a Collector keeps must arrive whole, and at precision 14 the
// kept traces must be exactly those a Sentry SDK keeps at the effective
// rate; at precision 4 the disagreements are counted, and must lie within
// one step of the rounded threshold above the rate.
func TestConsistentDownsampling(t *testing.T) {
	in := ingest.New(t)
	tiers := []*tier{
		{name: "proportional/14", mode: "proportional", precision: 14},
		{name: "proportional/4", mode: "proportional", precision: 4},
		{name: "equalizing/14", mode: "equalizing", precision: 14},
		{name: "equalizing/4", mode: "equalizing", precision: 4},
	}
	startTiers(t, in, tiers)
	dsn := in.DSN("public", "99") // the services' own, unused here: they export to the tiers
	got := run(t, fleet.Config{Rate: headRate, Consistent: true, Exporters: exportersTo(tiers, dsn),
		Batch: []sdktrace.BatchSpanProcessorOption{sdktrace.WithBatchTimeout(100 * time.Millisecond)}}, tiers, traces, nil)
	byProject := received(t, in)

	sampled := 0
	for _, tr := range got {
		if tr.Sampled {
			sampled++
		}
	}
	for _, tr := range tiers {
		rate := headRate * percentage / 100
		if tr.mode == "equalizing" {
			rate = percentage / 100.0
		}
		kept := byProject[tr.project]
		var want, keptN, disagree int
		var extrapolated float64
		for _, trace := range got {
			spans, ok := kept[trace.ID]
			delete(kept, trace.ID)
			if ok && !complete(spans) {
				t.Errorf("%s: trace %s arrived with %d spans", tr.name, trace.ID, len(spans))
			}
			for _, s := range spans {
				if s.ClientSampleRate != headRate {
					t.Errorf("%s: span %s sentry.client_sample_rate %v, want %v", tr.name, s.SpanID, s.ClientSampleRate, headRate)
				}
				extrapolated += 1 / s.ClientSampleRate
			}
			if ok {
				keptN++
			}
			r := rand(t, trace.SampleRand)
			sentry := trace.Sampled && r < rate
			if sentry {
				want++
			}
			if ok == sentry {
				continue
			}
			disagree++
			if tr.precision == 14 || sentry || r >= rate+1.0/(1<<16) {
				t.Errorf("%s: trace %s sample_rand %s: Collector kept %t, Sentry at %v %t", tr.name, trace.ID, trace.SampleRand, ok, rate, sentry)
			}
		}
		if len(kept) > 0 {
			t.Errorf("%s: %d traces arrived that no request started", tr.name, len(kept))
		}
		if want == 0 {
			t.Errorf("%s: no trace expected: the test proves nothing", tr.name)
		}
		t.Logf("%s: %d traces, %d sampled at the head, %d kept, Sentry at rate %v keeps %d, %d disagree; "+
			"Sentry's extrapolated span count from sentry.client_sample_rate: %.0f, spans the services handled: %d",
			tr.name, traces, sampled, keptN, rate, want, disagree, extrapolated, traces*fleet.SpansPerTrace)
	}
}

// TestNoRandomness runs the chain without consistent sampling: the spans
// carry no rv, and the Collector decides from the trace id's randomness
// (its last 56 bits) instead of Sentry's sample_rand. Kept traces still
// arrive whole; the kept set is the trace id's, and the test counts how
// far it is from Sentry's.
func TestNoRandomness(t *testing.T) {
	in := ingest.New(t)
	tiers := []*tier{{name: "proportional/14 without rv", mode: "proportional", precision: 14}}
	startTiers(t, in, tiers)
	got := run(t, fleet.Config{Rate: headRate, Exporters: exportersTo(tiers, in.DSN("public", "99")),
		Batch: []sdktrace.BatchSpanProcessorOption{sdktrace.WithBatchTimeout(100 * time.Millisecond)}}, tiers, traces, nil)
	kept := received(t, in)[tiers[0].project]
	var byTraceID, sentry, both int
	for _, tr := range got {
		spans, ok := kept[tr.ID]
		if ok && !complete(spans) {
			t.Errorf("trace %s arrived with %d spans", tr.ID, len(spans))
		}
		// Without rv and th, the Collector keeps a trace at 10 % when the
		// last 56 bits of its id, as a fraction of 2^56, are at least 0.9.
		want := tr.Sampled && traceIDRandomness(t, tr.ID) >= 1-percentage/100.0
		if ok != want {
			t.Errorf("trace %s: kept %t, by its id %t", tr.ID, ok, want)
		}
		s := tr.Sampled && rand(t, tr.SampleRand) < headRate*percentage/100
		if ok {
			byTraceID++
		}
		if s {
			sentry++
		}
		if ok && s {
			both++
		}
	}
	t.Logf("without rv: %d traces kept from their ids, %d by Sentry's rule (sample_rand < 0.05), %d in both", byTraceID, sentry, both)
	if byTraceID == 0 {
		t.Error("nothing kept")
	}
}

// traceIDRandomness is the last 56 bits of a trace id as a fraction of
// 2^56.
func traceIDRandomness(t *testing.T, id string) float64 {
	t.Helper()
	v, err := strconv.ParseUint(id[18:], 16, 64)
	if err != nil || len(id) != 32 {
		t.Fatalf("trace id %q", id)
	}
	return float64(v) / (1 << 56)
}

// TestMalformedOT sends traces whose incoming trace state holds an "ot"
// member the Collector cannot read. A chain without consistent sampling
// forwards it, and the recommended configuration (fail_closed) drops
// every such span, at any percentage; with fail_closed false they are all
// kept. With consistent sampling on, otelsentry's sampler rewrites the
// member from sample_rand, and the Collector decides as usual.
func TestMalformedOT(t *testing.T) {
	const n = 200
	header := func(i int) http.Header {
		h := http.Header{}
		h.Set("Traceparent", fmt.Sprintf("00-%032x-%016x-01", 0xbad0000+i, i+1))
		h.Set("Tracestate", "ot=rv:zz;th:0")
		return h
	}
	for _, consistent := range []bool{false, true} {
		t.Run(fmt.Sprintf("consistent=%t", consistent), func(t *testing.T) {
			in := ingest.New(t)
			tiers := []*tier{
				{name: "fail_closed", mode: "proportional", precision: 14},
				{name: "fail_open", mode: "proportional", precision: 14, set: []string{"processors::probabilistic_sampler::fail_closed=false"}},
			}
			startTiers(t, in, tiers)
			got := run(t, fleet.Config{Rate: 1, Consistent: consistent, Exporters: exportersTo(tiers, in.DSN("public", "99")),
				Batch: []sdktrace.BatchSpanProcessorOption{sdktrace.WithBatchTimeout(100 * time.Millisecond)}}, tiers, n, header)
			byProject := received(t, in)
			closed, open := len(byProject[tiers[0].project]), len(byProject[tiers[1].project])
			t.Logf("consistent sampling %t: %d traces with a malformed ot; kept fail_closed %d, fail_open %d", consistent, n, closed, open)
			switch {
			case !consistent && (closed != 0 || open != n):
				t.Errorf("kept %d (fail_closed) and %d (fail_open) of %d, want 0 and all", closed, open, n)
			case consistent:
				want := 0
				for _, tr := range got {
					if rand(t, tr.SampleRand) < percentage/100.0 {
						want++
					}
				}
				if closed != want || open != want {
					t.Errorf("kept %d and %d of %d, want the %d with sample_rand < 0.1", closed, open, n, want)
				}
			}
			for _, spans := range byProject[tiers[1].project] {
				for _, s := range spans {
					if consistent == strings.Contains(s.TraceState, "rv:zz") {
						t.Errorf("trace state %q", s.TraceState)
					}
				}
			}
		})
	}
}

// TestLogsForwarded sends a log record through a Collector with the
// recommended configuration: it reaches the project's OTLP logs endpoint,
// authenticated, protobuf and gzip, as the traces do.
func TestLogsForwarded(t *testing.T) {
	in := ingest.New(t)
	tiers := []*tier{{name: "logs", mode: "proportional", precision: 14}}
	startTiers(t, in, tiers)
	ctx := context.Background()
	exp, err := sentryotlp.NewLogExporter(ctx, in.DSN("public", "99"), otlploghttp.WithEndpointURL("http://"+tiers[0].col.Addr+"/v1/logs"))
	if err != nil {
		t.Fatal(err)
	}
	provider := sdklog.NewLoggerProvider(sdklog.WithProcessor(sdklog.NewSimpleProcessor(exp)))
	var rec log.Record
	rec.SetBody(attribute.StringValue("payment declined"))
	provider.Logger("checkout").Emit(ctx, rec)
	if err := provider.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	if err := tiers[0].col.Stop(); err != nil {
		t.Fatal(err)
	}
	var logs []ingest.OTLPRequest
	for _, r := range in.OTLP() {
		if r.Signal == "logs" {
			logs = append(logs, r)
		}
	}
	if len(logs) != 1 || logs[0].Project != tiers[0].project || !bytes.Contains(logs[0].Body, []byte("payment declined")) {
		t.Fatalf("logs at the ingest: %+v", logs)
	}
	received(t, in) // checks the path, the header, protobuf and gzip
}
