package runner

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/otelsentry/otelsentry/conformance/hop"
)

// Hop is one service of a chain.
type Hop struct {
	// Name identifies the hop in results, e.g. "node-r1".
	Name string
	// Impl names the implementation behind it ("otelsentry", "sentry-go",
	// "node", or the name of an implementation under test); Deviations are
	// keyed by it.
	Impl string
	// URL is the hop service's base URL, "http://host:port".
	URL string
	// Rate is the traces sample rate the service runs with; nil means none,
	// so its own decisions stay deferred.
	Rate *float64
}

// Rate returns a pointer to r, for Hop.Rate.
func Rate(r float64) *float64 { return &r }

// Case is what the runner sends to the first hop, acting as the upstream
// Sentry SDK. Its templates name the run's trace id and span id as {trace}
// and {span}, so that every run has its own trace.
type Case struct {
	ID          string
	Description string
	// SentryTrace and Baggage are the incoming headers; "" sends none.
	SentryTrace string
	Baggage     string
}

// Cases returns the incoming traces every chain runs with: none (the first
// hop is the head), and sampled, negative and deferred sentry-trace, each
// with and without a DSC; every baggage also has third-party members.
func Cases() []Case {
	const dsc = "sentry-trace_id={trace},sentry-public_key=49d0f7386ad645858ae85020e393bef3," +
		"sentry-release=web%401.0,sentry-environment=staging,sentry-transaction=%2Fcheckout"
	const thirdParty = "vendor=v1,other=a%20b;prop=1"
	return []Case{
		{ID: "head", Description: "no incoming trace: the first hop starts it"},
		{ID: "sampled", Description: "-1 with a DSC", SentryTrace: "{trace}-{span}-1",
			Baggage: thirdParty + "," + dsc + ",sentry-sample_rate=0.5,sentry-sample_rand=0.25,sentry-sampled=true"},
		{ID: "sampled-no-dsc", Description: "-1 with third-party baggage only", SentryTrace: "{trace}-{span}-1", Baggage: thirdParty},
		{ID: "negative", Description: "-0 with a DSC", SentryTrace: "{trace}-{span}-0",
			Baggage: dsc + ",sentry-sample_rate=0.5,sentry-sample_rand=0.75,sentry-sampled=false," + thirdParty},
		{ID: "negative-no-dsc", Description: "-0 without baggage", SentryTrace: "{trace}-{span}-0"},
		{ID: "deferred", Description: "no flag, with a DSC", SentryTrace: "{trace}-{span}",
			Baggage: dsc + ",sentry-sample_rand=0.25," + thirdParty},
		{ID: "deferred-no-dsc", Description: "no flag, without baggage", SentryTrace: "{trace}-{span}"},
	}
}

// Check is one assertion about one hop's behaviour.
type Check struct {
	// Hop and Impl name the hop whose behaviour was checked.
	Hop, Impl string
	// Name is the rule checked, one of the Check* constants.
	Name string
	// Err says how the hop departed from the rule; nil means it kept it.
	Err error
}

// The rules Run checks.
const (
	CheckReached   = "reached"          // the hop answered with a report
	CheckTraceID   = "one trace id"     // the hop joined the incoming trace
	CheckParent    = "parent span"      // its parent is the previous hop's outgoing span
	CheckDecision  = "decision"         // sampled, negative or deferred as the trace decided
	CheckSentFlag  = "sent flag"        // the flag it sent says the same
	CheckDSC       = "dsc unchanged"    // it sent the DSC it received, as the rules allow
	CheckHeadDSC   = "head dsc"         // as the head, it sent a complete DSC
	CheckThirdPart = "third-party kept" // it forwarded no incoming third-party member

	// Checks of what a hop sent to Sentry, which a runner of hop reports
	// cannot see; tests with an ingest make them.
	CheckRecorded    = "recorded"     // it recorded its span exactly when sampled
	CheckEnvelopeDSC = "envelope dsc" // its envelopes' trace header is the DSC it propagates
)

// Result is one run of a case through a chain.
type Result struct {
	// Hops is the chain.
	Hops []Hop
	// Reports holds each hop's report, in chain order; nil from the hop
	// where the chain stopped.
	Reports []*hop.Report
	// TraceID is the run's trace: the incoming one, or the one its head
	// started ("" when the head did not answer).
	TraceID string
	// Checks are the results of every rule for every hop.
	Checks []Check

	in incoming
}

// Expand writes a trace id and a span id of their own for {trace} and
// {span} in a case's sentry-trace and baggage, so that every run has its
// own trace.
func Expand(sentryTrace, baggage string) (string, string) {
	expand := strings.NewReplacer("{trace}", randomHex(16), "{span}", randomHex(8)).Replace
	return expand(sentryTrace), expand(baggage)
}

// Run sends c through the chain of hops, with a trace id and span id of
// its own, and checks each hop's report.
func Run(ctx context.Context, client *http.Client, hops []Hop, c Case) *Result {
	sentryTrace, baggage := Expand(c.SentryTrace, c.Baggage)
	res := &Result{Hops: hops, in: incoming{sentryTrace: sentryTrace, baggage: baggage}}
	header := http.Header{}
	if res.in.sentryTrace != "" {
		header.Set(hop.HeaderSentryTrace, res.in.sentryTrace)
	}
	if res.in.baggage != "" {
		header.Set(hop.HeaderBaggage, res.in.baggage)
	}
	bases := make([]string, len(hops))
	for i, h := range hops {
		bases[i] = h.URL
	}
	first, err := hop.Fetch(ctx, client, hop.Chain(bases...), header)
	return evaluate(res, first, err)
}

// Evaluate checks the reports of a chain whose first hop received
// sentryTrace and baggage ("" for none), gathered otherwise than by Run:
// first is the first hop's report, and each Next the following hop's.
// It makes Run's checks, for hops that are no hop services, such as a
// browser.
func Evaluate(hops []Hop, sentryTrace, baggage string, first *hop.Report) *Result {
	res := &Result{Hops: hops, in: incoming{sentryTrace: sentryTrace, baggage: baggage}}
	return evaluate(res, first, nil)
}

// evaluate fills res from the first hop's report; err is why the chain
// stopped, if it did.
func evaluate(res *Result, first *hop.Report, err error) *Result {
	hops := res.Hops
	res.Reports = flatten(first, len(hops))
	if first != nil {
		res.TraceID = first.TraceID
	}
	for i, h := range hops {
		if res.Reports[i] == nil {
			cause := err
			if cause == nil {
				cause = errors.New("no report")
			}
			res.Checks = append(res.Checks, Check{Hop: h.Name, Impl: h.Impl, Name: CheckReached, Err: cause})
			break
		}
		res.Checks = append(res.Checks, res.checkHop(i)...)
	}
	return res
}

type incoming struct{ sentryTrace, baggage string }

// flatten lists the reports along the chain, nil where it stopped.
func flatten(r *hop.Report, n int) []*hop.Report {
	out := make([]*hop.Report, n)
	for i := 0; i < n && r != nil; i++ {
		out[i], r = r, r.Next
	}
	return out
}

// received returns the sentry-trace and baggage that hop i received.
func (res *Result) received(i int) (sentryTrace, baggage string) {
	if i == 0 {
		return res.in.sentryTrace, res.in.baggage
	}
	r := res.Reports[i]
	return r.Received[hop.HeaderSentryTrace], r.Received[hop.HeaderBaggage]
}

// continued reports whether hop i continued a trace rather than start one.
func (res *Result) continued(i int) bool { return i > 0 || res.in.sentryTrace != "" }

// checkHop checks hop i: what it joined, decided and sent on.
func (res *Result) checkHop(i int) []Check {
	h, r := res.Hops[i], res.Reports[i]
	check := func(name string, err error) Check { return Check{Hop: h.Name, Impl: h.Impl, Name: name, Err: err} }

	receivedTrace, _ := res.received(i)
	var checks []Check
	if i > 0 && receivedTrace != res.Reports[i-1].Sent[hop.HeaderSentryTrace] {
		checks = append(checks, check(CheckReached, fmt.Errorf("received sentry-trace %q, the previous hop sent %q",
			receivedTrace, res.Reports[i-1].Sent[hop.HeaderSentryTrace])))
	}
	if upstream, ok := parseSentryTrace(receivedTrace); ok {
		checks = append(checks, check(CheckTraceID, expectEqual("trace id", r.TraceID, upstream.traceID)))
		checks = append(checks, check(CheckParent, expectEqual("parent span id", r.ParentSpanID, upstream.spanID)))
	} else if i > 0 {
		checks = append(checks, check(CheckParent, fmt.Errorf("the previous hop sent no valid sentry-trace (%q)", receivedTrace)))
	}

	want := res.expectedDecision(i)
	// A hop without a rate passes an upstream sampled trace on as sampled
	// but records and sends nothing, as Sentry SDKs do.
	checks = append(checks, check(CheckDecision, expectEqual("recorded and sent", r.Sampled, want == sampled && h.Rate != nil)))
	if r.Next == nil && r.Sent == nil {
		return checks
	}
	sent, ok := parseSentryTrace(r.Sent[hop.HeaderSentryTrace])
	var err error
	switch {
	case !ok:
		err = fmt.Errorf("sent no valid sentry-trace (%q)", r.Sent[hop.HeaderSentryTrace])
	case sent.traceID != r.TraceID:
		err = fmt.Errorf("sent trace id %s, its span is on %s", sent.traceID, r.TraceID)
	case sent.spanID == r.ParentSpanID:
		err = fmt.Errorf("sent its parent's span id %s instead of one of its own", sent.spanID)
	case sent.flag != want.flag():
		err = fmt.Errorf("sent flag %q, want %q", sent.flag, want.flag())
	}
	checks = append(checks, check(CheckSentFlag, err))

	_, receivedBaggage := res.received(i)
	_, inOther := splitBaggage(receivedBaggage)
	gotSentry, gotOther := splitBaggage(r.Sent[hop.HeaderBaggage])
	var forwarded []string
	for k := range inOther {
		if _, ok := gotOther[k]; ok {
			forwarded = append(forwarded, k)
		}
	}
	slices.Sort(forwarded)
	err = nil
	if len(forwarded) > 0 {
		err = fmt.Errorf("forwarded incoming third-party members %v", forwarded)
	}
	checks = append(checks, check(CheckThirdPart, err))
	return append(checks, res.CheckDSC(i, "", gotSentry))
}

// CheckDSC checks a DSC that hop i sent, with keys without the "sentry-"
// prefix and values decoded: in its baggage, or in the trace header of its
// envelopes. A head must send a complete DSC. A continued trace keeps the
// DSC it received: only sample_rand may be added when it is missing, and
// sample_rate set by the hop that decided a deferred trace itself, unless
// the DSC arrived without any member (frozen empty). name is the check's
// name; "" means CheckDSC or CheckHeadDSC.
func (res *Result) CheckDSC(i int, name string, got map[string]string) Check {
	h, r := res.Hops[i], res.Reports[i]
	if !res.continued(i) {
		if name == "" {
			name = CheckHeadDSC
		}
		return Check{Hop: h.Name, Impl: h.Impl, Name: name, Err: headDSC(h, r, got, res.expectedDecision(i))}
	}
	if name == "" {
		name = CheckDSC
	}
	receivedTrace, receivedBaggage := res.received(i)
	inSentry, _ := splitBaggage(receivedBaggage)
	want := maps.Clone(inSentry)
	if _, ok := inSentry["sample_rand"]; !ok {
		if v, ok := got["sample_rand"]; ok {
			want["sample_rand"] = v
		}
	}
	upstream, _ := parseSentryTrace(receivedTrace)
	if v, ok := got["sample_rate"]; ok && upstream.decision() == deferred && h.Rate != nil && len(inSentry) > 0 {
		want["sample_rate"] = v
	}
	var err error
	switch {
	case got["sample_rand"] == "":
		err = fmt.Errorf("DSC %s has no sample_rand (received %s)", formatMembers(got), formatMembers(inSentry))
	case !maps.Equal(got, want):
		err = fmt.Errorf("DSC %s: %s (received %s)", formatMembers(got), diff(want, got), formatMembers(inSentry))
	}
	return Check{Hop: h.Name, Impl: h.Impl, Name: name, Err: err}
}

// diff says how got departs from want, key by key.
func diff(want, got map[string]string) string {
	var out []string
	for _, k := range slices.Sorted(maps.Keys(want)) {
		g, ok := got[k]
		switch {
		case !ok:
			out = append(out, "dropped "+k)
		case g != want[k] && k == "sample_rand" && sameNumber(g, want[k]):
			out = append(out, fmt.Sprintf("rewrote %s %s as %s", k, want[k], g))
		case g != want[k]:
			out = append(out, fmt.Sprintf("changed %s %s to %s", k, want[k], g))
		}
	}
	for _, k := range slices.Sorted(maps.Keys(got)) {
		if _, ok := want[k]; !ok {
			out = append(out, fmt.Sprintf("added %s=%s", k, got[k]))
		}
	}
	return strings.Join(out, "; ")
}

func sameNumber(a, b string) bool {
	x, errX := strconv.ParseFloat(a, 64)
	y, errY := strconv.ParseFloat(b, 64)
	return errX == nil && errY == nil && x == y
}

// headDSC checks the DSC that the head of a trace sent.
func headDSC(h Hop, r *hop.Report, got map[string]string, want decision) error {
	var missing []string
	for _, k := range []string{"trace_id", "sample_rand", "environment"} {
		if got[k] == "" {
			missing = append(missing, k)
		}
	}
	if want != deferred && h.Rate != nil {
		for _, k := range []string{"sample_rate", "sampled"} {
			if got[k] == "" {
				missing = append(missing, k)
			}
		}
	}
	switch {
	case len(missing) > 0:
		return fmt.Errorf("head DSC %s lacks %v", formatMembers(got), missing)
	case got["trace_id"] != r.TraceID:
		return fmt.Errorf("head DSC trace_id %s, trace %s", got["trace_id"], r.TraceID)
	case want == sampled && got["sampled"] == "false", want == notSampled && got["sampled"] == "true":
		return fmt.Errorf("head DSC sampled=%s contradicts the decision", got["sampled"])
	}
	return nil
}

// decision is a trace's sampling decision.
type decision int

const (
	deferred decision = iota
	sampled
	notSampled
)

func (d decision) flag() string {
	switch d {
	case sampled:
		return "1"
	case notSampled:
		return "0"
	}
	return ""
}

// expectedDecision is hop i's decision as the rules make it: a sampled or
// negative trace keeps its decision; a deferred one is decided by the
// first hop with a rate, comparing the trace's sample_rand with it.
func (res *Result) expectedDecision(i int) decision {
	receivedTrace, receivedBaggage := res.received(i)
	upstream, ok := parseSentryTrace(receivedTrace)
	if ok && upstream.decision() != deferred || res.Hops[i].Rate == nil {
		return upstream.decision()
	}
	rate := *res.Hops[i].Rate
	if rate >= 1 {
		return sampled
	}
	// The sample_rand the hop decided with: the one it received, else the
	// one it sent on.
	for _, b := range []string{receivedBaggage, res.Reports[i].Sent[hop.HeaderBaggage]} {
		members, _ := splitBaggage(b)
		if rand, err := strconv.ParseFloat(members["sample_rand"], 64); err == nil {
			if rand < rate {
				return sampled
			}
			break
		}
	}
	return notSampled
}

// sentryTrace is a parsed sentry-trace value.
type sentryTrace struct{ traceID, spanID, flag string }

func (s sentryTrace) decision() decision {
	switch s.flag {
	case "1":
		return sampled
	case "0":
		return notSampled
	}
	return deferred
}

// parseSentryTrace reads the first value of a sentry-trace header: two
// lowercase hex ids and an optional flag, reported as written.
func parseSentryTrace(v string) (sentryTrace, bool) {
	v, _, _ = strings.Cut(v, ",")
	parts := strings.Split(strings.Trim(v, " \t"), "-")
	if len(parts) < 2 || len(parts) > 3 || !isHex(parts[0], 32) || !isHex(parts[1], 16) {
		return sentryTrace{}, false
	}
	p := sentryTrace{traceID: parts[0], spanID: parts[1]}
	if len(parts) == 3 {
		p.flag = parts[2]
	}
	return p, true
}

func isHex(s string, n int) bool {
	if len(s) != n {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// splitBaggage returns the DSC of a baggage value (its Sentry members
// without the prefix, values percent-decoded: a DSC is unchanged when its
// decoded pairs are) and its third-party members, values as written.
func splitBaggage(b string) (sentry, other map[string]string) {
	sentry, other = map[string]string{}, map[string]string{}
	for _, member := range strings.Split(b, ",") {
		kv, _, _ := strings.Cut(member, ";")
		k, v, ok := strings.Cut(kv, "=")
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		if !ok || k == "" {
			continue
		}
		if key, ok := strings.CutPrefix(k, "sentry-"); ok {
			if decoded, err := url.PathUnescape(v); err == nil && decoded != "" {
				sentry[key] = decoded
			}
		} else {
			other[k] = v
		}
	}
	return sentry, other
}

func formatMembers(m map[string]string) string {
	keys := slices.Sorted(maps.Keys(m))
	for i, k := range keys {
		keys[i] = k + "=" + m[k]
	}
	return "{" + strings.Join(keys, ",") + "}"
}

func expectEqual[T comparable](what string, got, want T) error {
	if got != want {
		return fmt.Errorf("%s %v, want %v", what, got, want)
	}
	return nil
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
