package protocol

import (
	"strings"

	"go.opentelemetry.io/otel/trace"
)

// TraceStateKey is the key of the one trace state member this project
// writes.
const TraceStateKey = "sentry"

// maxTraceStateValue is the W3C limit for a trace state member's value.
const maxTraceStateValue = 256

// TraceStateMember is the content of the "sentry" trace state member, the
// Sentry state that follows every span even where only the SpanContext is
// handed on. Its wire form is
//
//	sentry=s:<1|0|d>;r:<sample_rand>[;t:<rate>][;h:1][;n:<name>]
//
// Extract writes s and r on the remote parent; the sampling package writes
// the other fields on the spans it samples.
type TraceStateMember struct {
	// Decision is the trace's Sentry decision (s).
	Decision Decision
	// SampleRand is the trace's sample_rand (r), as propagated.
	SampleRand string
	// Rate is the rate of a decision made in this process (t), or "".
	Rate string
	// Head marks this process as the head of the trace (h:1).
	Head bool
	// Transaction is the head's transaction name (n), or "".
	Transaction string
}

// ParseTraceState returns the sentry member of ts. It reports false when
// there is none or its decision field is missing or invalid. Unknown fields
// are ignored; fields that are not valid for their key are left empty.
func ParseTraceState(ts trace.TraceState) (TraceStateMember, bool) {
	return parseTraceStateValue(ts.Get(TraceStateKey))
}

func parseTraceStateValue(v string) (m TraceStateMember, ok bool) {
	for v != "" {
		field := v
		if i := strings.IndexByte(v, ';'); i >= 0 {
			field, v = v[:i], v[i+1:]
		} else {
			v = ""
		}
		// Every field this project reads has a one-letter key, with or
		// without ":value".
		if len(field) == 0 || len(field) > 1 && field[1] != ':' {
			continue
		}
		var val string
		if len(field) > 2 {
			val = field[2:]
		}
		switch field[0] {
		case 's':
			switch val {
			case "1":
				m.Decision, ok = Sampled, true
			case "0":
				m.Decision, ok = NotSampled, true
			case "d":
				m.Decision, ok = Deferred, true
			}
		case 'r':
			if validSampleRand(val) {
				m.SampleRand = val
			}
		case 't':
			if _, valid := ParseRate(val); valid {
				m.Rate = val
			}
		case 'h':
			m.Head = val == "1"
		case 'n':
			if name, valid := percentDecode(val); valid {
				m.Transaction = name
			}
		}
	}
	return m, ok
}

// Insert returns ts with the sentry member set to m, placed first as W3C
// requires for an updated member. Other members are kept; when ts is full,
// OpenTelemetry drops the right-most one. A transaction name that would
// break the 256-character limit is left out; other invalid field values
// make Insert fail.
func (m TraceStateMember) Insert(ts trace.TraceState) (trace.TraceState, error) {
	return ts.Insert(TraceStateKey, m.String())
}

// String returns the member's value in wire form.
func (m TraceStateMember) String() string {
	var buf [maxTraceStateValue]byte
	return string(m.appendTo(buf[:0]))
}

func (m TraceStateMember) appendTo(dst []byte) []byte {
	start := len(dst)
	dst = append(dst, 's', ':', decisionChar(m.Decision))
	if m.SampleRand != "" {
		dst = append(append(dst, ";r:"...), m.SampleRand...)
	}
	if m.Rate != "" {
		dst = append(append(dst, ";t:"...), m.Rate...)
	}
	if m.Head {
		dst = append(dst, ";h:1"...)
	}
	if m.Transaction != "" && len(dst)-start+len(";n:")+nameEncodedLen(m.Transaction) <= maxTraceStateValue {
		dst = appendNameEncoded(append(dst, ";n:"...), m.Transaction)
	}
	return dst
}

// nameNeedsEscape reports the bytes that the n field percent-encodes:
// field and member delimiters, space, '%' and anything outside 0x21-0x7E.
func nameNeedsEscape(c byte) bool {
	switch c {
	case '%', ',', ';', ':', '=', ' ':
		return true
	}
	return c < 0x21 || c > 0x7e
}

func nameEncodedLen(s string) int {
	n := len(s)
	for i := 0; i < len(s); i++ {
		if nameNeedsEscape(s[i]) {
			n += 2
		}
	}
	return n
}

func appendNameEncoded(dst []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; nameNeedsEscape(c) {
			dst = append(dst, '%', upperHex[c>>4], upperHex[c&0x0f])
		} else {
			dst = append(dst, c)
		}
	}
	return dst
}
