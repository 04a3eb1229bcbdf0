package protocol

import (
	"encoding/binary"
	"math"
	"math/bits"
	"strconv"

	"go.opentelemetry.io/otel/trace"
)

const (
	// sampleRandSteps is the number of 6-decimal values in [0,1).
	sampleRandSteps = 1_000_000
	// maxSampleRandLen bounds an incoming sample_rand.
	maxSampleRandLen = 32
	// sampleRandLen is the length of a generated value, "0.dddddd".
	sampleRandLen = 8
)

// ParseSampleRand parses a sample_rand value. It is valid when it is an
// unsigned JSON number of at most 32 characters with 0 <= x < 1 (0 and
// false otherwise);
// "1", "1.0", "-0.1", "NaN" and "" are not.
func ParseSampleRand(s string) (float64, bool) {
	if len(s) > maxSampleRandLen {
		return 0, false
	}
	if x, ok := parseUnsignedJSONNumber(s); ok && x < 1 {
		return x, true
	}
	return 0, false
}

// validSampleRand reports whether ParseSampleRand accepts s. The usual
// form, "0." and at most 16 digits, is below 1 even after rounding to a
// float64, so it needs no conversion; every header is checked this way.
func validSampleRand(s string) bool {
	if len(s) == 1 && s[0] == '0' {
		return true
	}
	if 2 < len(s) && len(s) <= len("0.")+16 && s[0] == '0' && s[1] == '.' {
		digits := true
		for i := 2; i < len(s) && digits; i++ {
			digits = '0' <= s[i] && s[i] <= '9'
		}
		if digits {
			return true
		}
	}
	_, ok := ParseSampleRand(s)
	return ok
}

// ValidRate reports whether rate is a sample rate: a number in [0,1], not
// NaN.
func ValidRate(rate float64) bool { return rate >= 0 && rate <= 1 }

// ParseRate parses a sample_rate value: an unsigned JSON number in [0,1]
// (0 and false otherwise).
func ParseRate(s string) (float64, bool) {
	if len(s) > maxSampleRandLen {
		return 0, false
	}
	if x, ok := parseUnsignedJSONNumber(s); ok && x <= 1 {
		return x, true
	}
	return 0, false
}

// FormatRate formats a rate as the shortest decimal that parses back to
// it, without exponent ("1", "0.25"), as sample_rate is written.
// Negative zero is "0". A rate below about 1e-30 needs more than the 32
// characters ParseRate reads back; callers that must read it back check.
func FormatRate(rate float64) string {
	if rate == 0 {
		return "0"
	}
	return strconv.FormatFloat(rate, 'f', -1, 64)
}

// HeadSampleRand returns the sample_rand of a trace that no Sentry SDK has
// seen yet: "0." and six digits, taken from OTel's consistent-sampling
// randomness (ot=rv:…) when ts carries one, else derived from the
// trace id. Every span, sampler and Inject for the trace computes the same
// value without shared state.
func HeadSampleRand(traceID trace.TraceID, ts trace.TraceState) string {
	var buf [sampleRandLen]byte
	return string(appendHeadSampleRand(buf[:0], traceID, ts))
}

func appendHeadSampleRand(dst []byte, traceID trace.TraceID, ts trace.TraceState) []byte {
	if ot := ParseOTMember(ts); ot.HasRV {
		return appendSampleRandFromRV(dst, ot.RV)
	}
	return appendSampleRand(dst, traceHash(traceID)%sampleRandSteps)
}

// appendSampleRandFromRV maps OTel randomness back to a 6-decimal
// sample_rand, truncating: floor((2^56-1-rv)*10^6/2^56) in 128-bit
// integers, since the float64 quotient rounds (2^56-1)/2^56 up to 1.
func appendSampleRandFromRV(dst []byte, rv uint64) []byte {
	hi, lo := bits.Mul64(otRandomness-1-rv, sampleRandSteps)
	return appendSampleRand(dst, hi<<8|lo>>56)
}

// appendSampleRandOf appends the sample_rand that the sentry member m of
// sc carries, or, without one, the head sample_rand of sc's trace.
func appendSampleRandOf(dst []byte, sc trace.SpanContext, m TraceStateMember) []byte {
	if m.SampleRand != "" {
		return append(dst, m.SampleRand...)
	}
	return appendHeadSampleRand(dst, sc.TraceID(), sc.TraceState())
}

// backfillSampleRand appends the sample_rand for a continued trace that
// came without a valid one: deterministic in the trace id, below the
// incoming rate for a sampled trace, at or above it for a negative one.
func backfillSampleRand(dst []byte, traceID trace.TraceID, d Decision, rate float64, rateOK bool) []byte {
	lo, hi := uint64(0), uint64(sampleRandSteps)
	if rateOK {
		// first is the smallest 6-decimal step whose value is >= rate; the
		// comparisons use the same float64 values the decision does.
		first := uint64(math.Ceil(rate * sampleRandSteps))
		for first > 0 && float64(first-1)/sampleRandSteps >= rate {
			first--
		}
		for first < sampleRandSteps && float64(first)/sampleRandSteps < rate {
			first++
		}
		switch {
		case d == Sampled && first > 0:
			hi = first
		case d == NotSampled && first < sampleRandSteps:
			lo = first
		}
	}
	return appendSampleRand(dst, lo+traceHash(traceID)%(hi-lo))
}

// appendSampleRand writes step n of [0,1) as "0.%06d", truncated, so the
// value never reaches "1.000000".
func appendSampleRand(dst []byte, n uint64) []byte {
	dst = append(dst, '0', '.')
	for div := uint64(sampleRandSteps / 10); div > 0; div /= 10 {
		dst = append(dst, byte('0'+n/div%10))
	}
	return dst
}

// traceHash mixes all 128 bits of a trace id into a well-spread 64-bit
// value (the SplitMix64 finaliser), so that ids that are not random in
// every bit still spread sample_rand over [0,1).
func traceHash(id trace.TraceID) uint64 {
	return mix64(binary.BigEndian.Uint64(id[:8]) ^ mix64(binary.BigEndian.Uint64(id[8:])))
}

func mix64(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ x>>30) * 0xbf58476d1ce4e5b9
	x = (x ^ x>>27) * 0x94d049bb133111eb
	return x ^ x>>31
}

// parseUnsignedJSONNumber parses s if it matches the JSON number grammar
// without a leading minus sign and is finite.
func parseUnsignedJSONNumber(s string) (float64, bool) {
	i := 0
	digits := func() int {
		start := i
		for i < len(s) && '0' <= s[i] && s[i] <= '9' {
			i++
		}
		return i - start
	}
	switch n := digits(); {
	case n == 0, n > 1 && s[0] == '0':
		return 0, false
	}
	if i < len(s) && s[i] == '.' {
		i++
		if digits() == 0 {
			return 0, false
		}
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		if digits() == 0 {
			return 0, false
		}
	}
	if i != len(s) {
		return 0, false
	}
	x, err := strconv.ParseFloat(s, 64)
	return x, err == nil && !math.IsInf(x, 0)
}
