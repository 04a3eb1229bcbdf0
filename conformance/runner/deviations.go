package runner

import (
	"fmt"
	"slices"
	"strings"
)

// deviation is a known way in which an implementation departs from a rule:
// a failed check of Impl named Check whose error contains every string of
// Contains.
type deviation struct {
	Impl, Check string
	Contains    []string
	Why         string
}

// deviations lists how the real Sentry SDKs, as pinned by the conformance
// tests, depart from the rules. Such a failure is recorded, not failed; the
// rules stay the same for every other implementation, otelsentry included.
var deviations = slices.Concat([]deviation{
	{Impl: "sentry-go", Check: CheckDSC,
		Why: "sentry-go v0.50.0 rebuilds the DSC on every outgoing request from its own options " +
			"(its public_key, release and environment; sample_rate rewritten) and has no sample_rand"},
	{Impl: "sentry-go", Check: CheckHeadDSC, Contains: []string{"lacks [sample_rand"},
		Why: "sentry-go v0.50.0 has no sample_rand, so its head DSC lacks one (and, at rate 0, sample_rate too)"},
	{Impl: "sentry-go", Check: CheckEnvelopeDSC,
		Why: "sentry-go v0.50.0 rebuilds an envelope's trace header from the transaction instead of keeping the incoming DSC"},
	{Impl: "node", Check: CheckDSC, Contains: []string{"added sample_rate=", "(received {})"},
		Why: "@sentry/node 11.12.0 adds sample_rate to a DSC that arrived without members, when it decides a deferred trace"},
	{Impl: "node", Check: CheckDSC, Contains: []string{"DSC {} has no sample_rand (received {})"},
		Why: "@sentry/node 11.12.0 without a rate sends no sample_rand for a trace that arrived without a DSC"},
	{Impl: "node", Check: CheckHeadDSC, Contains: []string{"lacks [sample_rand]"},
		Why: "@sentry/node 11.12.0 without a rate starts traces without a sample_rand"},
	{Impl: "node", Check: CheckDSC, Contains: []string{"rewrote sample_rand"}, Why: nodeRewritesSampleRand},
	{Impl: "node", Check: CheckEnvelopeDSC, Contains: []string{"rewrote sample_rand"}, Why: nodeRewritesSampleRand},
	{Impl: "node", Check: CheckEnvelopeDSC, Contains: []string{"DSC {}"},
		Why: "@sentry/node 11.12.0 writes no trace header on envelopes whose DSC has no public_key"},
	{Impl: "browser", Check: CheckDSC, Contains: []string{"rewrote sample_rand"}, Why: browserRewritesSampleRand},
	{Impl: "browser", Check: CheckEnvelopeDSC, Contains: []string{"rewrote sample_rand"}, Why: browserRewritesSampleRand},
	{Impl: "browser", Check: CheckEnvelopeDSC, Contains: []string{"DSC {}"},
		Why: "@sentry/browser 11.12.0 writes no trace header on span envelopes whose DSC lacks trace_id or public_key"},
},
	vectorDeviations("node", "@sentry/node 11.12.0 continues sentry-trace values with all-zero ids",
		"V-ST-13", "V-ST-14"),
	vectorDeviations("node", "@sentry/node 11.12.0 continues sentry-trace values without dashes or without a span id",
		"V-ST-18", "V-ST-19", "V-ST-20"),
	vectorDeviations("node", "@sentry/node 11.12.0 starts a new trace when sentry-trace has several values, "+
		"comma-separated or on several lines, instead of taking the first non-empty one",
		"V-ST-28", "V-ST-38", "V-ST-40", "V-ST-41"),
	vectorDeviations("sentry-go", "sentry-go v0.50.0 continues sentry-trace values in uppercase hex", "V-ST-4"),
	vectorDeviations("sentry-go", "sentry-go v0.50.0 rejects a sentry-trace with a trailing dash", "V-ST-8"),
	vectorDeviations("sentry-go", "sentry-go v0.50.0 continues a sentry-trace with an all-zero span id", "V-ST-14"),
	vectorDeviations("sentry-go", "sentry-go v0.50.0 starts a new trace when sentry-trace has several values, "+
		"comma-separated or on several lines, instead of taking the first non-empty one",
		"V-ST-28", "V-ST-38", "V-ST-40", "V-ST-41"),
)

// vectorDeviations lists one departure from the sentry-trace vectors ids.
func vectorDeviations(impl, why string, ids ...string) []deviation {
	out := make([]deviation, len(ids))
	for i, id := range ids {
		out[i] = deviation{Impl: impl, Check: CheckSentryTrace, Contains: []string{id + " ("}, Why: why}
	}
	return out
}

const browserRewritesSampleRand = "@sentry/browser 11.12.0 rewrites a continued sample_rand through a JavaScript number " +
	"(0.0012340 becomes 0.001234), in its baggage and its envelopes"

const nodeRewritesSampleRand = "@sentry/node 11.12.0 rewrites an incoming sample_rand as the shortest number " +
	"(0.461680 becomes 0.46168), in its baggage and its envelopes"

// String formats a check as "hop (impl): name: error" or "...: ok".
func (c Check) String() string {
	if c.Err == nil {
		return fmt.Sprintf("%s (%s): %s: ok", c.Hop, c.Impl, c.Name)
	}
	return fmt.Sprintf("%s (%s): %s: %v", c.Hop, c.Impl, c.Name, c.Err)
}

// Deviation returns the known departure of c's implementation that
// explains c's failure, or "" when c passed or no known one does.
func (c Check) Deviation() string {
	if c.Err == nil {
		return ""
	}
	msg := c.Err.Error()
	for _, d := range deviations {
		if d.Impl == c.Impl && d.Check == c.Name && containsAll(msg, d.Contains) {
			return d.Why
		}
	}
	return ""
}

func containsAll(s string, subs []string) bool {
	for _, sub := range subs {
		if !strings.Contains(s, sub) {
			return false
		}
	}
	return true
}

// Failures returns the checks that failed and are not known deviations.
func Failures(checks []Check) []Check {
	var out []Check
	for _, c := range checks {
		if c.Err != nil && c.Deviation() == "" {
			out = append(out, c)
		}
	}
	return out
}
