// Command faulttest runs a chain of three otelsentry services on 127.0.0.1
// under a steady load while the fake Sentry ingest fails in turn: it
// refuses connections, answers 503, answers 429 with Retry-After, takes
// 3 s per request, answers 401, and stays down longer than the exporters'
// queue holds; through a Collector, the Collector is also restarted. The
// spans go straight from each service's sentryotlp exporter to the ingest,
// then through a Collector built from the collector module:
//
//	cd conformance && go run ./cmd/faulttest
//
// At the end the services shut down while the ingest answers 503. It
// prints, for each fault, the requests and their latency against every
// request while no fault was on (the baseline and the recoveries), and the
// spans created, received and reported dropped,
// and exits non-zero if a request failed or a span was neither received
// nor counted as dropped. It stops by itself, after about six minutes.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"time"
)

func main() {
	cfg := config{Faults: defaultFaults()}
	paths := flag.String("paths", pathDirect+","+pathCollector, "paths to run, comma-separated")
	flag.IntVar(&cfg.Rate, "rate", 200, "requests a second")
	flag.IntVar(&cfg.Queue, "queue", 8192, "spans the exporters hold (OTEL_BSP_MAX_QUEUE_SIZE)")
	flag.DurationVar(&cfg.Baseline, "baseline", 10*time.Second, "fault-free time at the start")
	flag.DurationVar(&cfg.Recovery, "recovery", 15*time.Second, "fault-free time after each fault")
	flag.DurationVar(&cfg.ShutdownTimeout, "shutdown-timeout", 5*time.Second, "deadline of the services' shutdown")
	flag.Parse()
	cfg.Paths = strings.Split(*paths, ",")

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	prs, err := run(ctx, cfg)
	fmt.Print(table(prs))
	fmt.Print(details(prs))
	if err := errors.Join(err, failed(prs)); err != nil {
		fmt.Fprintln(os.Stderr, "faulttest:", err)
		os.Exit(1)
	}
}
