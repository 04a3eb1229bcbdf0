package protocol

import "strings"

// Byte classes for the loops that run over every byte of a header.
const (
	// classToken marks RFC 7230 tchar, the bytes of a baggage key.
	classToken = 1 << iota
	// classValue marks the bytes of a baggage value: W3C baggage-octets
	// (printable ASCII but space, '"', ',', ';' and '\'), '%' among them.
	classValue
	// classUnreserved marks RFC 3986 unreserved bytes, the only ones a
	// written baggage value keeps as they are.
	classUnreserved
)

var byteClasses = func() (t [256]uint8) {
	for i := range t {
		c := byte(i)
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' {
			t[i] = classToken | classValue | classUnreserved
			continue
		}
		if strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0 {
			t[i] |= classToken
		}
		if 0x21 <= c && c <= 0x7e && strings.IndexByte("\",;\\", c) < 0 {
			t[i] |= classValue
		}
		if strings.IndexByte("-._~", c) >= 0 {
			t[i] |= classUnreserved
		}
	}
	return t
}()

func isTokenChar(c byte) bool { return byteClasses[c]&classToken != 0 }

func isUnreserved(c byte) bool { return byteClasses[c]&classUnreserved != 0 }

// IsToken reports whether s is an RFC 7230 token, the grammar of a baggage
// key.
func IsToken(s string) bool {
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

const (
	lowerHex = "0123456789abcdef"
	upperHex = "0123456789ABCDEF"
)

// lowerHexValues maps each lowercase hex digit to its value and every
// other byte to notHex, for the ids of every sentry-trace header.
var lowerHexValues = func() (t [256]uint8) {
	for i := range t {
		t[i] = notHex
	}
	for i, c := range []byte(lowerHex) {
		t[c] = uint8(i)
	}
	return t
}()

const notHex = 0xff

// lowerHexValue returns the value of a lowercase hex digit, or -1.
func lowerHexValue(c byte) int {
	if v := lowerHexValues[c]; v != notHex {
		return int(v)
	}
	return -1
}

// hexValue returns the value of a hex digit of either case, or -1.
func hexValue(c byte) int {
	if 'A' <= c && c <= 'F' {
		c += 'a' - 'A'
	}
	return lowerHexValue(c)
}

func isUpperHex(c byte) bool { return '0' <= c && c <= '9' || 'A' <= c && c <= 'F' }

// decodeLowerHex decodes len(dst) bytes from the lowercase hex digits of
// src, which holds twice as many.
func decodeLowerHex(dst []byte, src string) bool {
	if len(src) != 2*len(dst) {
		return false
	}
	// One check at the end rather than a branch per digit: notHex has
	// bits that no digit's value has.
	var seen byte
	for i := range dst {
		pair := src[2*i:]
		pair = pair[:2] // one bounds check for both digits
		hi, lo := lowerHexValues[pair[0]], lowerHexValues[pair[1]]
		seen |= hi | lo
		dst[i] = hi<<4 | lo
	}
	return seen&^0x0f == 0
}

func appendLowerHex(dst, src []byte) []byte {
	for _, b := range src {
		dst = append(dst, lowerHex[b>>4], lowerHex[b&0x0f])
	}
	return dst
}

// appendEscape appends c as an uppercase percent escape.
func appendEscape(dst []byte, c byte) []byte {
	return append(dst, '%', upperHex[c>>4], upperHex[c&0x0f])
}

// isEscape reports whether s[i:] starts with '%' and two hex digits.
func isEscape(s string, i int) bool {
	return i+2 < len(s) && hexValue(s[i+1]) >= 0 && hexValue(s[i+2]) >= 0
}

// unescapeAt decodes the escape "%XX" at s[i], which isEscape accepted.
func unescapeAt(s string, i int) byte {
	return byte(hexValue(s[i+1])<<4 | hexValue(s[i+2]))
}

// percentDecode decodes %XX escapes; '+' stays a plus sign. It returns s
// itself, without allocating, when there is nothing to decode, and false
// for a malformed escape.
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

// isOWS reports the optional whitespace of HTTP headers: space and tab.
func isOWS(c byte) bool { return c == ' ' || c == '\t' }

// trimLeftOWS removes leading spaces and tabs.
func trimLeftOWS(s string) string {
	for s != "" && isOWS(s[0]) {
		s = s[1:]
	}
	return s
}

// trimOWS removes leading and trailing spaces and tabs, and nothing else:
// strings.Trim's cutset handling costs more than the loops, on every
// header value and every third-party element Inject keeps.
func trimOWS(s string) string {
	s = trimLeftOWS(s)
	for s != "" && isOWS(s[len(s)-1]) {
		s = s[:len(s)-1]
	}
	return s
}

func isLowerAlnum(c byte) bool { return 'a' <= c && c <= 'z' || '0' <= c && c <= '9' }
