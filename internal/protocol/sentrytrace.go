package protocol

import (
	"strings"

	"go.opentelemetry.io/otel/trace"
)

// Decision is a Sentry sampling decision for a trace. Its values are those
// of propagator.Decision, which converts from it.
type Decision uint8

const (
	// Deferred means nobody has decided yet; the next service decides.
	Deferred Decision = iota
	// Sampled means the trace is recorded.
	Sampled
	// NotSampled means the trace is not recorded.
	NotSampled
)

// DecisionOf returns the Sentry decision a SpanContext carries: Sampled
// when FlagsSampled is set, Deferred when its sentry trace state member
// says so, NotSampled otherwise.
func DecisionOf(sc trace.SpanContext) Decision {
	m, ok := ParseTraceState(sc.TraceState())
	return DecisionWith(sc, m, ok)
}

// DecisionWith is DecisionOf for a caller that has parsed sc's sentry
// member m already; ok reports whether sc has one.
func DecisionWith(sc trace.SpanContext, m TraceStateMember, ok bool) Decision {
	switch {
	case sc.IsSampled():
		return Sampled
	case ok && m.Decision == Deferred:
		return Deferred
	}
	return NotSampled
}

// decisionChar returns the decision's character in the sentry member.
func decisionChar(d Decision) byte {
	switch d {
	case Sampled:
		return '1'
	case NotSampled:
		return '0'
	}
	return 'd'
}

const (
	traceIDHexLen = 32
	spanIDHexLen  = 16
	// MaxSentryTraceLen is the longest valid value: ids, two dashes, a flag.
	MaxSentryTraceLen = traceIDHexLen + 1 + spanIDHexLen + 2
)

// SentryTrace returns the sentry-trace header value for sc:
// "<trace id>-<span id>" followed by "-1" when sampled, nothing when
// deferred and "-0" otherwise. It returns "" for an invalid sc.
func SentryTrace(sc trace.SpanContext) string {
	if !sc.IsValid() {
		return ""
	}
	var buf [MaxSentryTraceLen]byte
	return string(AppendSentryTrace(buf[:0], sc.TraceID(), sc.SpanID(), DecisionOf(sc)))
}

// AppendSentryTrace appends the sentry-trace value of the ids and decision
// to dst.
func AppendSentryTrace(dst []byte, tid trace.TraceID, sid trace.SpanID, d Decision) []byte {
	dst = appendHex(dst, tid[:])
	dst = append(dst, '-')
	dst = appendHex(dst, sid[:])
	switch d {
	case Sampled:
		dst = append(dst, '-', '1')
	case NotSampled:
		dst = append(dst, '-', '0')
	}
	return dst
}

const lowerHex = "0123456789abcdef"

func appendHex(dst, src []byte) []byte {
	for _, b := range src {
		dst = append(dst, lowerHex[b>>4], lowerHex[b&0x0f])
	}
	return dst
}

// ParseSentryTrace parses one sentry-trace candidate, trimmed of spaces
// and tabs. It accepts only lowercase hex, never all-zero ids, and an
// optional "-", "-0" or "-1".
func ParseSentryTrace(v string) (tid trace.TraceID, sid trace.SpanID, d Decision, ok bool) {
	v = trimOWS(v)
	if len(v) < traceIDHexLen+1+spanIDHexLen || len(v) > MaxSentryTraceLen ||
		v[traceIDHexLen] != '-' {
		return tid, sid, d, false
	}
	if !decodeLowerHex(tid[:], v[:traceIDHexLen]) ||
		!decodeLowerHex(sid[:], v[traceIDHexLen+1:traceIDHexLen+1+spanIDHexLen]) ||
		!tid.IsValid() || !sid.IsValid() {
		return tid, sid, d, false
	}
	switch v[traceIDHexLen+1+spanIDHexLen:] {
	case "", "-":
		d = Deferred
	case "-1":
		d = Sampled
	case "-0":
		d = NotSampled
	default:
		return tid, sid, d, false
	}
	return tid, sid, d, true
}

// FirstSentryTrace returns the first part of the values, split on commas,
// that is not blank. Later parts are never candidates.
func FirstSentryTrace(values []string) string {
	for _, v := range values {
		for v != "" {
			part, rest, _ := strings.Cut(v, ",")
			if part = trimOWS(part); part != "" {
				return part
			}
			v = rest
		}
	}
	return ""
}

func decodeLowerHex(dst []byte, src string) bool {
	for i := range dst {
		hi, lo := lowerHexValue(src[2*i]), lowerHexValue(src[2*i+1])
		if hi < 0 || lo < 0 {
			return false
		}
		dst[i] = byte(hi<<4 | lo)
	}
	return true
}

func lowerHexValue(c byte) int {
	switch {
	case '0' <= c && c <= '9':
		return int(c - '0')
	case 'a' <= c && c <= 'f':
		return int(c - 'a' + 10)
	}
	return -1
}

// trimOWS removes leading and trailing spaces and tabs, and nothing else.
// It runs several times per baggage member, where strings.Trim's cutset
// handling costs more than the loops.
func trimOWS(s string) string {
	start, end := 0, len(s)
	for start < end && (s[start] == ' ' || s[start] == '\t') {
		start++
	}
	for end > start && (s[end-1] == ' ' || s[end-1] == '\t') {
		end--
	}
	return s[start:end]
}
