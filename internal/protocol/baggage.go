package protocol

import "strings"

// HeaderBaggage is the key of the W3C baggage header, as carriers are
// given it.
const HeaderBaggage = "baggage"

const (
	// sentryPrefix starts every Sentry member's key (case-sensitive).
	sentryPrefix = "sentry-"
	// maxBaggageBytes and maxBaggageMembers are the W3C limits that bound
	// both reading and writing.
	maxBaggageBytes   = 8192
	maxBaggageMembers = 64
)

// joinValues joins a carrier's baggage values with commas, as one header,
// and returns its first 8192 bytes without the member that the boundary
// cuts. It copies nothing for a single value.
func joinValues(values []string) string {
	var s string
	switch len(values) {
	case 0:
		return ""
	case 1:
		s = values[0]
	default:
		var b strings.Builder
		for i, v := range values {
			if i > 0 {
				b.WriteByte(',')
			}
			if b.Len()+len(v) > maxBaggageBytes {
				// One byte past the limit tells whether the boundary cuts
				// a member.
				b.WriteString(v[:maxBaggageBytes+1-b.Len()])
				break
			}
			b.WriteString(v)
		}
		s = b.String()
	}
	if len(s) <= maxBaggageBytes {
		return s
	}
	if s[maxBaggageBytes] == ',' {
		return s[:maxBaggageBytes]
	}
	return s[:strings.LastIndexByte(s[:maxBaggageBytes], ',')+1]
}

// baggageReader yields the well-formed Sentry members of a capped baggage
// value, examining at most 64 non-empty elements. Other members count
// toward the 64 and are not read further.
type baggageReader struct {
	s string
	// pos is the offset in s of the next element.
	pos      int
	examined int
	// start and end are the offsets of the last member's element,
	// untrimmed: the bytes between its commas.
	start, end int
	// exact reports that the last member stood between its commas as
	// exactly "key=value": no spaces around it, no properties.
	exact bool
	// written reports that the last value is already in the form a
	// written member has, and rank is the position of its key in a
	// written baggage.
	written bool
	rank    int
}

// next returns the next well-formed Sentry member with a non-empty value:
// its DSC key, the key without the "sentry-" prefix, and its value, still
// percent-encoded and without properties. It reports false at the end.
func (r *baggageReader) next() (key, value string, ok bool) {
	for r.pos < len(r.s) && r.examined < maxBaggageMembers {
		start := r.pos
		elem := r.s[start:] // the element and all that follows it
		i := len(elem) - len(trimLeftOWS(elem))
		if i == len(elem) || elem[i] == ',' {
			r.pos += i + 1 // an empty element
			continue
		}
		r.examined++
		key, value, i, ok = r.scanMember(elem, i)
		// A member without properties was read up to its comma; only
		// other elements are searched for it.
		if i < len(elem) && elem[i] != ',' {
			if comma := strings.IndexByte(elem[i:], ','); comma >= 0 {
				i += comma
			} else {
				i = len(elem)
			}
		}
		r.pos = start + i + 1
		if ok && value != "" {
			r.start, r.end = start, start+i
			r.exact = i == len(sentryPrefix)+len(key)+1+len(value)
			return key, value, true
		}
	}
	return "", "", false
}

// scanMember reads the element of s that starts at i, after any spaces: a
// Sentry member's key, without the prefix, and its encoded value, and
// whether both are valid: the key a token, the value W3C baggage-octets
// with well-formed percent escapes, followed by nothing but spaces before
// the comma or the properties. It sets the key's rank, and whether the
// value is already in written form: unreserved bytes, and uppercase
// escapes of the others. It returns the offset where it stopped, which is
// within the element, or at its comma or the end of s when the member is
// valid and has no properties.
//
// Every request's baggage goes through here, once, so it reads each byte
// once, and the loops run over subslices from their start, which spares
// them bounds checks.
func (r *baggageReader) scanMember(s string, i int) (key, value string, stop int, ok bool) {
	rest, found := strings.CutPrefix(s[i:], sentryPrefix)
	if !found {
		return "", "", i, false
	}
	// The keys of the DSC are recognized whole.
	var n int
	if r.rank, n = knownKey(rest); n == 0 {
		for n < len(rest) && isTokenChar(rest[n]) {
			n++
		}
	}
	key, rest = rest[:n], rest[n:]
	rest = trimLeftOWS(rest)
	if key == "" || rest == "" || rest[0] != '=' {
		return "", "", len(s) - len(rest), false
	}
	rest = trimLeftOWS(rest[1:])
	r.written = true
	n = 0
scan:
	for {
		// Most values are unreserved bytes alone.
		for n < len(rest) && isUnreserved(rest[n]) {
			n++
		}
		if n == len(rest) {
			break
		}
		switch c := rest[n]; {
		case c == '%':
			if !isEscape(rest, n) {
				return "", "", len(s) - len(rest) + n, false
			}
			r.written = r.written && isUpperHex(rest[n+1]) && isUpperHex(rest[n+2]) && !isUnreserved(unescapeAt(rest, n))
			n += 3
		case byteClasses[c]&classValue != 0:
			r.written = false
			n++
		default:
			break scan
		}
	}
	value, rest = rest[:n], trimLeftOWS(rest[n:])
	stop = len(s) - len(rest)
	// Only spaces may stand between the value and its comma or properties.
	if rest != "" && rest[0] != ',' && rest[0] != ';' {
		return "", "", stop, false
	}
	return key, value, stop, true
}

// IsSentryKey reports whether a baggage key names a Sentry member, whose
// value the Sentry propagator writes, so that other writers leave it out.
func IsSentryKey(key string) bool { return strings.HasPrefix(key, sentryPrefix) }

// mergeBaggage returns the baggage to write: the carrier's non-empty
// third-party elements byte for byte and in order, then the Sentry members
// (in written form, joined with commas), count of them, each added only if
// the value stays within 64 members and 8192 bytes. Stale Sentry members
// of the carrier go; third-party elements are never dropped. It returns ""
// when there is nothing to write.
func mergeBaggage(existing []string, sentry string, count int) string {
	size, n := thirdPartySize(existing)
	if n == 0 && len(sentry) <= maxBaggageBytes && count <= maxBaggageMembers {
		return sentry
	}
	var b strings.Builder
	if size+1+len(sentry) <= maxBaggageBytes && n+count <= maxBaggageMembers {
		b.Grow(size + 1 + len(sentry))
		writeThirdParty(&b, existing)
		if sentry != "" {
			b.WriteByte(',')
			b.WriteString(sentry)
		}
		return b.String()
	}
	b.Grow(min(size+1+len(sentry), maxBaggageBytes))
	writeThirdParty(&b, existing)
	for rest := sentry; rest != ""; {
		var member string
		member, rest, _ = strings.Cut(rest, ",")
		need := len(member)
		if b.Len() > 0 {
			need++
		}
		if n < maxBaggageMembers && b.Len()+need <= maxBaggageBytes {
			if b.Len() > 0 {
				b.WriteByte(',')
			}
			b.WriteString(member)
			n++
		}
	}
	return b.String()
}

// thirdPartySize returns the length and member count of the carrier's
// third-party elements, joined.
func thirdPartySize(values []string) (size, count int) {
	forEachThirdParty(values, func(elem string) {
		size += len(elem)
		count++
	})
	if count > 0 {
		size += count - 1 // commas
	}
	return size, count
}

// writeThirdParty writes the carrier's third-party elements, joined.
func writeThirdParty(b *strings.Builder, values []string) {
	forEachThirdParty(values, func(elem string) {
		if b.Len() > 0 {
			b.WriteByte(',')
		}
		b.WriteString(elem)
	})
}

// forEachThirdParty calls f with each non-empty element of the carrier's
// baggage values whose key is not a Sentry key, trimmed of surrounding
// spaces and tabs.
func forEachThirdParty(values []string, f func(string)) {
	for _, v := range values {
		for v != "" {
			var elem string
			elem, v, _ = strings.Cut(v, ",")
			if elem = trimOWS(elem); elem == "" {
				continue
			}
			if key, _, _ := strings.Cut(elem, "="); !IsSentryKey(trimOWS(key)) {
				f(elem)
			}
		}
	}
}
