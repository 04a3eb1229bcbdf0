// Package otelcol runs the OpenTelemetry Collector of the repository's
// collector module as a child process on 127.0.0.1, with the configuration
// it ships for Sentry, for the tests that put a Collector between services
// and the fake ingest. It builds the binary with the go command, whose
// build cache makes every build after the first a link.
package otelcol

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/otelsentry/otelsentry/dsn"
	"github.com/otelsentry/otelsentry/sentryotlp"
)

// BinEnv names a prebuilt Collector binary to use instead of building one.
const BinEnv = "OTELCOL_SENTRY_BIN"

const (
	readyTimeout = 30 * time.Second
	stopTimeout  = 20 * time.Second
	outputLimit  = 1 << 20
)

// Binary is a built Collector.
type Binary struct {
	// Path is the executable.
	Path string
	// Config is the configuration the collector module ships for Sentry.
	Config string
	dir    string // a temporary directory to remove, or ""
}

// Build builds the Collector into a temporary directory, or takes the one
// BinEnv names. Close removes what Build made.
func Build(ctx context.Context) (*Binary, error) {
	module, err := moduleDir()
	if err != nil {
		return nil, err
	}
	b := &Binary{Config: filepath.Join(module, "config.yaml")}
	if p := os.Getenv(BinEnv); p != "" {
		b.Path = p
		return b, nil
	}
	if b.dir, err = os.MkdirTemp("", "otelcol-sentry-"); err != nil {
		return nil, err
	}
	b.Path = filepath.Join(b.dir, "otelcol-sentry")
	// -trimpath, as make builds everything without -race: the Collector's
	// many packages are then the ones go vet compiled, and only linked here.
	cmd := exec.CommandContext(ctx, "go", "build", "-trimpath", "-o", b.Path, "./cmd/otelcol-sentry")
	cmd.Dir = module
	if out, err := cmd.CombinedOutput(); err != nil {
		b.Close()
		return nil, fmt.Errorf("otelcol: go build: %v\n%s", err, out)
	}
	return b, nil
}

// Close removes the binary Build made.
func (b *Binary) Close() {
	if b.dir != "" {
		_ = os.RemoveAll(b.dir)
	}
}

// moduleDir finds the collector module above the working directory.
func moduleDir() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "collector", "go.mod")); err == nil {
			return filepath.Join(dir, "collector"), nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("otelcol: no collector module above the working directory")
		}
		dir = parent
	}
}

// Options are what a Collector is started with.
type Options struct {
	// DSN is the Sentry project the Collector exports to.
	DSN string
	// SamplingPercentage is the sampler's percentage (100 keeps all).
	SamplingPercentage float64
	// Set holds further --set overrides of the configuration, key=value
	// with "::" between levels.
	Set []string
	// Addr is the receiver's address, 127.0.0.1:<port>; empty picks a free
	// port.
	Addr string
}

// Collector is a running Collector.
type Collector struct {
	// Addr is where its OTLP/HTTP receiver listens.
	Addr string

	cmd    *exec.Cmd
	output *limitedBuffer
	exited chan struct{}
}

// Env returns the environment variables of the recommended configuration
// for the project of dsnString: the OTLP endpoint, to which the exporter
// appends /v1/traces and /v1/logs, and the public key. They are built from
// the DSN as sentryotlp builds its endpoints and header.
func Env(dsnString string) ([]string, error) {
	d, err := dsn.Parse(dsnString)
	if err != nil {
		return nil, err
	}
	endpoint, ok := strings.CutSuffix(sentryotlp.TracesEndpoint(d), "/v1/traces")
	if !ok || endpoint+"/v1/logs" != sentryotlp.LogsEndpoint(d) {
		return nil, fmt.Errorf("otelcol: %s has no common OTLP base", sentryotlp.TracesEndpoint(d))
	}
	return []string{"SENTRY_OTLP_ENDPOINT=" + endpoint, "SENTRY_PUBLIC_KEY=" + d.PublicKey}, nil
}

// Start starts the Collector and waits until its receiver accepts
// connections. The caller must Stop it.
func (b *Binary) Start(ctx context.Context, o Options) (*Collector, error) {
	env, err := Env(o.DSN)
	if err != nil {
		return nil, err
	}
	addr := o.Addr
	if addr == "" {
		if addr, err = freeAddr(); err != nil {
			return nil, err
		}
	}
	args := []string{"--config", b.Config,
		"--set=receivers::otlp::protocols::http::endpoint=" + addr,
		// Several Collectors run side by side: none serves its own metrics.
		"--set=service::telemetry::metrics::level=none",
	}
	for _, s := range o.Set {
		args = append(args, "--set="+s)
	}
	cmd := exec.Command(b.Path, args...)
	cmd.Env = append(os.Environ(), append(env, fmt.Sprintf("SENTRY_COLLECTOR_SAMPLING_PERCENTAGE=%g", o.SamplingPercentage))...)
	c := &Collector{Addr: addr, cmd: cmd, output: &limitedBuffer{limit: outputLimit}, exited: make(chan struct{})}
	cmd.Stdout, cmd.Stderr = c.output, c.output
	cmd.WaitDelay = 2 * time.Second
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("otelcol: start: %w", err)
	}
	go func() {
		_ = cmd.Wait()
		close(c.exited)
	}()
	if err := c.waitReady(ctx); err != nil {
		_ = c.Stop()
		return nil, fmt.Errorf("otelcol: %v; output:\n%s", err, c.Output())
	}
	return c, nil
}

// waitReady dials the receiver until it accepts a connection.
func (c *Collector) waitReady(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, readyTimeout)
	defer cancel()
	for {
		conn, err := (&net.Dialer{Timeout: time.Second}).DialContext(ctx, "tcp", c.Addr)
		if err == nil {
			_ = conn.Close()
			return nil
		}
		select {
		case <-c.exited:
			return errors.New("exited before listening")
		case <-ctx.Done():
			return fmt.Errorf("not listening on %s: %w", c.Addr, ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// Stop asks the Collector to shut down, which sends what its pipelines
// hold, and kills it if it has not exited within stopTimeout. It returns
// an error when the Collector had to be killed.
func (c *Collector) Stop() error {
	select {
	case <-c.exited:
		return nil
	default:
	}
	_ = c.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-c.exited:
		return nil
	case <-time.After(stopTimeout):
		_ = c.cmd.Process.Kill()
		<-c.exited
		return fmt.Errorf("otelcol: pid %d killed after %s", c.cmd.Process.Pid, stopTimeout)
	}
}

// Output returns what the Collector wrote, up to outputLimit bytes.
func (c *Collector) Output() string { return c.output.String() }

// freeAddr returns a 127.0.0.1 address that nothing listened on a moment
// ago.
func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}

// limitedBuffer keeps the first limit bytes written to it.
type limitedBuffer struct {
	mu    sync.Mutex
	buf   bytes.Buffer
	limit int
}

func (b *limitedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if room := b.limit - b.buf.Len(); room > 0 {
		b.buf.Write(p[:min(len(p), room)])
	}
	return len(p), nil
}

func (b *limitedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
