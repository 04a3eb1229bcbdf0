// Package ingest is a fake Sentry ingest for tests: an HTTP server on
// 127.0.0.1 that accepts envelopes, store requests and OTLP trace and log
// exports the way Sentry's ingest does, keeps them in memory and lets a test
// wait for what it expects. It can also be made to fail the way an ingest
// does: refuse connections, answer OTLP exports with an error status, or
// answer them slowly.
package ingest

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/otelsentry/otelsentry/conformance/internal/testkit"
)

// maxBody caps a request body after decompression; Sentry's own limit for
// an envelope is of the same order.
const maxBody = 20 << 20

// maxTimestamp is the latest timestamp read, in seconds: the year 9999.
// Later ones, which no clock sends, are read as unknown.
const maxTimestamp = 253402300799

// Envelope is one envelope (or store request) the ingest received.
type Envelope struct {
	// Project is the project id in the request path.
	Project string
	// Header is the decoded envelope header.
	Header map[string]any
	// EventID is the header's event_id, or the event's for a store request.
	EventID string
	// Trace is the header's "trace" object, the Dynamic Sampling Context,
	// with every value as a string; nil when the header has none.
	Trace map[string]string
	// Items are the envelope's items, in order.
	Items []Item
}

// Item is one item of an envelope.
type Item struct {
	// Type is the item header's type.
	Type string
	// Header is the decoded item header.
	Header map[string]any
	// Payload is the raw payload.
	Payload []byte
	// Transaction is the decoded payload of a "transaction" item.
	Transaction *Transaction
	// Spans are the spans of a "span" item: the streamed spans that newer
	// SDKs send instead of transactions, one or a container of several.
	Spans []SpanContext
}

// Transaction is what a transaction event says about its trace.
type Transaction struct {
	// Name is the transaction name.
	Name string
	// Trace is contexts.trace: the transaction's own span.
	Trace SpanContext
	// Spans are the child spans.
	Spans []SpanContext
}

// SpanContext is what an envelope says of one span: a transaction's own
// span or one of its children, or a streamed span.
type SpanContext struct {
	TraceID      string `json:"trace_id"`
	SpanID       string `json:"span_id"`
	ParentSpanID string `json:"parent_span_id"`
	// Op is the span's op; a streamed span has it in its sentry.op
	// attribute.
	Op string `json:"op"`
	// Description is a transaction's child span's description.
	Description string `json:"description"`
	// Name is a streamed span's name.
	Name string `json:"name"`
	// Start and End are when the span started and ended; zero when the
	// envelope does not say.
	Start time.Time `json:"-"`
	End   time.Time `json:"-"`
}

// UnmarshalJSON decodes a span of either shape: a transaction's child,
// which ends at "timestamp" and has an "op", or a streamed span, which
// ends at "end_timestamp" and has its op among its attributes.
func (s *SpanContext) UnmarshalJSON(b []byte) error {
	type plain SpanContext // without this method
	var span struct {
		plain
		StartTimestamp timestamp `json:"start_timestamp"`
		EndTimestamp   timestamp `json:"end_timestamp"`
		Timestamp      timestamp `json:"timestamp"`
		Attributes     struct {
			Op struct {
				Value string `json:"value"`
			} `json:"sentry.op"`
		} `json:"attributes"`
	}
	if err := json.Unmarshal(b, &span); err != nil {
		return err
	}
	*s = SpanContext(span.plain)
	if s.Op == "" {
		s.Op = span.Attributes.Op.Value
	}
	s.Start = time.Time(span.StartTimestamp)
	s.End = time.Time(span.EndTimestamp)
	if s.End.IsZero() {
		s.End = time.Time(span.Timestamp)
	}
	return nil
}

// timestamp is a Sentry timestamp: seconds since the Unix epoch, with a
// fraction, or an RFC 3339 string, as sentry-go writes them. A number at
// or below zero, or past the year 9999, which no clock sends, is read as
// the zero time.
type timestamp time.Time

func (t *timestamp) UnmarshalJSON(b []byte) error {
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		parsed, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			return err
		}
		*t = timestamp(parsed.UTC())
		return nil
	}
	var seconds float64
	if err := json.Unmarshal(b, &seconds); err != nil {
		return err
	}
	*t = timestamp{}
	if seconds > 0 && seconds <= maxTimestamp {
		whole, frac := math.Modf(seconds)
		*t = timestamp(time.Unix(int64(whole), int64(frac*1e9)).UTC())
	}
	return nil
}

// OTLPRequest is one OTLP/HTTP export, kept undecoded.
type OTLPRequest struct {
	// Project is the project id in the request path.
	Project string
	// Signal is "traces" or "logs", from the request path.
	Signal string
	// Header holds the request headers.
	Header http.Header
	// Body is the (decompressed) body.
	Body []byte
}

// Types returns the item types of e, in order.
func (e Envelope) Types() []string {
	t := make([]string, len(e.Items))
	for i, it := range e.Items {
		t[i] = it.Type
	}
	return t
}

// Transaction returns e's first transaction, or nil.
func (e Envelope) Transaction() *Transaction {
	for _, it := range e.Items {
		if it.Transaction != nil {
			return it.Transaction
		}
	}
	return nil
}

// HasSpan reports whether e carries the span spanID: a transaction's own
// span or one of its children, or a streamed span.
func (e Envelope) HasSpan(spanID string) bool {
	for _, it := range e.Items {
		spans := it.Spans
		if tx := it.Transaction; tx != nil {
			spans = append([]SpanContext{tx.Trace}, tx.Spans...)
		}
		for _, s := range spans {
			if s.SpanID == spanID {
				return true
			}
		}
	}
	return false
}

// Ingest is a running fake ingest.
type Ingest struct {
	srv *httptest.Server

	mu        sync.Mutex
	envelopes []Envelope
	otlp      []OTLPRequest
	rejected  []string
	changed   chan struct{} // closed and replaced whenever something arrives
	fault     Fault
	refused   []OTLPRequest // OTLP exports answered with the fault's status
}

// Fault is how the ingest answers OTLP exports; the zero Fault accepts
// them.
type Fault struct {
	// Status, when not zero, answers every OTLP export with this status
	// instead of accepting it.
	Status int
	// RetryAfter is the Retry-After header sent with Status.
	RetryAfter string
	// Delay is how long the ingest waits before it answers, accepting or
	// not.
	Delay time.Duration
}

// SetFault makes the ingest answer OTLP exports as f says, from the next
// request on.
func (in *Ingest) SetFault(f Fault) {
	in.mu.Lock()
	in.fault = f
	in.mu.Unlock()
}

// Refused returns a copy of the OTLP exports answered with a fault's
// status.
func (in *Ingest) Refused() []OTLPRequest {
	in.mu.Lock()
	defer in.mu.Unlock()
	return append([]OTLPRequest(nil), in.refused...)
}

// Down stops listening and closes every open connection, so that new
// connections are refused until Up.
func (in *Ingest) Down() error {
	err := in.srv.Listener.Close()
	in.srv.CloseClientConnections()
	return err
}

// Up listens again on the address Down closed.
func (in *Ingest) Up() error {
	l, err := net.Listen("tcp", strings.TrimPrefix(in.srv.URL, "http://"))
	if err != nil {
		return fmt.Errorf("ingest: listen again: %w", err)
	}
	in.srv.Listener = l
	go func() { _ = in.srv.Config.Serve(l) }()
	return nil
}

// New starts an ingest on 127.0.0.1; t's cleanup closes it.
func New(t testkit.TB) *Ingest {
	t.Helper()
	in, err := Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(in.Close)
	return in
}

// Start starts an ingest on 127.0.0.1, for a program; Close stops it.
func Start() (*Ingest, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("ingest: listen: %w", err)
	}
	in := &Ingest{changed: make(chan struct{})}
	in.srv = httptest.NewUnstartedServer(http.HandlerFunc(in.serve))
	in.srv.Listener = l
	in.srv.Start()
	return in, nil
}

// Close stops the ingest, waiting for the requests under way.
func (in *Ingest) Close() { in.srv.Close() }

// URL returns the ingest's base URL, http://127.0.0.1:<port>.
func (in *Ingest) URL() string { return in.srv.URL }

// DSN returns a DSN that sends to this ingest.
func (in *Ingest) DSN(publicKey, projectID string) string {
	return "http://" + publicKey + "@" + strings.TrimPrefix(in.srv.URL, "http://") + "/" + projectID
}

// Envelopes returns a copy of the envelopes received so far.
func (in *Ingest) Envelopes() []Envelope {
	in.mu.Lock()
	defer in.mu.Unlock()
	return append([]Envelope(nil), in.envelopes...)
}

// OTLP returns a copy of the OTLP exports received so far.
func (in *Ingest) OTLP() []OTLPRequest {
	in.mu.Lock()
	defer in.mu.Unlock()
	return append([]OTLPRequest(nil), in.otlp...)
}

// Rejected returns why each rejected request was rejected.
func (in *Ingest) Rejected() []string {
	in.mu.Lock()
	defer in.mu.Unlock()
	return append([]string(nil), in.rejected...)
}

// WaitFor waits until cond holds for the envelopes received so far, or ctx
// ends; cond runs again after each arrival.
func (in *Ingest) WaitFor(ctx context.Context, cond func([]Envelope) bool) error {
	return waitFor(ctx, in, "envelopes", func() []Envelope { return in.envelopes }, cond)
}

// waitFor waits until cond holds for a copy of what list returns, read
// with in.mu held, or ctx ends; cond runs again after each arrival.
func waitFor[T any](ctx context.Context, in *Ingest, what string, list func() []T, cond func([]T) bool) error {
	for {
		in.mu.Lock()
		got := append([]T(nil), list()...)
		ch := in.changed
		in.mu.Unlock()
		if cond(got) {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("ingest: waited for %s, have %d: %w", what, len(got), ctx.Err())
		case <-ch:
		}
	}
}

// WaitForOTLP waits until cond holds for the OTLP exports accepted so far,
// or ctx ends; cond runs again after each arrival.
func (in *Ingest) WaitForOTLP(ctx context.Context, cond func([]OTLPRequest) bool) error {
	return waitFor(ctx, in, "OTLP exports", func() []OTLPRequest { return in.otlp }, cond)
}

// WaitForEnvelope waits for an envelope that match accepts, and returns the
// first such one received.
func (in *Ingest) WaitForEnvelope(ctx context.Context, match func(Envelope) bool) (Envelope, error) {
	var found Envelope
	err := in.WaitFor(ctx, func(envs []Envelope) bool {
		for _, e := range envs {
			if match(e) {
				found = e
				return true
			}
		}
		return false
	})
	return found, err
}

// WaitForTransaction waits for a transaction envelope whose contexts.trace
// has spanID, and returns it.
func (in *Ingest) WaitForTransaction(ctx context.Context, spanID string) (Envelope, error) {
	return in.WaitForEnvelope(ctx, func(e Envelope) bool {
		tx := e.Transaction()
		return tx != nil && tx.Trace.SpanID == spanID
	})
}

func (in *Ingest) notify() {
	close(in.changed)
	in.changed = make(chan struct{})
}

func (in *Ingest) reject(w http.ResponseWriter, code int, why string) {
	in.mu.Lock()
	in.rejected = append(in.rejected, why)
	in.mu.Unlock()
	http.Error(w, why, code)
}

func (in *Ingest) serve(w http.ResponseWriter, r *http.Request) {
	project, kind, ok := route(r.URL.Path)
	if !ok {
		in.reject(w, http.StatusNotFound, "unknown path "+r.URL.Path)
		return
	}
	if answerCORS(w, r) {
		return
	}
	if r.Method != http.MethodPost {
		in.reject(w, http.StatusMethodNotAllowed, r.Method+" "+r.URL.Path)
		return
	}
	body, err := readBody(r)
	if err != nil {
		in.reject(w, http.StatusBadRequest, err.Error())
		return
	}
	switch kind {
	case "traces", "logs":
		req := OTLPRequest{Project: project, Signal: kind, Header: r.Header.Clone(), Body: body}
		in.mu.Lock()
		f := in.fault
		in.mu.Unlock()
		if f.Delay > 0 {
			select {
			case <-time.After(f.Delay):
			case <-r.Context().Done():
				return
			}
		}
		in.mu.Lock()
		if f.Status != 0 {
			in.refused = append(in.refused, req)
			in.mu.Unlock()
			if f.RetryAfter != "" {
				w.Header().Set("Retry-After", f.RetryAfter)
			}
			http.Error(w, http.StatusText(f.Status), f.Status)
			return
		}
		in.otlp = append(in.otlp, req)
		in.notify()
		in.mu.Unlock()
		w.Header().Set("Content-Type", "application/x-protobuf")
		w.WriteHeader(http.StatusOK)
		return
	case "store":
		env, err := parseStore(body)
		if err != nil {
			in.reject(w, http.StatusBadRequest, err.Error())
			return
		}
		in.add(project, env)
		writeID(w, env.EventID)
	default:
		env, err := Parse(body)
		if err != nil {
			in.reject(w, http.StatusBadRequest, err.Error())
			return
		}
		in.add(project, env)
		writeID(w, env.EventID)
	}
}

// answerCORS lets pages of any origin send to the ingest, as Sentry's
// does: the browser SDK posts its envelopes from the page, with fetch, to
// the DSN's origin, and counts an answer that the page may not read as a
// network error. Every answer allows any origin and exposes the headers
// through which Sentry limits rates; a preflight (OPTIONS with
// Access-Control-Request-Method) is answered here, allowing POST and the
// headers it asks for, and answerCORS reports that it answered it.
func answerCORS(w http.ResponseWriter, r *http.Request) bool {
	h := w.Header()
	h.Set("Access-Control-Allow-Origin", "*")
	h.Set("Access-Control-Expose-Headers", "X-Sentry-Error, X-Sentry-Rate-Limits, Retry-After")
	if r.Method != http.MethodOptions || r.Header.Get("Access-Control-Request-Method") == "" {
		return false
	}
	h.Set("Access-Control-Allow-Methods", http.MethodPost)
	if asked := r.Header.Values("Access-Control-Request-Headers"); len(asked) > 0 {
		h.Set("Access-Control-Allow-Headers", strings.Join(asked, ", "))
	}
	h.Set("Access-Control-Max-Age", "600")
	w.WriteHeader(http.StatusNoContent)
	return true
}

func (in *Ingest) add(project string, env Envelope) {
	env.Project = project
	in.mu.Lock()
	in.envelopes = append(in.envelopes, env)
	in.notify()
	in.mu.Unlock()
}

func writeID(w http.ResponseWriter, id string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	b, _ := json.Marshal(map[string]string{"id": id})
	_, _ = w.Write(b)
}

// route splits /api/<project>/<endpoint>/ into the project and the kind of
// endpoint: envelope, store, or the OTLP traces or logs.
func route(path string) (project, kind string, ok bool) {
	rest, ok := strings.CutPrefix(path, "/api/")
	if !ok {
		return "", "", false
	}
	project, endpoint, ok := strings.Cut(rest, "/")
	if !ok || project == "" {
		return "", "", false
	}
	switch strings.TrimSuffix(endpoint, "/") {
	case "envelope":
		return project, "envelope", true
	case "store":
		return project, "store", true
	case "integration/otlp/v1/traces":
		return project, "traces", true
	case "integration/otlp/v1/logs":
		return project, "logs", true
	}
	return "", "", false
}

func readBody(r *http.Request) ([]byte, error) {
	var src io.Reader = r.Body
	switch enc := strings.ToLower(strings.TrimSpace(r.Header.Get("Content-Encoding"))); enc {
	case "", "identity":
	case "gzip":
		zr, err := gzip.NewReader(r.Body)
		if err != nil {
			return nil, fmt.Errorf("gzip: %w", err)
		}
		defer zr.Close()
		src = zr
	default:
		return nil, fmt.Errorf("unsupported Content-Encoding %q", enc)
	}
	b, err := io.ReadAll(io.LimitReader(src, maxBody+1))
	if err != nil {
		return nil, fmt.Errorf("reading body: %w", err)
	}
	if len(b) > maxBody {
		return nil, fmt.Errorf("body larger than %d bytes", maxBody)
	}
	return b, nil
}

// ErrMalformed is wrapped by every envelope parse error.
var ErrMalformed = errors.New("ingest: malformed envelope")

// Parse decodes an envelope: a JSON header line, then items, each a JSON
// item header line and a payload of the header's length in bytes, or, with
// no length, up to the next newline.
func Parse(b []byte) (Envelope, error) {
	rd := bufio.NewReader(bytes.NewReader(b))
	line, err := readLine(rd)
	if err != nil || len(bytes.TrimSpace(line)) == 0 {
		return Envelope{}, fmt.Errorf("%w: no header line", ErrMalformed)
	}
	var env Envelope
	if err := json.Unmarshal(line, &env.Header); err != nil || env.Header == nil {
		return Envelope{}, fmt.Errorf("%w: header: not a JSON object", ErrMalformed)
	}
	env.EventID, _ = env.Header["event_id"].(string)
	if tr, ok := env.Header["trace"]; ok {
		m, ok := tr.(map[string]any)
		if !ok {
			return Envelope{}, fmt.Errorf("%w: header trace is not an object", ErrMalformed)
		}
		env.Trace = stringMap(m)
	}
	for {
		line, err := readLine(rd)
		if errors.Is(err, io.EOF) && len(line) == 0 {
			return env, nil
		}
		if err != nil && !errors.Is(err, io.EOF) {
			return Envelope{}, fmt.Errorf("%w: %v", ErrMalformed, err)
		}
		if len(bytes.TrimSpace(line)) == 0 {
			if errors.Is(err, io.EOF) {
				return env, nil
			}
			continue // blank lines between items are tolerated
		}
		it, perr := parseItem(rd, line)
		if perr != nil {
			return Envelope{}, perr
		}
		env.Items = append(env.Items, it)
	}
}

func parseItem(rd *bufio.Reader, headerLine []byte) (Item, error) {
	var it Item
	if err := json.Unmarshal(headerLine, &it.Header); err != nil || it.Header == nil {
		return Item{}, fmt.Errorf("%w: item header: not a JSON object", ErrMalformed)
	}
	it.Type, _ = it.Header["type"].(string)
	if it.Type == "" {
		return Item{}, fmt.Errorf("%w: item without type", ErrMalformed)
	}
	if l, ok := it.Header["length"]; ok {
		n, ok := l.(float64)
		if !ok || n < 0 || n > maxBody || n != float64(int(n)) {
			return Item{}, fmt.Errorf("%w: item length %v", ErrMalformed, l)
		}
		it.Payload = make([]byte, int(n))
		if _, err := io.ReadFull(rd, it.Payload); err != nil {
			return Item{}, fmt.Errorf("%w: item %s: payload shorter than length %d", ErrMalformed, it.Type, int(n))
		}
		// The newline after a sized payload is optional.
		if c, err := rd.ReadByte(); err == nil && c != '\n' {
			_ = rd.UnreadByte()
		}
	} else {
		p, err := readLine(rd)
		if err != nil && !errors.Is(err, io.EOF) {
			return Item{}, fmt.Errorf("%w: %v", ErrMalformed, err)
		}
		it.Payload = p
	}
	switch it.Type {
	case "transaction":
		tx, err := decodeTransaction(it.Payload)
		if err != nil {
			return Item{}, err
		}
		it.Transaction = tx
	case "span":
		spans, err := decodeSpans(it.Payload)
		if err != nil {
			return Item{}, err
		}
		it.Spans = spans
	}
	return it, nil
}

// decodeSpans reads a span item: a container {"items": [span, ...]} or a
// single span.
func decodeSpans(p []byte) ([]SpanContext, error) {
	var container struct {
		Items []SpanContext `json:"items"`
	}
	if err := json.Unmarshal(p, &container); err != nil {
		return nil, fmt.Errorf("%w: span payload: %v", ErrMalformed, err)
	}
	if container.Items != nil {
		return container.Items, nil
	}
	var one SpanContext
	if err := json.Unmarshal(p, &one); err != nil {
		return nil, fmt.Errorf("%w: span payload: %v", ErrMalformed, err)
	}
	return []SpanContext{one}, nil
}

// readLine returns the next line without its "\n" (and "\r"); io.EOF comes
// with the last, unterminated line.
func readLine(rd *bufio.Reader) ([]byte, error) {
	line, err := rd.ReadBytes('\n')
	line = bytes.TrimSuffix(line, []byte("\n"))
	line = bytes.TrimSuffix(line, []byte("\r"))
	return line, err
}

type transactionPayload struct {
	Transaction string `json:"transaction"`
	Contexts    struct {
		Trace SpanContext `json:"trace"`
	} `json:"contexts"`
	Spans          []SpanContext `json:"spans"`
	StartTimestamp timestamp     `json:"start_timestamp"`
	Timestamp      timestamp     `json:"timestamp"`
}

// decodeTransaction reads a transaction event; its own span's times are
// the event's.
func decodeTransaction(p []byte) (*Transaction, error) {
	var tp transactionPayload
	if err := json.Unmarshal(p, &tp); err != nil {
		return nil, fmt.Errorf("%w: transaction payload: %v", ErrMalformed, err)
	}
	tp.Contexts.Trace.Start = time.Time(tp.StartTimestamp)
	tp.Contexts.Trace.End = time.Time(tp.Timestamp)
	return &Transaction{Name: tp.Transaction, Trace: tp.Contexts.Trace, Spans: tp.Spans}, nil
}

// parseStore turns a store request, a single JSON event, into an envelope
// with one item of the event's type.
func parseStore(body []byte) (Envelope, error) {
	var ev map[string]any
	if err := json.Unmarshal(body, &ev); err != nil || ev == nil {
		return Envelope{}, fmt.Errorf("%w: store: not a JSON object", ErrMalformed)
	}
	typ, _ := ev["type"].(string)
	if typ == "" {
		typ = "event"
	}
	it := Item{Type: typ, Header: map[string]any{"type": typ}, Payload: body}
	if typ == "transaction" {
		tx, err := decodeTransaction(body)
		if err != nil {
			return Envelope{}, err
		}
		it.Transaction = tx
	}
	env := Envelope{Header: map[string]any{}, Items: []Item{it}}
	env.EventID, _ = ev["event_id"].(string)
	return env, nil
}

// stringMap renders each value of a JSON object as a string, because SDKs
// disagree on whether DSC values such as sample_rate are strings or numbers.
func stringMap(m map[string]any) map[string]string {
	out := make(map[string]string, len(m))
	for k, v := range m {
		switch v := v.(type) {
		case string:
			out[k] = v
		case float64:
			out[k] = strconv.FormatFloat(v, 'f', -1, 64)
		case bool:
			out[k] = strconv.FormatBool(v)
		case nil:
			out[k] = ""
		default:
			b, _ := json.Marshal(v)
			out[k] = string(b)
		}
	}
	return out
}
