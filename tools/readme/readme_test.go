package readme

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"go/format"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/otelsentry/otelsentry/tools/versions"
)

func TestProgram(t *testing.T) {
	md := "# x\n\n```go\nx := 1\n```\n\n```go\npackage main\n\nfunc main() {}\n```\n\n```sh\npackage main\n```\n"
	got, err := Program([]byte(md))
	if err != nil {
		t.Fatal(err)
	}
	if want := "package main\n\nfunc main() {}\n"; string(got) != want {
		t.Errorf("Program = %q, want %q", got, want)
	}
	for name, md := range map[string]string{
		"none":     "```go\nx := 1\n```\n",
		"two":      "```go\npackage main\n```\n```go\npackage main\n```\n",
		"unclosed": "```go\npackage main\n",
	} {
		if _, err := Program([]byte(md)); !errors.Is(err, ErrNoProgram) {
			t.Errorf("%s: Program = %v, want ErrNoProgram", name, err)
		}
	}
}

// The README's program is as gofmt prints it.
func TestProgramFormatted(t *testing.T) {
	program, err := ProgramFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	formatted, err := format.Source(program)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(formatted, program) {
		t.Errorf("README.md's program is not gofmt'ed; gofmt prints:\n%s", formatted)
	}
}

// buildFromCheckout installs the README's program as its install section
// says to before a release: replace directives to this checkout, then go
// mod tidy.
func buildFromCheckout(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds a program with its dependencies")
	}
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	program, err := ProgramFile(filepath.Join(root, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	set, err := versions.Load(root)
	if err != nil {
		t.Fatal(err)
	}
	installed, err := Installed(set)
	if err != nil {
		t.Fatal(err)
	}
	var replaces []string
	for _, m := range installed {
		replaces = append(replaces, m.Path+"="+filepath.Join(root, filepath.FromSlash(m.Dir)))
	}
	bin, err := Install(io.Discard, t.TempDir(), program, nil, replaces, append(os.Environ(), "GOWORK=off"))
	if err != nil {
		t.Fatal(err)
	}
	return bin
}

// shop is the README's program, running.
type shop struct {
	cmd   *exec.Cmd
	lines chan string // its standard error, line by line
	log   strings.Builder
	exit  chan error
}

func start(t *testing.T, bin string, env ...string) *shop {
	t.Helper()
	s := &shop{cmd: exec.Command(bin), lines: make(chan string, 100), exit: make(chan error, 1)}
	s.cmd.Env = append(os.Environ(), append([]string{"SENTRY_RELEASE=", "SENTRY_ENVIRONMENT=", "OTEL_SERVICE_NAME="}, env...)...)
	stderr, err := s.cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			s.lines <- sc.Text()
		}
		close(s.lines)
		s.exit <- s.cmd.Wait()
	}()
	t.Cleanup(func() {
		if s.cmd.ProcessState == nil {
			_ = s.cmd.Process.Kill()
		}
	})
	return s
}

// waitFor reads the program's log until a line holds want, and returns the
// line, or fails after a while.
func (s *shop) waitFor(t *testing.T, want string) string {
	t.Helper()
	timeout := time.After(30 * time.Second)
	for {
		select {
		case line, ok := <-s.lines:
			if !ok {
				t.Fatalf("the program ended before logging %q:\n%s", want, s.log.String())
			}
			s.log.WriteString(line + "\n")
			if strings.Contains(line, want) {
				return line
			}
		case <-timeout:
			t.Fatalf("no %q logged within 30s:\n%s", want, s.log.String())
		}
	}
}

// wait returns the program's log and its exit error once it has exited.
func (s *shop) wait(t *testing.T) (string, error) {
	t.Helper()
	timeout := time.After(30 * time.Second)
	for {
		select {
		case line, ok := <-s.lines:
			if ok {
				s.log.WriteString(line + "\n")
				continue
			}
			return s.log.String(), <-s.exit
		case <-timeout:
			t.Fatalf("the program did not exit within 30s:\n%s", s.log.String())
		}
	}
}

// The README's program runs without SENTRY_DSN, says that nothing is sent,
// serves its routes, carries an incoming trace on to the service it calls,
// and stops cleanly on an interrupt; with a malformed DSN it stops at once
// with the reason.
func TestProgramRuns(t *testing.T) {
	bin := buildFromCheckout(t)

	const (
		incoming = "771a43a4192642f0b136d5159a501700-b0e6f15b45c36b12-1"
		dsc      = "sentry-trace_id=771a43a4192642f0b136d5159a501700,sentry-sample_rand=0.25,sentry-release=web%401.0"
	)
	got := make(chan http.Header, 1)
	payments := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got <- r.Header.Clone()
	}))
	defer payments.Close()

	s := start(t, bin, "SENTRY_DSN=", "SENTRY_TRACES_SAMPLE_RATE=1", "ADDR=127.0.0.1:0", "PAYMENTS_URL="+payments.URL+"/pay")
	s.waitFor(t, "SENTRY_DSN is not set: nothing is sent to Sentry")
	_, addr, _ := strings.Cut(s.waitFor(t, "shop listening"), "addr=")
	base := "http://" + strings.TrimSpace(addr)

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if body := request(ctx, t, http.MethodGet, base+"/users/7", nil); body != "user 7\n" {
		t.Errorf("GET /users/7 = %q, want %q", body, "user 7\n")
	}
	body := request(ctx, t, http.MethodPost, base+"/checkout", http.Header{"Sentry-Trace": {incoming}, "Baggage": {dsc}})
	if body != "payment 200 OK\n" {
		t.Errorf("POST /checkout = %q, want %q", body, "payment 200 OK\n")
	}
	select {
	case h := <-got:
		traceID := incoming[:32]
		if st := h.Get("Sentry-Trace"); !strings.HasPrefix(st, traceID+"-") || !strings.HasSuffix(st, "-1") {
			t.Errorf("payments got sentry-trace %q, want trace %s, sampled", st, traceID)
		}
		if tp := h.Get("Traceparent"); !strings.HasPrefix(tp, "00-"+traceID+"-") || !strings.HasSuffix(tp, "-01") {
			t.Errorf("payments got traceparent %q, want trace %s, sampled", tp, traceID)
		}
		if b := h.Get("Baggage"); b != dsc {
			t.Errorf("payments got baggage %q, want the incoming DSC %q", b, dsc)
		}
	default:
		t.Error("the payments service was not called")
	}

	if err := s.cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	if log, err := s.wait(t); err != nil {
		t.Errorf("after an interrupt the program exited with %v:\n%s", err, log)
	}

	bad := start(t, bin, "SENTRY_DSN=https//key@o1.ingest.sentry.io/1", "ADDR=127.0.0.1:0")
	log, err := bad.wait(t)
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 1 || !strings.Contains(log, "shop stopped") || strings.Contains(log, "shop listening") {
		t.Errorf("with a malformed DSN the program exited with %v, want status 1 before listening:\n%s", err, log)
	}
}

func request(ctx context.Context, t *testing.T, method, url string, h http.Header) string {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range h {
		req.Header[k] = v
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(body)
}
