package propagator

import (
	"slices"
	"strings"
)

// DSC is a decoded Dynamic Sampling Context: the Sentry members of a
// baggage, keyed without the "sentry-" prefix ("release", "sample_rate").
type DSC map[string]string

// DSC keys this package reads or writes itself.
const (
	keyTraceID     = "trace_id"
	keyPublicKey   = "public_key"
	keySampleRate  = "sample_rate"
	keySampleRand  = "sample_rand"
	keySampled     = "sampled"
	keyRelease     = "release"
	keyEnvironment = "environment"
	keyTransaction = "transaction"
	keyOrgID       = "org_id"
)

// keyOrder is the order of known keys in a written baggage (BG-15); other
// keys follow in byte order.
var keyOrder = [...]string{
	keyTraceID, keyPublicKey, keySampleRate, keySampleRand, keySampled,
	keyRelease, keyEnvironment, keyTransaction, keyOrgID,
}

func keyRank(key string) int {
	if i := slices.Index(keyOrder[:], key); i >= 0 {
		return i
	}
	return len(keyOrder)
}

// dscEntry is one DSC member on its way out.
type dscEntry struct {
	key   string // without the prefix
	value string
	// encoded marks a value still in baggage form (percent-encoded), as
	// read from an incoming header; it is decoded while it is re-encoded.
	encoded bool
	written bool
}

// dscEntries collects the DSC to write. Callers give it a backing array of
// maxBaggageMembers entries so that it lives on the stack.
type dscEntries []dscEntry

// set adds or replaces key; a later value wins (BG-9). Empty values are not
// members (BG-10, BG-13).
func (e *dscEntries) set(key, value string, encoded bool) {
	if value == "" {
		e.remove(key)
		return
	}
	for i := range *e {
		if (*e)[i].key == key {
			(*e)[i].value, (*e)[i].encoded = value, encoded
			return
		}
	}
	*e = append(*e, dscEntry{key: key, value: value, encoded: encoded})
}

func (e *dscEntries) remove(key string) {
	*e = slices.DeleteFunc(*e, func(d dscEntry) bool { return d.key == key })
}

// addFrozen adds the Sentry members of a capped incoming baggage.
func (e *dscEntries) addFrozen(baggage string) {
	r := baggageReader{rest: baggage}
	for {
		key, value, ok := r.next()
		if !ok {
			return
		}
		if k, ok := sentryKey(key); ok {
			e.set(k, value, true)
		}
	}
}

// sort puts the entries in the deterministic written order (BG-15).
func (e dscEntries) sort() {
	slices.SortStableFunc(e, func(a, b dscEntry) int {
		if ra, rb := keyRank(a.key), keyRank(b.key); ra != rb {
			return ra - rb
		}
		return strings.Compare(a.key, b.key)
	})
}

// encodedLen returns the written length of the member "sentry-<key>=<value>".
func (d *dscEntry) encodedLen() int {
	n := len(sentryPrefix) + len(d.key) + 1
	forEachDecoded(d.value, d.encoded, func(c byte) {
		if isUnreserved(c) {
			n++
		} else {
			n += 3
		}
	})
	return n
}

func (d *dscEntry) writeTo(b *strings.Builder) {
	b.WriteString(sentryPrefix)
	b.WriteString(d.key)
	b.WriteByte('=')
	forEachDecoded(d.value, d.encoded, func(c byte) {
		if isUnreserved(c) {
			b.WriteByte(c)
		} else {
			b.WriteByte('%')
			b.WriteByte(upperHex[c>>4])
			b.WriteByte(upperHex[c&0x0f])
		}
	})
}

// forEachDecoded calls f with each byte of v, decoding %XX escapes first
// when encoded is set. v was validated when it was read.
func forEachDecoded(v string, encoded bool, f func(byte)) {
	for i := 0; i < len(v); i++ {
		c := v[i]
		if encoded && c == '%' && i+2 < len(v) {
			c = byte(hexValue(v[i+1])<<4 | hexValue(v[i+2]))
			i += 2
		}
		f(c)
	}
}

// mergeBaggage returns the baggage to write: the carrier's non-empty
// third-party elements byte for byte and in order, then the DSC in BG-15
// order, each member added only if it keeps the value within 64 members
// and 8192 bytes (BG-14..17). Stale Sentry members of the carrier go. It
// returns "" when there is nothing to write.
func mergeBaggage(existing []string, entries dscEntries) string {
	size, count := 0, 0
	forEachThirdParty(existing, func(elem string) {
		size += len(elem)
		count++
	})
	if count > 0 {
		size += count - 1 // commas
	}
	entries.sort()
	for i := range entries {
		n := entries[i].encodedLen()
		if size > 0 {
			n++
		}
		if count < maxBaggageMembers && size+n <= maxBaggageBytes {
			entries[i].written = true
			size += n
			count++
		}
	}
	if size == 0 {
		return ""
	}
	var b strings.Builder
	b.Grow(size)
	sep := func() {
		if b.Len() > 0 {
			b.WriteByte(',')
		}
	}
	forEachThirdParty(existing, func(elem string) {
		sep()
		b.WriteString(elem)
	})
	for i := range entries {
		if entries[i].written {
			sep()
			entries[i].writeTo(&b)
		}
	}
	return b.String()
}

// forEachThirdParty calls f with each non-empty, non-Sentry element of the
// carrier's baggage values, trimmed of surrounding spaces and tabs.
func forEachThirdParty(values []string, f func(string)) {
	for _, v := range values {
		for v != "" {
			var elem string
			elem, v, _ = strings.Cut(v, ",")
			if elem = trimOWS(elem); elem != "" && !isSentryElement(elem) {
				f(elem)
			}
		}
	}
}
