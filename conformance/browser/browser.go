package browser

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// ErrUnavailable is wrapped by New's error when Chromium or the npm
// packages are missing; the error says which.
var ErrUnavailable = errors.New("browser: unavailable")

// Bounds of one use of the browser.
const (
	// defaultBudget is the virtual time a page gets: the SDK's idle span
	// ends a second after its last child and the page waits at most ten
	// seconds for it, so this leaves room; virtual time runs ahead when
	// nothing is pending, so it costs little real time.
	defaultBudget = 30 * time.Second
	// loadTimeout bounds one Chromium run in real time.
	loadTimeout = 60 * time.Second
	// bundleTimeout bounds the esbuild run.
	bundleTimeout = 60 * time.Second
	// maxScript caps the bundle; the whole SDK is about 1 MiB.
	maxScript = 16 << 20
	// maxDOM caps the DOM read from Chromium.
	maxDOM = 8 << 20
	// maxStderr is how much of a failing child's stderr an error quotes.
	maxStderr = 4 << 10
	// waitDelay bounds the copying of output after the child exited,
	// should one of its own children still hold the pipes.
	waitDelay = 2 * time.Second
)

// bundleEntry is the esbuild input: the whole SDK, as the global Sentry.
const bundleEntry = `export * from "@sentry/browser";`

// Browser runs pages with the Sentry browser SDK in headless Chromium.
type Browser struct {
	chromium string
	budget   time.Duration
	script   []byte
}

// Option configures New.
type Option func(*settings)

type settings struct {
	dir      string
	chromium string
	budget   time.Duration
}

// WithDir sets the directory holding package.json and node_modules;
// by default it is this package's source directory.
func WithDir(dir string) Option { return func(s *settings) { s.dir = dir } }

// WithChromium sets the Chromium binary; by default "chromium" on PATH.
func WithChromium(path string) Option { return func(s *settings) { s.chromium = path } }

// WithVirtualTimeBudget sets the virtual time a page gets before Chromium
// dumps its DOM (30 s by default); it must be positive.
func WithVirtualTimeBudget(d time.Duration) Option { return func(s *settings) { s.budget = d } }

// Dir returns this package's source directory, where `npm ci` installs the
// SDK and esbuild, found from this file so that it does not depend on the
// working directory; "" when the binary was built without source paths.
func Dir() string {
	if _, file, _, ok := runtime.Caller(0); ok && filepath.IsAbs(file) {
		return filepath.Dir(file)
	}
	return ""
}

// New checks that Chromium and the npm packages are installed and bundles
// the SDK; ctx bounds the bundling.
func New(ctx context.Context, opts ...Option) (*Browser, error) {
	s := settings{dir: Dir(), chromium: "chromium", budget: defaultBudget}
	for _, o := range opts {
		o(&s)
	}
	if s.budget <= 0 {
		return nil, fmt.Errorf("browser: virtual time budget %s is not positive", s.budget)
	}
	chromium, err := exec.LookPath(s.chromium)
	if err != nil {
		return nil, fmt.Errorf("%w: no Chromium (%s): install Debian's chromium package", ErrUnavailable, s.chromium)
	}
	if s.dir == "" {
		return nil, fmt.Errorf("%w: the npm packages' directory is unknown in a binary without source paths: use WithDir", ErrUnavailable)
	}
	esbuild := filepath.Join(s.dir, "node_modules", ".bin", "esbuild")
	for _, f := range []string{filepath.Join(s.dir, "node_modules", "@sentry", "browser", "package.json"), esbuild} {
		if _, err := os.Stat(f); err != nil {
			return nil, fmt.Errorf("%w: npm packages not installed (run `npm ci` in %s): %v", ErrUnavailable, s.dir, err)
		}
	}
	script, err := bundle(ctx, s.dir, esbuild)
	if err != nil {
		return nil, err
	}
	return &Browser{chromium: chromium, budget: s.budget, script: script}, nil
}

// T is the part of a *testing.T that ForTest uses.
type T interface {
	Helper()
	Skipf(format string, args ...any)
	Fatalf(format string, args ...any)
}

// ForTest returns a Browser for a test. Where Chromium or the npm packages
// are missing it skips the test, saying why in one line, except in CI
// (the environment variable CI set), which installs them: there it fails.
func ForTest(t T, opts ...Option) *Browser {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), bundleTimeout)
	defer cancel()
	b, err := New(ctx, opts...)
	if errors.Is(err, ErrUnavailable) && os.Getenv("CI") == "" {
		t.Skipf("browser test skipped: %v", err)
	}
	if err != nil {
		t.Fatalf("%v", err)
	}
	return b
}

// bundle runs esbuild on bundleEntry and returns the script: an IIFE that
// assigns the SDK's exports to the global Sentry.
func bundle(ctx context.Context, dir, esbuild string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, bundleTimeout)
	defer cancel()
	// Without an output file, esbuild writes the bundle to stdout.
	cmd := exec.CommandContext(ctx, esbuild, "--bundle", "--format=iife", "--global-name=Sentry",
		"--platform=browser", "--target=es2020", "--log-level=warning")
	cmd.Dir = dir // the entry's imports resolve from here
	cmd.Stdin = strings.NewReader(bundleEntry)
	var stdout, stderr bytes.Buffer
	cmd.Stdout = &limitedWriter{buf: &stdout, limit: maxScript + 1}
	cmd.Stderr = &limitedWriter{buf: &stderr, limit: maxStderr}
	cmd.WaitDelay = waitDelay
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("browser: esbuild: %w: %s", err, stderr.String())
	}
	if stdout.Len() > maxScript {
		return nil, fmt.Errorf("browser: esbuild wrote a bundle larger than %d bytes", maxScript)
	}
	return stdout.Bytes(), nil
}

// Script returns a handler that serves the bundled SDK.
func (b *Browser) Script() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/javascript; charset=utf-8")
		_, _ = w.Write(b.script)
	})
}

// Load opens url in headless Chromium, lets the page run for the virtual
// time budget, and returns the Report that a Page wrote into the DOM.
// Chromium runs in a process group of its own, which is killed when ctx
// ends or a minute has passed.
func (b *Browser) Load(ctx context.Context, url string) (Report, error) {
	dom, err := b.DumpDOM(ctx, url)
	if err != nil {
		return Report{}, err
	}
	return ParseReport(dom)
}

// DumpDOM opens url as Load does and returns the DOM Chromium dumps when
// the virtual time budget is spent.
func (b *Browser) DumpDOM(ctx context.Context, url string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, loadTimeout)
	defer cancel()
	profile, err := os.MkdirTemp("", "otelsentry-chromium-")
	if err != nil {
		return "", fmt.Errorf("browser: %w", err)
	}
	defer os.RemoveAll(profile)
	cmd := exec.CommandContext(ctx, b.chromium,
		"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--user-data-dir="+profile,
		"--virtual-time-budget="+strconv.FormatInt(b.budget.Milliseconds(), 10),
		"--dump-dom", url)
	// Chromium starts helper processes; a group of their own lets a
	// timeout stop all of them, by the group's id, which is Chromium's pid.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = waitDelay
	var stdout, stderr bytes.Buffer
	cmd.Stdout = &limitedWriter{buf: &stdout, limit: maxDOM}
	cmd.Stderr = &limitedWriter{buf: &stderr, limit: maxStderr, tail: true}
	if err := cmd.Run(); err != nil {
		if ctx.Err() != nil {
			err = ctx.Err()
		}
		return "", fmt.Errorf("browser: chromium %s: %w\n%s", url, err, stderr.String())
	}
	return stdout.String(), nil
}

// limitedWriter keeps at most limit bytes: the first ones, or with tail
// the last ones. It never fails, so that the child is never blocked.
type limitedWriter struct {
	buf   *bytes.Buffer
	limit int
	tail  bool
}

func (l *limitedWriter) Write(p []byte) (int, error) {
	switch {
	case l.tail:
		l.buf.Write(p)
		if over := l.buf.Len() - l.limit; over > 0 {
			l.buf.Next(over)
		}
	case l.buf.Len() < l.limit:
		l.buf.Write(p[:min(len(p), l.limit-l.buf.Len())])
	}
	return len(p), nil
}
