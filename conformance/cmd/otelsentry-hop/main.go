// Command otelsentry-hop is the otelsentry hop service of the conformance
// suite (the hop contract in the conformance README): OpenTelemetry with otelhttp and otelsentry's propagator and
// sampler, exporting spans to the SENTRY_DSN project over OTLP.
//
//	PORT=0 HOP_NAME=api SENTRY_DSN=... SENTRY_TRACES_SAMPLE_RATE=0.5 go run ./cmd/otelsentry-hop
//
// It prints "listening http://127.0.0.1:<port>" as its first line, then
// serves until interrupted.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"

	"github.com/otelsentry/otelsentry/conformance/internal/peers"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Getenv, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "otelsentry-hop:", err)
		os.Exit(1)
	}
}

// shutdownTimeout bounds the final flush and the server's shutdown.
const shutdownTimeout = 5 * time.Second

// config reads the hop's settings from getenv, as the hop contract names them.
func config(getenv func(string) string) (peers.Config, string, error) {
	cfg := peers.Config{
		Name:        getenv("HOP_NAME"),
		DSN:         getenv("SENTRY_DSN"),
		Release:     getenv("SENTRY_RELEASE"),
		Environment: getenv("SENTRY_ENVIRONMENT"),
	}
	if cfg.Name == "" {
		cfg.Name = "otelsentry"
	}
	if s := getenv("SENTRY_TRACES_SAMPLE_RATE"); s != "" {
		r, err := strconv.ParseFloat(s, 64)
		if err != nil || math.IsNaN(r) || r < 0 || r > 1 {
			return cfg, "", fmt.Errorf("SENTRY_TRACES_SAMPLE_RATE %q: want a number in [0,1]", s)
		}
		cfg.Rate = &r
	}
	port := getenv("PORT")
	if port == "" {
		port = "0"
	}
	if p, err := strconv.Atoi(port); err != nil || p < 0 || p > 65535 {
		return cfg, "", fmt.Errorf("PORT %q: want a port number", port)
	}
	return cfg, port, nil
}

// run serves the hop until ctx ends, announcing its address on stdout.
func run(ctx context.Context, getenv func(string) string, stdout io.Writer) error {
	cfg, port, err := config(getenv)
	if err != nil {
		return err
	}
	hop, err := peers.NewOtelSentry(ctx, cfg)
	if err != nil {
		return err
	}
	l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", port))
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: hop.Handler(), ReadHeaderTimeout: 5 * time.Second}
	if _, err := fmt.Fprintf(stdout, "listening http://%s\n", l.Addr()); err != nil {
		_ = l.Close()
		return err
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(l) }()

	select {
	case err = <-served:
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	if serr := srv.Shutdown(sctx); serr != nil && err == nil {
		err = serr
	}
	if cerr := hop.Close(sctx); cerr != nil && err == nil {
		err = cerr
	}
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
	return err
}
