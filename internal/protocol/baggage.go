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
	rest     string
	examined int
	// pos is the offset of rest in the value; start and end are those of
	// the last Sentry element read, untrimmed.
	pos, start, end int
	// exact reports that the last member stood between its commas as
	// exactly "key=value": no spaces around it, no properties.
	exact bool
	// written reports that the last value is already in the form a
	// written member has.
	written bool
}

// next returns the next well-formed Sentry member with a non-empty value:
// its DSC key, the key without the "sentry-" prefix, and its value, still
// percent-encoded and without properties. It reports false at the end.
func (r *baggageReader) next() (key, value string, ok bool) {
	for {
		elem, more := r.nextSentryElement()
		if !more {
			return "", "", false
		}
		if key, value, r.written, ok = parseMember(elem, len(sentryPrefix)); ok && value != "" {
			r.exact = r.end-r.start == len(sentryPrefix)+len(key)+1+len(value)
			return key, value, true
		}
	}
}

// nextSentryElement returns the next element whose key has the Sentry
// prefix (case-sensitive), trimmed of spaces and tabs, well-formed or not;
// start and end are then those of the element untrimmed. It reports false
// at the end.
func (r *baggageReader) nextSentryElement() (string, bool) {
	for r.rest != "" && r.examined < maxBaggageMembers {
		raw := r.rest
		r.rest = ""
		if comma := strings.IndexByte(raw, ','); comma >= 0 {
			raw, r.rest = raw[:comma], raw[comma+1:]
		}
		r.start, r.end = r.pos, r.pos+len(raw)
		r.pos = r.end + 1
		elem := trimOWS(raw)
		if elem == "" {
			continue
		}
		r.examined++
		if strings.HasPrefix(elem, sentryPrefix) {
			return elem, true
		}
	}
	return "", false
}

// parseMember splits one baggage element, without surrounding spaces, into
// its key, from keyStart on, and its encoded value, and reports whether
// both are valid: the key a token, the value W3C baggage-octets with
// well-formed percent escapes. It also reports whether the value is
// already in written form: unreserved bytes, and uppercase escapes of the
// others. One pass over the element does all of it, since every request's
// baggage goes through here.
func parseMember(elem string, keyStart int) (key, value string, written, ok bool) {
	// The loops run over a subslice from its start, which spares them
	// bounds checks.
	rest := elem[keyStart:]
	i := 0
	for i < len(rest) && isTokenChar(rest[i]) {
		i++
	}
	key = rest[:i]
	for i < len(rest) && isOWS(rest[i]) {
		i++
	}
	if key == "" || i == len(rest) || rest[i] != '=' {
		return "", "", false, false
	}
	i++
	for i < len(rest) && isOWS(rest[i]) {
		i++
	}
	start := i
	written = true
scan:
	for {
		// Most values are unreserved bytes alone.
		for i < len(rest) && isUnreserved(rest[i]) {
			i++
		}
		if i == len(rest) {
			break
		}
		switch c := rest[i]; {
		case byteClasses[c]&classOctet != 0:
			written = false
			i++
		case c == '%':
			if !isEscape(rest, i) {
				return "", "", false, false
			}
			written = written && isUpperHex(rest[i+1]) && isUpperHex(rest[i+2]) && !isUnreserved(unescapeAt(rest, i))
			i += 3
		default:
			break scan
		}
	}
	value = rest[start:i]
	// Only spaces may stand between the value and its properties.
	for i < len(rest) && isOWS(rest[i]) {
		i++
	}
	if i < len(rest) && rest[i] != ';' {
		return "", "", false, false
	}
	return key, value, written, true
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
