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
	// raw is the last element read, as it stood between its commas, and
	// start its offset in the value, for callers that copy members without
	// reading them again; pos is the offset of rest.
	raw   string
	start int
	pos   int
	// written reports that the last value is already in the form Inject
	// writes.
	written bool
}

// next returns the next well-formed member: its key and its value, still
// percent-encoded and without properties. It reports false at the end.
func (r *baggageReader) next() (key, value string, ok bool) {
	for r.rest != "" && r.examined < maxBaggageMembers {
		elem := r.rest
		r.rest = ""
		if comma := strings.IndexByte(elem, ','); comma >= 0 {
			elem, r.rest = elem[:comma], elem[comma+1:]
		}
		r.raw, r.start = elem, r.pos
		r.pos += len(elem) + 1
		if elem = trimOWS(elem); elem == "" {
			continue
		}
		r.examined++
		if key, value, r.written, ok = parseMember(elem); ok {
			return key, value, true
		}
	}
	return "", "", false
}

// parseMember splits one baggage element, without surrounding spaces, into
// key and encoded value, and reports whether both are valid: the key a
// token, the value W3C baggage-octets with well-formed percent escapes. It
// also reports whether the value is already in the form Inject writes:
// unreserved bytes, and uppercase escapes of the others. One pass over the
// element does all of it, since every request's baggage goes through here.
func parseMember(elem string) (key, value string, written, ok bool) {
	i := 0
	for i < len(elem) && byteClasses[elem[i]]&classToken != 0 {
		i++
	}
	key = elem[:i]
	i = skipOWS(elem, i)
	if key == "" || i == len(elem) || elem[i] != '=' {
		return "", "", false, false
	}
	i = skipOWS(elem, i+1)
	start := i
	written = true
scan:
	for ; i < len(elem); i++ {
		c := elem[i]
		switch class := byteClasses[c]; {
		case class&classUnreserved != 0:
		case class&classOctet != 0:
			written = false
		case c == '%':
			if !isEscape(elem, i) {
				return "", "", false, false
			}
			written = written && isUpperHex(elem[i+1]) && isUpperHex(elem[i+2]) && !isUnreserved(unescapeAt(elem, i))
			i += 2
		default:
			break scan
		}
	}
	value = elem[start:i]
	// Only spaces may stand between the value and its properties.
	if i = skipOWS(elem, i); i < len(elem) && elem[i] != ';' {
		return "", "", false, false
	}
	return key, value, written, true
}

// skipOWS returns the index of the first byte at or after i that is not a
// space or a tab.
func skipOWS(s string, i int) int {
	for i < len(s) && (s[i] == ' ' || s[i] == '\t') {
		i++
	}
	return i
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
func isTokenChar(c byte) bool { return byteClasses[c]&classToken != 0 }

// isUnreserved reports RFC 3986 unreserved bytes, the only ones a written
// value keeps as they are.
func isUnreserved(c byte) bool { return byteClasses[c]&classUnreserved != 0 }

func isUpperHex(c byte) bool { return '0' <= c && c <= '9' || 'A' <= c && c <= 'F' }

// Byte classes for the loops that run over every byte of a header.
const (
	// classToken marks RFC 7230 tchar.
	classToken = 1 << iota
	// classOctet marks W3C baggage-octets other than '%': printable ASCII
	// but space, '"', ',', ';' and '\'.
	classOctet
	// classUnreserved marks RFC 3986 unreserved bytes.
	classUnreserved
)

var byteClasses = func() (t [256]uint8) {
	for i := range t {
		c := byte(i)
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' {
			t[i] = classToken | classOctet | classUnreserved
			continue
		}
		if strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0 {
			t[i] |= classToken
		}
		if 0x21 <= c && c <= 0x7e && strings.IndexByte("\",;\\%", c) < 0 {
			t[i] |= classOctet
		}
		if strings.IndexByte("-._~", c) >= 0 {
			t[i] |= classUnreserved
		}
	}
	return t
}()

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
