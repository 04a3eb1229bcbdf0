// Command demo follows one trace through a small system on 127.0.0.1, the
// way a Sentry-instrumented browser starts it and OpenTelemetry carries it:
//
//  1. web renders a page with the sentry-trace and baggage meta tags;
//  2. a browser reads the tags and calls the API with sentry-trace and
//     baggage, as the Sentry browser SDK does;
//  3. api, behind otelhttp, calls the worker through otelhttp's transport;
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
// The queue is a NATS server with JetStream started in this process, on a
// free port of 127.0.0.1, storing in a temporary directory that is removed
// at exit; -nats URL uses another server, which must have JetStream on.
// The consumer and the subprocess are this program again, started with
// OTELSENTRY_DEMO_CHILD in their environment.
//
// Flags: -rate sets the traces sample rate of every service; -short
// prints only the result line. With SENTRY_DSN set the spans and log lines
// also go to Sentry over OTLP; with OTEL_EXPORTER_OTLP_ENDPOINT set, the
// spans go to that collector.
package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
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
}

func main() {
	var opts options
	flag.Float64Var(&opts.rate, "rate", 1, "traces sample rate of every service, in [0,1]")
	flag.StringVar(&opts.natsURL, "nats", "", "URL of a NATS server with JetStream for the queue; empty starts one in this process")
	short := flag.Bool("short", false, "print only the result line")
	flag.Parse()
	ctx, cancel := context.WithTimeout(context.Background(), runTimeout)
	defer cancel()
	var err error
	if config, ok := os.LookupEnv(childEnv); ok {
		err = runChild(ctx, os.Stdout, config)
	} else {
		var out bytes.Buffer
		err = run(ctx, &out, opts)
		if *short && out.Len() > 0 {
			lines := strings.Split(strings.TrimSpace(out.String()), "\n")
			out.Reset()
			out.WriteString(lines[len(lines)-1] + "\n")
		}
		_, _ = out.WriteTo(os.Stdout)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "demo:", err)
		os.Exit(1)
	}
}

// run starts the system, follows one trace through it and prints it to w.
func run(ctx context.Context, w io.Writer, opts options) error {
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
	res.print(w, opts.rate, sys.exporting, sys.queueLine())
	if !res.joined() {
		return errNotJoined
	}
	if len(res.misplacedLogs()) > 0 {
		return errLogsOffSpan
	}
	return nil
}
