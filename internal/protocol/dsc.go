package protocol

import (
	"context"
	"slices"
	"strings"
	"sync/atomic"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/baggage"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
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

// The positions of the known keys in a written baggage: in this order,
// then the others in byte order.
const (
	rankTraceID = iota
	rankPublicKey
	rankSampleRate
	rankSampleRand
	rankSampled
	rankRelease
	rankEnvironment
	rankTransaction
	rankOrgID
	rankOther
)

// keyRank returns the position of key in a written baggage.
func keyRank(key string) int {
	if rank, n := knownKey(key); n == len(key) {
		return rank
	}
	return rankOther
}

// knownKey returns the rank and the length of the known DSC key that s
// starts with, one of those this package reads or writes itself, when the
// key ends there, at the end of s or at a byte no key holds; else
// rankOther and 0. Comparing with constants is faster than reading s byte
// by byte.
func knownKey(s string) (rank, n int) {
	// Each comparison is written out, so that it compares constants.
	switch {
	case len(s) >= len(keyTraceID) && s[:len(keyTraceID)] == keyTraceID:
		rank, n = rankTraceID, len(keyTraceID)
	case len(s) >= len(keyPublicKey) && s[:len(keyPublicKey)] == keyPublicKey:
		rank, n = rankPublicKey, len(keyPublicKey)
	case len(s) >= len(keySampleRate) && s[:len(keySampleRate)] == keySampleRate:
		rank, n = rankSampleRate, len(keySampleRate)
	case len(s) >= len(keySampleRand) && s[:len(keySampleRand)] == keySampleRand:
		rank, n = rankSampleRand, len(keySampleRand)
	case len(s) >= len(keySampled) && s[:len(keySampled)] == keySampled:
		rank, n = rankSampled, len(keySampled)
	case len(s) >= len(keyRelease) && s[:len(keyRelease)] == keyRelease:
		rank, n = rankRelease, len(keyRelease)
	case len(s) >= len(keyEnvironment) && s[:len(keyEnvironment)] == keyEnvironment:
		rank, n = rankEnvironment, len(keyEnvironment)
	case len(s) >= len(keyTransaction) && s[:len(keyTransaction)] == keyTransaction:
		rank, n = rankTransaction, len(keyTransaction)
	case len(s) >= len(keyOrgID) && s[:len(keyOrgID)] == keyOrgID:
		rank, n = rankOrgID, len(keyOrgID)
	default:
		return rankOther, 0
	}
	if len(s) > n && isTokenChar(s[n]) {
		return rankOther, 0
	}
	return rank, n
}

// DSC is the Dynamic Sampling Context of one trace: the Sentry members of
// the baggage this process sends downstream for it. It has one of two
// origins:
//
//   - continued: the usable Sentry members of the incoming baggage, frozen
//     when Extract reads them. They are forwarded as they came when they
//     are in written form already, else decoded and written again with the
//     same values. Only a missing or invalid sample_rand is added, and,
//     after a decision made in this process, sample_rate becomes its rate,
//     unless no member came in at all.
//   - started here: built once per trace from the configuration and the
//     local root span, the first time the trace leaves the process.
//
// A DSC does not change once built, but for the encodings it caches.
type DSC struct {
	traceID    trace.TraceID
	sampleRand string
	continued  bool

	// frozen holds a continued trace's DSC: the well-formed Sentry
	// members of the incoming baggage, each "sentry-key=value" with its
	// value as it came, joined with commas. It is a slice of the header
	// when the header held these members alone, else a copy, so that no
	// third-party byte stays alive with the trace. count counts them,
	// rate is the value of the last sample_rate among them, still encoded,
	// and verbatim reports that frozen is its own encoding: every value in
	// written form, the keys in written order (so none repeats), and
	// sample_rand there, valid as it came.
	frozen, rate string
	count        int
	verbatim     bool

	// head is what a DSC started here takes from the configuration;
	// sampled and transaction come from the trace's decision and root.
	head                 *Head
	sampled, transaction string

	// encoded caches the encoding for the rate last asked for.
	encoded atomic.Pointer[encoding]
}

// encoding is a DSC's members in written form, in written order, joined
// with commas, for one sample_rate.
type encoding struct {
	rate    string
	members string
	count   int
}

// SampleRand returns the trace's sample_rand: the valid incoming value
// verbatim, a backfill, or the one a trace started here derives.
func (d *DSC) SampleRand() string { return d.sampleRand }

// UpstreamRate returns the sample_rate of a continued trace's DSC, when it
// came with a valid one.
func (d *DSC) UpstreamRate() (float64, bool) { return parseEncodedRate(d.rate) }

// parseEncodedRate parses a sample_rate as it stands in baggage.
func parseEncodedRate(s string) (float64, bool) {
	if v, ok := percentDecode(s); ok {
		return ParseRate(v)
	}
	return 0, false
}

// MergeInto returns the baggage to write: the carrier's values existing,
// their Sentry members replaced by the DSC's. rate is the rate of a
// decision made in this process, or "". It returns "" when there is
// nothing to write.
func (d *DSC) MergeInto(existing []string, rate string) string {
	members, count := d.encoding(rate)
	return mergeBaggage(existing, members, count)
}

// Members returns the DSC's Sentry members as a baggage value alone, within
// the W3C limits, for rate as MergeInto takes it.
func (d *DSC) Members(rate string) string { return d.MergeInto(nil, rate) }

// encoding returns the DSC's members in written form, joined, for rate,
// and how many they are.
func (d *DSC) encoding(rate string) (string, int) {
	if d.continued {
		if d.count == 0 {
			// A DSC that came in empty gets sample_rand alone, never a
			// rate.
			rate = ""
		}
		if d.verbatim && rate == "" {
			return d.frozen, d.count
		}
	}
	if e := d.encoded.Load(); e != nil && e.rate == rate {
		return e.members, e.count
	}
	var backing [maxBaggageMembers]dscMember
	members := d.members(backing[:0], rate)
	members.sort()
	e := &encoding{rate: rate, members: members.write(), count: len(members)}
	d.encoded.Store(e)
	return e.members, e.count
}

// members appends the DSC's members to dst, sample_rate set to rate when
// rate is not empty.
func (d *DSC) members(dst dscMembers, rate string) dscMembers {
	if d.continued {
		dst = dst.addIncoming(d.frozen).set(keySampleRand, d.sampleRand, false)
		if rate != "" {
			dst = dst.set(keySampleRate, rate, false)
		}
		return dst
	}
	// Keys go in written order, so that sorting finds them sorted.
	return dst.
		set(keyTraceID, d.traceID.String(), false).
		set(keyPublicKey, d.head.PublicKey, false).
		set(keySampleRate, rate, false).
		set(keySampleRand, d.sampleRand, false).
		set(keySampled, d.sampled, false).
		set(keyRelease, d.head.Release, false).
		set(keyEnvironment, d.head.Environment, false).
		set(keyTransaction, d.transaction, false).
		set(keyOrgID, d.head.OrgID, false)
}

// maxMemberValueLen bounds the trace state member value Extract writes:
// "s:<decision>;r:" and a sample_rand.
const maxMemberValueLen = len("s:x;r:") + maxSampleRandLen

// readIncoming fills d, a continued trace's DSC, from the carrier's baggage
// values, and returns the value of the sentry trace state member for the
// remote parent, "s:<decision>;r:<sample_rand>", with the decoded org_id
// and sampled values that Extract checks. It reads the header once: what
// Inject later needs to forward the members as they came is known from
// this one reading.
func (d *DSC) readIncoming(decision Decision, values []string) (member, orgID, sampled string) {
	header := joinValues(values)
	var (
		rand, rate string
		prevKey    string
		prevRank   = -1
		// rateStart and rateEnd locate rate, the last sample_rate, in
		// frozen.
		rateStart, rateEnd int
		// run is the length of the part of header that holds exactly the
		// members kept so far, while copied is nil.
		run    int
		copied *strings.Builder
	)
	d.verbatim = true
	r := baggageReader{s: header}
	for {
		key, value, ok := r.next()
		if !ok {
			break
		}
		rank := r.rank
		d.verbatim = d.verbatim && r.written && (rank > prevRank || rank == prevRank && key > prevKey)
		prevRank, prevKey = rank, key
		// A member that stands exactly "key=value" right after the ones
		// kept so far extends the slice of the header; any other is
		// copied, without its spaces and properties.
		var at int // the offset of value in frozen
		if copied == nil && r.exact && r.start == run+min(d.count, 1) {
			run = r.end
			at = run - len(value)
		} else {
			if copied == nil {
				// Nothing kept is longer than the element it came from.
				copied = new(strings.Builder)
				copied.Grow(run + 1 + len(header) - r.start + maxMemberValueLen)
				copied.WriteString(header[:run])
			}
			if copied.Len() > 0 {
				copied.WriteByte(',')
			}
			copied.WriteString(sentryPrefix)
			copied.WriteString(key)
			copied.WriteByte('=')
			at = copied.Len()
			copied.WriteString(value)
		}
		d.count++
		switch rank {
		case rankSampleRand:
			rand = value
		case rankSampleRate:
			rate, rateStart, rateEnd = value, at, at+len(value)
		case rankOrgID:
			orgID = value
		case rankSampled:
			sampled = value
		}
	}
	// Decoding waits until the last value of each key is known.
	if v, ok := percentDecode(rand); ok && validSampleRand(v) {
		d.sampleRand = v
	}
	d.verbatim = d.verbatim && rand != "" && rand == d.sampleRand
	orgID, _ = percentDecode(orgID)
	orgID = trimOWS(orgID)
	sampled, _ = percentDecode(sampled)

	// The member and the kept members share one allocation; sample_rand
	// is read from the member, so that nothing refers to the header.
	b := copied
	if b == nil {
		b = new(strings.Builder)
		if run == len(header) && len(values) == 1 && len(values[0]) == run {
			d.frozen = header
			b.Grow(maxMemberValueLen)
		} else {
			// Something besides the members was read: copy them.
			b.Grow(run + maxMemberValueLen)
			b.WriteString(header[:run])
		}
	}
	frozenLen := b.Len()
	var buf [maxMemberValueLen]byte
	m := append(buf[:0], 's', ':', decision.char(), ';', 'r', ':')
	if d.sampleRand != "" {
		m = append(m, d.sampleRand...)
	} else {
		upstream, ok := parseEncodedRate(rate)
		m = backfillSampleRand(m, d.traceID, decision, upstream, ok)
	}
	b.Write(m)
	text := b.String()
	if d.frozen == "" {
		d.frozen = text[:frozenLen]
	}
	d.rate = d.frozen[rateStart:rateEnd]
	member = text[frozenLen:]
	d.sampleRand = member[len("s:x;r:"):]
	return member, orgID, sampled
}

// contradicts reports a baggage sampled value that disagrees with the
// sentry-trace flag.
func contradicts(sampled string, flag Decision) bool {
	return sampled == "true" && flag == NotSampled || sampled == "false" && flag == Sampled
}

// Head is what the DSC of a trace started here takes from the
// configuration, with the DSCs recently built from it.
type Head struct {
	PublicKey, Release, Environment, OrgID string

	// recent keeps the DSCs of traces started here that Inject ran for
	// recently, indexed by trace id, so that each is built once per trace
	// while the memory stays fixed. A trace whose slot another took gets
	// its DSC built again, equal to the first.
	recent [recentHeads]atomic.Pointer[DSC]
}

// recentHeads bounds the DSCs a Head keeps: traces started here that
// Inject runs for concurrently.
const recentHeads = 256

// DSCFor returns the DSC that Inject writes for sc in ctx, whose sentry
// trace state member m has been parsed (hasMember reports one) and whose
// decision is d: the frozen DSC of a continued trace, which Extract put in
// ctx; a DSC started here for a trace this process is the head of, which
// the sampler marks with h:1, or which has no sentry member at all (another
// sampler started it); otherwise sample_rand alone, for a continued trace
// whose context was lost, which lost reports.
func (h *Head) DSCFor(ctx context.Context, sc trace.SpanContext, m TraceStateMember, hasMember bool, d Decision) (_ *DSC, lost bool) {
	if c := ContinuedFromContext(ctx, sc.TraceID()); c != nil {
		return c, false
	}
	// The trace's sample_rand, in a buffer, so that a cached DSC is found
	// without a string made for it.
	var buf [maxSampleRandLen]byte
	rand := appendSampleRandOf(buf[:0], sc, m)
	if hasMember && (!m.Head || sc.IsRemote()) {
		return &DSC{traceID: sc.TraceID(), sampleRand: string(rand), continued: true}, true
	}
	var sampled, transaction string
	switch d {
	case Sampled:
		sampled = "true"
	case NotSampled:
		sampled = "false"
	}
	// Without a decision there is no rate and no transaction either.
	if d != Deferred {
		if hasMember {
			transaction = m.Transaction
		} else {
			transaction = localRootTransaction(trace.SpanFromContext(ctx), sc)
		}
	}
	slot := &h.recent[int(sc.TraceID()[len(trace.TraceID{})-1])%recentHeads]
	if c := slot.Load(); c != nil && c.traceID == sc.TraceID() && c.sampleRand == string(rand) &&
		c.sampled == sampled && c.transaction == transaction {
		return c, false
	}
	c := &DSC{traceID: sc.TraceID(), sampleRand: string(rand), head: h, sampled: sampled, transaction: transaction}
	slot.Store(c)
	return c, false
}

// rootSpan is the part of a recording SDK span that tells whether it is a
// local root and what it is called.
type rootSpan interface {
	Name() string
	Parent() trace.SpanContext
	Attributes() []attribute.KeyValue
}

// localRootTransaction returns span's name, cut to Sentry's length, when
// span is the recording local root of sc and its name is of good quality
// (not a raw URL); "" otherwise. It serves traces sampled by other
// samplers, which record no name.
func localRootTransaction(span trace.Span, sc trace.SpanContext) string {
	r, ok := span.(rootSpan)
	if !ok || !span.IsRecording() || span.SpanContext().SpanID() != sc.SpanID() {
		return ""
	}
	if parent := r.Parent(); parent.IsValid() && !parent.IsRemote() {
		return ""
	}
	if TransactionSource(r.Attributes()) == SourceURL {
		return ""
	}
	name, _ := CutTransaction(r.Name())
	return name
}

// DecodeDSC returns the Dynamic Sampling Context in a baggage value: its
// Sentry members, keyed without the "sentry-" prefix, values
// percent-decoded, the last of a repeated key winning. It returns nil when
// there is none.
func DecodeDSC(baggage string) map[string]string {
	var dsc map[string]string
	r := baggageReader{s: joinValues([]string{baggage})}
	for {
		k, value, ok := r.next()
		if !ok {
			return dsc
		}
		if v, ok := percentDecode(value); ok {
			if dsc == nil {
				dsc = map[string]string{}
			}
			dsc[k] = v
		}
	}
}

// dscMember is one DSC member on its way out.
type dscMember struct {
	key   string // without the prefix
	value string
	rank  int // position of key in the written order
	// encoded marks a value still in baggage form (percent-encoded), as
	// read from an incoming header; it is decoded while it is re-encoded.
	encoded bool
}

// dscMembers collects the members to write. Callers give it a backing array
// of maxBaggageMembers members so that it lives on the stack; the methods
// return the slice rather than store through a pointer, which would move
// that array to the heap.
type dscMembers []dscMember

// set adds or replaces key; a later value wins. An empty value removes the
// key: empty values are not members.
func (ms dscMembers) set(key, value string, encoded bool) dscMembers {
	for i := range ms {
		if ms[i].key == key {
			if value == "" {
				return slices.Delete(ms, i, i+1)
			}
			ms[i].value, ms[i].encoded = value, encoded
			return ms
		}
	}
	if value == "" {
		return ms
	}
	return append(ms, dscMember{key: key, value: value, rank: keyRank(key), encoded: encoded})
}

// addIncoming adds the Sentry members of an incoming baggage value, kept
// as they came.
func (ms dscMembers) addIncoming(baggage string) dscMembers {
	r := baggageReader{s: baggage}
	for {
		k, value, ok := r.next()
		if !ok {
			return ms
		}
		ms = ms.set(k, value, true)
	}
}

// sort puts the members in the written order.
func (ms dscMembers) sort() {
	slices.SortStableFunc(ms, func(a, b dscMember) int {
		if a.rank != b.rank {
			return a.rank - b.rank
		}
		return strings.Compare(a.key, b.key)
	})
}

// write returns the members in written form, joined with commas: each
// "sentry-<key>=<value>", with every byte of the value that is not RFC 3986
// unreserved percent-encoded in uppercase.
func (ms dscMembers) write() string {
	size := 0
	for i := range ms {
		size += len(sentryPrefix) + len(ms[i].key) + 1 + 3*len(ms[i].value) + 1
	}
	var b strings.Builder
	b.Grow(size)
	for i, m := range ms {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(sentryPrefix)
		b.WriteString(m.key)
		b.WriteByte('=')
		for j := 0; j < len(m.value); j++ {
			c := m.value[j]
			if m.encoded && c == '%' {
				c = unescapeAt(m.value, j)
				j += 2
			}
			if isUnreserved(c) {
				b.WriteByte(c)
			} else {
				b.WriteByte('%')
				b.WriteByte(upperHex[c>>4])
				b.WriteByte(upperHex[c&0x0f])
			}
		}
	}
	return b.String()
}

// DSCWriter is implemented by the propagators of this module: WrittenDSC
// returns the DSC that Inject writes for ctx and the sample_rate of a
// decision made in this process ("" for none), and false where Inject
// writes none (no valid span context, or Inject suppressed).
type DSCWriter interface {
	WrittenDSC(ctx context.Context) (dsc *DSC, rate string, ok bool)
}

// WrittenMembers returns the Sentry members of the baggage that p writes
// for ctx, as a baggage value, or "". A propagator of this module is read
// directly; any other, such as a composite built from OTEL_PROPAGATORS
// around one, is asked to Inject into an empty carrier, without the
// OpenTelemetry baggage, whose members it would write first.
func WrittenMembers(ctx context.Context, p propagation.TextMapPropagator) string {
	if w, ok := p.(DSCWriter); ok {
		if dsc, rate, ok := w.WrittenDSC(ctx); ok {
			return dsc.Members(rate)
		}
		return ""
	}
	c := propagation.MapCarrier{}
	p.Inject(baggage.ContextWithoutBaggage(ctx), c)
	var b strings.Builder
	r := baggageReader{s: joinValues([]string{c.Get(HeaderBaggage)})}
	for {
		k, value, ok := r.next()
		if !ok {
			return b.String()
		}
		if b.Len() > 0 {
			b.WriteByte(',')
		}
		b.WriteString(sentryPrefix + k + "=" + value)
	}
}
