package protocol

import (
	"slices"
	"strings"
)

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

// keyRank returns the position of key in a written baggage: the known keys
// in this order, then the others in byte order.
func keyRank(key string) int {
	switch key {
	case keyTraceID:
		return 0
	case keyPublicKey:
		return 1
	case keySampleRate:
		return 2
	case keySampleRand:
		return 3
	case keySampled:
		return 4
	case keyRelease:
		return 5
	case keyEnvironment:
		return 6
	case keyTransaction:
		return 7
	case keyOrgID:
		return 8
	}
	return 9
}

// dscEntry is one DSC member on its way out.
type dscEntry struct {
	key   string // without the prefix
	value string
	rank  int // position of key in the written order
	// encoded marks a value still in baggage form (percent-encoded), as
	// read from an incoming header; it is decoded while it is re-encoded.
	encoded bool
	written bool
}

// dscEntries collects the DSC to write. Callers give it a backing array of
// maxBaggageMembers entries so that it lives on the stack; the methods
// return the slice rather than store through a pointer, which would move
// that array to the heap.
type dscEntries []dscEntry

// set adds or replaces key; a later value wins. An empty value
// removes the key: empty values are not members.
func (e dscEntries) set(key, value string, encoded bool) dscEntries {
	for i := range e {
		if e[i].key == key {
			if value == "" {
				return slices.Delete(e, i, i+1)
			}
			e[i].value, e[i].encoded = value, encoded
			return e
		}
	}
	if value == "" {
		return e
	}
	return append(e, dscEntry{key: key, value: value, rank: keyRank(key), encoded: encoded})
}

// addFrozen adds the Sentry members of a capped incoming baggage. Empty
// members are dropped and do not erase an earlier value.
func (e dscEntries) addFrozen(baggage string) dscEntries {
	r := baggageReader{rest: baggage}
	for {
		key, value, ok := r.next()
		if !ok {
			return e
		}
		if k, ok := sentryKey(key); ok && value != "" {
			e = e.set(k, value, true)
		}
	}
}

// sort puts the entries in the deterministic written order.
func (e dscEntries) sort() {
	slices.SortStableFunc(e, func(a, b dscEntry) int {
		if a.rank != b.rank {
			return a.rank - b.rank
		}
		return strings.Compare(a.key, b.key)
	})
}

// encodedLen returns the written length of the member "sentry-<key>=<value>".
func (d *dscEntry) encodedLen() int {
	n := len(sentryPrefix) + len(d.key) + 1
	v := d.value
	for i := 0; i < len(v); i++ {
		c := v[i]
		if d.encoded && c == '%' {
			c = unescapeAt(v, i)
			i += 2
		}
		if isUnreserved(c) {
			n++
		} else {
			n += 3
		}
	}
	return n
}

func (d *dscEntry) writeTo(b *strings.Builder) {
	b.WriteString(sentryPrefix)
	b.WriteString(d.key)
	b.WriteByte('=')
	// Runs of bytes that stay as they are go in one write.
	v, run := d.value, 0
	for i := 0; i < len(v); i++ {
		c := v[i]
		if isUnreserved(c) {
			continue
		}
		b.WriteString(v[run:i])
		if d.encoded && c == '%' {
			c = unescapeAt(v, i)
			i += 2
		}
		if isUnreserved(c) {
			b.WriteByte(c)
		} else {
			b.Write([]byte{'%', upperHex[c>>4], upperHex[c&0x0f]})
		}
		run = i + 1
	}
	b.WriteString(v[run:])
}

// unescapeAt decodes the escape "%XX" at v[i], validated when v was read.
func unescapeAt(v string, i int) byte {
	return byte(hexValue(v[i+1])<<4 | hexValue(v[i+2]))
}

// mergeBaggage returns the baggage to write: the carrier's non-empty
// third-party elements byte for byte and in order, then the DSC in the
// written order, each member added only if it keeps the value within 64
// members and 8192 bytes. Stale Sentry members of the carrier go. It
// returns "" when there is nothing to write.
func mergeBaggage(existing []string, entries dscEntries) string {
	size, count := thirdPartySize(existing)
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
	writeThirdParty(&b, existing)
	for i := range entries {
		if entries[i].written {
			if b.Len() > 0 {
				b.WriteByte(',')
			}
			entries[i].writeTo(&b)
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

// frozenDSC is a DSC encoded once: a continued trace's, which never
// changes but for the sample_rate of a local decision, which keys the
// cache, or a head-of-trace one.
type frozenDSC struct {
	// Exactly one of state and head says where the entries come from when
	// the encoded members cannot be reused.
	state    *incomingState
	head     *HeadDSC
	rate     string // the sample_rate that replaced the upstream one, or ""
	text     string // the members, encoded and joined
	members  int
	complete bool // every member fit within the limits on its own
}

// HeadDSC is the Dynamic Sampling Context of a trace this process started,
// or the sample_rand alone of a continued trace whose context was lost.
// Empty fields are not written.
type HeadDSC struct {
	TraceID, PublicKey, SampleRate, SampleRand, Sampled string
	Release, Environment, Transaction, OrgID            string
}

// MergeInto returns the baggage to write: the carrier's values existing
// with their Sentry members replaced by h. It returns "" when there is
// nothing to write.
func (h *HeadDSC) MergeInto(existing []string) string {
	var backing [maxBaggageMembers]dscEntry
	return mergeBaggage(existing, h.entries(backing[:0]))
}

// EncodedDSC is a head-of-trace DSC encoded once, to be merged into the
// baggage of every Inject for the trace without encoding it again.
type EncodedDSC struct {
	f frozenDSC
}

// Encode returns h encoded.
func (h HeadDSC) Encode() *EncodedDSC {
	e := &EncodedDSC{f: frozenDSC{head: &h}}
	var backing [maxBaggageMembers]dscEntry
	e.f.fill(h.entries(backing[:0]))
	return e
}

// MergeInto returns what h.MergeInto(existing) returns for the DSC h that
// e encodes.
func (e *EncodedDSC) MergeInto(existing []string) string { return e.f.mergeInto(existing) }

// entries appends the DSC to dst.
func (h *HeadDSC) entries(dst dscEntries) dscEntries {
	// Keys go in written order, so that sorting finds them sorted.
	return dst.
		set(keyTraceID, h.TraceID, false).
		set(keyPublicKey, h.PublicKey, false).
		set(keySampleRate, h.SampleRate, false).
		set(keySampleRand, h.SampleRand, false).
		set(keySampled, h.Sampled, false).
		set(keyRelease, h.Release, false).
		set(keyEnvironment, h.Environment, false).
		set(keyTransaction, h.Transaction, false).
		set(keyOrgID, h.OrgID, false)
}

// MergeInto returns the baggage to write for the continued trace: the
// carrier's values existing with their Sentry members replaced by the
// frozen DSC. A decision made in this process replaces the upstream
// sample_rate with its own rate, unless the DSC came in empty; rate is ""
// otherwise.
func (in Incoming) MergeInto(existing []string, rate string) string {
	if in.state.frozenEmpty {
		rate = ""
	}
	return in.state.frozenDSC(rate).mergeInto(existing)
}

// DecodeDSC returns the Dynamic Sampling Context in a baggage value: its
// Sentry members, keyed without the "sentry-" prefix, values
// percent-decoded, the last of a repeated key winning. It returns nil when
// there is none.
func DecodeDSC(baggage string) map[string]string {
	var dsc map[string]string
	r := baggageReader{rest: capBaggage(baggage)}
	for {
		key, value, ok := r.next()
		if !ok {
			return dsc
		}
		k, isSentry := sentryKey(key)
		if !isSentry || value == "" {
			continue
		}
		if v, ok := percentDecode(value); ok {
			if dsc == nil {
				dsc = map[string]string{}
			}
			dsc[k] = v
		}
	}
}

// frozenDSC returns the encoded DSC of s with sample_rate replaced by rate
// when rate is not empty.
func (s *incomingState) frozenDSC(rate string) *frozenDSC {
	if rate == "" && s.verbatim.text != "" {
		return &s.verbatim
	}
	if f := s.frozen.Load(); f != nil && f.rate == rate {
		return f
	}
	var backing [maxBaggageMembers]dscEntry
	f := &frozenDSC{state: s, rate: rate}
	f.fill(s.entries(backing[:0], rate))
	s.frozen.Store(f)
	return f
}

// fill encodes entries into f.
func (f *frozenDSC) fill(entries dscEntries) {
	f.text, f.complete = mergeBaggage(nil, entries), true
	for _, e := range entries {
		if e.written {
			f.members++
		} else {
			f.complete = false
		}
	}
}

// mergeInto merges the frozen DSC into the carrier's baggage values as
// mergeBaggage does, reusing the encoded members when they all fit.
func (f *frozenDSC) mergeInto(existing []string) string {
	size, count := thirdPartySize(existing)
	switch {
	case count == 0:
		return f.text
	case f.text == "":
		return mergeBaggage(existing, nil)
	case f.complete && size+1+len(f.text) <= maxBaggageBytes && count+f.members <= maxBaggageMembers:
		var b strings.Builder
		b.Grow(size + 1 + len(f.text))
		writeThirdParty(&b, existing)
		b.WriteByte(',')
		b.WriteString(f.text)
		return b.String()
	}
	var backing [maxBaggageMembers]dscEntry
	if f.head != nil {
		return mergeBaggage(existing, f.head.entries(backing[:0]))
	}
	return mergeBaggage(existing, f.state.entries(backing[:0], f.rate))
}
