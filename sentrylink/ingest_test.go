package sentrylink_test

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// waitTimeout bounds every wait for the fake ingest.
const waitTimeout = 10 * time.Second

// ingest is a fake Sentry ingest on 127.0.0.1 that keeps the envelopes
// posted to it.
type ingest struct {
	srv *httptest.Server

	mu        sync.Mutex
	envelopes []envelope
	errs      []error
	changed   chan struct{} // closed and replaced on each arrival
}

// envelope is what the tests read of one envelope.
type envelope struct {
	eventID string
	trace   map[string]string // the header's DSC; nil without one
	events  []event
	logs    []logItem
}

// event is an error or message event.
type event struct {
	EventID string `json:"event_id"`
	Message string `json:"message"`
	Request *struct {
		URL string `json:"url"`
	} `json:"request"`
	Contexts struct {
		Trace struct {
			TraceID string `json:"trace_id"`
			SpanID  string `json:"span_id"`
		} `json:"trace"`
	} `json:"contexts"`
}

// logItem is one structured log.
type logItem struct {
	TraceID string `json:"trace_id"`
	SpanID  string `json:"span_id"`
	Body    string `json:"body"`
}

func newIngest(t *testing.T) *ingest {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	in := &ingest{changed: make(chan struct{})}
	in.srv = httptest.NewUnstartedServer(http.HandlerFunc(in.serve))
	in.srv.Listener = l
	in.srv.Start()
	t.Cleanup(func() {
		in.srv.Close()
		in.mu.Lock()
		defer in.mu.Unlock()
		for _, err := range in.errs {
			t.Errorf("ingest: %v", err)
		}
	})
	return in
}

// dsn returns a DSN that reports to in.
func (in *ingest) dsn() string {
	return "http://key@" + strings.TrimPrefix(in.srv.URL, "http://") + "/1"
}

func (in *ingest) serve(w http.ResponseWriter, r *http.Request) {
	env, err := readEnvelope(r)
	in.mu.Lock()
	if err != nil {
		in.errs = append(in.errs, err)
	} else {
		in.envelopes = append(in.envelopes, env)
	}
	close(in.changed)
	in.changed = make(chan struct{})
	in.mu.Unlock()
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_, _ = fmt.Fprintf(w, `{"id":%q}`, env.eventID)
}

func readEnvelope(r *http.Request) (envelope, error) {
	if !strings.HasSuffix(r.URL.Path, "/envelope/") {
		return envelope{}, fmt.Errorf("unexpected %s %s", r.Method, r.URL.Path)
	}
	var body io.Reader = r.Body
	if r.Header.Get("Content-Encoding") == "gzip" {
		zr, err := gzip.NewReader(r.Body)
		if err != nil {
			return envelope{}, err
		}
		defer zr.Close()
		body = zr
	}
	b, err := io.ReadAll(io.LimitReader(body, 1<<20))
	if err != nil {
		return envelope{}, err
	}
	return parseEnvelope(b)
}

// parseEnvelope decodes a header line and items, each a header line and a
// payload of its length, or of one line without a length.
func parseEnvelope(b []byte) (envelope, error) {
	rd := bufio.NewReader(bytes.NewReader(b))
	line, err := rd.ReadBytes('\n')
	if err != nil {
		return envelope{}, fmt.Errorf("envelope header: %w", err)
	}
	var header struct {
		EventID string         `json:"event_id"`
		Trace   map[string]any `json:"trace"`
	}
	if err := json.Unmarshal(line, &header); err != nil {
		return envelope{}, fmt.Errorf("envelope header: %w", err)
	}
	env := envelope{eventID: header.EventID}
	if header.Trace != nil {
		env.trace = make(map[string]string, len(header.Trace))
		for k, v := range header.Trace {
			env.trace[k] = fmt.Sprint(v)
		}
	}
	for {
		line, err := rd.ReadBytes('\n')
		if len(bytes.TrimSpace(line)) == 0 {
			if err != nil {
				return env, nil
			}
			continue
		}
		var item struct {
			Type   string `json:"type"`
			Length *int   `json:"length"`
		}
		if err := json.Unmarshal(line, &item); err != nil {
			return envelope{}, fmt.Errorf("item header: %w", err)
		}
		var payload []byte
		if item.Length != nil {
			payload = make([]byte, *item.Length)
			if _, err := io.ReadFull(rd, payload); err != nil {
				return envelope{}, fmt.Errorf("item %s: %w", item.Type, err)
			}
		} else if payload, err = rd.ReadBytes('\n'); err != nil && err != io.EOF {
			return envelope{}, err
		}
		switch item.Type {
		case "event":
			var ev event
			if err := json.Unmarshal(payload, &ev); err != nil {
				return envelope{}, fmt.Errorf("event: %w", err)
			}
			env.events = append(env.events, ev)
		case "log":
			var logs struct {
				Items []logItem `json:"items"`
			}
			if err := json.Unmarshal(payload, &logs); err != nil {
				return envelope{}, fmt.Errorf("log: %w", err)
			}
			env.logs = append(env.logs, logs.Items...)
		}
	}
}

// waitFor waits, at most waitTimeout, until found reports true for the
// envelopes received so far.
func (in *ingest) waitFor(t *testing.T, what string, found func(envelope) bool) envelope {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	for {
		in.mu.Lock()
		envs, ch, errs := append([]envelope(nil), in.envelopes...), in.changed, append([]error(nil), in.errs...)
		in.mu.Unlock()
		for _, e := range envs {
			if found(e) {
				return e
			}
		}
		select {
		case <-ctx.Done():
			t.Fatalf("ingest: no %s among %d envelopes after %v (rejected: %v)", what, len(envs), waitTimeout, errs)
		case <-ch:
		}
	}
}

// event waits for the envelope of the event id.
func (in *ingest) event(t *testing.T, id string) (event, map[string]string) {
	t.Helper()
	e := in.waitFor(t, "event "+id, func(e envelope) bool {
		return e.eventID == id && len(e.events) == 1
	})
	return e.events[0], e.trace
}

// log waits for the log whose body is body.
func (in *ingest) log(t *testing.T, body string) logItem {
	t.Helper()
	var found logItem
	in.waitFor(t, "log "+body, func(e envelope) bool {
		for _, l := range e.logs {
			if l.Body == body {
				found = l
				return true
			}
		}
		return false
	})
	return found
}
