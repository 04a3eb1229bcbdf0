// Package peers runs hop services (see the hop package) of real Sentry SDKs
// and of otelsentry on 127.0.0.1, for conformance tests that chain them.
package peers

import (
	"context"
	"errors"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/otelsentry/otelsentry/conformance/internal/testkit"
)

// Config configures a hop the way the hop contract's environment does.
type Config struct {
	// Name is the hop's name in its report (HOP_NAME).
	Name string
	// DSN is where the hop sends to (SENTRY_DSN); empty sends nothing.
	DSN string
	// Rate is the traces sample rate (SENTRY_TRACES_SAMPLE_RATE); nil means
	// none: tracing without performance, decisions stay deferred.
	Rate *float64
	// Release and Environment go into the hop's Dynamic Sampling Context.
	Release     string
	Environment string
}

// Rate returns a pointer to r, for Config.Rate.
func Rate(r float64) *float64 { return &r }

// Hop is a running hop service.
type Hop struct {
	// Name is the hop's configured name.
	Name string
	// URL is its base URL, http://127.0.0.1:<port>.
	URL string
}

// shutdownTimeout bounds a hop's shutdown, as the hop contract bounds a flush.
const shutdownTimeout = 5 * time.Second

// serve runs h on a free port of 127.0.0.1 until t's cleanup, which then
// runs stop.
func serve(t testkit.TB, name string, h http.Handler, stop func()) *Hop {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("%s: listen: %v", name, err)
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second}
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := srv.Serve(l); err != nil && !errors.Is(err, http.ErrServerClosed) {
			t.Errorf("%s: serve: %v", name, err)
		}
	}()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			_ = srv.Close()
		}
		<-done
		if stop != nil {
			stop()
		}
	})
	return &Hop{Name: name, URL: "http://" + l.Addr().String()}
}

// Flush asks the hop to send what it buffered, as POST /flush.
func (h *Hop) Flush(ctx context.Context) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, h.URL+"/flush", strings.NewReader(""))
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return errors.New(h.Name + ": flush: " + resp.Status)
	}
	return nil
}
