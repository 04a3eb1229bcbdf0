package sentryotlp

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"strconv"
	"sync"
	"time"

	"go.opentelemetry.io/otel"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
)

// ErrNotSent is wrapped by the error of a Shutdown that could not send every
// span it held: the number, the Sentry project and the ingest's last answer
// are in the message.
var ErrNotSent = errors.New("sentryotlp: spans not sent")

// errShutdown is returned for spans handed over after Shutdown.
var errShutdown = errors.New("sentryotlp: exporter is shut down")

const (
	// defaultQueueSize is the number of spans the exporter holds while the
	// ingest fails, unless OTEL_BSP_MAX_QUEUE_SIZE says otherwise.
	defaultQueueSize = 2048
	// maxRequestSpans caps the spans of one request, which gathers what
	// queued up while the previous one was under way.
	maxRequestSpans = 2048
	// handOff is how long ExportSpans waits for a batch to be sent before
	// it leaves the batch to the queue: long enough for an ingest that
	// answers, so that ForceFlush sends, short enough that a slow one does
	// not hold up the batch span processor, whose queue would then drop
	// spans without a word.
	handOff = time.Second
	// shutdownMargin is the most Shutdown keeps of its context's time to
	// stop the request under way and report, rather than let its caller's
	// deadline pass first.
	shutdownMargin = 100 * time.Millisecond
)

// queuedExporter sends spans through the OTLP exporter from a queue of its
// own. The OTLP exporter retries failed requests with exponential backoff,
// honouring Retry-After, on 429, 502, 503 and 504 (and, through this
// package's client, on connection errors), and stops at once on any other
// status, a 401 among them; while it retries, the spans that keep
// coming wait in the queue, up to its size, and the batch span processor is
// never held up. Spans that do not fit, or that the ingest refuses, are
// counted and reported once per fault through otel.Handle, with their
// number, when the ingest answers again.
type queuedExporter struct {
	next    sdktrace.SpanExporter
	state   *ingestState
	project string
	size    int

	mu     sync.Mutex
	queue  []*batch
	queued int // spans in queue
	closed bool
	fault  fault
	wake   chan struct{} // a batch was queued, or the exporter closed

	cancel context.CancelFunc // stops the request under way
	done   chan struct{}      // the sender returned
}

// batch is one ExportSpans call's spans.
type batch struct {
	spans []sdktrace.ReadOnlySpan
	// handled is closed when the spans are sent, refused or dropped.
	handled chan struct{}
}

// fault is a run of failed requests or dropped spans, which ends with a
// request that goes through and leaves the queue empty.
type fault struct {
	active   bool
	since    time.Time
	dropped  int  // spans dropped: refused, past retrying, or past the queue
	reported bool // a refusal was reported
}

func newQueuedExporter(next sdktrace.SpanExporter, state *ingestState, project string) *queuedExporter {
	ctx, cancel := context.WithCancel(context.Background())
	e := &queuedExporter{
		next:    next,
		state:   state,
		project: project,
		size:    queueSize(),
		wake:    make(chan struct{}, 1),
		cancel:  cancel,
		done:    make(chan struct{}),
	}
	go e.send(ctx)
	return e
}

// queueSize reads OTEL_BSP_MAX_QUEUE_SIZE, the size of the batch span
// processor's queue: while the ingest fails, the spans that would wait
// there wait here instead.
func queueSize() int {
	if n, err := strconv.Atoi(os.Getenv("OTEL_BSP_MAX_QUEUE_SIZE")); err == nil && n > 0 {
		return n
	}
	return defaultQueueSize
}

// ExportSpans queues spans and waits until they are sent, or at most
// handOff, or until a request fails (not at all while requests fail). Spans that do not fit in
// the queue are dropped and counted; the error is never the ingest's,
// which is reported once per fault instead of once per batch.
func (e *queuedExporter) ExportSpans(ctx context.Context, spans []sdktrace.ReadOnlySpan) error {
	if len(spans) == 0 {
		return nil
	}
	// The batch span processor reuses its slice once this returns.
	b := &batch{spans: slices.Clone(spans), handled: make(chan struct{})}
	e.mu.Lock()
	switch {
	case e.closed:
		e.mu.Unlock()
		return errShutdown
	case e.queued+len(spans) > e.size:
		e.drop(len(spans))
		e.mu.Unlock()
		return nil
	}
	e.queue = append(e.queue, b)
	e.queued += len(spans)
	e.mu.Unlock()
	e.signal()

	t := time.NewTimer(handOff)
	defer t.Stop()
	select {
	case <-b.handled:
	case <-e.state.failures():
	case <-t.C:
	case <-ctx.Done():
	}
	return nil
}

// drop counts n spans lost to the current fault, starting one if needed.
// e.mu is held.
func (e *queuedExporter) drop(n int) {
	e.startFault()
	e.fault.dropped += n
}

// startFault marks the start of a fault. e.mu is held.
func (e *queuedExporter) startFault() {
	if !e.fault.active {
		e.fault = fault{active: true, since: time.Now()}
	}
}

func (e *queuedExporter) signal() {
	select {
	case e.wake <- struct{}{}:
	default:
	}
}

// send sends the queued batches, gathered into requests of up to
// maxRequestSpans, one request at a time, until the exporter is closed and
// its queue empty, or ctx ends.
func (e *queuedExporter) send(ctx context.Context) {
	defer close(e.done)
	// One request at a time, so the two slices serve every request: the
	// exporter has read the spans when ExportSpans returns.
	var (
		take  []*batch
		spans []sdktrace.ReadOnlySpan
	)
	for {
		e.mu.Lock()
		for len(e.queue) == 0 && !e.closed && ctx.Err() == nil {
			e.mu.Unlock()
			select {
			case <-e.wake:
			case <-ctx.Done():
			}
			e.mu.Lock()
		}
		if len(e.queue) == 0 || ctx.Err() != nil {
			e.mu.Unlock()
			return
		}
		take, spans = take[:0], spans[:0]
		for len(e.queue) > 0 && (len(take) == 0 || len(spans)+len(e.queue[0].spans) <= maxRequestSpans) {
			take = append(take, e.queue[0])
			spans = append(spans, e.queue[0].spans...)
			e.queue[0] = nil
			e.queue = e.queue[1:]
		}
		e.mu.Unlock()

		err := e.next.ExportSpans(ctx, spans)

		e.mu.Lock()
		e.queued -= len(spans)
		for i, b := range take {
			close(b.handled)
			take[i] = nil
		}
		clear(spans)
		e.finish(len(spans), err)
		e.mu.Unlock()
	}
}

// finish accounts for one request of n spans that ended with err, and
// reports the fault it ends or the refusal it starts. e.mu is held.
func (e *queuedExporter) finish(n int, err error) {
	failing, last, retried := e.state.snapshot()
	switch {
	case err == nil && e.fault.active && len(e.queue) == 0:
		if e.fault.dropped > 0 {
			otel.Handle(fmt.Errorf("sentryotlp: %d spans to Sentry project %s dropped during %s of failures (last: %s)",
				e.fault.dropped, e.project, time.Since(e.fault.since).Round(time.Millisecond), last))
		}
		e.fault = fault{}
	case err == nil:
	default:
		e.drop(n)
		if failing && !e.fault.reported && !retried {
			e.fault.reported = true
			otel.Handle(fmt.Errorf("sentryotlp: Sentry project %s refused spans: %s; not retried", e.project, last))
		}
	}
}

// Shutdown sends what is queued until shortly before ctx's deadline, then
// stops the request under way. When spans are left unsent, dropped since
// the last report included, the error wraps ErrNotSent and says how many,
// to which project, and the ingest's last answer.
func (e *queuedExporter) Shutdown(ctx context.Context) error {
	e.mu.Lock()
	if e.closed {
		e.mu.Unlock()
		return nil
	}
	e.closed = true
	e.mu.Unlock()
	e.signal()

	stop := ctx
	if d, ok := ctx.Deadline(); ok {
		var cancel context.CancelFunc
		stop, cancel = context.WithDeadline(ctx, d.Add(-min(time.Until(d)/10, shutdownMargin)))
		defer cancel()
	}
	select {
	case <-e.done:
	case <-stop.Done():
	}
	e.cancel()
	<-e.done

	e.mu.Lock()
	unsent := e.queued
	for _, b := range e.queue {
		close(b.handled)
	}
	e.queue, e.queued = nil, 0
	if e.fault.active {
		unsent += e.fault.dropped
	}
	e.fault = fault{}
	e.mu.Unlock()

	err := e.next.Shutdown(ctx)
	if unsent == 0 {
		return err
	}
	_, last, _ := e.state.snapshot()
	return errors.Join(fmt.Errorf("%w: %d spans to Sentry project %s (the ingest's last answer: %s)", ErrNotSent, unsent, e.project, last), stop.Err(), err)
}
