package hop

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
)

// The four trace headers a hop reports, in the order of Headers.
const (
	HeaderSentryTrace = "sentry-trace"
	HeaderBaggage     = "baggage"
	HeaderTraceparent = "traceparent"
	HeaderTracestate  = "tracestate"
)

// Headers lists the trace headers a Report's Received and Sent hold.
var Headers = [...]string{HeaderSentryTrace, HeaderBaggage, HeaderTraceparent, HeaderTracestate}

// Timeouts of the contract.
const (
	// NextTimeout bounds the call to the next hop.
	NextTimeout = 10 * time.Second
	// FlushTimeout bounds POST /flush.
	FlushTimeout = 5 * time.Second
)

// maxReportBytes caps the answer of a next hop; a report of a long chain is
// a few kilobytes.
const maxReportBytes = 1 << 20

// Report is the JSON answer of GET /hop.
type Report struct {
	// Service is the hop's name (HOP_NAME).
	Service string `json:"service"`
	// Received holds the trace headers of the incoming request.
	Received map[string]string `json:"received"`
	// TraceID is the trace of the span that handled the request (32 hex).
	TraceID string `json:"trace_id"`
	// SpanID is that span (16 hex).
	SpanID string `json:"span_id"`
	// ParentSpanID is its parent as the SDK sees it, or "".
	ParentSpanID string `json:"parent_span_id"`
	// Sampled is whether the span is recorded and sent to Sentry.
	Sampled bool `json:"sampled"`
	// Sent holds the trace headers written on the request to the next hop.
	Sent map[string]string `json:"sent,omitempty"`
	// Next is the next hop's report.
	Next *Report `json:"next,omitempty"`
	// Error says what failed, if anything did.
	Error string `json:"error,omitempty"`
}

// Span describes the span that handled a request, as its SDK sees it.
type Span struct {
	TraceID      string // 32 hex
	SpanID       string // 16 hex
	ParentSpanID string // 16 hex, or "" for a root
	Sampled      bool   // recorded and sent to Sentry
}

// Capture returns the trace headers present in h, each with all its values
// joined by ",". Absent headers are left out; the result is never nil.
func Capture(h http.Header) map[string]string {
	m := make(map[string]string, len(Headers))
	for _, name := range Headers {
		if v := h.Values(name); len(v) > 0 {
			m[name] = strings.Join(v, ",")
		}
	}
	return m
}

// CaptureTransport records the trace headers of each request it sends, for
// the handler that started the request. Put it innermost, below the SDK's
// instrumentation, so that it sees what was actually written on the wire.
type CaptureTransport struct {
	// Base sends the request; nil means http.DefaultTransport.
	Base http.RoundTripper
}

// RoundTrip records req's trace headers, then sends it with Base.
func (c *CaptureTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if s, ok := req.Context().Value(sentKey{}).(*sentSlot); ok {
		s.set(Capture(req.Header))
	}
	base := c.Base
	if base == nil {
		base = http.DefaultTransport
	}
	return base.RoundTrip(req)
}

type sentKey struct{}

// sentSlot carries the captured headers from the transport back to the
// handler through the request context, so that concurrent requests of one
// client never see each other's headers.
type sentSlot struct {
	mu sync.Mutex
	h  map[string]string
}

func (s *sentSlot) set(h map[string]string) {
	s.mu.Lock()
	s.h = h
	s.mu.Unlock()
}

func (s *sentSlot) get() map[string]string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.h
}

// Peer is what a Go hop service supplies to NewHandler.
type Peer struct {
	// Name is reported as the service.
	Name string
	// Client sends the request to the next hop. Its transport must have a
	// CaptureTransport innermost, or Sent stays empty.
	Client *http.Client
	// Instrument wraps the /hop handler in the SDK's server instrumentation;
	// nil leaves it bare.
	Instrument func(http.Handler) http.Handler
	// Current describes the span that handles the request in ctx.
	Current func(ctx context.Context) Span
	// Flush sends everything buffered for Sentry, within the timeout, and
	// reports whether it all went; nil means nothing is buffered.
	Flush func(timeout time.Duration) bool
}

// NewHandler returns the handler of a hop service: GET /health,
// POST /flush and GET /hop, the last wrapped in p.Instrument.
func NewHandler(p Peer) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /health", func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusOK)
		_, _ = io.WriteString(w, "ok\n")
	})
	mux.HandleFunc("POST /flush", func(w http.ResponseWriter, _ *http.Request) {
		if p.Flush != nil && !p.Flush(FlushTimeout) {
			http.Error(w, "flush timed out", http.StatusServiceUnavailable)
			return
		}
		w.WriteHeader(http.StatusOK)
		_, _ = io.WriteString(w, "ok\n")
	})
	var h http.Handler = http.HandlerFunc(p.serveHop)
	if p.Instrument != nil {
		h = p.Instrument(h)
	}
	mux.Handle("GET /hop", h)
	return mux
}

func (p Peer) serveHop(w http.ResponseWriter, r *http.Request) {
	rep := Report{Service: p.Name, Received: Capture(r.Header)}
	if p.Current != nil {
		s := p.Current(r.Context())
		rep.TraceID, rep.SpanID, rep.ParentSpanID, rep.Sampled = s.TraceID, s.SpanID, s.ParentSpanID, s.Sampled
	}
	if next := r.URL.Query().Get("next"); next != "" {
		slot := &sentSlot{}
		ctx := context.WithValue(r.Context(), sentKey{}, slot)
		client := p.Client
		if client == nil {
			client = http.DefaultClient
		}
		nextRep, err := Fetch(ctx, client, next, nil)
		rep.Sent = slot.get()
		rep.Next = nextRep
		if err != nil {
			rep.Error = err.Error()
		}
	}
	body, err := json.Marshal(rep)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(append(body, '\n'))
}

// Fetch sends GET rawURL with client and the given extra headers, within
// NextTimeout, and decodes the Report in the answer. A report that came
// back is returned even with an error, e.g. when it reports one itself.
func Fetch(ctx context.Context, client *http.Client, rawURL string, header http.Header) (*Report, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, fmt.Errorf("next: %w", err)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("next: %q is not an absolute http(s) URL", rawURL)
	}
	ctx, cancel := context.WithTimeout(ctx, NextTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, fmt.Errorf("next: %w", err)
	}
	for k, vs := range header {
		for _, v := range vs {
			req.Header.Add(k, v)
		}
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("next: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxReportBytes+1))
	if err != nil {
		return nil, fmt.Errorf("next: reading answer: %w", err)
	}
	if len(body) > maxReportBytes {
		return nil, fmt.Errorf("next: answer larger than %d bytes", maxReportBytes)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("next: %s: %s", resp.Status, truncate(body, 200))
	}
	var rep Report
	if err := json.Unmarshal(body, &rep); err != nil {
		return nil, fmt.Errorf("next: decoding report: %w", err)
	}
	if rep.Error != "" {
		return &rep, errors.New("next: " + rep.Service + " reported: " + rep.Error)
	}
	return &rep, nil
}

func truncate(b []byte, n int) string {
	if len(b) > n {
		return string(b[:n]) + "..."
	}
	return string(b)
}

// Chain returns the URL of a request that goes through the hop services at
// bases (each "http://host:port", without a path) in order: the first hop's
// /hop with next set to the rest of the chain.
func Chain(bases ...string) string {
	if len(bases) == 0 {
		return ""
	}
	u := strings.TrimSuffix(bases[len(bases)-1], "/") + "/hop"
	for i := len(bases) - 2; i >= 0; i-- {
		u = strings.TrimSuffix(bases[i], "/") + "/hop?next=" + url.QueryEscape(u)
	}
	return u
}
