package main

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/otelsentry/otelsentry/conformance/hop"
	"github.com/otelsentry/otelsentry/conformance/internal/peers"
)

// otelsentry's own hop service passes, whatever its rate.
func TestOtelSentryPasses(t *testing.T) {
	for _, rate := range []string{"1", "0", "none"} {
		t.Run("rate "+rate, func(t *testing.T) {
			r, _ := parseRate(rate)
			target := peers.StartOtelSentry(t, peers.Config{Name: "target", Rate: r})
			var out, errOut bytes.Buffer
			if code := run(context.Background(), []string{"-target", target.URL, "-rate", rate}, &out, &errOut); code != 0 {
				t.Fatalf("exit %d\n%s%s", code, out.String(), errOut.String())
			}
			if !strings.Contains(out.String(), " 0 failed") {
				t.Errorf("no summary line:\n%s", out.String())
			}
		})
	}
}

// A hop that continues no trace and sends no headers fails, naming why:
// the runner's checks can fail.
func TestNonPropagatingHopFails(t *testing.T) {
	plain := httptest.NewServer(hop.NewHandler(hop.Peer{Name: "plain", Client: &http.Client{Transport: &hop.CaptureTransport{}}}))
	t.Cleanup(plain.Close)
	var out, errOut bytes.Buffer
	if code := run(context.Background(), []string{"-target", plain.URL, "-rate", "none"}, &out, &errOut); code != 1 {
		t.Fatalf("exit %d, want 1\n%s%s", code, out.String(), errOut.String())
	}
	for _, want := range []string{"FAIL", "one trace id", "sent flag"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
}

func TestUsage(t *testing.T) {
	var out, errOut bytes.Buffer
	for _, args := range [][]string{nil, {"-target", "http://127.0.0.1:1", "-rate", "2"}} {
		if code := run(context.Background(), args, &out, &errOut); code != 2 {
			t.Errorf("%v: exit %d, want 2", args, code)
		}
	}
}
