package sampling

import (
	"math/bits"
	"strings"

	"go.opentelemetry.io/otel/trace"

	"github.com/otelsentry/otelsentry/propagator"
)

// OpenTelemetry consistent probability sampling works on 56-bit values: the
// trace's randomness rv and a rejection threshold T; a span is kept when
// rv >= T. Sentry keeps a trace when sample_rand < rate. The mappings below
// make both agree (IO-2): rv = 2^56-1-floor(rand*2^56) and
// T = 2^56-floor(rate*2^56). Scaling a float64 by 2^56 is exact, so only
// the floors round.
const (
	otKey        = "ot"
	rvHexDigits  = 14
	randomnessOf = uint64(1) << 56
	maxOTValue   = 256
)

// rvFromSampleRand maps a sample_rand in [0,1) to OTel randomness.
func rvFromSampleRand(rand float64) uint64 {
	return randomnessOf - 1 - uint64(rand*float64(randomnessOf))
}

// thresholdFromRate maps a rate in [0,1] to an OTel rejection threshold.
func thresholdFromRate(rate float64) uint64 {
	return randomnessOf - uint64(rate*float64(randomnessOf))
}

// sampleRandFromRV maps OTel randomness back to a 6-decimal sample_rand,
// truncating: floor((2^56-1-rv)*10^6/2^56) in 128-bit integers, since the
// float64 quotient rounds (2^56-1)/2^56 up to 1 (IO-3).
func sampleRandFromRV(rv uint64) string {
	hi, lo := bits.Mul64(randomnessOf-1-rv, 1_000_000)
	n := hi<<8 | lo>>56
	var buf [8]byte
	buf[0], buf[1] = '0', '.'
	for i := 7; i >= 2; i-- {
		buf[i] = byte('0' + n%10)
		n /= 10
	}
	return string(buf[:])
}

// formatThreshold writes T as 14 lowercase hex digits without trailing
// zeros, "0" for zero.
func formatThreshold(t uint64) string {
	if s := strings.TrimRight(formatRV(t), "0"); s != "" {
		return s
	}
	return "0"
}

// formatRV writes a 56-bit value as exactly 14 lowercase hex digits.
func formatRV(v uint64) string {
	var buf [rvHexDigits]byte
	for i := rvHexDigits - 1; i >= 0; i-- {
		buf[i] = "0123456789abcdef"[v&0xf]
		v >>= 4
	}
	return string(buf[:])
}

// parseHex56 parses 1 to 14 lowercase hex digits, right-padded with zeros
// to 14 (th), or exactly 14 when exact is set (rv).
func parseHex56(s string, exact bool) (uint64, bool) {
	if s == "" || len(s) > rvHexDigits || exact && len(s) != rvHexDigits {
		return 0, false
	}
	var v uint64
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case '0' <= c && c <= '9':
			v = v<<4 | uint64(c-'0')
		case 'a' <= c && c <= 'f':
			v = v<<4 | uint64(c-'a'+10)
		default:
			return 0, false
		}
	}
	return v << (4 * (rvHexDigits - len(s))), true
}

// otState is the parsed "ot" trace state member.
type otState struct {
	rv, th       uint64
	hasRV, hasTH bool
	others       []string // other sub-keys, verbatim and in order
}

func parseOT(ts trace.TraceState) otState {
	var ot otState
	for v := ts.Get(otKey); v != ""; {
		var field string
		field, v, _ = strings.Cut(v, ";")
		key, val, _ := strings.Cut(field, ":")
		switch key {
		case "rv":
			ot.rv, ot.hasRV = parseHex56(val, true)
		case "th":
			ot.th, ot.hasTH = parseHex56(val, false)
		default:
			// OTel sub-keys are key:value without spaces; others are dropped.
			if strings.Contains(field, ":") && !strings.Contains(field, " ") {
				ot.others = append(ot.others, field)
			}
		}
	}
	return ot
}

// insert writes ot into ts; other sub-keys that would break the 256-byte
// limit are left out, last first.
func (ot otState) insert(ts trace.TraceState) (trace.TraceState, error) {
	var b strings.Builder
	if ot.hasRV {
		b.WriteString("rv:" + formatRV(ot.rv))
	}
	if ot.hasTH {
		if b.Len() > 0 {
			b.WriteByte(';')
		}
		b.WriteString("th:" + formatThreshold(ot.th))
	}
	for _, f := range ot.others {
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

// consistentOT updates the "ot" member for a decision (IO-4, IO-5): rv is
// added from sample_rand unless one exists; th is set for a trace sampled at
// this sampler's own rate, kept on an inherited decision, and removed
// otherwise, and whenever rv < th.
func consistentOT(ts trace.TraceState, rand float64, d propagator.Decision, localRate float64, local bool) (trace.TraceState, error) {
	ot := parseOT(ts)
	if !ot.hasRV {
		ot.rv, ot.hasRV = rvFromSampleRand(rand), true
	}
	switch {
	case local && d == propagator.Sampled && localRate > 0:
		ot.th, ot.hasTH = thresholdFromRate(localRate), true
	case local || d != propagator.Sampled:
		ot.hasTH = false
	}
	// A threshold above rv would tell OTel samplers to drop a sampled
	// trace; that happens only with an upstream rv that disagrees with
	// sample_rand, and then no threshold is written.
	if ot.hasTH && ot.rv < ot.th {
		ot.hasTH = false
	}
	return ot.insert(ts)
}
