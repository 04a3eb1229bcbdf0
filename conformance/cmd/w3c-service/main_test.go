package main

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// The service posts each action to its url, propagating the trace of the
// request it got, with each propagator.
func TestService(t *testing.T) {
	const parent = "00-12345678901234567890123456789012-1234567890123456-01"
	for _, which := range []string{"composite", "setup", "otel"} {
		t.Run(which, func(t *testing.T) {
			got := make(chan http.Header, 1)
			callback := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				got <- r.Header.Clone()
			}))
			defer callback.Close()
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan error, 1)
			go func() { done <- run(ctx, ln, which) }()
			defer func() {
				cancel()
				if err := <-done; err != nil {
					t.Error(err)
				}
			}()
			body := fmt.Sprintf(`[{"url": %q, "arguments": []}]`, callback.URL)
			req, err := http.NewRequest(http.MethodPost, "http://"+ln.Addr().String()+"/test", strings.NewReader(body))
			if err != nil {
				t.Fatal(err)
			}
			req.Header["Traceparent"] = []string{parent}
			req.Header["Tracestate"] = []string{"a=1", "b=2"}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			_ = resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("status %d", resp.StatusCode)
			}
			h := <-got
			if tp := h.Get("Traceparent"); !strings.HasPrefix(tp, "00-12345678901234567890123456789012-") || strings.Contains(tp, "1234567890123456-01") {
				t.Errorf("callback got traceparent %q, want a child of %q", tp, parent)
			}
			// OpenTelemetry's TraceContext reads only the first line.
			want := "a=1,b=2"
			if which == "otel" {
				want = "a=1"
			}
			if ts := h.Get("Tracestate"); !strings.HasSuffix(ts, want) {
				t.Errorf("callback got tracestate %q, want it to end with %q", ts, want)
			}
		})
	}
	if err := run(context.Background(), nil, "b3"); err == nil {
		t.Error("an unknown propagator was accepted")
	}
}
