// Command subprocess hands a trace to a child process: it starts itself
// again with SENTRY_TRACE and SENTRY_BAGGAGE from bridge.InjectEnv, and the
// child continues the trace with bridge.ContinueTraceFromEnv and prints its
// span. In the output, the child's span has the parent's trace id and the
// parent's "build" span as parent, and is sampled: the parent decided, and
// the child's own rate, 0, decides only traces the child starts.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/otelsentry/otelsentry/bridge"
	"github.com/otelsentry/otelsentry/examples/internal/exampleutil"
)

// roleEnv set to childRole makes the program run as the child.
const (
	roleEnv   = "SUBPROCESS_EXAMPLE_ROLE"
	childRole = "child"
)

func main() {
	program, name := run, "subprocess"
	if os.Getenv(roleEnv) == childRole {
		program, name = child, "subprocess child"
	}
	if err := program(os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, name+":", err)
		os.Exit(1)
	}
}

// setup installs a tracer provider that records its spans in rec.
func setup(ctx context.Context, rec *tracetest.SpanRecorder, opts ...bridge.Option) (func(context.Context) error, error) {
	return bridge.Setup(ctx, append(opts, bridge.WithRelease("build@1.0.0"), bridge.WithSpanProcessor(rec))...)
}

// run is the parent: it samples every trace it starts.
func run(w io.Writer) error {
	ctx, cancel := context.WithTimeout(context.Background(), exampleutil.Timeout)
	defer cancel()
	rec := tracetest.NewSpanRecorder()
	shutdown, err := setup(ctx, rec, bridge.WithSampleRate(1))
	if err != nil {
		return err
	}
	defer shutdown(context.Background())

	exe, err := os.Executable()
	if err != nil {
		return err
	}
	spanCtx, span := otel.Tracer("parent").Start(ctx, "build")
	cmd := exec.CommandContext(spanCtx, exe)
	cmd.Env = append(bridge.InjectEnv(spanCtx, os.Environ()), roleEnv+"="+childRole)
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	span.End()
	if err != nil {
		return fmt.Errorf("child: %w", err)
	}
	if err := exampleutil.PrintSpans(w, "parent", rec.Ended()); err != nil {
		return err
	}
	_, err = w.Write(out)
	return err
}

// child continues the trace of its environment. Its own sample rate is 0,
// which decides only the traces it starts: the parent's decision holds.
// Without a rate it would record nothing, as a Sentry SDK sends nothing.
func child(w io.Writer) error {
	ctx, cancel := context.WithTimeout(context.Background(), exampleutil.Timeout)
	defer cancel()
	rec := tracetest.NewSpanRecorder()
	shutdown, err := setup(ctx, rec, bridge.WithSampleRate(0))
	if err != nil {
		return err
	}
	defer shutdown(context.Background())

	env := os.Environ()
	if err := exampleutil.PrintHeaders(w, "child", bridge.NewEnvCarrier(&env).Get); err != nil {
		return err
	}
	_, span := otel.Tracer("child").Start(bridge.ContinueTraceFromEnv(ctx), "compile")
	span.End()
	return exampleutil.PrintSpans(w, "child", rec.Ended())
}
