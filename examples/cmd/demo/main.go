// Command demo follows one trace through a small system on 127.0.0.1, the
// way a Sentry-instrumented browser starts it and OpenTelemetry carries it:
//
//  1. web renders a page with the sentry-trace and baggage meta tags;
//  2. a browser reads the tags and calls the API with sentry-trace and
//     baggage, as the Sentry browser SDK does;
//  3. api, behind otelhttp, calls the worker through otelhttp's transport;
//  4. worker puts a job with the trace in its metadata on a queue, and a
//     consumer continues the trace from the job;
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

// childEnv marks the process the consumer starts.
const childEnv = "OTELSENTRY_DEMO_CHILD"

// errNotJoined is returned when some hop did not continue the trace.
var errNotJoined = errors.New("not every hop joined the trace")

// errLogsOffSpan is returned when a log line is missing or not on its span.
var errLogsOffSpan = errors.New("not every log line is on the span that wrote it")

func main() {
	rate := flag.Float64("rate", 1, "traces sample rate of every service, in [0,1]")
	short := flag.Bool("short", false, "print only the result line")
	flag.Parse()
	ctx, cancel := context.WithTimeout(context.Background(), runTimeout)
	defer cancel()
	var err error
	if os.Getenv(childEnv) == "1" {
		err = runChild(ctx, os.Stdout, *rate)
	} else {
		var out bytes.Buffer
		err = run(ctx, &out, *rate)
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
func run(ctx context.Context, w io.Writer, rate float64) error {
	sys, err := startSystem(ctx, rate)
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
	res.print(w, rate, sys.exporting)
	if !res.joined() {
		return errNotJoined
	}
	if len(res.misplacedLogs()) > 0 {
		return errLogsOffSpan
	}
	return nil
}
