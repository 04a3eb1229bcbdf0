package protocol

import (
	"strings"

	"go.opentelemetry.io/otel/trace"
)

// OpenTelemetry consistent probability sampling keeps, in the "ot" trace
// state member, the trace's randomness rv and the rejection threshold th
// of the rate a span was sampled at: 56-bit values, a span is kept when
// rv >= th. Sentry keeps a trace when sample_rand < rate. The mappings below
// make both agree: rv = 2^56-1-floor(rand*2^56) and
// th = 2^56-floor(rate*2^56). Scaling a float64 by 2^56 is exact, so only
// the floors round.
const (
	otKey        = "ot"
	otHexDigits  = 14
	otRandomness = uint64(1) << 56
	maxOTValue   = 256
)

// OTMember is the parsed "ot" trace state member.
type OTMember struct {
	// RV is the trace's randomness, valid when HasRV is set.
	RV    uint64
	HasRV bool
	// TH is the rejection threshold, valid when HasTH is set.
	TH    uint64
	HasTH bool
	// others are the other sub-keys, verbatim and in order.
	others []string
}

// ParseOTMember returns the "ot" member of ts. Malformed rv and th are
// absent; other sub-keys are kept when they are key:value without spaces.
func ParseOTMember(ts trace.TraceState) OTMember {
	var ot OTMember
	for v := ts.Get(otKey); v != ""; {
		var field string
		field, v, _ = strings.Cut(v, ";")
		key, val, _ := strings.Cut(field, ":")
		switch key {
		case "rv":
			ot.RV, ot.HasRV = parseHex56(val, true)
		case "th":
			ot.TH, ot.HasTH = parseHex56(val, false)
		default:
			if strings.Contains(field, ":") && !strings.Contains(field, " ") {
				ot.others = append(ot.others, field)
			}
		}
	}
	return ot
}

// Insert writes m into ts as "ot=rv:…;th:…;<other sub-keys>", leaving out
// other sub-keys, last first, that would break the 256-byte limit, and
// removing the member when it is empty.
func (m OTMember) Insert(ts trace.TraceState) (trace.TraceState, error) {
	var b strings.Builder
	if m.HasRV {
		b.WriteString("rv:" + formatHex56(m.RV))
	}
	if m.HasTH {
		if b.Len() > 0 {
			b.WriteByte(';')
		}
		b.WriteString("th:" + formatThreshold(m.TH))
	}
	for _, f := range m.others {
		if b.Len()+1+len(f) > maxOTValue {
			continue
		}
		if b.Len() > 0 {
			b.WriteByte(';')
		}
		b.WriteString(f)
	}
	if b.Len() == 0 {
		return ts.Delete(otKey), nil
	}
	return ts.Insert(otKey, b.String())
}

// RVFromSampleRand maps a sample_rand in [0,1) to OTel randomness.
func RVFromSampleRand(rand float64) uint64 {
	return otRandomness - 1 - uint64(rand*float64(otRandomness))
}

// ThresholdFromRate maps a rate in [0,1] to an OTel rejection threshold.
func ThresholdFromRate(rate float64) uint64 {
	return otRandomness - uint64(rate*float64(otRandomness))
}

// formatThreshold writes th as 14 lowercase hex digits without trailing
// zeros, "0" for zero.
func formatThreshold(th uint64) string {
	if s := strings.TrimRight(formatHex56(th), "0"); s != "" {
		return s
	}
	return "0"
}

// formatHex56 writes a 56-bit value as exactly 14 lowercase hex digits.
func formatHex56(v uint64) string {
	var buf [otHexDigits]byte
	for i := otHexDigits - 1; i >= 0; i-- {
		buf[i] = lowerHex[v&0xf]
		v >>= 4
	}
	return string(buf[:])
}

// parseHex56 parses 1 to 14 lowercase hex digits, right-padded with zeros
// to 14 (th), or exactly 14 when exact is set (rv).
func parseHex56(s string, exact bool) (uint64, bool) {
	if s == "" || len(s) > otHexDigits || exact && len(s) != otHexDigits {
		return 0, false
	}
	var v uint64
	for i := 0; i < len(s); i++ {
		d := lowerHexValue(s[i])
		if d < 0 {
			return 0, false
		}
		v = v<<4 | uint64(d)
	}
	return v << (4 * (otHexDigits - len(s))), true
}
