package protocol

import (
	"strings"
)

const (
	// sentryPrefix starts every Sentry member's key (case-sensitive).
	sentryPrefix = "sentry-"
	// maxBaggageBytes and maxBaggageMembers are the W3C limits that bound
	// both parsing and writing.
	maxBaggageBytes   = 8192
	maxBaggageMembers = 64
)

// capBaggage returns the first 8192 bytes of a joined baggage value,
// without the member that the boundary cuts.
func capBaggage(s string) string {
	if len(s) <= maxBaggageBytes {
		return s
	}
	if s[maxBaggageBytes] == ',' {
		return s[:maxBaggageBytes]
	}
	return s[:strings.LastIndexByte(s[:maxBaggageBytes], ',')+1]
}

// joinValues joins carrier values with commas, as one header, reading no
// more than the parser looks at.
func joinValues(values []string) string {
	switch len(values) {
	case 0:
		return ""
	case 1:
		return values[0]
	}
	var b strings.Builder
	for i, v := range values {
		if i > 0 {
			b.WriteByte(',')
		}
		if b.Len()+len(v) > maxBaggageBytes {
			b.WriteString(v[:maxBaggageBytes+1-b.Len()])
			break
		}
		b.WriteString(v)
	}
	return b.String()
}

// baggageReader yields the well-formed members of a capped baggage value,
// examining at most 64 non-empty elements.
type baggageReader struct {
	rest     string
	examined int
}

// next returns the next well-formed member: its key and its value, still
// percent-encoded and without properties. It reports false at the end.
func (r *baggageReader) next() (key, value string, ok bool) {
	for r.rest != "" && r.examined < maxBaggageMembers {
		var elem string
		elem, r.rest, _ = strings.Cut(r.rest, ",")
		if elem = trimOWS(elem); elem == "" {
			continue
		}
		r.examined++
		if key, value, ok = parseMember(elem); ok {
			return key, value, true
		}
	}
	return "", "", false
}

// parseMember splits one baggage element into key and encoded value, and
// reports whether both are valid: the key a token, the value W3C
// baggage-octets with well-formed percent escapes.
func parseMember(elem string) (key, value string, ok bool) {
	key, value, ok = strings.Cut(elem, "=")
	if !ok {
		return "", "", false
	}
	value, _, _ = strings.Cut(value, ";")
	key, value = trimOWS(key), trimOWS(value)
	if !isToken(key) || !isBaggageValue(value) {
		return "", "", false
	}
	return key, value, true
}

// sentryKey returns the DSC key of a Sentry member's key, reporting false
// for third-party keys. Only the prefix is removed.
func sentryKey(key string) (string, bool) {
	if len(key) <= len(sentryPrefix) || !strings.HasPrefix(key, sentryPrefix) {
		return "", false
	}
	return key[len(sentryPrefix):], true
}

// isSentryElement reports whether a raw baggage element is a Sentry member,
// judged by its key alone.
func isSentryElement(elem string) bool {
	key, _, _ := strings.Cut(elem, "=")
	return strings.HasPrefix(trimOWS(key), sentryPrefix)
}

// IsToken reports whether s is a valid baggage key: an RFC 7230 token.
func IsToken(s string) bool { return isToken(s) }

func isToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isTokenChar(s[i]) {
			return false
		}
	}
	return true
}

// isTokenChar reports RFC 7230 tchar.
func isTokenChar(c byte) bool { return tokenChars[c] }

var tokenChars = byteSet(func(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0
})

// isBaggageValue reports whether s is made of W3C baggage-octets
// (printable ASCII but space, '"', ',', ';' and '\') and every '%' starts a
// two-digit hex escape.
func isBaggageValue(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x21 || c > 0x7e || c == '"' || c == ',' || c == ';' || c == '\\' {
			return false
		}
		if c == '%' {
			if !isEscape(s, i) {
				return false
			}
			i += 2
		}
	}
	return true
}

// isWrittenValue reports whether a valid baggage value is already in the
// form Inject writes: unreserved bytes, and uppercase escapes of the others.
func isWrittenValue(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if isUnreserved(c) {
			continue
		}
		if c != '%' || !isUpperHex(s[i+1]) || !isUpperHex(s[i+2]) || isUnreserved(unescapeAt(s, i)) {
			return false
		}
		i += 2
	}
	return true
}

func isUpperHex(c byte) bool { return '0' <= c && c <= '9' || 'A' <= c && c <= 'F' }

// isEscape reports whether s[i:] starts with '%' and two hex digits.
func isEscape(s string, i int) bool {
	return i+2 < len(s) && hexValue(s[i+1]) >= 0 && hexValue(s[i+2]) >= 0
}

func hexValue(c byte) int {
	if 'A' <= c && c <= 'F' {
		c += 'a' - 'A'
	}
	return lowerHexValue(c)
}

// percentDecode decodes %XX escapes; '+' stays a plus sign. It
// returns s itself, without allocating, when there is nothing to decode.
func percentDecode(s string) (string, bool) {
	i := strings.IndexByte(s, '%')
	if i < 0 {
		return s, true
	}
	var b strings.Builder
	b.Grow(len(s))
	b.WriteString(s[:i])
	for ; i < len(s); i++ {
		c := s[i]
		if c == '%' {
			if !isEscape(s, i) {
				return "", false
			}
			c = unescapeAt(s, i)
			i += 2
		}
		b.WriteByte(c)
	}
	return b.String(), true
}

const upperHex = "0123456789ABCDEF"

// isUnreserved reports RFC 3986 unreserved bytes, the only ones a written
// value keeps as they are.
func isUnreserved(c byte) bool { return unreservedChars[c] }

var unreservedChars = byteSet(func(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte("-._~", c) >= 0
})

// byteSet tabulates a byte predicate, for loops that run over every byte
// of a header.
func byteSet(f func(byte) bool) (t [256]bool) {
	for c := range 256 {
		t[c] = f(byte(c))
	}
	return t
}
