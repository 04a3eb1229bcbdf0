package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/otelsentry/otelsentry/conformance/internal/fleet"
	"github.com/otelsentry/otelsentry/conformance/internal/ingest"
	"github.com/otelsentry/otelsentry/conformance/internal/otelcol"
	"github.com/otelsentry/otelsentry/sentryotlp"
)

// Paths the spans take to the ingest.
const (
	pathDirect    = "direct"    // sentryotlp in each service, to the ingest
	pathCollector = "collector" // sentryotlp to a Collector, the Collector to the ingest
)

// config bounds a run.
type config struct {
	// Rate is the load, in requests a second, every one sampled.
	Rate int
	// Queue is the exporters' queue, OTEL_BSP_MAX_QUEUE_SIZE.
	Queue int
	// Baseline is the fault-free time at the start, whose latencies the
	// faults' are compared with.
	Baseline time.Duration
	// Recovery is the fault-free time after each fault.
	Recovery time.Duration
	// Faults are applied in turn, on each path that they apply to.
	Faults []fault
	// Paths are the paths to run, one after the other.
	Paths []string
	// ShutdownTimeout bounds the shutdown of the services at the end, which
	// happens while the ingest answers 503.
	ShutdownTimeout time.Duration
}

// fault is one way the ingest, or the Collector, fails.
type fault struct {
	Name string
	// Key names the fault in benchmark results.
	Key      string
	Duration time.Duration
	// Path limits the fault to one path; empty applies it to both.
	Path string
	// start makes the fault happen; the function it returns ends it.
	start func(*rig) (end func() error, err error)
}

// rig is what the faults act on.
type rig struct {
	ingest    *ingest.Ingest
	bin       *otelcol.Binary
	collector *otelcol.Collector
	dsn       string
	// logs is what the Collectors stopped so far wrote.
	logs strings.Builder
}

func ingestFault(f ingest.Fault) func(*rig) (func() error, error) {
	return func(r *rig) (func() error, error) {
		r.ingest.SetFault(f)
		return func() error { r.ingest.SetFault(ingest.Fault{}); return nil }, nil
	}
}

// defaultFaults are the faults of a full run.
func defaultFaults() []fault {
	return []fault{
		{Name: "connections refused", Key: "refused", Duration: 5 * time.Second, start: func(r *rig) (func() error, error) {
			return r.ingest.Up, r.ingest.Down()
		}},
		{Name: "503", Key: "503", Duration: 5 * time.Second, start: ingestFault(ingest.Fault{Status: http.StatusServiceUnavailable})},
		{Name: "429, Retry-After: 2", Key: "429", Duration: 5 * time.Second, start: ingestFault(ingest.Fault{Status: http.StatusTooManyRequests, RetryAfter: "2"})},
		{Name: "3 s per request", Key: "slow", Duration: 10 * time.Second, start: ingestFault(ingest.Fault{Delay: 3 * time.Second})},
		{Name: "401", Key: "401", Duration: 5 * time.Second, start: ingestFault(ingest.Fault{Status: http.StatusUnauthorized})},
		{Name: "503, longer than the queue holds", Key: "503-long", Duration: 30 * time.Second, Path: pathDirect, start: ingestFault(ingest.Fault{Status: http.StatusServiceUnavailable})},
		{Name: "Collector restarted", Key: "restart", Duration: 2 * time.Second, Path: pathCollector, start: restartCollector},
	}
}

// restartCollector stops the Collector, which sends what it holds first,
// and starts a new one on the same address when the fault ends.
func restartCollector(r *rig) (func() error, error) {
	addr := r.collector.Addr
	err := r.collector.Stop()
	r.logs.WriteString(r.collector.Output())
	if err != nil {
		return nil, err
	}
	return func() error {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		c, err := r.bin.Start(ctx, otelcol.Options{DSN: r.dsn, SamplingPercentage: 100, Addr: addr, Set: collectorSet})
		if err != nil {
			return err
		}
		r.collector = c
		return nil
	}, nil
}

// collectorSet are the overrides of the shipped configuration in this
// test: none but a short batch timeout.
var collectorSet = []string{"processors::batch::timeout=200ms"}

// window is one fault, or the baseline, as the run saw it.
type window struct {
	Name       string
	Start, End time.Time
	Requests   int
	Failed     int
	P50, P99   time.Duration
	Created    int // spans of the requests started in the window
	Received   int // of those, the ones the ingest accepted
	Dropped    int // spans the exporters or the Collector reported dropped
	Reports    []string
}

// pathReport is one path's run.
type pathReport struct {
	Path     string
	Windows  []window
	Created  int // sampled spans the services ended
	Received int // spans the ingest accepted, each once
	Dropped  int
	Shutdown string // the services' shutdown error during the final 503
	Took     time.Duration
	Failed   int // requests that failed
	Refusals int // reports of a refused export, one per exporter and fault
	// Skipped counts the requests not sent because maxInFlight were under
	// way: the machine, not the exporters, held them up.
	Skipped int
	// Calm is the latency of the requests started while no fault was on:
	// the baseline and the recovery after each fault. Spread over the
	// whole run, it drifts with the machine as the faults do, which a
	// single window at the start does not.
	Calm window
}

// request is one request of the load.
type request struct {
	start   time.Time
	latency time.Duration
	trace   fleet.Trace
	err     error
}

// reports collects what the exporters report through otel.Handle, with
// the time.
type reports struct {
	mu    sync.Mutex
	items []report
}

type report struct {
	at   time.Time
	text string
}

func (r *reports) handle(err error) {
	r.mu.Lock()
	r.items = append(r.items, report{time.Now(), err.Error()})
	r.mu.Unlock()
}

func (r *reports) all() []report {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.items)
}

var (
	droppedReport   = regexp.MustCompile(`^sentryotlp: (\d+) spans to Sentry project \S+ dropped`)
	notSentReport   = regexp.MustCompile(`(\d+) spans to Sentry project \S+ \(the ingest's last answer`)
	refusalReport   = regexp.MustCompile(`^sentryotlp: Sentry project \S+ refused spans: (\d{3} [^;]*); not retried`)
	collectorDrop   = regexp.MustCompile(`"dropped_items": (\d+)`)
	collectorLineAt = regexp.MustCompile(`^(\d{4}-\d\d-\d\dT\S+)\s`)
)

// run runs every path of cfg.
func run(ctx context.Context, cfg config) ([]pathReport, error) {
	if cfg.Rate <= 0 || cfg.Queue <= 0 {
		return nil, errors.New("rate and queue must be positive")
	}
	// The exporters read their queue's size from the environment, as the
	// batch span processor does.
	if err := os.Setenv("OTEL_BSP_MAX_QUEUE_SIZE", strconv.Itoa(cfg.Queue)); err != nil {
		return nil, err
	}
	rep := &reports{}
	otel.SetErrorHandler(otel.ErrorHandlerFunc(rep.handle))
	bctx, cancel := context.WithTimeout(ctx, 10*time.Minute)
	bin, err := otelcol.Build(bctx)
	cancel()
	if err != nil {
		return nil, err
	}
	defer bin.Close()
	var out []pathReport
	var errs []error
	for _, p := range cfg.Paths {
		pr, err := runPath(ctx, cfg, p, bin, rep)
		out = append(out, pr)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", p, err))
		}
	}
	return out, errors.Join(errs...)
}

// runPath runs the load and the faults on one path and accounts for every
// span.
func runPath(ctx context.Context, cfg config, path string, bin *otelcol.Binary, rep *reports) (pathReport, error) {
	pr := pathReport{Path: path}
	began := time.Now()
	in, err := ingest.Start()
	if err != nil {
		return pr, err
	}
	defer in.Close()
	r := &rig{ingest: in, bin: bin, dsn: in.DSN("public", "42")}
	endpoint := []otlptracehttp.Option(nil)
	if path == pathCollector {
		cctx, cancel := context.WithTimeout(ctx, time.Minute)
		r.collector, err = bin.Start(cctx, otelcol.Options{DSN: r.dsn, SamplingPercentage: 100, Set: collectorSet})
		cancel()
		if err != nil {
			return pr, err
		}
		defer func() { _ = r.collector.Stop() }()
		endpoint = append(endpoint, otlptracehttp.WithEndpointURL("http://"+r.collector.Addr+"/v1/traces"))
	}
	chain, err := fleet.Start(fleet.Config{Rate: 1, Consistent: true, Exporters: func(int) ([]sdktrace.SpanExporter, error) {
		exp, err := sentryotlp.New(ctx, r.dsn, endpoint...)
		return []sdktrace.SpanExporter{exp}, err
	}})
	if err != nil {
		return pr, err
	}
	chainDown := false
	defer func() {
		if !chainDown {
			_ = chain.Shutdown(context.Background())
		}
	}()

	// The load runs from the start of the baseline to the end of the last
	// recovery, Rate requests a second, each in its own goroutine, at most
	// maxInFlight at once. The requests due are counted from the start, so
	// that a coarse timer sends them in small bursts rather than fewer.
	loadCtx, stopLoad := context.WithCancel(ctx)
	var reqs []*request
	var reqMu sync.Mutex
	var wg sync.WaitGroup
	client := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: maxInFlight}}
	sem := make(chan struct{}, maxInFlight)
	var skipped atomic.Int64
	wg.Go(func() {
		interval := time.Second / time.Duration(cfg.Rate)
		loadStart := time.Now()
		for sent := 0; ; sent++ {
			select {
			case <-loadCtx.Done():
				return
			case <-time.After(time.Until(loadStart.Add(time.Duration(sent) * interval))):
			}
			select {
			case sem <- struct{}{}:
			default:
				skipped.Add(1)
				continue
			}
			rq := &request{start: time.Now()}
			reqMu.Lock()
			reqs = append(reqs, rq)
			reqMu.Unlock()
			wg.Go(func() {
				defer func() { <-sem }()
				rq.trace, rq.err = fleet.Get(ctx, client, chain.URL, nil)
				rq.latency = time.Since(rq.start)
			})
		}
	})

	// The first seconds set up connections and warm caches: their
	// latencies are not the baseline's.
	sleep(ctx, warmUp)
	windows := []window{{Name: "none (baseline)", Start: time.Now()}}
	sleep(ctx, cfg.Baseline)
	windows[0].End = time.Now()
	var faultErr error
	for _, f := range cfg.Faults {
		if f.Path != "" && f.Path != path {
			continue
		}
		w := window{Name: f.Name, Start: time.Now()}
		end, err := f.start(r)
		if err != nil {
			faultErr = fmt.Errorf("%s: %w", f.Name, err)
			break
		}
		sleep(ctx, f.Duration)
		w.End = time.Now()
		if err := end(); err != nil {
			faultErr = fmt.Errorf("end of %s: %w", f.Name, err)
			break
		}
		windows = append(windows, w)
		sleep(ctx, cfg.Recovery)
	}
	stopLoad()
	wg.Wait()
	pr.Skipped = int(skipped.Load())

	// Straight to the ingest, the services shut down while it answers
	// 503: their shutdown must return within its deadline, naming the
	// status. Through a Collector, their exporters see the Collector,
	// which answers: they shut down cleanly.
	name := "shutdown"
	if path == pathDirect {
		in.SetFault(ingest.Fault{Status: http.StatusServiceUnavailable})
		name = "shutdown, ingest answering 503"
	}
	client.CloseIdleConnections()
	sctx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
	shutStart := time.Now()
	err = chain.Shutdown(sctx)
	took := time.Since(shutStart)
	cancel()
	windows = append(windows, window{Name: name, Start: shutStart, End: shutStart.Add(took)})
	chainDown = true
	in.SetFault(ingest.Fault{})
	switch {
	case path == pathDirect && (!errors.Is(err, sentryotlp.ErrNotSent) || !strings.Contains(err.Error(), "503")):
		faultErr = errors.Join(faultErr, fmt.Errorf("shutdown during a 503: %v, want ErrNotSent naming the status", err))
	case path == pathCollector && err != nil:
		faultErr = errors.Join(faultErr, fmt.Errorf("shutdown: %v", err))
	case took > cfg.ShutdownTimeout:
		faultErr = errors.Join(faultErr, fmt.Errorf("shutdown took %v, past its %v deadline", took, cfg.ShutdownTimeout))
	}
	if err != nil {
		pr.Shutdown = fmt.Sprintf("%v after %v", strings.ReplaceAll(err.Error(), "\n", "; "), took.Round(time.Millisecond))
	}
	var collectorOut string
	if path == pathCollector {
		if err := r.collector.Stop(); err != nil {
			faultErr = errors.Join(faultErr, err)
		}
		collectorOut = r.logs.String() + r.collector.Output()
	}
	pr.Took = time.Since(began)

	pr.Created = int(chain.Ended())
	account(&pr, windows, reqs, in, rep.all(), collectorOut, began)
	if faultErr != nil {
		return pr, faultErr
	}
	return pr, check(pr)
}

// warmUp is the load's time before the baseline.
const warmUp = 2 * time.Second

// maxInFlight bounds the requests under way at once; a request that would
// pass it is not sent, and counted.
const maxInFlight = 256

func sleep(ctx context.Context, d time.Duration) {
	select {
	case <-ctx.Done():
	case <-time.After(d):
	}
}

// account fills pr from the requests, what the ingest accepted and what
// was reported dropped: spans by the window their request started in,
// reports by the window they came in after (a fault's drops are reported
// when it ends).
func account(pr *pathReport, windows []window, reqs []*request, in *ingest.Ingest, reps []report, collectorOut string, began time.Time) {
	spans, err := ingest.Spans(in.OTLP())
	if err != nil {
		pr.Shutdown += " " + err.Error()
	}
	received := map[string]map[string]bool{}
	for _, s := range spans {
		if received[s.TraceID] == nil {
			received[s.TraceID] = map[string]bool{}
		}
		received[s.TraceID][s.SpanID] = true
	}
	// windowOf returns the window a time falls in: a fault from its start to
	// the next fault's start, the baseline before the first fault.
	windowOf := func(at time.Time) int {
		i := 0
		for j := range windows {
			if !at.Before(windows[j].Start) {
				i = j
			}
		}
		return i
	}
	var latencies = make([][]time.Duration, len(windows))
	var calm []time.Duration
	for _, rq := range reqs {
		i := windowOf(rq.start)
		inFault := i > 0 && rq.start.Before(windows[i].End)
		if rq.err != nil {
			windows[i].Failed++
		}
		if i == 0 && !rq.start.Before(windows[0].Start) || inFault {
			windows[i].Requests++
			latencies[i] = append(latencies[i], rq.latency)
		}
		if !inFault && !rq.start.Before(windows[0].Start) {
			calm = append(calm, rq.latency)
		}
		if rq.err != nil || !rq.trace.Sampled {
			continue
		}
		windows[i].Created += fleet.SpansPerTrace
		windows[i].Received += len(received[rq.trace.ID])
	}
	for i := range windows {
		windows[i].P50, windows[i].P99 = percentile(latencies[i], 50), percentile(latencies[i], 99)
	}
	pr.Calm = window{Requests: len(calm), P50: percentile(calm, 50), P99: percentile(calm, 99)}
	addDrop := func(at time.Time, n int, text string) {
		i := windowOf(at)
		windows[i].Dropped += n
		windows[i].Reports = append(windows[i].Reports, text)
		pr.Dropped += n
	}
	for _, r := range reps {
		switch {
		case r.at.Before(began):
		case droppedReport.MatchString(r.text):
			n, _ := strconv.Atoi(droppedReport.FindStringSubmatch(r.text)[1])
			addDrop(r.at, n, r.text)
		case refusalReport.MatchString(r.text):
			pr.Refusals++
			i := windowOf(r.at)
			windows[i].Reports = append(windows[i].Reports, r.text)
		}
	}
	for _, m := range notSentReport.FindAllStringSubmatch(pr.Shutdown, -1) {
		n, _ := strconv.Atoi(m[1])
		addDrop(time.Now(), n, "shutdown: "+m[0])
	}
	sc := bufio.NewScanner(strings.NewReader(collectorOut))
	sc.Buffer(make([]byte, 1<<16), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		m, at := collectorDrop.FindStringSubmatch(line), collectorLineAt.FindStringSubmatch(line)
		if m == nil || at == nil {
			continue
		}
		t, err := time.Parse(time.RFC3339Nano, at[1])
		if err != nil {
			continue
		}
		n, _ := strconv.Atoi(m[1])
		addDrop(t, n, "collector: dropped_items "+m[1])
	}
	// The totals count every span, a failed request's too: those the
	// services ended, and those the ingest accepted.
	for _, ids := range received {
		pr.Received += len(ids)
	}
	for _, w := range windows {
		pr.Failed += w.Failed
	}
	pr.Windows = windows
}

func percentile(d []time.Duration, p int) time.Duration {
	if len(d) == 0 {
		return 0
	}
	s := slices.Clone(d)
	slices.Sort(s)
	return s[min(len(s)-1, len(s)*p/100)]
}

// check fails a path on a span neither received nor counted as dropped.
// Failed requests are counted apart (see failed): on a machine too busy
// to answer in time, requests fail whatever the exporters do.
func check(pr pathReport) error {
	if lost := pr.Created - pr.Received - pr.Dropped; lost != 0 {
		return fmt.Errorf("%d spans created, %d received, %d reported dropped: %d unaccounted for", pr.Created, pr.Received, pr.Dropped, lost)
	}
	return nil
}

// failed returns an error naming the windows whose requests failed.
func failed(prs []pathReport) error {
	var errs []error
	for _, pr := range prs {
		for _, w := range pr.Windows {
			if w.Failed > 0 {
				errs = append(errs, fmt.Errorf("%s, %s: %d requests failed", pr.Path, w.Name, w.Failed))
			}
		}
	}
	return errors.Join(errs...)
}

// table writes the reports as a Markdown table. A window's latency change
// is against the path's requests while no fault was on, the baseline's
// too.
func table(prs []pathReport) string {
	var b strings.Builder
	b.WriteString("| path | fault | duration | requests | p50 (change) | p99 (change) | spans sent | received | not received | dropped (counted) |\n")
	b.WriteString("|---|---|---|---|---|---|---|---|---|---|\n")
	for _, pr := range prs {
		base := pr.Calm
		fmt.Fprintf(&b, "| %s | no fault on (baseline and recoveries) | | %d | %s | %s | | | | |\n", pr.Path,
			base.Requests, base.P50.Round(10*time.Microsecond), base.P99.Round(10*time.Microsecond))
		for _, w := range pr.Windows {
			fmt.Fprintf(&b, "| %s | %s | %s | %d | %s (%s) | %s (%s) | %d | %d | %d | %d |\n", pr.Path, w.Name,
				w.End.Sub(w.Start).Round(100*time.Millisecond), w.Requests,
				w.P50.Round(10*time.Microsecond), change(w.P50, base.P50), w.P99.Round(10*time.Microsecond), change(w.P99, base.P99),
				w.Created, w.Received, w.Created-w.Received, w.Dropped)
		}
		fmt.Fprintf(&b, "| %s | total (%s) | | | | | %d | %d | %d | %d |\n", pr.Path, pr.Took.Round(time.Second),
			pr.Created, pr.Received, pr.Created-pr.Received, pr.Dropped)
	}
	return b.String()
}

func change(d, base time.Duration) string {
	if base == 0 {
		return "n/a"
	}
	return fmt.Sprintf("%+.0f %%", 100*(float64(d)/float64(base)-1))
}

// details writes what each path reported.
func details(prs []pathReport) string {
	var b strings.Builder
	for _, pr := range prs {
		fmt.Fprintf(&b, "%s: %d requests failed, %d not sent (%d under way); %d refusal reports; shutdown (straight to the ingest: while it answers 503): %s\n",
			pr.Path, pr.Failed, pr.Skipped, maxInFlight, pr.Refusals, orNone(pr.Shutdown))
		for _, w := range pr.Windows {
			for _, r := range w.Reports {
				fmt.Fprintf(&b, "  %s: %s\n", w.Name, r)
			}
		}
	}
	return b.String()
}

func orNone(s string) string {
	if s == "" {
		return "no error"
	}
	return s
}
