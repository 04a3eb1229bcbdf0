package vectors

import "strings"

// Helpers shared by the fuzz targets of several packages: their seeds, built
// from the vectors, and independent readings of the rules they check.

// SeedSentryTrace returns a V-ST case's carrier values as the fuzz
// targets' two sentry-trace arguments.
func SeedSentryTrace(values []string) (first, second string) {
	switch len(values) {
	case 0:
		return "", ""
	case 1:
		return values[0], ""
	}
	return values[0], strings.Join(values[1:], ",")
}

// FuzzBaggage is a baggage as up to two carrier values: head followed by
// pad bytes 'a', then tail as a second value. Padding keeps inputs at the
// 8192-byte bound small for the fuzzing engine, which minimizes them.
type FuzzBaggage struct {
	Head string
	Pad  uint16
	Tail string
}

// maxPad bounds the padding: enough to cross every limit.
const maxPad = 1 << 14

// Padded returns the carrier values of a FuzzBaggages fields.
func Padded(head string, pad uint16, tail string) []string {
	return Values(head+strings.Repeat("a", int(pad)%maxPad), tail)
}

// MinRun is the shortest run of one byte that a seed turns into
// padding.
const MinRun = 256

// SeedBaggage returns baggage values as the fuzz targets' arguments:
// the first value, then the rest joined as the second. The first run of
// MinRun or more equal bytes that ends the value or a member becomes
// padding, so that the limit vectors stay small seeds; the run's byte
// becomes 'a', which makes no difference to a value.
func SeedBaggage(values []string) FuzzBaggage {
	if len(values) == 0 {
		return FuzzBaggage{}
	}
	head, tail := values[0], strings.Join(values[1:], ",")
	for i := 0; i+MinRun <= len(head); i++ {
		run := len(head[i:]) - len(strings.TrimLeft(head[i:], head[i:i+1]))
		if run < MinRun {
			i += run - 1
			continue
		}
		rest := head[i+run:]
		if run >= maxPad || tail != "" || rest != "" && rest[0] != ',' {
			break
		}
		return FuzzBaggage{Head: head[:i], Pad: uint16(run), Tail: strings.TrimPrefix(rest, ",")}
	}
	return FuzzBaggage{Head: head, Tail: tail}
}

// Values returns the fuzz arguments a and b as carrier values, leaving out
// the empty ones at the end.
func Values(a, b string) []string {
	switch {
	case b != "":
		return []string{a, b}
	case a != "":
		return []string{a}
	}
	return nil
}

// FirstPart returns the first non-blank comma-separated part of values:
// the only sentry-trace candidate, read independently of the parser.
func FirstPart(values []string) string {
	for _, v := range values {
		for _, part := range strings.Split(v, ",") {
			if p := strings.Trim(part, " \t"); p != "" {
				return p
			}
		}
	}
	return ""
}

// IsToken is RFC 7230 token, written out independently of isToken.
func IsToken(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
			strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0) {
			return false
		}
	}
	return s != ""
}

// IsHex reports a hex digit, only an uppercase one when upperOnly is set.
func IsHex(c byte, upperOnly bool) bool {
	return '0' <= c && c <= '9' || 'A' <= c && c <= 'F' || !upperOnly && 'a' <= c && c <= 'f'
}

// IsWritten reports a Sentry member as Inject must write it: a token key
// with the prefix, and a non-empty value of RFC 3986 unreserved bytes and
// uppercase %XX escapes.
func IsWritten(m string) bool {
	key, value, ok := strings.Cut(m, "=")
	if !ok || !strings.HasPrefix(key, "sentry-") || !IsToken(key[len("sentry-"):]) || value == "" {
		return false
	}
	for i := 0; i < len(value); i++ {
		switch c := value[i]; {
		case c == '%':
			if i+2 >= len(value) || !IsHex(value[i+1], true) || !IsHex(value[i+2], true) {
				return false
			}
			i += 2
		case !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
			c == '-' || c == '.' || c == '_' || c == '~'):
			return false
		}
	}
	return true
}
