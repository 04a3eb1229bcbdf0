// Command sentry-conformance checks any HTTP service that implements the hop
// contract (see the conformance README) against Sentry's trace propagation
// rules. It starts two reference hops of its own on 127.0.0.1 (otelsentry,
// with traces sample rates 1 and 0), sends traces through chains that mix
// them with the target (the target first, in the middle and last), acting
// as the upstream Sentry SDK with sampled, negative, deferred and no
// incoming traces, then sends the target every sentry-trace test vector
// an HTTP request can carry. It prints a pass/fail table and exits 1 when
// any check fails.
//
//	go run ./cmd/sentry-conformance -target http://127.0.0.1:8080 -rate 1
//
// -rate must be the traces sample rate the target runs with ("none" when
// it has none), so that the decisions it should make are known.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/otelsentry/otelsentry/conformance/internal/peers"
	"github.com/otelsentry/otelsentry/conformance/runner"
)

func main() {
	os.Exit(run(context.Background(), os.Args[1:], os.Stdout, os.Stderr))
}

// runTimeout bounds a whole run: every chain and case.
const runTimeout = 5 * time.Minute

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("sentry-conformance", flag.ContinueOnError)
	fs.SetOutput(stderr)
	target := fs.String("target", "", "base URL of the hop service under test, e.g. http://127.0.0.1:8080")
	rateText := fs.String("rate", "1", `the target's traces sample rate, or "none"`)
	name := fs.String("name", "target", "the target's name in the table")
	verbose := fs.Bool("v", false, "print every check, not only failures")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	rate, err := parseRate(*rateText)
	if *target == "" || err != nil {
		fmt.Fprintln(stderr, "usage: sentry-conformance -target http://host:port [-rate 1|0|none] [-name target] [-v]")
		if err != nil {
			fmt.Fprintln(stderr, err)
		}
		return 2
	}
	ctx, cancel := context.WithTimeout(ctx, runTimeout)
	defer cancel()

	refs := map[string]runner.Hop{}
	for _, r := range []float64{1, 0} {
		refName := "otelsentry-r" + strconv.FormatFloat(r, 'f', -1, 64)
		url, stop, err := startReference(ctx, refName, r)
		if err != nil {
			fmt.Fprintln(stderr, err)
			return 1
		}
		defer stop()
		refs[refName] = runner.Hop{Name: refName, Impl: "otelsentry", URL: url, Rate: runner.Rate(r)}
	}
	t := runner.Hop{Name: *name, Impl: *name, URL: strings.TrimSuffix(*target, "/"), Rate: rate}
	r1, r0 := refs["otelsentry-r1"], refs["otelsentry-r0"]
	chains := [][]runner.Hop{{t}, {t, r0}, {t, r1}, {r1, t}, {r0, t, r1}, {t, r1, t}}

	passed, failed := 0, 0
	for _, chain := range chains {
		for _, c := range runner.Cases() {
			checks := runner.Run(ctx, http.DefaultClient, chain, c).Checks
			failures := runner.Failures(checks)
			status := "PASS"
			if len(failures) > 0 {
				status = "FAIL"
				failed++
			} else {
				passed++
			}
			fmt.Fprintf(stdout, "%s  %-40s %s\n", status, chainName(chain), c.ID)
			shown := failures
			if *verbose {
				shown = checks
			}
			for _, f := range shown {
				fmt.Fprintf(stdout, "      %s\n", f)
			}
		}
	}
	// The sentry-trace test vectors, each sent to the target alone.
	for _, c := range runner.SentryTraceChecks(ctx, http.DefaultClient, t, r1) {
		if failures := runner.Failures([]runner.Check{c}); len(failures) > 0 {
			failed++
			fmt.Fprintf(stdout, "FAIL  %-40s %s\n      %s\n", t.Name, c.Name, c)
		} else {
			passed++
			if *verbose {
				fmt.Fprintf(stdout, "PASS  %-40s %s\n", t.Name, c.Name)
			}
		}
	}
	fmt.Fprintf(stdout, "%d passed, %d failed\n", passed, failed)
	if failed > 0 {
		return 1
	}
	return 0
}

func parseRate(s string) (*float64, error) {
	if s == "none" {
		return nil, nil
	}
	r, err := strconv.ParseFloat(s, 64)
	if err != nil || r < 0 || r > 1 {
		return nil, fmt.Errorf("-rate %q: want a number in [0,1] or none", s)
	}
	return &r, nil
}

func chainName(hops []runner.Hop) string {
	names := make([]string, len(hops))
	for i, h := range hops {
		names[i] = h.Name
	}
	return strings.Join(names, " → ")
}

// startReference serves an otelsentry hop on 127.0.0.1 and returns its URL
// and the function that stops it.
func startReference(ctx context.Context, name string, rate float64) (string, func(), error) {
	s, err := peers.NewOtelSentry(ctx, peers.Config{Name: name, Rate: peers.Rate(rate)})
	if err != nil {
		return "", nil, err
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	srv := &http.Server{Handler: s.Handler(), ReadHeaderTimeout: 5 * time.Second}
	go func() {
		if err := srv.Serve(l); err != nil && !errors.Is(err, http.ErrServerClosed) {
			fmt.Fprintln(os.Stderr, name+":", err)
		}
	}()
	stop := func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
		_ = s.Close(ctx)
	}
	return "http://" + l.Addr().String(), stop, nil
}
