// Command loadtest sends a bounded load of requests through a chain of
// three otelhttp services on 127.0.0.1, each with its own tracer provider,
// otelsentry sampler, span recorder and propagator.Composite, and checks
// that no trace breaks and no sampled span is lost:
//
//	cd conformance && go run ./cmd/loadtest -requests 20000 -clients 32
//
// Requests mix sampled ("-1"), negative ("-0") and deferred sentry-trace
// headers, no headers, and garbage ones. It prints a summary and exits
// non-zero if any request failed, any trace broke or any span was lost,
// or the time limit ran out first.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"time"
)

func main() {
	cfg := config{}
	flag.IntVar(&cfg.Requests, "requests", 20000, "requests to send")
	flag.IntVar(&cfg.Clients, "clients", 32, "concurrent clients")
	flag.DurationVar(&cfg.TimeLimit, "time-limit", 2*time.Minute, "stop after this long")
	flag.Parse()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	sum, err := run(ctx, cfg)
	fmt.Print(sum)
	if err != nil {
		fmt.Fprintln(os.Stderr, "loadtest:", err)
		os.Exit(1)
	}
}
