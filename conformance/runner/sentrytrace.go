package runner

import (
	"context"
	"fmt"
	"net/http"

	"github.com/otelsentry/otelsentry/conformance/hop"
	"github.com/otelsentry/otelsentry/internal/vectors"
)

// CheckSentryTrace names the checks of SentryTraceChecks.
const CheckSentryTrace = "sentry-trace parsing"

// SentryTraceChecks sends each sentry-trace test vector that an HTTP
// request can carry (no CR, LF or other control characters) to h, with next
// as the hop it calls, and checks that h continues exactly the valid ones,
// with their trace id, parent span id and decision, and starts a new trace
// for every other. Each check's error names the vector.
func SentryTraceChecks(ctx context.Context, client *http.Client, h, next Hop) []Check {
	var checks []Check
	for _, c := range vectors.SentryTrace() {
		if !sendable(c.Values) {
			continue
		}
		header := http.Header{}
		for _, v := range c.Values {
			header.Add(hop.HeaderSentryTrace, v)
		}
		r, err := hop.Fetch(ctx, client, hop.Chain(h.URL, next.URL), header)
		if r == nil {
			checks = append(checks, Check{Hop: h.Name, Impl: h.Impl, Name: CheckReached, Err: fmt.Errorf("%s: %w", c.ID, err)})
			continue
		}
		if err := sentryTraceOutcome(h, r, c.Want); err != nil {
			err = fmt.Errorf("%s (%s, %q): %w", c.ID, c.Description, c.Values, err)
			checks = append(checks, Check{Hop: h.Name, Impl: h.Impl, Name: CheckSentryTrace, Err: err})
		} else {
			checks = append(checks, Check{Hop: h.Name, Impl: h.Impl, Name: CheckSentryTrace})
		}
	}
	return checks
}

// sentryTraceOutcome checks how h handled one vector: it continued want,
// or, for a nil want, started a trace of its own.
func sentryTraceOutcome(h Hop, r *hop.Report, want *vectors.Continued) error {
	sent, sentOK := parseSentryTrace(r.Sent[hop.HeaderSentryTrace])
	if want == nil {
		if r.ParentSpanID != "" || r.TraceID == vectors.T {
			return fmt.Errorf("continued it: trace %s, parent %s", r.TraceID, r.ParentSpanID)
		}
		return nil
	}
	if r.TraceID != want.TraceID || r.ParentSpanID != want.SpanID {
		return fmt.Errorf("trace %s, parent %q; want %s, %s", r.TraceID, r.ParentSpanID, want.TraceID, want.SpanID)
	}
	d := map[vectors.Decision]decision{vectors.Sampled: sampled, vectors.Negative: notSampled}[want.Decision]
	if d == deferred && h.Rate != nil {
		d = notSampled
		if *h.Rate >= 1 {
			d = sampled
		}
	}
	if !sentOK || sent.flag != d.flag() {
		return fmt.Errorf("sent %q, want the flag %q", r.Sent[hop.HeaderSentryTrace], d.flag())
	}
	return nil
}

// sendable reports whether an HTTP request can carry every value.
func sendable(values []string) bool {
	for _, v := range values {
		for i := 0; i < len(v); i++ {
			if c := v[i]; c < 0x20 && c != '\t' || c == 0x7f {
				return false
			}
		}
	}
	return true
}
