package browser

import (
	"io"
	"net/http"
	"sync"
	"time"

	"github.com/otelsentry/otelsentry/conformance/internal/ingest"
)

// Bounds of what Envelopes keeps.
const (
	// maxEnvelope caps one envelope; the SDK's are tens of kilobytes.
	maxEnvelope = 4 << 20
	// maxEnvelopes caps how many envelopes are kept; a page sends a few.
	maxEnvelopes = 1024
)

// Envelopes stands in for Sentry's ingest for a page's SDK: it keeps what
// the envelopes the SDK sends say about the trace. Serve it at the
// envelope endpoint of the page's DSN, POST /api/<project>/envelope/, on
// the page's own origin, which needs no CORS answers:
//
//	dsn := "http://publickey@" + host + "/1"
//	mux.Handle("POST /api/1/envelope/", envelopes)
//
// It answers 400 to a malformed envelope and 429 once it holds 1024.
// The zero value is ready to use.
type Envelopes struct {
	mu       sync.Mutex
	received []Envelope
}

// Envelope is what one envelope said about the trace.
type Envelope struct {
	// Trace is the envelope header's "trace", the Dynamic Sampling Context
	// of the spans it carries, every value a string; nil when it had none.
	Trace map[string]string
	// Spans are its spans: streamed ones, or a transaction's own span and
	// its children.
	Spans []Span
}

// Span is a span the SDK sent.
type Span struct {
	TraceID      string
	SpanID       string
	ParentSpanID string
	// Op is the span's op, such as "pageload" or "http.client".
	Op string
	// Name is a streamed span's name, a transaction's name for its own
	// span, or a child span's description.
	Name string
	// Start and End are when the span started and ended, by the page's
	// clock, which virtual time runs ahead; zero when the SDK did not say.
	Start, End time.Time
}

// ServeHTTP takes one envelope.
func (e *Envelopes) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, maxEnvelope+1))
	if err != nil || len(body) > maxEnvelope {
		http.Error(w, "envelope unreadable or too large", http.StatusBadRequest)
		return
	}
	env, err := ingest.Parse(body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if len(e.received) >= maxEnvelopes {
		http.Error(w, "too many envelopes", http.StatusTooManyRequests)
		return
	}
	e.received = append(e.received, newEnvelope(env))
	w.WriteHeader(http.StatusOK)
}

// Received returns the envelopes taken so far, in the order they came.
func (e *Envelopes) Received() []Envelope {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]Envelope(nil), e.received...)
}

func newEnvelope(env ingest.Envelope) Envelope {
	out := Envelope{Trace: env.Trace}
	for _, it := range env.Items {
		for _, s := range it.Spans {
			out.Spans = append(out.Spans, newSpan(s, s.Name))
		}
		if tx := it.Transaction; tx != nil {
			out.Spans = append(out.Spans, newSpan(tx.Trace, tx.Name))
			for _, s := range tx.Spans {
				out.Spans = append(out.Spans, newSpan(s, s.Description))
			}
		}
	}
	return out
}

func newSpan(s ingest.SpanContext, name string) Span {
	return Span{TraceID: s.TraceID, SpanID: s.SpanID, ParentSpanID: s.ParentSpanID, Op: s.Op, Name: name,
		Start: s.Start, End: s.End}
}
