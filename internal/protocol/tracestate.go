package protocol

import (
	"strings"
	"unicode/utf8"

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
		var field string
		field, v, _ = strings.Cut(v, ";")
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

// RateField returns the t field of the sentry member of ts as it stands,
// unchecked: the rate of a decision made in this process, for a caller
// that keeps what it made of the last one and checks only a new one.
func RateField(ts trace.TraceState) string {
	for v := ts.Get(TraceStateKey); v != ""; {
		var field string
		field, v, _ = strings.Cut(v, ";")
		if rate, ok := strings.CutPrefix(field, "t:"); ok {
			return rate
		}
	}
	return ""
}

// DecisionOf returns the Sentry decision a SpanContext carries: Sampled
// when FlagsSampled is set, Deferred when its sentry trace state member
// says so, NotSampled otherwise.
func DecisionOf(sc trace.SpanContext) Decision {
	m, ok := ParseTraceState(sc.TraceState())
	return m.DecisionOf(sc, ok)
}

// DecisionOf is the package's DecisionOf for the SpanContext sc whose
// sentry member, parsed already, is m; ok reports that sc has one.
func (m TraceStateMember) DecisionOf(sc trace.SpanContext, ok bool) Decision {
	switch {
	case sc.IsSampled():
		return Sampled
	case ok && m.Decision == Deferred:
		return Deferred
	}
	return NotSampled
}

// Insert returns ts with the sentry member set to m, placed first as W3C
// requires for an updated member. Other members are kept; when ts is full,
// OpenTelemetry drops the right-most one. A transaction name that would
// break the 256-character limit is cut, at a character, to what fits;
// nameCut reports it. Other invalid field values make Insert fail.
func (m TraceStateMember) Insert(ts trace.TraceState) (_ trace.TraceState, nameCut bool, err error) {
	var buf [maxTraceStateValue]byte
	value, nameCut := m.appendTo(buf[:0])
	ts, err = ts.Insert(TraceStateKey, string(value))
	return ts, nameCut, err
}

func (m TraceStateMember) appendTo(dst []byte) (_ []byte, nameCut bool) {
	dst = append(dst, 's', ':', m.Decision.char())
	if m.SampleRand != "" {
		dst = append(append(dst, ";r:"...), m.SampleRand...)
	}
	if m.Rate != "" {
		dst = append(append(dst, ";t:"...), m.Rate...)
	}
	if m.Head {
		dst = append(dst, ";h:1"...)
	}
	if m.Transaction == "" || len(dst)+len(";n:")+1 > maxTraceStateValue {
		return dst, m.Transaction != ""
	}
	dst = append(dst, ";n:"...)
	return appendNameWithin(dst, m.Transaction, maxTraceStateValue)
}

// appendNameWithin appends the n field's encoding of name, percent-encoding
// field and member delimiters, space, '%' and bytes outside 0x21-0x7E,
// and stops at the last whole character that keeps dst within limit bytes.
// It reports whether it stopped before the end of name.
func appendNameWithin(dst []byte, name string, limit int) ([]byte, bool) {
	for i := 0; i < len(name); {
		_, size := utf8.DecodeRuneInString(name[i:])
		encoded := 0
		for _, c := range []byte(name[i : i+size]) {
			encoded++
			if nameNeedsEscape(c) {
				encoded += 2
			}
		}
		if len(dst)+encoded > limit {
			return dst, true
		}
		for _, c := range []byte(name[i : i+size]) {
			if nameNeedsEscape(c) {
				dst = appendEscape(dst, c)
			} else {
				dst = append(dst, c)
			}
		}
		i += size
	}
	return dst, false
}

// nameNeedsEscape reports the bytes that the n field percent-encodes.
func nameNeedsEscape(c byte) bool {
	switch c {
	case '%', ',', ';', ':', '=', ' ':
		return true
	}
	return c < 0x21 || c > 0x7e
}
