package main

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/otelsentry/otelsentry/conformance/hop"
	"github.com/otelsentry/otelsentry/conformance/internal/ingest"
)

func env(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func TestRun(t *testing.T) {
	in := ingest.New(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, env(map[string]string{
			"HOP_NAME":                  "cmd",
			"SENTRY_DSN":                in.DSN("pk", "7"),
			"SENTRY_TRACES_SAMPLE_RATE": "1",
			"SENTRY_RELEASE":            "cmd@1",
		}), pw)
		_ = pw.Close()
	}()

	lines := make(chan string, 1)
	go func() {
		line, _ := bufio.NewReader(pr).ReadString('\n')
		lines <- line
		_, _ = io.Copy(io.Discard, pr)
	}()
	var base string
	select {
	case line := <-lines:
		var ok bool
		base, ok = strings.CutPrefix(strings.TrimSpace(line), "listening ")
		if !ok || !strings.HasPrefix(base, "http://127.0.0.1:") {
			t.Fatalf("first line %q", line)
		}
	case err := <-done:
		t.Fatalf("run ended early: %v", err)
	case <-time.After(10 * time.Second):
		t.Fatal("no listening line")
	}

	rctx, rcancel := context.WithTimeout(ctx, 10*time.Second)
	defer rcancel()
	h := http.Header{}
	h.Set("sentry-trace", "d4cda95b652f4a1592b449d5929fda1b-6e0c63257de34c92")
	rep, err := hop.Fetch(rctx, http.DefaultClient, hop.Chain(base), h)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Service != "cmd" || rep.TraceID != "d4cda95b652f4a1592b449d5929fda1b" || rep.ParentSpanID != "6e0c63257de34c92" || !rep.Sampled {
		t.Errorf("report %+v", rep)
	}
	req, _ := http.NewRequestWithContext(rctx, http.MethodPost, base+"/flush", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("flush: %s", resp.Status)
	}
	if n := len(in.OTLP()); n == 0 {
		t.Error("no OTLP export after /flush")
	}

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("run: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("run did not stop")
	}
}

func TestRunBadConfig(t *testing.T) {
	for name, m := range map[string]map[string]string{
		"rate":     {"SENTRY_TRACES_SAMPLE_RATE": "2"},
		"rate NaN": {"SENTRY_TRACES_SAMPLE_RATE": "NaN"},
		"port":     {"PORT": "http"},
		"dsn":      {"SENTRY_DSN": "not a dsn"},
	} {
		t.Run(name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			if err := run(ctx, env(m), io.Discard); err == nil {
				t.Error("run accepted a bad configuration")
			}
		})
	}
}
