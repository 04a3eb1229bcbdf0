package protocol

import (
	"strings"

	"go.opentelemetry.io/otel/trace"
)

// HeaderSentryTrace is the key of the sentry-trace header, as carriers are
// given it.
const HeaderSentryTrace = "sentry-trace"

const (
	traceIDHexLen = 32
	spanIDHexLen  = 16
	// MaxSentryTraceLen is the longest valid value: ids, two dashes, a flag.
	MaxSentryTraceLen = traceIDHexLen + 1 + spanIDHexLen + 2
)

// FirstSentryTrace returns the one candidate of a carrier's sentry-trace
// values: the first part, split on commas, that is not blank. Later parts
// are never candidates, even when the first is invalid.
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

// SentryTrace returns the sentry-trace value for sc, or "" for an invalid
// sc.
func SentryTrace(sc trace.SpanContext) string {
	if !sc.IsValid() {
		return ""
	}
	var buf [MaxSentryTraceLen]byte
	return string(AppendSentryTrace(buf[:0], sc.TraceID(), sc.SpanID(), DecisionOf(sc)))
}

// AppendSentryTrace appends the sentry-trace value of the ids and decision
// to dst: "<trace id>-<span id>" followed by "-1" when sampled, "-0" when
// not, and nothing when deferred.
func AppendSentryTrace(dst []byte, tid trace.TraceID, sid trace.SpanID, d Decision) []byte {
	dst = appendLowerHex(dst, tid[:])
	dst = append(dst, '-')
	dst = appendLowerHex(dst, sid[:])
	switch d {
	case Sampled:
		dst = append(dst, '-', '1')
	case NotSampled:
		dst = append(dst, '-', '0')
	}
	return dst
}
