package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"slices"
	"time"

	"github.com/otelsentry/otelsentry/bridge"
	"github.com/otelsentry/otelsentry/examples/internal/natsqueue"
)

// childEnv holds, in the environment of a process that this program
// starts, the childConfig of its role.
const childEnv = "OTELSENTRY_DEMO_CHILD"

// The roles of the processes this program starts.
const (
	roleConsumer   = "consumer"
	roleSubprocess = "subprocess"
)

// maxChildReport caps what a child may print; its report is a few
// kilobytes.
const maxChildReport = 1 << 20

// errUnknownRole is returned by runChild for a role it does not know.
var errUnknownRole = errors.New("unknown child role")

// childConfig is what a child process is told: its role, the traces
// sample rate and, for the consumer, the queue.
type childConfig struct {
	Role  string  `json:"role"`
	Rate  float64 `json:"rate"`
	NATS  string  `json:"nats,omitempty"`
	Queue string  `json:"queue,omitempty"`
}

// childReport is what a child prints for its parent: its hops, spans and
// log lines, and those of the children it started.
type childReport struct {
	Hops  []hop        `json:"hops"`
	Spans []spanRecord `json:"spans"`
	Logs  []logRecord  `json:"logs"`
}

func (r *childReport) add(o childReport) {
	r.Hops = append(r.Hops, o.Hops...)
	r.Spans = append(r.Spans, o.Spans...)
	r.Logs = append(r.Logs, o.Logs...)
}

// addService adds what s recorded; it must be shut down, so that its
// spans have ended.
func (r *childReport) addService(s *service) {
	for _, span := range s.recorder.Ended() {
		r.Spans = append(r.Spans, newSpanRecord(s.name, span))
	}
	r.Logs = append(r.Logs, s.logged.Records()...)
}

// child is a running process of this program in a child role.
type child struct {
	cmd  *exec.Cmd
	done chan childResult
}

type childResult struct {
	report childReport
	err    error
}

// startChild starts this program in the role of config, with env and
// childEnv set; ctx ending kills it.
func startChild(ctx context.Context, config childConfig, env []string) (*child, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	encoded, err := json.Marshal(config)
	if err != nil {
		return nil, err
	}
	cmd := exec.CommandContext(ctx, exe)
	// exec keeps the last of a variable's values: this one.
	cmd.Env = append(slices.Clip(env), childEnv+"="+string(encoded))
	cmd.Stderr = os.Stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("%s: %w", config.Role, err)
	}
	c := &child{cmd: cmd, done: make(chan childResult, 1)}
	go func() {
		out, readErr := io.ReadAll(io.LimitReader(stdout, maxChildReport+1))
		_, _ = io.Copy(io.Discard, stdout) // so that Wait is not left waiting on a full pipe
		res := childResult{err: cmd.Wait()}
		switch {
		case res.err != nil:
		case readErr != nil:
			res.err = readErr
		case len(out) > maxChildReport:
			res.err = fmt.Errorf("report larger than %d bytes", maxChildReport)
		default:
			res.err = json.Unmarshal(out, &res.report)
		}
		if res.err != nil {
			res.err = fmt.Errorf("%s (pid %d): %w", config.Role, cmd.Process.Pid, res.err)
		}
		c.done <- res
	}()
	return c, nil
}

// wait waits for the child to exit and returns its report.
func (c *child) wait(ctx context.Context) (childReport, error) {
	select {
	case res := <-c.done:
		c.done <- res // for stop
		return res.report, res.err
	case <-ctx.Done():
		return childReport{}, fmt.Errorf("waiting for process %d: %w", c.cmd.Process.Pid, ctx.Err())
	}
}

// stop kills the child by its pid if it is still running, and waits for
// it.
func (c *child) stop() {
	select {
	case res := <-c.done:
		c.done <- res
		return
	default:
	}
	_ = c.cmd.Process.Kill()
	res := <-c.done
	c.done <- res
}

// runChild plays the role that config, childEnv's value, gives.
func runChild(ctx context.Context, w io.Writer, config string) error {
	var c childConfig
	if err := json.Unmarshal([]byte(config), &c); err != nil {
		return fmt.Errorf("%s: %w", childEnv, err)
	}
	var report childReport
	var err error
	switch c.Role {
	case roleConsumer:
		report, err = runConsumer(ctx, c)
	case roleSubprocess:
		report, err = runSubprocess(ctx, c)
	default:
		err = fmt.Errorf("%w %q", errUnknownRole, c.Role)
	}
	if err != nil {
		return err
	}
	return json.NewEncoder(w).Encode(report)
}

// runConsumer is the consumer: it takes one job from the queue, continues
// the trace from the message's headers, and starts the subprocess.
func runConsumer(ctx context.Context, c childConfig) (childReport, error) {
	b := newSentryConfig(c.Rate)
	s, _, err := newService(ctx, "consumer", b)
	if err != nil {
		return childReport{}, err
	}
	q, err := natsqueue.Open(ctx, c.NATS, c.Queue, natsqueue.WithTracerProvider(s.provider), natsqueue.WithPropagator(b.propagator))
	if err != nil {
		return childReport{}, err
	}
	var report childReport
	err = q.Process(ctx, func(ctx context.Context, _ natsqueue.Job) error {
		report.Hops = append(report.Hops, newHop(b, "consumer", "the NATS message's headers", ctx))
		sub, err := startChild(ctx, childConfig{Role: roleSubprocess, Rate: c.Rate}, bridge.InjectEnv(ctx, os.Environ()))
		if err == nil {
			var subReport childReport
			subReport, err = sub.wait(ctx)
			report.add(subReport)
		}
		if err != nil {
			s.logger.ErrorContext(ctx, "job failed", "error", err)
			return err
		}
		s.logger.InfoContext(ctx, "job done")
		return nil
	})
	err = errors.Join(err, q.Close())
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := errors.Join(err, s.shutdown(shutdownCtx)); err != nil {
		return childReport{}, err
	}
	report.addService(s)
	return report, nil
}

// runSubprocess is the subprocess: it continues the trace from its
// environment.
func runSubprocess(ctx context.Context, c childConfig) (childReport, error) {
	b := newSentryConfig(c.Rate)
	s, _, err := newService(ctx, "subprocess", b)
	if err != nil {
		return childReport{}, err
	}
	ctx = bridge.ContinueTraceFromEnv(ctx)
	report := childReport{Hops: []hop{newHop(b, "subprocess", "SENTRY_TRACE and SENTRY_BAGGAGE", ctx)}}
	ctx, span := s.tracer.Start(ctx, "send receipt")
	s.logger.InfoContext(ctx, "receipt sent")
	span.End()
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := s.shutdown(shutdownCtx); err != nil {
		return childReport{}, err
	}
	// The parent prints the child's log lines with its own, under the spans
	// that wrote them.
	report.addService(s)
	return report, nil
}
