// Command w3c-service is the service that the W3C Trace Context test suite
// (the test/ folder of the w3c/trace-context repository) calls: on a POST
// to /test with a JSON array of {"url", "arguments"} actions, it posts each
// action's arguments to its url, within the server span of the request it
// got, so the suite sees what the service propagates.
//
//	go run ./cmd/w3c-service -addr 127.0.0.1:5000 -propagator composite
//	python test/test.py http://127.0.0.1:5000/test
//
// -propagator picks what the service installs: "composite"
// (propagator.Composite with the Sentry sampler), "setup" (bridge.Setup,
// with a traces sample rate of 1) or "otel" (OpenTelemetry's TraceContext
// and Baggage, the control).
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"time"

	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/propagation"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/otelsentry/otelsentry/bridge"
	"github.com/otelsentry/otelsentry/propagator"
	"github.com/otelsentry/otelsentry/sampling"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:5000", "the address to listen on")
	which := flag.String("propagator", "composite", `"composite", "setup" or "otel"`)
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		log.Fatal(err)
	}
	if err := run(ctx, ln, *which); err != nil {
		log.Fatal(err)
	}
}

// run installs the propagator and serves on ln until ctx ends.
func run(ctx context.Context, ln net.Listener, which string) error {
	shutdown, err := install(ctx, which)
	if err != nil {
		return err
	}
	defer func() { _ = shutdown(context.Background()) }()
	client := &http.Client{Transport: bridge.NewTransport(otelhttp.NewTransport(http.DefaultTransport)), Timeout: 10 * time.Second}
	srv := &http.Server{Handler: otelhttp.NewHandler(handler(client), "POST /test"), ReadHeaderTimeout: 10 * time.Second}
	go func() {
		<-ctx.Done()
		_ = srv.Close()
	}()
	if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// install sets the global propagator and tracer provider for which.
func install(ctx context.Context, which string) (func(context.Context) error, error) {
	switch which {
	case "setup":
		return bridge.Setup(ctx, bridge.WithSampleRate(1))
	case "composite", "otel":
		p := propagator.Composite()
		if which == "otel" {
			p = propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{})
		}
		tp := sdktrace.NewTracerProvider(sdktrace.WithSampler(sampling.New(sampling.WithSampleRate(1))))
		otel.SetTextMapPropagator(p)
		otel.SetTracerProvider(tp)
		return tp.Shutdown, nil
	}
	return nil, fmt.Errorf("unknown propagator %q", which)
}

// action is one call the suite asks for.
type action struct {
	URL       string          `json:"url"`
	Arguments json.RawMessage `json:"arguments"`
}

// handler posts each action's arguments to its url with client.
func handler(client *http.Client) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var actions []action
		if err := json.NewDecoder(io.LimitReader(r.Body, 1<<20)).Decode(&actions); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		for _, a := range actions {
			req, err := http.NewRequestWithContext(r.Context(), http.MethodPost, a.URL, bytes.NewReader(a.Arguments))
			if err != nil {
				http.Error(w, err.Error(), http.StatusBadRequest)
				return
			}
			req.Header.Set("Content-Type", "application/json")
			resp, err := client.Do(req)
			if err != nil {
				http.Error(w, err.Error(), http.StatusBadGateway)
				return
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			_ = resp.Body.Close()
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte("{}"))
	})
}
