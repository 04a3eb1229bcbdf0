package protocol

// The W3C Trace Context headers, traceparent and tracestate, read and written
// by the current W3C rules and over every line a carrier holds, for
// propagator.Composite.
//
// Where a request brings one line of each, as nearly every one does, the
// outcome is the SpanContext that propagation.TraceContext builds, and
// reading it costs what that does. The rules differ where several lines
// come, or where OpenTelemetry would drop a whole list for one member:
//
//   - two or more traceparent lines make the parent invalid;
//   - tracestate lines are joined into one list, and blank lines skipped;
//   - a key that appears twice keeps its first member;
//   - a member whose key the current W3C grammar allows but
//     trace.TraceState does not (a key such as "foo@" or "t@vvvvvvvvvvvvvvv",
//     from the multi-tenant forms that OpenTelemetry's older grammar lacks)
//     is dropped alone, since no SpanContext can carry it;
//   - any other invalid member, or a 33rd, drops the whole list, and the
//     parent still holds.
//
// Written, tracestate is one line of at most 32 members and 512
// characters, the "sentry" member first.
import (
	"strings"

	"go.opentelemetry.io/otel/trace"
)

// The header keys, as carriers are given them.
const (
	HeaderTraceparent = "traceparent"
	HeaderTracestate  = "tracestate"
)

const (
	// maxTracestateMembers and maxTracestateLength are the W3C limits of a
	// tracestate list; a key, like a value, holds at most 256 characters.
	maxTracestateMembers = 32
	maxTracestateLength  = 512
	maxTraceStateKey     = 256
	// longTracestateMember is the length above which a member goes first
	// when a written list is too long.
	longTracestateMember = 128
)

// ExtractTraceContext returns the remote SpanContext that the traceparent and
// tracestate lines carry, invalid when the parent is. dropped counts the
// members that trace.TraceState cannot hold and that were left out alone.
func ExtractTraceContext(parents, states []string) (sc trace.SpanContext, dropped int) {
	line, ok := onlyLine(parents)
	if !ok {
		return trace.SpanContext{}, 0
	}
	scc, ok := parseTraceparent(trimOWS(line))
	if !ok {
		return trace.SpanContext{}, 0
	}
	scc.TraceState, dropped = parseTracestate(states)
	scc.Remote = true
	return trace.NewSpanContext(scc), dropped
}

// onlyLine returns the one line of lines that is not blank, reporting
// false for none or several.
func onlyLine(lines []string) (string, bool) {
	var only string
	n := 0
	for _, l := range lines {
		if trimOWS(l) != "" {
			only = l
			n++
		}
	}
	return only, n == 1
}

// parseTraceparent parses "version-traceid-parentid-flags". Version 00
// takes nothing after the flags, and no flag but sampled and random; a
// later version reads the same four fields and ignores what follows a
// dash after them; version ff is invalid.
func parseTraceparent(v string) (scc trace.SpanContextConfig, ok bool) {
	const fields = 2 + 1 + 32 + 1 + 16 + 1 + 2
	if len(v) < fields || v[2] != '-' || v[35] != '-' || v[52] != '-' {
		return scc, false
	}
	var version, flags [1]byte
	if !decodeLowerHex(version[:], v[0:2]) || version[0] == 0xff ||
		!decodeLowerHex(scc.TraceID[:], v[3:35]) || !decodeLowerHex(scc.SpanID[:], v[36:52]) ||
		!decodeLowerHex(flags[:], v[53:55]) {
		return scc, false
	}
	switch rest := v[fields:]; {
	case version[0] == 0 && (rest != "" || flags[0] > byte(trace.FlagsSampled|trace.FlagsRandom)):
		return scc, false
	case rest != "" && rest[0] != '-':
		return scc, false
	}
	scc.TraceFlags = trace.TraceFlags(flags[0]) & (trace.FlagsSampled | trace.FlagsRandom)
	return scc, scc.TraceID.IsValid() && scc.SpanID.IsValid()
}

// parseTracestate returns the list the tracestate lines carry. A single
// line that OpenTelemetry reads whole is taken as it reads it; anything
// else goes by the package's rules.
func parseTracestate(lines []string) (trace.TraceState, int) {
	joined := joinLines(lines)
	if ts, err := trace.ParseTraceState(joined); err == nil {
		return ts, 0
	}
	var kept []string
	seen := map[string]bool{}
	count, dropped := 0, 0
	for rest := joined; rest != ""; {
		var m string
		m, rest, _ = strings.Cut(rest, ",")
		if m = trimOWS(m); m == "" {
			continue
		}
		if count++; count > maxTracestateMembers {
			return trace.TraceState{}, 0
		}
		key, value, ok := strings.Cut(m, "=")
		if !ok || !validKey(key) || !validValue(value) {
			return trace.TraceState{}, 0
		}
		if seen[key] {
			continue
		}
		seen[key] = true
		if _, err := (trace.TraceState{}).Insert(key, value); err != nil {
			dropped++
			continue
		}
		kept = append(kept, m)
	}
	// Every member left is one OpenTelemetry holds, once.
	ts, _ := trace.ParseTraceState(strings.Join(kept, ","))
	return ts, dropped
}

// joinLines joins the lines that are not blank with commas, copying
// nothing for a single line.
func joinLines(lines []string) string {
	if len(lines) == 1 {
		return lines[0]
	}
	var b strings.Builder
	for _, l := range lines {
		if trimOWS(l) == "" {
			continue
		}
		if b.Len() > 0 {
			b.WriteByte(',')
		}
		b.WriteString(l)
	}
	return b.String()
}

// validKey reports the W3C key grammar: a lowercase letter or a digit,
// then up to 255 lowercase letters, digits and "_-*/@".
func validKey(k string) bool {
	if k == "" || len(k) > maxTraceStateKey || !isLowerAlnum(k[0]) {
		return false
	}
	for i := 1; i < len(k); i++ {
		switch c := k[i]; {
		case isLowerAlnum(c), c == '_', c == '-', c == '*', c == '/', c == '@':
		default:
			return false
		}
	}
	return true
}

// validValue reports the W3C value grammar: 1 to 256 printable ASCII
// characters other than ',' and '=', not ending with a space.
func validValue(v string) bool {
	if v == "" || len(v) > maxTraceStateValue || v[len(v)-1] == ' ' {
		return false
	}
	for i := 0; i < len(v); i++ {
		if c := v[i]; c < 0x20 || c > 0x7e || c == ',' || c == '=' {
			return false
		}
	}
	return true
}

// Traceparent returns the traceparent value for sc: version 00, and the
// sampled and random flags of sc.
func Traceparent(sc trace.SpanContext) string {
	tid, sid := sc.TraceID(), sc.SpanID()
	flags := byte(sc.TraceFlags() & (trace.FlagsSampled | trace.FlagsRandom))
	var buf [2 + 1 + 32 + 1 + 16 + 1 + 2]byte
	b := append(buf[:0], '0', '0', '-')
	b = appendLowerHex(b, tid[:])
	b = append(b, '-')
	b = appendLowerHex(b, sid[:])
	b = append(b, '-', lowerHex[flags>>4], lowerHex[flags&0x0f])
	return string(b)
}

// Tracestate returns the tracestate value for ts, one line: the "sentry"
// member first, then the others in their order. Members longer than 128
// characters go first, from the right, then the others from the right,
// until the line holds at most 32 members and 512 characters; the
// "sentry" member stays. trace.TraceState itself holds at most 32.
func Tracestate(ts trace.TraceState) string {
	if s := ts.String(); len(s) <= maxTracestateLength && (ts.Get(TraceStateKey) == "" || strings.HasPrefix(s, TraceStateKey+"=")) {
		return s
	}
	var members []string
	size := -1
	ts.Walk(func(key, value string) bool {
		m := key + "=" + value
		if key == TraceStateKey {
			members = append([]string{m}, members...)
		} else {
			members = append(members, m)
		}
		size += len(m) + 1
		return true
	})
	for _, long := range []bool{true, false} {
		for i := len(members) - 1; i >= 0 && size > maxTracestateLength; i-- {
			if m := members[i]; !strings.HasPrefix(m, TraceStateKey+"=") && (!long || len(m) > longTracestateMember) {
				size -= len(m) + 1
				members = append(members[:i], members[i+1:]...)
			}
		}
	}
	return strings.Join(members, ",")
}
