package sentryotlp

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"sync"
	"time"
)

// exportTimeout bounds each OTLP request, as the OTLP exporter's default
// does.
const exportTimeout = 10 * time.Second

// ingestState is what the last OTLP requests to the ingest found: whether
// the last one went through, and the last failure.
type ingestState struct {
	mu      sync.Mutex
	failing bool
	last    string        // the last failure: a status line or a connection error
	retried bool          // the OTLP exporter retries the last failure
	failed  chan struct{} // closed when a run of failures starts
}

func newIngestState() *ingestState { return &ingestState{failed: make(chan struct{})} }

// observe records the outcome of one request: success, or a failure
// described by what, which the OTLP exporter retries or not.
func (s *ingestState) observe(ok bool, what string, retried bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case ok && s.failing:
		s.failing, s.failed = false, make(chan struct{})
	case ok:
	case !s.failing:
		s.failing, s.last, s.retried = true, what, retried
		close(s.failed)
	default:
		s.last, s.retried = what, retried
	}
}

// failures returns a channel closed when requests fail, already closed
// while they do.
func (s *ingestState) failures() <-chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.failed
}

// snapshot returns whether requests are failing, and the last failure
// (kept after the failures end, for reports) and whether it is retried.
func (s *ingestState) snapshot() (failing bool, last string, retried bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.failing, s.last, s.retried
}

// observingTransport records each OTLP request's outcome in state. It also
// marks connection errors as temporary: the OTLP exporter retries only
// errors that say so, and a refused or broken connection, an ingest or a
// collector being restarted, is the most common failure there is.
type observingTransport struct {
	base  http.RoundTripper
	state *ingestState
}

func (t observingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := t.base.RoundTrip(r)
	if err != nil {
		// A request the exporter cancelled (at shutdown) says nothing of
		// the ingest; one that ran out of time does.
		if errors.Is(r.Context().Err(), context.Canceled) {
			return nil, err
		}
		// The OTLP exporter retries only the errors marked temporary:
		// those of the connection. Others, a certificate refused among
		// them, end the export at once.
		retried := isConnectionError(err)
		t.state.observe(false, err.Error(), retried)
		if retried {
			err = temporaryError{err}
		}
		return nil, err
	}
	t.state.observe(resp.StatusCode >= 200 && resp.StatusCode < 300, resp.Status, retriedStatus(resp.StatusCode))
	return resp, nil
}

// retriedStatus reports the statuses that the OTLP exporter retries: 429,
// 502, 503 and 504.
func retriedStatus(code int) bool {
	switch code {
	case http.StatusTooManyRequests, http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return true
	}
	return false
}

// isConnectionError reports errors of the network rather than of the
// configuration: refused, reset or closed connections, timeouts, name
// resolution.
func isConnectionError(err error) bool {
	var netErr net.Error
	return errors.As(err, &netErr) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF)
}

// temporaryError makes the http.Client's url.Error report Temporary, which
// is what the OTLP exporter's retry looks for.
type temporaryError struct{ error }

func (temporaryError) Temporary() bool { return true }
func (e temporaryError) Unwrap() error { return e.error }

// newHTTPClient returns the client the exporter sends with: the settings
// of the standard library's default transport, observed.
func newHTTPClient(state *ingestState) *http.Client {
	base := http.DefaultTransport.(*http.Transport).Clone()
	return &http.Client{Transport: observingTransport{base: base, state: state}, Timeout: exportTimeout}
}
