// Command demo follows one trace through a small system on 127.0.0.1, the
// way a Sentry-instrumented browser starts it and OpenTelemetry carries it:
//
//  1. web renders a page with the sentry-trace and baggage meta tags and
//     the Sentry browser SDK;
//  2. the browser SDK, in headless Chromium, continues the trace from the
//     tags in its pageload and calls the API, on another origin, with
//     sentry-trace and baggage;
//  3. api, behind otelhttp, answers the browser's CORS preflight for those
//     headers, and calls the worker through otelhttp's transport;
//  4. worker publishes a job on a NATS JetStream queue, with the trace in
//     the message's headers, and a consumer, in a process of its own,
//     continues the trace from them;
//  5. the consumer starts a subprocess with SENTRY_TRACE and SENTRY_BAGGAGE
//     in its environment, and the subprocess continues the trace.
//
// Each service but the browser also logs one line through the
// OpenTelemetry slog bridge, with the context of the span it is in.
//
// It prints the hops with the Dynamic Sampling Context (DSC) each one
// continued with, the trace as a tree with each log line under the span
// that wrote it, and one line saying whether every hop joined the same
// trace and every log line is on its span. Everything stops by itself.
//
// The browser SDK is @sentry/browser from the lockfile in
// conformance/browser, where `npm ci` installs it, bundled with esbuild and
// run in Debian's chromium. It sends its envelopes to the web service,
// which keeps them for the report in place of Sentry. Where Chromium or the
// npm packages are missing, a stand-in in Go plays the browser: it reads
// the meta tags and calls the API as the SDK does, and the demo says why it
// ran.
//
// The queue is a NATS server with JetStream started in this process, on a
// free port of 127.0.0.1, storing in a temporary directory that is removed
// at exit; -nats URL uses another server, which must have JetStream on.
// The consumer and the subprocess are this program again, started with
// OTELSENTRY_DEMO_CHILD in their environment.
//
// Flags: -rate sets the traces sample rate of every service; -chromium the
// Chromium binary; -nats the NATS server; -short prints only which browser
// ran and the result line. With SENTRY_DSN set the spans and log lines of
// the Go services also go to Sentry over OTLP; with
// OTEL_EXPORTER_OTLP_ENDPOINT set, their spans go to that collector.
package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"time"
)

// runTimeout bounds a whole run.
const runTimeout = 30 * time.Second

// errNotJoined is returned when some hop did not continue the trace.
var errNotJoined = errors.New("not every hop joined the trace")

// errLogsOffSpan is returned when a log line is missing or not on its span.
var errLogsOffSpan = errors.New("not every log line is on the span that wrote it")

// options are the demo's settings, from its flags.
type options struct {
	// rate is the traces sample rate of every service.
	rate float64
	// natsURL is the NATS server of the queue; "" starts one.
	natsURL string
	// chromium is the Chromium binary that runs the browser SDK.
	chromium string
}

func main() {
	var opts options
	flag.Float64Var(&opts.rate, "rate", 1, "traces sample rate of every service, in [0,1]")
	flag.StringVar(&opts.natsURL, "nats", "", "URL of a NATS server with JetStream for the queue; empty starts one in this process")
	flag.StringVar(&opts.chromium, "chromium", "chromium",
		"the Chromium binary that runs the Sentry browser SDK; without it, or the SDK's npm packages, a stand-in plays the browser")
	short := flag.Bool("short", false, "print only which browser ran and the result line")
	flag.Parse()
	ctx, cancel := context.WithTimeout(context.Background(), runTimeout)
	defer cancel()
	var err error
	if config, ok := os.LookupEnv(childEnv); ok {
		err = runChild(ctx, os.Stdout, config)
	} else {
		var out bytes.Buffer
		err = run(ctx, &out, opts, *short)
		_, _ = out.WriteTo(os.Stdout)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "demo:", err)
		os.Exit(1)
	}
}

// run starts the system, follows one trace through it and prints it to w,
// or with short only which browser ran and the result line.
func run(ctx context.Context, w io.Writer, opts options, short bool) error {
	sys, err := startSystem(ctx, opts)
	if err != nil {
		return err
	}
	res, runErr := sys.follow(ctx)
	if err := sys.stop(); err != nil && runErr == nil {
		runErr = err
	}
	if runErr != nil {
		return runErr
	}
	about := about{rate: opts.rate, exporting: sys.exporting, browser: sys.browserLine(), queue: sys.queueLine()}
	if short {
		res.printShort(w, about)
	} else {
		res.print(w, about)
	}
	if !res.joined() {
		return errNotJoined
	}
	if len(res.misplacedLogs()) > 0 {
		return errLogsOffSpan
	}
	return nil
}
