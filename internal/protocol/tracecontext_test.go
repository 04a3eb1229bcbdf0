package protocol

import (
	"regexp"
	"strconv"
	"strings"
	"testing"

	"go.opentelemetry.io/otel/trace"

	"github.com/otelsentry/otelsentry/internal/vectors"
)

// FuzzTraceContext checks the W3C reader against a reference written the
// plain way, with the grammar as regular expressions, and checks that what
// is written for the result reads back the same.
func FuzzTraceContext(f *testing.F) {
	for _, c := range vectors.W3C() {
		f.Add(strings.Join(c.Traceparent, "\n"), strings.Join(c.Tracestate, "\n"))
	}
	f.Add("00-"+vectors.T+"-"+vectors.S+"-01", "sentry=s:1;r:0.5,a=1")
	f.Add(" 00-"+vectors.T+"-"+vectors.S+"-02 ", "a=1,a=2,@b=1")
	f.Fuzz(func(t *testing.T, parents, states string) {
		parentLines, stateLines := strings.Split(parents, "\n"), strings.Split(states, "\n")
		got, dropped := ExtractTraceContext(parentLines, stateLines)
		want, wantDropped := referenceTraceContext(parentLines, stateLines)
		if !got.Equal(want) || dropped != wantDropped {
			t.Fatalf("ExtractTraceContext(%q, %q) = %v (%d dropped), reference %v (%d dropped)",
				parentLines, stateLines, got, dropped, want, wantDropped)
		}
		if !got.IsValid() {
			return
		}
		written := Tracestate(got.TraceState())
		if len(written) > maxTracestateLength {
			t.Fatalf("tracestate of %d characters", len(written))
		}
		back, _ := ExtractTraceContext([]string{Traceparent(got)}, []string{written})
		if back.TraceID() != got.TraceID() || back.SpanID() != got.SpanID() || back.TraceFlags() != got.TraceFlags() {
			t.Fatalf("%v written and read back as %v", got, back)
		}
		// Where nothing had to be left out, the list reads back whole.
		if written == got.TraceState().String() && back.TraceState().String() != written {
			t.Fatalf("trace state %q read back as %q", got.TraceState(), back.TraceState())
		}
	})
}

var (
	referenceKey    = regexp.MustCompile(`^[0-9a-z][_0-9a-z\-*/@]{0,255}$`)
	referenceValue  = regexp.MustCompile(`^[\x20-\x2b\x2d-\x3c\x3e-\x7e]{0,255}[\x21-\x2b\x2d-\x3c\x3e-\x7e]$`)
	referenceParent = regexp.MustCompile(`^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?$`)
)

// referenceTraceContext reads the lines by the package's rules, the plain
// way.
func referenceTraceContext(parents, states []string) (trace.SpanContext, int) {
	var nonBlank []string
	for _, l := range parents {
		if strings.Trim(l, " \t") != "" {
			nonBlank = append(nonBlank, strings.Trim(l, " \t"))
		}
	}
	if len(nonBlank) != 1 {
		return trace.SpanContext{}, 0
	}
	m := referenceParent.FindStringSubmatch(nonBlank[0])
	if m == nil || m[1] == "ff" || m[1] == "00" && (m[5] != "" || m[4] > "03") {
		return trace.SpanContext{}, 0
	}
	tid, tidErr := trace.TraceIDFromHex(m[2])
	sid, sidErr := trace.SpanIDFromHex(m[3])
	flags, flagsErr := strconv.ParseUint(m[4], 16, 8)
	if tidErr != nil || sidErr != nil || flagsErr != nil {
		return trace.SpanContext{}, 0
	}
	sc := trace.NewSpanContext(trace.SpanContextConfig{TraceID: tid, SpanID: sid,
		TraceFlags: trace.TraceFlags(flags) & (trace.FlagsSampled | trace.FlagsRandom), Remote: true})
	var members []string
	seen := map[string]bool{}
	count, dropped, invalid := 0, 0, false
	for _, l := range states {
		for _, raw := range strings.Split(l, ",") {
			member := strings.Trim(raw, " \t")
			if member == "" {
				continue
			}
			count++
			key, value, ok := strings.Cut(member, "=")
			if !ok || !referenceKey.MatchString(key) || !referenceValue.MatchString(value) {
				invalid = true
			}
			if invalid || seen[key] {
				continue
			}
			seen[key] = true
			if _, err := (trace.TraceState{}).Insert(key, value); err != nil {
				dropped++
				continue
			}
			members = append(members, member)
		}
	}
	ts, _ := trace.ParseTraceState(strings.Join(members, ","))
	if invalid || count > maxTracestateMembers {
		ts, dropped = trace.TraceState{}, 0
	}
	return sc.WithTraceState(ts), dropped
}
