package protocol

import (
	"math"
	"regexp"
	"strconv"
	"testing"

	"github.com/otelsentry/otelsentry/internal/vectors"
)

// fuzzJSONNumber is the JSON number grammar without a minus sign.
var fuzzJSONNumber = regexp.MustCompile(`^(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?$`)

// FuzzParseSampleRand checks the sample_rand and sample_rate parsers
// against an independent reading of SM-10, and that a formatted rate
// parses back to the same number.
func FuzzParseSampleRand(f *testing.F) {
	for _, s := range []string{"0", "0.5", "1", "1.0", "1e-7", "0.999999", "-0.1", "NaN", "", "0.5abc",
		"01", "1e400", "0e99999", ".5", "5.", "0x1p-2", "+0.5", " 0.5", "0.5\x00", "0.100000", "1E-1",
		"0.9999999999999999", "0.99999999999999999", "0.0000000000000000", "0.", "0.1a"} {
		f.Add(s)
	}
	for _, c := range vectors.SampleRand() {
		f.Add(c.Want)
	}
	for _, c := range vectors.Interop() {
		f.Add(c.SampleRand)
		f.Add(c.Rate)
	}
	f.Fuzz(func(t *testing.T, s string) {
		x, err := strconv.ParseFloat(s, 64)
		number := len(s) <= maxSampleRandLen && fuzzJSONNumber.MatchString(s) && err == nil && !math.IsInf(x, 0)

		rand, ok := ParseSampleRand(s)
		if want := number && x < 1; ok != want || ok && rand != x {
			t.Fatalf("ParseSampleRand(%q) = %v, %v; want %v, %v", s, rand, ok, x, want)
		}
		if valid := validSampleRand(s); valid != ok {
			t.Fatalf("validSampleRand(%q) = %v, ParseSampleRand says %v", s, valid, ok)
		}
		rate, ok := ParseRate(s)
		if want := number && x <= 1; ok != want || ok && rate != x {
			t.Fatalf("ParseRate(%q) = %v, %v; want %v, %v", s, rate, ok, x, want)
		}
		if !ok {
			return
		}
		out := FormatRate(rate)
		back, err := strconv.ParseFloat(out, 64)
		if err != nil || back != rate || !fuzzJSONNumber.MatchString(out) {
			t.Fatalf("FormatRate(%v) = %q", rate, out)
		}
		if len(out) <= maxSampleRandLen {
			if again, ok := ParseRate(out); !ok || again != rate {
				t.Fatalf("ParseRate(FormatRate(%v) = %q) = %v, %v", rate, out, again, ok)
			}
		}
	})
}
