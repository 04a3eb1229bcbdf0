package peers

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Bounds of the node hop's life cycle.
const (
	// nodeListenTimeout bounds the wait for the "listening ..." line; loading
	// @sentry/node and its instrumentation takes about a second.
	nodeListenTimeout = 15 * time.Second
	// nodeHealthTimeout bounds the /health polling after that line.
	nodeHealthTimeout = 10 * time.Second
	// nodeStopTimeout is how long Stop waits after SIGTERM before SIGKILL.
	nodeStopTimeout = 5 * time.Second
	// nodeOutputLimit is how much of the child's output is kept.
	nodeOutputLimit = 64 << 10
)

// nodeEngines is the Node.js range of @sentry/node 11.12.0's engines field,
// ">=20.19.0 <22.0.0 || >=22.12.0 <23.0.0 || >=23.2.0", as [from, to) pairs.
var nodeEngines = [][2][3]int{
	{{20, 19, 0}, {22, 0, 0}},
	{{22, 12, 0}, {23, 0, 0}},
	{{23, 2, 0}, {1 << 30, 0, 0}},
}

const nodeEnginesText = ">=20.19.0 <22.0.0 || >=22.12.0 <23.0.0 || >=23.2.0"

// NodeDir returns the directory of the Node.js hop (conformance/node),
// found from this source file so that it does not depend on the working
// directory of the test binary. Under -trimpath the source path is not a
// file path; tests then run in this package's directory.
func NodeDir() string {
	if _, file, _, ok := runtime.Caller(0); ok && filepath.IsAbs(file) {
		return filepath.Join(filepath.Dir(file), "..", "..", "node")
	}
	return filepath.Join("..", "..", "node")
}

// NodeAvailable reports why the Node.js hop cannot run here, or nil. The
// dependencies are installed by `npm ci` in conformance/node.
func NodeAvailable() error {
	bin, err := exec.LookPath("node")
	if err != nil {
		return fmt.Errorf("node peer: no node binary on PATH: %w", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, bin, "--version").Output()
	if err != nil {
		return fmt.Errorf("node peer: %s --version: %w", bin, err)
	}
	version := strings.TrimSpace(string(out))
	if !nodeVersionSupported(version) {
		return fmt.Errorf("node peer: %s is %s, @sentry/node 11.12.0 needs %s", bin, version, nodeEnginesText)
	}
	dir := NodeDir()
	for _, f := range []string{"hop.mjs", "instrument.mjs"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			return fmt.Errorf("node peer: %w", err)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "@sentry", "node", "package.json")); err != nil {
		return fmt.Errorf("node peer: dependencies not installed (run `npm ci` in %s): %w", dir, err)
	}
	return nil
}

// nodeVersionSupported reports whether a `node --version` answer such as
// "v20.19.1" lies in nodeEngines.
func nodeVersionSupported(v string) bool {
	parts := strings.SplitN(strings.TrimPrefix(v, "v"), ".", 3)
	if len(parts) != 3 {
		return false
	}
	var got [3]int
	for i, p := range parts {
		if j := strings.IndexFunc(p, func(r rune) bool { return r < '0' || r > '9' }); j >= 0 {
			p = p[:j]
		}
		n, err := strconv.Atoi(p)
		if err != nil {
			return false
		}
		got[i] = n
	}
	less := func(x, y [3]int) bool {
		for i := range x {
			if x[i] != y[i] {
				return x[i] < y[i]
			}
		}
		return false
	}
	for _, r := range nodeEngines {
		if !less(got, r[0]) && less(got, r[1]) {
			return true
		}
	}
	return false
}

// Process is a running Node.js hop, a child of this process.
type Process struct {
	cmd    *exec.Cmd
	url    string
	output *tailBuffer

	exited  chan struct{} // closed once the child was reaped
	waitErr error         // set before exited is closed

	stopOnce sync.Once
	stopErr  error
}

// nodeEnvDropped are variables of this process that must not reach the
// hop: it is configured only by the env given to StartNode.
func nodeEnvDropped(kv string) bool {
	name, _, _ := strings.Cut(kv, "=")
	return strings.HasPrefix(name, "SENTRY_") || name == "HOP_NAME" || name == "PORT" || name == "NODE_OPTIONS"
}

// StartNode starts `node --import ./instrument.mjs hop.mjs` in dir (NodeDir
// when empty) with env (SENTRY_DSN, SENTRY_TRACES_SAMPLE_RATE, HOP_NAME, ...;
// PORT defaults to 0), waits for its "listening" line and for /health. The
// child's output is kept (see Output) and also copied to stdout and stderr
// when they are not nil. ctx bounds the start only; the caller must Stop
// the process.
func StartNode(ctx context.Context, dir string, env map[string]string, stdout, stderr io.Writer) (*Process, error) {
	if dir == "" {
		dir = NodeDir()
	}
	bin, err := exec.LookPath("node")
	if err != nil {
		return nil, fmt.Errorf("node peer: %w", err)
	}
	cmd := exec.Command(bin, "--import", "./instrument.mjs", "hop.mjs")
	cmd.Dir = dir
	for _, kv := range os.Environ() {
		if !nodeEnvDropped(kv) {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	if _, ok := env["PORT"]; !ok {
		cmd.Env = append(cmd.Env, "PORT=0")
	}
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}

	p := &Process{cmd: cmd, output: &tailBuffer{limit: nodeOutputLimit}, exited: make(chan struct{})}
	first := &firstLine{ch: make(chan string, 1)}
	cmd.Stdout = multi(first, p.output, stdout)
	cmd.Stderr = multi(p.output, stderr)
	// Bounds the copying of output after the child exited, should anything
	// else have inherited its pipes.
	cmd.WaitDelay = 2 * time.Second

	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("node peer: start: %w", err)
	}
	go func() {
		p.waitErr = cmd.Wait()
		close(p.exited)
	}()

	fail := func(format string, args ...any) (*Process, error) {
		_ = p.Stop()
		return nil, fmt.Errorf("node peer: %s; output:\n%s", fmt.Sprintf(format, args...), p.Output())
	}

	timer := time.NewTimer(nodeListenTimeout)
	defer timer.Stop()
	var line string
	select {
	case line = <-first.ch:
	case <-p.exited:
		// The line may have been written just before the exit.
		select {
		case line = <-first.ch:
		default:
			return fail("exited before listening: %v", p.waitErr)
		}
	case <-timer.C:
		return fail("no listening line within %s", nodeListenTimeout)
	case <-ctx.Done():
		return fail("start: %v", ctx.Err())
	}

	u, err := parseListening(line)
	if err != nil {
		return fail("%v", err)
	}
	p.url = u
	if err := p.waitHealthy(ctx); err != nil {
		return fail("%v", err)
	}
	return p, nil
}

// parseListening checks the hop's first stdout line and returns its URL.
func parseListening(line string) (string, error) {
	const prefix = "listening "
	if !strings.HasPrefix(line, prefix) {
		return "", fmt.Errorf("first stdout line is %q, want %q", line, prefix+"http://127.0.0.1:<port>")
	}
	raw := strings.TrimSpace(strings.TrimPrefix(line, prefix))
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "http" || u.Hostname() != "127.0.0.1" || u.Port() == "" || u.Port() == "0" {
		return "", fmt.Errorf("hop listens on %q, want http://127.0.0.1:<port>", raw)
	}
	return "http://" + u.Host, nil
}

// waitHealthy polls GET /health until 200, within nodeHealthTimeout.
func (p *Process) waitHealthy(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, nodeHealthTimeout)
	defer cancel()
	client := &http.Client{Timeout: time.Second}
	var last error
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, p.url+"/health", nil)
		if err != nil {
			return err
		}
		resp, err := client.Do(req)
		if err == nil {
			_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16))
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			err = errors.New(resp.Status)
		}
		last = err
		select {
		case <-p.exited:
			return fmt.Errorf("exited before /health answered: %v", p.waitErr)
		case <-ctx.Done():
			return fmt.Errorf("/health not ready: %v (last: %v)", ctx.Err(), last)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// URL is the hop's base URL, http://127.0.0.1:<port>.
func (p *Process) URL() string { return p.url }

// Pid is the child's process id.
func (p *Process) Pid() int { return p.cmd.Process.Pid }

// Output returns the last 64 KiB of the child's stdout and stderr.
func (p *Process) Output() string { return p.output.String() }

// Exited is closed once the child has exited.
func (p *Process) Exited() <-chan struct{} { return p.exited }

// Stop sends SIGTERM to the child and, if it has not exited within 5 s,
// SIGKILL. Only this child is signalled; calling Stop again returns the
// first result. It returns an error when the child had to be killed or
// did not exit.
func (p *Process) Stop() error {
	p.stopOnce.Do(func() { p.stopErr = p.stop() })
	return p.stopErr
}

func (p *Process) stop() error {
	select {
	case <-p.exited:
		return nil
	default:
	}
	// os.Process signals by pid (a pidfd where the kernel has them), and
	// only until the child is reaped, so no other process can be hit.
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return fmt.Errorf("node peer: SIGTERM to %d: %w", p.Pid(), err)
	}
	timer := time.NewTimer(nodeStopTimeout)
	defer timer.Stop()
	select {
	case <-p.exited:
		return nil
	case <-timer.C:
	}
	if err := p.cmd.Process.Kill(); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return fmt.Errorf("node peer: SIGKILL to %d: %w", p.Pid(), err)
	}
	select {
	case <-p.exited:
		return fmt.Errorf("node peer: pid %d ignored SIGTERM for %s and was killed", p.Pid(), nodeStopTimeout)
	case <-time.After(nodeStopTimeout):
		return fmt.Errorf("node peer: pid %d did not exit after SIGKILL", p.Pid())
	}
}

// firstLine hands the first complete line written to it over ch, once.
type firstLine struct {
	mu   sync.Mutex
	buf  []byte
	done bool
	ch   chan string
}

func (f *firstLine) Write(b []byte) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.done {
		return len(b), nil
	}
	f.buf = append(f.buf, b...)
	if i := bytes.IndexByte(f.buf, '\n'); i >= 0 {
		f.done = true
		f.ch <- strings.TrimRight(string(f.buf[:i]), "\r")
		f.buf = nil
	} else if len(f.buf) > 4096 {
		// A line this long is not the listening line; report it as is.
		f.done = true
		f.ch <- string(f.buf[:4096])
		f.buf = nil
	}
	return len(b), nil
}

// tailBuffer keeps the last limit bytes written to it.
type tailBuffer struct {
	mu    sync.Mutex
	limit int
	buf   []byte
}

func (t *tailBuffer) Write(b []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, b...)
	if over := len(t.buf) - t.limit; over > 0 {
		t.buf = append(t.buf[:0], t.buf[over:]...)
	}
	return len(b), nil
}

func (t *tailBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return string(t.buf)
}

// multiWriter writes to every non-nil writer and ignores their errors: a
// failing diagnostics writer must not stop the copying of the child's
// output, which would block the child.
type multiWriter []io.Writer

func multi(ws ...io.Writer) io.Writer {
	var out multiWriter
	for _, w := range ws {
		if w != nil {
			out = append(out, w)
		}
	}
	return out
}

func (m multiWriter) Write(b []byte) (int, error) {
	for _, w := range m {
		_, _ = w.Write(b)
	}
	return len(b), nil
}
